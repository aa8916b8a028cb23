/*
 * decode.h - pure L2..L4 packet decoding into a pkt_view.
 *
 * Semantics are NFStream 6.5.4's packet parser (lib_engine.c), quirks
 * included, so that the flows built from a pkt_view equal NFStream's; the
 * two deliberate differences (DLT_LINUX_SLL2 decoded, 802.1ad S-tags walked)
 * are documented in README.md.  decode_packet() allocates nothing, keeps no
 * state and never logs: a rejected frame returns the reason, which the
 * caller counts.
 */
#ifndef STREAMPROBE_DECODE_H
#define STREAMPROBE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* Link types we decode (values of pcap_datalink()). */
#define DECODE_DLT_NULL			0
#define DECODE_DLT_EN10MB		1
#define DECODE_DLT_PPP			9
#define DECODE_DLT_RAW			12
#define DECODE_DLT_PPP_SERIAL		50
#define DECODE_DLT_C_HDLC		104
#define DECODE_DLT_LINUX_SLL		113
#define DECODE_DLT_IEEE802_11_RADIO	127
#define DECODE_DLT_IPV4			228
#define DECODE_DLT_IPV6			229
#define DECODE_DLT_LINUX_SLL2		276

/* tunnel_id values: nDPI's ndpi_packet_tunnel numbering, as NFStream. */
enum tunnel_id {
	TUNNEL_NONE = 0,
	TUNNEL_GTP = 1,
	TUNNEL_CAPWAP = 2,
	TUNNEL_TZSP = 3
};

/* Accounting modes: which per-packet size feeds byte and size features. */
enum pkt_size_kind {
	PKT_SIZE_RAW = 0,	/* pcap wire length */
	PKT_SIZE_IP = 1,	/* IPv4 total length, IPv6 payload length */
	PKT_SIZE_TRANSPORT = 2,
	PKT_SIZE_PAYLOAD = 3,
	PKT_SIZE_KINDS = 4
};

/* Why a frame was not metered.  Keep decode_result_name() in step. */
enum decode_result {
	DECODE_OK = 0,
	DECODE_SHORT_FRAME,		/* fewer than 28 captured bytes */
	DECODE_UNSUPPORTED_DLT,
	DECODE_STP_FRAME,		/* 802.3/LLC spanning tree */
	DECODE_WIFI_BAD_FCS,
	DECODE_WIFI_NOT_DATA,
	DECODE_TRUNCATED_L2,		/* link header or tags not captured */
	DECODE_NOT_IP,			/* no IPv4/IPv6 header (ARP, ...) */
	DECODE_TRUNCATED_IP,		/* IP header not captured */
	DECODE_BAD_IPV4_HEADER,		/* ihl/total length inconsistent */
	DECODE_IPV4_FRAGMENT,		/* non-first fragment */
	DECODE_IPV6_TRUNCATED,		/* IPv6 payload not fully captured */
	DECODE_IPV6_EXT_HEADER,		/* bad extension header, fragment, no-next */
	DECODE_TRUNCATED_TUNNEL,
	DECODE_TRUNCATED_L4,		/* ports/flags not captured */
	DECODE_RESULT_COUNT
};

struct decode_conf {
	int	dlt;		/* pcap_datalink() of the source */
	bool	decode_tunnels;	/* GTP-U, TZSP, CAPWAP (IP-in-IP always) */
};

/* TCP header byte 13 (RFC 9293, RFC 3168 for ECE and CWR). */
#define TCP_FLAG_FIN	0x01
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_RST	0x04
#define TCP_FLAG_PSH	0x08
#define TCP_FLAG_ACK	0x10
#define TCP_FLAG_URG	0x20
#define TCP_FLAG_ECE	0x40
#define TCP_FLAG_CWR	0x80

/*
 * A decoded packet.  Addresses are in network byte order; an IPv4 address
 * fills addr[0..3] and leaves the rest zero.  l3 borrows the capture buffer
 * and is valid only until the capture callback returns.
 */
struct pkt_view {
	uint8_t		 src_addr[16];
	uint8_t		 dst_addr[16];
	uint16_t	 src_port;
	uint16_t	 dst_port;
	uint16_t	 vlan_id;
	uint8_t		 protocol;
	uint8_t		 ip_version;
	uint8_t		 tunnel_id;
	uint8_t		 tcp_flags;	/* TCP header byte 13: TCP_FLAG_* */
	uint8_t		 src_mac[6];
	uint8_t		 dst_mac[6];
	uint16_t	 size[PKT_SIZE_KINDS];
	const uint8_t	*l3;		/* innermost IP header */
	uint16_t	 l3_len;	/* captured bytes from l3 to frame end */
};

/*
 * What the plugins' packet view adds to a pkt_view (src/plugin/): TTL or hop
 * limit, the TCP header's sequence, acknowledgement, window and length, and
 * where the captured payload starts.  Read again from pv->l3 with
 * bounds-checked reads (decode_packet() keeps none of it, so that the flow
 * path pays nothing); anything not captured reads as 0 (has_tcp 0 when the
 * 20-byte TCP header is cut).  Pure: no state, no allocation.
 */
struct l4_detail {
	uint8_t		ttl;
	uint8_t		has_tcp;
	uint8_t		tcp_header_len;	/* bytes, options included */
	uint32_t	tcp_seq;
	uint32_t	tcp_ack;
	uint16_t	tcp_window;
	uint16_t	payload_off;	/* from l3; 0 with payload_len 0 */
	uint16_t	payload_len;	/* captured, at most size[PAYLOAD] */
};

void decode_l4_detail(const struct pkt_view *pv, struct l4_detail *d);

enum decode_result decode_packet(const struct decode_conf *conf,
    const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
    struct pkt_view *pv);
const char *decode_result_name(enum decode_result r);

#endif
