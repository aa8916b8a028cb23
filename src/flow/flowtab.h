/*
 * flowtab.h - the flow cache: hash index, LRU, closing and creation-order
 * lists over a preallocated pool, with NFStream's expiry rules.
 *
 * Expiry (packet clock, milliseconds):
 *  - on arrival, before accounting: idle if now - last >= idle_timeout,
 *    else active if now - first >= active_timeout; the old flow goes to the
 *    sink and the packet starts a new flow (flowtab_lookup);
 *  - flowtab_expire_idle() pops idle flows from the LRU tail;
 *  - flowtab_expire_active() pops flows past the active timeout, oldest
 *    created first.  Only the probe's live mode calls it, so that a long
 *    flow is exported on time even if no packet of it arrives; file input
 *    keeps NFStream's semantics (active timeout checked on arrival only);
 *  - flowtab_flush() ends every flow in creation order (end of input).
 * A full table evicts its oldest closing flow (end of flow) if it has one,
 * else its least recently used flow (lack of resources).
 *
 * TCP end detection (conf.tcp_end, off by default): after accounting a TCP
 * packet with FIN or RST the caller calls flowtab_tcp_check_end(); once a
 * flow has seen FIN in both directions or RST in either it is "closing":
 * it keeps the packets that still belong to it (final ACK, retransmitted
 * FIN, the peer's RST) and ends with FLOW_END_OF_FLOW tcp_linger_ms after
 * its last packet (or idle_timeout if shorter; checked on arrival too), on
 * a SYN without ACK (a new connection on the same ports, which then starts
 * a new flow), at flush, or first when the table is full.  The active
 * timeout applies as usual.
 *
 * The table never exports anything itself: expired flows are handed to the
 * sink given at creation, which borrows the record (and may finalise its
 * ext state) for one call.
 */
#ifndef STREAMPROBE_FLOWTAB_H
#define STREAMPROBE_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/* How long a closing TCP flow waits for its last packets by default. */
#define FLOWTAB_TCP_LINGER_MS	1000

struct flowtab;
struct pkt_view;

typedef void (*flowtab_sink_fn)(struct flow *f, void *arg);

struct flowtab_conf {
	uint32_t	 max_flows;
	uint32_t	 ext_size;	/* caller state after each record */
	uint64_t	 idle_timeout_ms;
	uint64_t	 active_timeout_ms;
	bool		 tcp_end;	/* end TCP flows on FIN/FIN or RST */
	uint64_t	 tcp_linger_ms;	/* 0: FLOWTAB_TCP_LINGER_MS */
	flowtab_sink_fn	 sink;
	void		*sink_arg;
};

struct flowtab_stats {
	uint64_t	created;
	uint64_t	expired_idle;
	uint64_t	expired_active;
	uint64_t	evicted;	/* lack of resources: table full */
	uint64_t	evicted_memory;	/* lack of resources: memory budget */
	uint64_t	flushed;
	uint64_t	ended_tcp;	/* FLOW_END_OF_FLOW, flush included */
	uint64_t	ended_plugin;	/* flowtab_end(): a plugin asked */
	uint32_t	active;
	uint32_t	peak_active;
};

struct flowtab *flowtab_create(const struct flowtab_conf *conf,
    char *errbuf, size_t errlen);
void flowtab_destroy(struct flowtab *ft);

/*
 * Find or create the flow of a packet at time now_ms.  A new flow is zeroed
 * (ext too), keyed, and takes its source and MACs from this packet; its
 * counters are left for the caller to account.  *dir is the packet's
 * direction.
 */
struct flow *flowtab_lookup(struct flowtab *ft, const struct pkt_view *pv,
    uint64_t now_ms, enum flow_dir *dir);

/*
 * A packet's flow key and hash, computed once for the prefetches and the
 * lookup: flowtab_probe_init() from the packet, flowtab_probe_from_key()
 * from a key the reader made (meter_batch()).
 */
struct flowtab_probe {
	struct flow_key	key;
	uint32_t	hash;
	uint8_t		src_end;	/* key endpoint of the packet's source */
};

void flowtab_probe_init(const struct flowtab *ft, const struct pkt_view *pv,
    struct flowtab_probe *p);
/* The same from a key already made by flow_key_from_pkt() (the reader's,
 * dispatch.c): only this table's seeded hash is computed. */
void flowtab_probe_from_key(const struct flowtab *ft,
    const struct flow_key *key, uint8_t src_end, struct flowtab_probe *p);
/* flowtab_lookup() for a probe of pv made by flowtab_probe_init(). */
struct flow *flowtab_lookup_probe(struct flowtab *ft,
    const struct flowtab_probe *p, const struct pkt_view *pv,
    uint64_t now_ms, enum flow_dir *dir);

/*
 * Cache warming for a batch of packets: a lookup touches the hash bucket,
 * the flow's entry and its LRU neighbours, each a likely cache miss in a
 * big table.  Called a few packets ahead, in this order, the three loads
 * overlap with the work on the packets in between.  Pure hints: they
 * change nothing.
 */
void flowtab_prefetch_bucket(const struct flowtab *ft,
    const struct flowtab_probe *p);
void flowtab_prefetch_entry(const struct flowtab *ft,
    const struct flowtab_probe *p);
void flowtab_prefetch_lru(const struct flowtab *ft,
    const struct flowtab_probe *p);

/*
 * Expire up to budget idle flows: closing flows past their linger first
 * (FLOW_END_OF_FLOW), then the least recently used (FLOW_END_IDLE).
 */
unsigned flowtab_expire_idle(struct flowtab *ft, uint64_t now_ms,
    unsigned budget);

/*
 * Expire up to budget flows with now - first >= active_timeout
 * (FLOW_END_ACTIVE), oldest created first; returns how many.  For live
 * capture only (wall clock, between packets): file input checks the active
 * timeout on packet arrival only, as NFStream does.
 */
unsigned flowtab_expire_active(struct flowtab *ft, uint64_t now_ms,
    unsigned budget);

/*
 * After accounting a TCP packet with FIN or RST: with conf.tcp_end, a flow
 * that has now seen FIN both ways or RST either way becomes closing (see
 * above); a closing flow only moves to the closing list's tail.  Does
 * nothing with tcp_end off.
 */
void flowtab_tcp_check_end(struct flowtab *ft, struct flow *f);

/*
 * End f now with FLOW_END_OF_FLOW (a plugin's sp_expire(): NFStream's
 * expiration_id -1): the sink gets it, its entry is free, the flow's next
 * packet starts a new flow.
 */
void flowtab_end(struct flowtab *ft, struct flow *f);

/*
 * End every flow, oldest created first, with the given reason; closing
 * flows end with FLOW_END_OF_FLOW (their end was seen).
 */
void flowtab_flush(struct flowtab *ft, enum flow_end_reason reason);

const struct flowtab_stats *flowtab_stats(const struct flowtab *ft);

/*
 * Bytes of memory one cached flow costs in the table: its entry (links,
 * record, ext) plus its share of the hash index at a full table.
 */
size_t flowtab_bytes_per_flow(const struct flowtab *ft);
/* One entry (links, record, ext), and the hash index (fixed). */
size_t flowtab_entry_bytes(const struct flowtab *ft);
size_t flowtab_index_bytes(const struct flowtab *ft);

/* Memory the table holds now: the index plus the cached entries; O(1). */
size_t flowtab_mem_bytes(const struct flowtab *ft);

/*
 * Memory budget.  flowtab_shed_next() walks the cached flows once each,
 * oldest created first, across calls (a cursor kept by the table; flows
 * created later are visited later): the next flow not yet visited, or
 * NULL when every cached flow was.  flowtab_evict() ends one flow for
 * lack of memory as a full table would (the oldest closing flow with
 * FLOW_END_OF_FLOW, else the least recently used one with
 * FLOW_END_LACK_OF_RESOURCES, counted in evicted_memory); false when the
 * table is empty.
 */
struct flow *flowtab_shed_next(struct flowtab *ft);
bool flowtab_evict(struct flowtab *ft);

/*
 * Entries handed out but free now (their pages stay committed until a
 * trim), and the trim: move the cached flows into the lowest entries (by
 * copy; the ext state must not point into itself) and give the pages
 * above them back to the kernel (MADV_DONTNEED).  Returns the bytes given
 * back.  O(entries ever handed out): call it after an expiry wave, never
 * per packet; no struct flow pointer survives it.
 */
size_t flowtab_slack_bytes(const struct flowtab *ft);
size_t flowtab_trim(struct flowtab *ft);

#endif
