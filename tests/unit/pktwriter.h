/*
 * pktwriter.h - tiny byte writer for crafting frames in unit tests.
 *
 * Every field is appended explicitly in wire order (no structs are cast
 * onto buffers), so each test shows the exact bytes the decoder sees.
 * Header helpers write fixed layouts with the lengths passed in; nothing is
 * computed behind the test's back (checksums are left zero: the decoder
 * never reads them).
 */
#ifndef STREAMPROBE_TEST_PKTWRITER_H
#define STREAMPROBE_TEST_PKTWRITER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PW_MAX	1024

struct pw {
	uint8_t		b[PW_MAX];
	uint32_t	len;
};

static inline void
pw_init(struct pw *w)
{
	memset(w, 0, sizeof(*w));
}

static inline void
pw_u8(struct pw *w, uint8_t v)
{
	if (w->len >= PW_MAX)		/* not assert(): NDEBUG builds too */
		abort();
	w->b[w->len++] = v;
}

static inline void
pw_be16(struct pw *w, uint16_t v)
{
	pw_u8(w, (uint8_t)(v >> 8));
	pw_u8(w, (uint8_t)v);
}

static inline void
pw_le16(struct pw *w, uint16_t v)
{
	pw_u8(w, (uint8_t)v);
	pw_u8(w, (uint8_t)(v >> 8));
}

static inline void
pw_be32(struct pw *w, uint32_t v)
{
	pw_be16(w, (uint16_t)(v >> 16));
	pw_be16(w, (uint16_t)v);
}

static inline void
pw_bytes(struct pw *w, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		pw_u8(w, p[i]);
}

static inline void
pw_fill(struct pw *w, uint8_t v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		pw_u8(w, v);
}

/* Pad with zeros up to n bytes (Ethernet minimum frame). */
static inline void
pw_pad_to(struct pw *w, uint32_t n)
{
	while (w->len < n)
		pw_u8(w, 0);
}

/* Ethernet II header: 14 bytes. */
static inline void
pw_eth(struct pw *w, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	pw_bytes(w, dst, 6);
	pw_bytes(w, src, 6);
	pw_be16(w, type);
}

/* One 802.1Q/802.1ad tag after the type that announced it: TCI + type. */
static inline void
pw_tag(struct pw *w, uint16_t tci, uint16_t next_type)
{
	pw_be16(w, tci);
	pw_be16(w, next_type);
}

/*
 * IPv4 header of ihl 32-bit words (ihl > 5 appends NOP options).
 * frag is the raw flags/fragment-offset field (0x2000 = MF).
 */
static inline void
pw_ipv4_ihl(struct pw *w, uint8_t ihl, uint16_t tot_len, uint16_t frag,
    uint8_t proto, const uint8_t src[4], const uint8_t dst[4])
{
	pw_u8(w, (uint8_t)(0x40 | ihl));
	pw_u8(w, 0);			/* DSCP/ECN */
	pw_be16(w, tot_len);
	pw_be16(w, 0x1234);		/* identification */
	pw_be16(w, frag);
	pw_u8(w, 64);			/* TTL */
	pw_u8(w, proto);
	pw_be16(w, 0);			/* checksum */
	pw_bytes(w, src, 4);
	pw_bytes(w, dst, 4);
	pw_fill(w, 0x01, (uint32_t)(ihl - 5) * 4);	/* NOP options */
}

static inline void
pw_ipv4(struct pw *w, uint16_t tot_len, uint16_t frag, uint8_t proto,
    const uint8_t src[4], const uint8_t dst[4])
{
	pw_ipv4_ihl(w, 5, tot_len, frag, proto, src, dst);
}

/* IPv6 fixed header: 40 bytes. */
static inline void
pw_ipv6(struct pw *w, uint16_t plen, uint8_t nxt, const uint8_t src[16],
    const uint8_t dst[16])
{
	pw_be32(w, 0x60000000);		/* version 6, class 0, label 0 */
	pw_be16(w, plen);
	pw_u8(w, nxt);
	pw_u8(w, 64);			/* hop limit */
	pw_bytes(w, src, 16);
	pw_bytes(w, dst, 16);
}

/* 8-byte IPv6 option header (hop-by-hop, destination): PadN fills it. */
static inline void
pw_ipv6_opt8(struct pw *w, uint8_t nxt)
{
	pw_u8(w, nxt);
	pw_u8(w, 0);			/* hdr ext len: (0 + 1) * 8 bytes */
	pw_u8(w, 1);			/* PadN */
	pw_u8(w, 4);
	pw_fill(w, 0, 4);
}

/* IPv6 fragment header: offset in 8-byte units, more-fragments flag. */
static inline void
pw_ipv6_frag(struct pw *w, uint8_t nxt, uint16_t offset8, int more)
{
	pw_u8(w, nxt);
	pw_u8(w, 0);
	pw_be16(w, (uint16_t)((offset8 << 3) | (more ? 1 : 0)));
	pw_be32(w, 0xcafe0001);		/* identification */
}

static inline void
pw_udp(struct pw *w, uint16_t sport, uint16_t dport, uint16_t len)
{
	pw_be16(w, sport);
	pw_be16(w, dport);
	pw_be16(w, len);
	pw_be16(w, 0);			/* checksum */
}

/* TCP header of doff 32-bit words (doff > 5 appends NOP options). */
static inline void
pw_tcp(struct pw *w, uint16_t sport, uint16_t dport, uint8_t flags,
    uint8_t doff)
{
	pw_be16(w, sport);
	pw_be16(w, dport);
	pw_be32(w, 1000);		/* seq */
	pw_be32(w, 2000);		/* ack */
	pw_u8(w, (uint8_t)(doff << 4));
	pw_u8(w, flags);
	pw_be16(w, 65535);		/* window */
	pw_be16(w, 0);			/* checksum */
	pw_be16(w, 0);			/* urgent */
	pw_fill(w, 0x01, (uint32_t)(doff - 5) * 4);
}

/* ICMP/ICMPv6 echo header: 8 bytes. */
static inline void
pw_icmp_echo(struct pw *w, uint8_t type, uint16_t id, uint16_t seq)
{
	pw_u8(w, type);
	pw_u8(w, 0);			/* code */
	pw_be16(w, 0);			/* checksum */
	pw_be16(w, id);
	pw_be16(w, seq);
}

#endif
