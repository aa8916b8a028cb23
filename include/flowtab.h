/*
 * flowtab.h - the flow cache: hash index, LRU and creation-order lists over
 * a preallocated pool, with NFStream's expiry rules.
 *
 * Expiry (packet clock, milliseconds):
 *  - on arrival, before accounting: idle if now - last >= idle_timeout,
 *    else active if now - first >= active_timeout; the old flow goes to the
 *    sink and the packet starts a new flow (flowtab_lookup);
 *  - flowtab_expire_idle() pops idle flows from the LRU tail;
 *  - flowtab_flush() ends every flow in creation order (end of input).
 * A full table evicts its least recently used flow (lack of resources).
 * The table never exports anything itself: expired flows are handed to the
 * sink given at creation, which borrows the record (and may finalise its
 * ext state) for one call.
 */
#ifndef STREAMPROBE_FLOWTAB_H
#define STREAMPROBE_FLOWTAB_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct flowtab;
struct pkt_view;

typedef void (*flowtab_sink_fn)(struct flow *f, void *arg);

struct flowtab_conf {
	uint32_t	 max_flows;
	uint32_t	 ext_size;	/* caller state after each record */
	uint64_t	 idle_timeout_ms;
	uint64_t	 active_timeout_ms;
	flowtab_sink_fn	 sink;
	void		*sink_arg;
};

struct flowtab_stats {
	uint64_t	created;
	uint64_t	expired_idle;
	uint64_t	expired_active;
	uint64_t	evicted;	/* lack of resources */
	uint64_t	flushed;
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

/* Expire up to budget idle flows (least recently used first). */
unsigned flowtab_expire_idle(struct flowtab *ft, uint64_t now_ms,
    unsigned budget);

/* End every flow, oldest created first, with the given reason. */
void flowtab_flush(struct flowtab *ft, enum flow_end_reason reason);

const struct flowtab_stats *flowtab_stats(const struct flowtab *ft);

/* Bytes of memory one cached flow costs (record, links, ext, index). */
size_t flowtab_bytes_per_flow(const struct flowtab *ft);

#endif
