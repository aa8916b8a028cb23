/*
 * decode.c - L2..L4 decoding with NFStream 6.5.4's semantics.
 *
 *	decode_packet()		frame -> pkt_view, or the reason it is skipped
 *	decode_result_name()	text for a skip reason (summary output)
 *
 * The control flow mirrors NFStream's packet_process(): a link-layer step,
 * an ethertype loop (VLAN, MPLS, PPPoE), an IP step that unwraps IP-in-IP,
 * optional UDP tunnels (GTP-U, TZSP, CAPWAP) and finally the innermost
 * IP/L4 parse.  NFStream's quirks are kept on purpose because its users must
 * get the same flows (they are called out where they happen).  Where NFStream
 * would read past the captured bytes we stop and report a truncation.
 */
#include <string.h>

#include "decode.h"
#include "rbuf.h"

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_VLAN		0x8100
#define ETHERTYPE_QINQ		0x88a8	/* 802.1ad S-tag: walked, unlike NFStream */
#define ETHERTYPE_MPLS_UC	0x8847
#define ETHERTYPE_MPLS_MC	0x8848
#define ETHERTYPE_PPPOE		0x8864

#define IPPROTO_NUM_ICMP	1
#define IPPROTO_NUM_IPIP	4
#define IPPROTO_NUM_TCP		6
#define IPPROTO_NUM_UDP		17
#define IPPROTO_NUM_IPV6	41
#define IPPROTO_NUM_ICMPV6	58

#define PORT_GTP_U		2152
#define PORT_CAPWAP_DATA	5247
#define PORT_TZSP		37008

#define MIN_FRAME_LEN		28	/* NFStream: "min IP + min UDP" */

static const char *const decode_result_names[DECODE_RESULT_COUNT] = {
	[DECODE_OK] = "ok",
	[DECODE_SHORT_FRAME] = "frame shorter than 28 bytes",
	[DECODE_UNSUPPORTED_DLT] = "unsupported link type",
	[DECODE_STP_FRAME] = "spanning-tree frame",
	[DECODE_WIFI_BAD_FCS] = "802.11 bad FCS",
	[DECODE_WIFI_NOT_DATA] = "802.11 non-data frame",
	[DECODE_TRUNCATED_L2] = "truncated link header",
	[DECODE_NOT_IP] = "not IPv4/IPv6",
	[DECODE_TRUNCATED_IP] = "truncated IP header",
	[DECODE_BAD_IPV4_HEADER] = "bad IPv4 header length",
	[DECODE_IPV4_FRAGMENT] = "IPv4 non-first fragment",
	[DECODE_IPV6_TRUNCATED] = "truncated IPv6 packet",
	[DECODE_IPV6_EXT_HEADER] = "IPv6 extension header/fragment",
	[DECODE_TRUNCATED_TUNNEL] = "truncated tunnel header",
	[DECODE_TRUNCATED_L4] = "truncated transport header",
};

const char *
decode_result_name(enum decode_result r)
{
	if (r < 0 || r >= DECODE_RESULT_COUNT)
		return "unknown";
	return decode_result_names[r];
}

/* Parser state shared by the steps; mirrors NFStream's local variables. */
struct decode_state {
	struct rbuf	 b;
	uint32_t	 eth_off;	/* start of the (possibly inner) frame */
	uint32_t	 ip_off;
	uint16_t	 type;		/* last ethertype seen */
	uint16_t	 vlan_id;
	int		 llc_len;	/* 802.3 length field; kept across TZSP */
	uint8_t		 tunnel_id;
	uint8_t		 proto;		/* gates tunnel decoding (see ip step) */
	uint16_t	 frag_off;
	bool		 is_v6;
	uint32_t	 l4_off;	/* for tunnel decoding */
};

/*
 * Walk IPv6 extension headers the way nDPI's
 * ndpi_handle_ipv6_extension_headers() does (NFStream calls it): l3len is the
 * captured length after the fixed header, l4len the payload length.
 * Returns false to drop the packet (non-first fragment, no-next-header,
 * inconsistent lengths).
 */
static bool
ipv6_walk_ext(const struct rbuf *b, uint32_t l3len_in, uint32_t *off,
    uint16_t *l4len, uint8_t *nxt)
{
	uint16_t l3len = (uint16_t)l3len_in;
	uint8_t v, hlen;
	uint16_t ehdr_len, frag;

	while (l3len > 1 && (*nxt == 0 || *nxt == 43 || *nxt == 44 ||
	    *nxt == 60 || *nxt == 135 || *nxt == 59)) {
		if (*nxt == 59)
			return false;
		if (*nxt == 44) {
			if (*l4len < 8 || l3len < 5)
				return false;
			l3len -= 5;	/* sic: nDPI subtracts 5 for an 8-byte header */
			if (!rbuf_u8(b, *off, &v) || !rbuf_be16(b, *off + 2, &frag))
				return false;
			*nxt = v;
			if ((frag >> 3) != 0)
				return false;
			*l4len -= 8;
			*off += 8;
			continue;
		}
		if (*l4len < 2)
			return false;
		if (!rbuf_u8(b, *off, &v) || !rbuf_u8(b, *off + 1, &hlen))
			return false;
		ehdr_len = (uint16_t)(hlen * 8 + 8);
		if (ehdr_len > l3len)
			return false;
		l3len -= ehdr_len;
		if (*l4len < ehdr_len)
			return false;
		*nxt = v;
		*l4len -= ehdr_len;
		*off += ehdr_len;
	}
	return true;
}

/* The link-layer step: MACs, ethertype and the offset of the next header. */
static enum decode_result
decode_datalink(const struct decode_conf *conf, struct decode_state *s,
    struct pkt_view *pv)
{
	const struct rbuf *b = &s->b;
	uint32_t e = s->eth_off, v32;
	uint16_t check, radio_len, fc, v16;
	uint8_t first, dsap, ssap, flags;
	uint32_t wifi_len = 0;

	if (b->len < e + MIN_FRAME_LEN)
		return DECODE_SHORT_FRAME;
	switch (conf->dlt) {
	case DECODE_DLT_NULL:
		/* NFStream compares ntohl(family) with 2: only a big-endian
		 * AF_INET header yields IPv4; anything else is taken as IPv6
		 * (the IP step still reads the version nibble). */
		(void)rbuf_be32(b, e, &v32);
		s->type = (v32 == 2) ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
		s->ip_off = e + 4;
		break;
	case DECODE_DLT_PPP_SERIAL:
		(void)rbuf_be16(b, e + 2, &s->type);
		s->ip_off = e + 4;
		break;
	case DECODE_DLT_C_HDLC:
	case DECODE_DLT_PPP:
		/* Cisco HDLC when the frame (not the inner frame) starts with
		 * 0x0f/0x8f, else a 2-byte PPP protocol field. */
		(void)rbuf_u8(b, 0, &first);
		if (first == 0x0f || first == 0x8f) {
			(void)rbuf_be16(b, e + 2, &s->type);
			s->ip_off = e + 4;
		} else {
			(void)rbuf_be16(b, e, &s->type);
			s->ip_off = e + 2;
		}
		break;
	case DECODE_DLT_IPV4:
		s->type = ETHERTYPE_IPV4;
		s->ip_off = e;
		break;
	case DECODE_DLT_IPV6:
		s->type = ETHERTYPE_IPV6;
		s->ip_off = e;
		break;
	case DECODE_DLT_EN10MB:
		(void)rbuf_copy(b, e, 6, pv->dst_mac);
		(void)rbuf_copy(b, e + 6, 6, pv->src_mac);
		(void)rbuf_be16(b, e + 12, &check);
		s->ip_off = e + 14;
		if (check <= 1500)
			s->llc_len = check;
		else if (check >= 1536)
			s->type = check;
		if (s->llc_len != 0) {
			if (!rbuf_u8(b, s->ip_off, &dsap) ||
			    !rbuf_u8(b, s->ip_off + 1, &ssap))
				return DECODE_TRUNCATED_L2;
			if (dsap == 0xaa || ssap == 0xaa) {
				/* NFStream reads the SNAP type without
				 * ntohs: host (little-endian) order. */
				if (!rbuf_le16(b, s->ip_off + 6, &s->type))
					return DECODE_TRUNCATED_L2;
				s->ip_off += 8;
			} else if (dsap == 0x42 || ssap == 0x42) {
				return DECODE_STP_FRAME;
			}
		}
		break;
	case DECODE_DLT_LINUX_SLL:
		(void)rbuf_be16(b, e + 14, &s->type);
		s->ip_off = e + 16;
		break;
	case DECODE_DLT_LINUX_SLL2:
		/* Not decoded by NFStream (it drops "any" captures); the
		 * 20-byte SLL2 header starts with the protocol type. */
		(void)rbuf_be16(b, e, &s->type);
		s->ip_off = e + 20;
		break;
	case DECODE_DLT_IEEE802_11_RADIO:
		(void)rbuf_le16(b, e + 2, &radio_len);
		/* NFStream reads the flags at the fixed offset 16 of its
		 * radiotap struct, whatever the present bitmap says. */
		(void)rbuf_u8(b, e + 16, &flags);
		if ((flags & 0x50) == 0x50)
			return DECODE_WIFI_BAD_FCS;
		if (b->len < e + radio_len + 24)
			return DECODE_TRUNCATED_L2;
		(void)rbuf_le16(b, e + radio_len, &fc);
		if (((fc >> 2) & 0x3) != 0x2)
			return DECODE_WIFI_NOT_DATA;
		if (((fc & 0x0100) != 0) != ((fc & 0x0200) != 0))
			wifi_len = 26;	/* NFStream assumes a QoS header */
		(void)rbuf_copy(b, e + radio_len + 10, 6, pv->src_mac);
		(void)rbuf_copy(b, e + radio_len + 16, 6, pv->dst_mac);
		if (b->len < e + wifi_len + radio_len + 8)
			return DECODE_TRUNCATED_L2;
		(void)rbuf_u8(b, e + wifi_len + radio_len, &dsap);
		if (dsap == 0xaa) {
			(void)rbuf_be16(b, e + wifi_len + radio_len + 6, &v16);
			s->type = v16;
		}
		s->ip_off = e + wifi_len + radio_len + 8;
		break;
	case DECODE_DLT_RAW:
		s->ip_off = e;
		if (rbuf_u8(b, e, &first)) {
			if ((first >> 4) == 4)
				s->type = ETHERTYPE_IPV4;
			else if ((first >> 4) == 6)
				s->type = ETHERTYPE_IPV6;
		}
		break;
	default:
		return DECODE_UNSUPPORTED_DLT;
	}
	return DECODE_OK;
}

static inline bool
is_vlan_type(uint16_t t)
{
	return t == ETHERTYPE_VLAN || t == ETHERTYPE_QINQ;
}

/* The ethertype loop: VLAN/QinQ (innermost VID kept), MPLS, PPPoE. */
static enum decode_result
decode_ethertype(struct decode_state *s)
{
	const struct rbuf *b = &s->b;
	uint16_t tci;
	uint32_t label;

	for (;;) {
		if (is_vlan_type(s->type)) {
			if (s->ip_off + 4 >= b->len)
				return DECODE_TRUNCATED_L2;
			(void)rbuf_be16(b, s->ip_off, &tci);
			(void)rbuf_be16(b, s->ip_off + 2, &s->type);
			s->vlan_id = tci & 0xfff;
			s->ip_off += 4;
			while (is_vlan_type(s->type) && s->ip_off + 4 < b->len) {
				(void)rbuf_be16(b, s->ip_off, &tci);
				(void)rbuf_be16(b, s->ip_off + 2, &s->type);
				s->vlan_id = tci & 0xfff;
				s->ip_off += 4;
			}
		} else if (s->type == ETHERTYPE_MPLS_UC ||
		    s->type == ETHERTYPE_MPLS_MC) {
			if (s->ip_off + 4 >= b->len)
				return DECODE_TRUNCATED_L2;
			(void)rbuf_be32(b, s->ip_off, &label);
			/* NFStream assumes IPv4 below the label stack. */
			s->type = ETHERTYPE_IPV4;
			s->ip_off += 4;
			while (!(label & 0x100) && s->ip_off + 4 < b->len) {
				(void)rbuf_be32(b, s->ip_off, &label);
				s->ip_off += 4;
			}
		} else if (s->type == ETHERTYPE_PPPOE) {
			s->type = ETHERTYPE_IPV4;
			s->ip_off += 8;
		} else {
			return DECODE_OK;
		}
	}
}

/*
 * The IP step: checks the outer header(s), unwraps IP-in-IP (always) and
 * drops IPv4 non-first fragments.  As in NFStream, the IPv4 protocol and
 * fragment offset are only looked at when the ethertype said IPv4, which is
 * why tunnels are not decoded behind e.g. DLT_PPP's 0x0021.
 */
static enum decode_result
decode_ip(struct decode_state *s)
{
	const struct rbuf *b = &s->b;
	uint8_t vihl, proto6;
	uint16_t plen;
	uint32_t ihl_len, off;

	for (;;) {
		if (!rbuf_has(b, s->ip_off, 20))
			return DECODE_TRUNCATED_IP;
		(void)rbuf_u8(b, s->ip_off, &vihl);
		if (s->type == ETHERTYPE_IPV4) {
			(void)rbuf_be16(b, s->ip_off + 6, &s->frag_off);
			(void)rbuf_u8(b, s->ip_off + 9, &s->proto);
		}
		if ((vihl >> 4) == 4) {
			ihl_len = (uint32_t)(vihl & 0xf) * 4;
			(void)rbuf_u8(b, s->ip_off + 9, &proto6);
			if (proto6 == IPPROTO_NUM_IPV6 ||
			    proto6 == IPPROTO_NUM_IPIP) {
				s->ip_off += ihl_len;
				if (ihl_len > 0)
					continue;
			}
			if ((s->frag_off & 0x1fff) != 0)
				return DECODE_IPV4_FRAGMENT;
			s->is_v6 = false;
			s->l4_off = s->ip_off + ihl_len;
			return DECODE_OK;
		}
		if ((vihl >> 4) == 6) {
			if (!rbuf_has(b, s->ip_off, 40))
				return DECODE_IPV6_TRUNCATED;
			(void)rbuf_u8(b, s->ip_off + 6, &s->proto);
			(void)rbuf_be16(b, s->ip_off + 4, &plen);
			if (!rbuf_has(b, s->ip_off + 40, plen))
				return DECODE_IPV6_TRUNCATED;
			off = s->ip_off + 40;
			if (!ipv6_walk_ext(b, (uint16_t)(b->len - s->ip_off) - 40,
			    &off, &plen, &s->proto))
				return DECODE_IPV6_EXT_HEADER;
			if (s->proto == IPPROTO_NUM_IPV6 ||
			    s->proto == IPPROTO_NUM_IPIP) {
				s->ip_off = off;
				continue;
			}
			s->is_v6 = true;
			/* NFStream looks for the UDP header at ip_offset +
			 * payload length for IPv6, which is not the UDP
			 * header; we use the real transport offset. */
			s->l4_off = off;
			return DECODE_OK;
		}
		return DECODE_NOT_IP;
	}
}

/*
 * GTP-U: a GTPv1 T-PDU makes the inner IP packet the flow.  Returns OK with
 * s->ip_off moved when it is one, OK unchanged when it is not.
 */
static enum decode_result
decode_gtp(struct decode_state *s)
{
	const struct rbuf *b = &s->b;
	uint32_t off = s->l4_off + 8, ext_len;
	uint8_t flags, msg_type, v;

	if (!(s->l4_off + 8 + 8 < b->len))
		return DECODE_OK;
	(void)rbuf_u8(b, off, &flags);
	(void)rbuf_u8(b, off + 1, &msg_type);
	if (((flags & 0xe0) >> 5) != 1 || msg_type != 0xff)
		return DECODE_OK;
	off += 8;
	if (flags & 0x07)
		off += 4;
	if (flags & 0x04) {
		while (off < b->len) {
			(void)rbuf_u8(b, off, &v);
			ext_len = (uint32_t)v << 2;
			off += ext_len;
			if (off >= b->len || ext_len == 0)
				return DECODE_OK;	/* bad extensions: plain UDP */
			(void)rbuf_u8(b, off - 1, &v);
			if (v == 0)
				break;
		}
	}
	if (off >= b->len)
		return DECODE_OK;
	s->tunnel_id = TUNNEL_GTP;
	s->ip_off = off;
	(void)rbuf_u8(b, off, &v);
	if ((v >> 4) == 6) {
		if (!rbuf_has(b, off, 40))
			return DECODE_TRUNCATED_TUNNEL;
		s->is_v6 = true;
	} else if ((v >> 4) == 4) {
		if (!rbuf_has(b, off, 20))
			return DECODE_TRUNCATED_TUNNEL;
		s->is_v6 = false;
	} else {
		return DECODE_NOT_IP;
	}
	return DECODE_OK;
}

/* Innermost IP header and transport: fills the flow-relevant fields. */
static enum decode_result
decode_l3_l4(struct decode_state *s, uint32_t wirelen, struct pkt_view *pv)
{
	const struct rbuf *b = &s->b;
	uint32_t ip = s->ip_off, l4_off;
	uint16_t ipsize = (uint16_t)(b->len - ip);	/* NFStream: uint16 */
	uint16_t tot_len, l4_len, plen, sport = 0, dport = 0, payload = 0;
	uint32_t transport = 0;
	uint8_t vihl, proto, doff, flags = 0;

	pv->size[PKT_SIZE_RAW] = (uint16_t)wirelen;
	if (!s->is_v6) {
		uint32_t ihl_len;

		if (ipsize < 20)
			return DECODE_TRUNCATED_IP;
		(void)rbuf_u8(b, ip, &vihl);
		ihl_len = (uint32_t)(vihl & 0xf) * 4;
		if (ihl_len > ipsize)
			return DECODE_BAD_IPV4_HEADER;
		(void)rbuf_be16(b, ip + 2, &tot_len);
		l4_len = (uint16_t)(tot_len - ihl_len);
		if ((uint32_t)(tot_len > ipsize ? tot_len : ipsize) <
		    ihl_len + l4_len)
			return DECODE_BAD_IPV4_HEADER;
		(void)rbuf_u8(b, ip + 9, &proto);
		(void)rbuf_copy(b, ip + 12, 4, pv->src_addr);
		(void)rbuf_copy(b, ip + 16, 4, pv->dst_addr);
		pv->ip_version = 4;
		pv->size[PKT_SIZE_IP] = tot_len;
		l4_off = ip + ihl_len;
	} else {
		uint32_t off = ip + 40, fake_tot;

		if (ipsize < 40)
			return DECODE_IPV6_TRUNCATED;
		(void)rbuf_be16(b, ip + 4, &plen);
		(void)rbuf_u8(b, ip + 6, &proto);
		if ((uint32_t)ipsize < 40u + plen)
			return DECODE_IPV6_TRUNCATED;
		l4_len = plen;
		if (!ipv6_walk_ext(b, (uint16_t)(ipsize - 40), &off, &l4_len,
		    &proto))
			return DECODE_IPV6_EXT_HEADER;
		fake_tot = (uint16_t)(40u + plen);
		if (off - ip > ipsize)
			return DECODE_IPV6_EXT_HEADER;
		if ((fake_tot > ipsize ? fake_tot : ipsize) <
		    (off - ip) + l4_len)
			return DECODE_IPV6_EXT_HEADER;
		(void)rbuf_copy(b, ip + 8, 16, pv->src_addr);
		(void)rbuf_copy(b, ip + 24, 16, pv->dst_addr);
		pv->ip_version = 6;
		/* ip_size excludes the fixed IPv6 header: NFStream 6.5.4
		 * as measured (nfstream-semantics.md 5.4). */
		pv->size[PKT_SIZE_IP] = plen;
		l4_off = off;
	}

	if (proto == IPPROTO_NUM_TCP && l4_len >= 20) {
		if (!rbuf_be16(b, l4_off, &sport) ||
		    !rbuf_be16(b, l4_off + 2, &dport) ||
		    !rbuf_u8(b, l4_off + 12, &doff) ||
		    !rbuf_u8(b, l4_off + 13, &flags))
			return DECODE_TRUNCATED_L4;
		doff = (uint8_t)(doff >> 4);
		payload = (l4_len > 4u * doff) ? (uint16_t)(l4_len - 4u * doff) : 0;
		transport = l4_len;
	} else if (proto == IPPROTO_NUM_UDP && l4_len >= 8) {
		if (!rbuf_be16(b, l4_off, &sport) ||
		    !rbuf_be16(b, l4_off + 2, &dport))
			return DECODE_TRUNCATED_L4;
		payload = (l4_len > 8) ? (uint16_t)(l4_len - 8) : 0;
		transport = l4_len;
	} else if (proto == IPPROTO_NUM_ICMP || proto == IPPROTO_NUM_ICMPV6) {
		payload = (l4_len > 8) ? (uint16_t)(l4_len - 8) : 0;
		transport = l4_len;
	}
	pv->protocol = proto;
	pv->src_port = sport;
	pv->dst_port = dport;
	pv->tcp_flags = flags;
	pv->size[PKT_SIZE_TRANSPORT] = (uint16_t)transport;
	pv->size[PKT_SIZE_PAYLOAD] = payload;
	pv->vlan_id = s->vlan_id;
	pv->tunnel_id = s->tunnel_id;
	pv->l3 = b->p + ip;
	pv->l3_len = ipsize;
	return DECODE_OK;
}

void
decode_l4_detail(const struct pkt_view *pv, struct l4_detail *d)
{
	struct rbuf b = { pv->l3, pv->l3_len };
	uint32_t l4_off, poff;
	uint16_t l4_len = 0;
	uint8_t v = 0, nxt = 0, doff;

	memset(d, 0, sizeof(*d));
	if (pv->l3 == NULL)
		return;
	if (pv->ip_version == 4) {
		if (!rbuf_u8(&b, 0, &v))
			return;
		l4_off = (uint32_t)(v & 0xf) * 4;
		(void)rbuf_u8(&b, 8, &d->ttl);
	} else {
		(void)rbuf_u8(&b, 7, &d->ttl);
		(void)rbuf_u8(&b, 6, &nxt);
		l4_off = 40;
		if (!rbuf_be16(&b, 4, &l4_len) ||
		    !ipv6_walk_ext(&b, (uint32_t)b.len - 40, &l4_off, &l4_len,
		    &nxt))
			return;
	}
	/* The payload ends where the transport's accounted size does. */
	poff = l4_off + (uint32_t)(pv->size[PKT_SIZE_TRANSPORT] -
	    pv->size[PKT_SIZE_PAYLOAD]);
	if (pv->protocol == IPPROTO_NUM_TCP && rbuf_has(&b, l4_off, 20)) {
		d->has_tcp = 1;
		(void)rbuf_be32(&b, l4_off + 4, &d->tcp_seq);
		(void)rbuf_be32(&b, l4_off + 8, &d->tcp_ack);
		(void)rbuf_u8(&b, l4_off + 12, &doff);
		d->tcp_header_len = (uint8_t)((doff >> 4) * 4);
		(void)rbuf_be16(&b, l4_off + 14, &d->tcp_window);
	}
	if (pv->size[PKT_SIZE_PAYLOAD] == 0 || poff >= b.len || poff > 0xffff)
		return;
	d->payload_off = (uint16_t)poff;
	d->payload_len = (uint16_t)(b.len - poff < pv->size[PKT_SIZE_PAYLOAD] ?
	    b.len - poff : pv->size[PKT_SIZE_PAYLOAD]);
}

enum decode_result
decode_packet(const struct decode_conf *conf, const uint8_t *frame,
    uint32_t caplen, uint32_t wirelen, struct pkt_view *pv)
{
	struct decode_state s;
	enum decode_result r;
	uint16_t sport, dport, encap, v16;
	uint8_t version, ts_type, tag, tag_len, pre, hlen_byte;
	uint32_t off;

	memset(&s, 0, sizeof(s));
	memset(pv->src_mac, 0, sizeof(pv->src_mac));
	memset(pv->dst_mac, 0, sizeof(pv->dst_mac));
	memset(pv->src_addr, 0, sizeof(pv->src_addr));
	memset(pv->dst_addr, 0, sizeof(pv->dst_addr));
	s.b.p = frame;
	s.b.len = caplen;

datalink:
	if ((r = decode_datalink(conf, &s, pv)) != DECODE_OK)
		return r;
	if ((r = decode_ethertype(&s)) != DECODE_OK)
		return r;
ip:
	if ((r = decode_ip(&s)) != DECODE_OK)
		return r;

	if (conf->decode_tunnels && s.proto == IPPROTO_NUM_UDP) {
		if (!rbuf_be16(&s.b, s.l4_off, &sport) ||
		    !rbuf_be16(&s.b, s.l4_off + 2, &dport) ||
		    !rbuf_has(&s.b, s.l4_off, 8))
			return DECODE_TRUNCATED_TUNNEL;
		if (sport == PORT_GTP_U || dport == PORT_GTP_U) {
			if ((r = decode_gtp(&s)) != DECODE_OK)
				return r;
		} else if (sport == PORT_TZSP || dport == PORT_TZSP) {
			off = s.l4_off + 8;
			if (!rbuf_has(&s.b, off, 4))
				return DECODE_TRUNCATED_TUNNEL;
			(void)rbuf_u8(&s.b, off, &version);
			(void)rbuf_u8(&s.b, off + 1, &ts_type);
			(void)rbuf_be16(&s.b, off + 2, &encap);
			/* NFStream marks TZSP even when it cannot unwrap it. */
			s.tunnel_id = TUNNEL_TZSP;
			if (version == 1 && ts_type == 0 && encap == 1) {
				off += 4;
				/* NFStream skips at most one tag, then
				 * re-parses with the capture's link type. */
				if (off < s.b.len) {
					(void)rbuf_u8(&s.b, off, &tag);
					if (tag == 0 || tag == 1) {
						tag_len = 1;
					} else {
						if (!rbuf_u8(&s.b, off + 1, &tag_len))
							return DECODE_TRUNCATED_TUNNEL;
					}
					off += tag_len;
					if (off >= s.b.len)
						return DECODE_TRUNCATED_TUNNEL;
					s.eth_off = off;
					goto datalink;
				}
			}
		} else if (sport == PORT_CAPWAP_DATA ||
		    dport == PORT_CAPWAP_DATA) {
			off = s.l4_off + 8;
			if (off + 1 < s.b.len) {
				(void)rbuf_u8(&s.b, off, &pre);
				(void)rbuf_u8(&s.b, off + 1, &hlen_byte);
				if ((pre & 0x0f) == 0) {
					off += (uint32_t)(hlen_byte & 0xf8) >> 1;
					if (off + 32 < s.b.len) {
						(void)rbuf_copy(&s.b, off + 10, 6,
						    pv->src_mac);
						(void)rbuf_copy(&s.b, off + 16, 6,
						    pv->dst_mac);
						off += 24;
						(void)rbuf_be16(&s.b, off + 6, &v16);
						s.type = v16;
						s.ip_off = off + 8;
						s.tunnel_id = TUNNEL_CAPWAP;
						goto ip;
					}
				}
			}
		}
	}
	return decode_l3_l4(&s, wirelen, pv);
}
