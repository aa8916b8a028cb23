/*
 * flow.h - the flow record: key, endpoints and NFStream's core counters.
 *
 * Key: the unordered pair of (address, port) endpoints plus protocol,
 * VLAN id, tunnel id and IP version.  It is stored canonically (lower
 * endpoint first, compared byte-wise) so both directions of a conversation
 * hash and compare equal; src_end says which endpoint sent the first packet,
 * which is the flow's source (NFStream: no port or SYN heuristics).
 *
 * Ownership: a struct flow lives in the flow table's pool and is followed in
 * memory by ext_size bytes of per-flow state owned by the features stage
 * (flow_ext()).  Sinks borrow it for the duration of one call.
 */
#ifndef STREAMPROBE_FLOW_H
#define STREAMPROBE_FLOW_H

#include <stdbool.h>
#include <stdint.h>

struct pkt_view;

/* Why a flow ended; values equal IPFIX flowEndReason (RFC 5102). */
enum flow_end_reason {
	FLOW_END_IDLE = 1,
	FLOW_END_ACTIVE = 2,
	FLOW_END_OF_FLOW = 3,
	FLOW_END_FORCED = 4,		/* end of input or shutdown */
	FLOW_END_LACK_OF_RESOURCES = 5
};

enum flow_dir {
	FLOW_DIR_SRC2DST = 0,
	FLOW_DIR_DST2SRC = 1
};

struct flow_key {
	uint8_t		addr[2][16];
	uint16_t	port[2];
	uint16_t	vlan_id;
	uint8_t		protocol;
	uint8_t		ip_version;
	uint8_t		tunnel_id;
	uint8_t		pad[7];		/* always zero: keys hash and compare as words */
};

_Static_assert(sizeof(struct flow_key) % 8 == 0,
    "flow_key is hashed and compared as whole 64-bit words");

struct flow {
	struct flow_key	key;
	uint64_t	first_ms[2];	/* per direction, 0 if no packet yet */
	uint64_t	last_ms[2];
	uint64_t	packets[2];
	uint64_t	bytes[2];
	uint8_t		src_mac[6];	/* from the first packet */
	uint8_t		dst_mac[6];
	uint8_t		src_end;	/* key endpoint (0/1) of the source */
	uint8_t		end_reason;	/* enum flow_end_reason once expired */
	uint8_t		tcp_flags[2];	/* per direction, OR of every packet's */
};

/* Caller-owned per-flow state follows the record (8-byte aligned). */
static inline void *
flow_ext(struct flow *f)
{
	return f + 1;
}

static inline const void *
flow_ext_const(const struct flow *f)
{
	return f + 1;
}

/*
 * Build the canonical key of a packet; *pkt_src_end tells which key
 * endpoint the packet's source became (0 or 1).
 */
void flow_key_from_pkt(const struct pkt_view *pv, struct flow_key *key,
    uint8_t *pkt_src_end);

/* Direction of a packet whose source is key endpoint pkt_src_end. */
static inline enum flow_dir
flow_packet_dir(const struct flow *f, uint8_t pkt_src_end)
{
	return pkt_src_end == f->src_end ? FLOW_DIR_SRC2DST : FLOW_DIR_DST2SRC;
}

/* Account one packet (NFStream's core counters, plus TCP flags seen). */
static inline void
flow_account(struct flow *f, enum flow_dir dir, uint64_t now_ms,
    uint16_t size, uint8_t tcp_flags)
{
	if (f->packets[dir] == 0)
		f->first_ms[dir] = now_ms;
	f->last_ms[dir] = now_ms;
	f->packets[dir]++;
	f->bytes[dir] += size;
	f->tcp_flags[dir] |= tcp_flags;
}

static inline uint64_t
flow_first_ms(const struct flow *f)
{
	return f->first_ms[FLOW_DIR_SRC2DST];
}

/* The clock is monotonic, so the latest packet is the larger last_ms. */
static inline uint64_t
flow_last_ms(const struct flow *f)
{
	return f->last_ms[0] > f->last_ms[1] ? f->last_ms[0] : f->last_ms[1];
}

static inline uint64_t
flow_packets(const struct flow *f)
{
	return f->packets[0] + f->packets[1];
}

#endif
