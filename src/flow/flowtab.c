/*
 * flowtab.c - the flow cache.
 *
 *	flowtab_create/destroy()	pool, index and lists
 *	flowtab_lookup()		per-packet find-or-create with arrival expiry
 *	flowtab_expire_idle()		closing-head and LRU-tail idle expiry,
 *					bounded work
 *	flowtab_expire_active()		creation-order active expiry (live)
 *	flowtab_tcp_check_end()		FIN/FIN or RST: move to the closing list
 *	flowtab_flush()			end everything, creation order
 *	flowtab_shed_next(), flowtab_evict()	memory budget
 *	flowtab_trim()			give free entries' pages back
 *	flowtab_stats(), flowtab_bytes_per_flow()
 *
 * Entries live in one anonymous mapping reserved for max_flows entries at
 * start-up (pages are committed by the kernel as the table fills), so the
 * per-packet path never allocates.  Entry 0 is never used: index 0 means
 * "none" in every link.  Each entry is
 *	[struct ft_links][struct flow][ext_size bytes of caller state]
 * The hash index chains through ft_links.hnext; every lookup compares the
 * full key, never the hash alone.
 *
 * Idle expiry pops the LRU tail instead of NFStream's scan of the oldest
 * created flows, which can be blocked by one busy flow: flows then leave the
 * cache earlier but with the same content (a packet after an idle gap splits
 * the flow either way), only the export order differs.
 *
 * A flow is on exactly one of two lists linked through lru_prev/lru_next:
 * the LRU list (head most recently used) or, once its TCP end was seen,
 * the closing list (head the one whose last packet is oldest; packets
 * always append at the tail, so it is ordered by last packet time and the
 * linger scan stops at the first flow not due).  Closing flows are kept
 * off the LRU so that idle expiry and eviction take them first and with
 * their own reason.
 */
#define _DEFAULT_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "flowtab.h"

#define NIL 0u

/*
 * closing shares fifo_prev's word (indexes are <= 2^30) so the links stay
 * 24 bytes: the record after them must stay 8-aligned, and a flag should
 * not cost every cached flow 8 more bytes.
 */
struct ft_links {
	uint32_t	hash;
	uint32_t	hnext;
	uint32_t	lru_prev;	/* LRU or closing list, to its head */
	uint32_t	lru_next;	/* to its tail */
	uint32_t	fifo_prev : 31;	/* towards the oldest created */
	uint32_t	closing : 1;	/* on the closing list, not the LRU */
	uint32_t	fifo_next;
};

_Static_assert(sizeof(struct ft_links) % 8 == 0,
    "the flow record after the links needs 8-byte alignment");

struct flowtab {
	struct flowtab_conf	 conf;
	uint8_t			*pool;
	size_t			 pool_bytes;
	size_t			 entry_size;
	uint32_t		 pool_used;	/* entries ever handed out, +1 */
	uint32_t		 free_head;
	uint32_t		*buckets;
	uint32_t		 bucket_mask;
	uint32_t		 lru_head, lru_tail;
	uint32_t		 closing_head, closing_tail;
	uint32_t		 fifo_head, fifo_tail;
	/* Shedding cursor: flows before it in creation order were visited;
	 * NIL and !shed_past_tail: start at the head. */
	uint32_t		 shed_cur;
	bool			 shed_past_tail;
	bool			 evict_memory;	/* flowtab_evict() running */
	bool			 ending;	/* flowtab_end() running */
	uint64_t		 closing_ms;	/* min(linger, idle timeout) */
	uint64_t		 seed;
	struct flowtab_stats	 stats;
};

static inline struct ft_links *
entry_links(const struct flowtab *ft, uint32_t idx)
{
	return (struct ft_links *)(void *)(ft->pool + (size_t)idx * ft->entry_size);
}

static inline struct flow *
entry_flow(const struct flowtab *ft, uint32_t idx)
{
	return (struct flow *)(void *)(entry_links(ft, idx) + 1);
}

static inline uint64_t
hash_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static inline bool
key_equal(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t wa[sizeof(*a) / 8], wb[sizeof(*b) / 8], diff = 0;
	size_t i;

	memcpy(wa, a, sizeof(wa));
	memcpy(wb, b, sizeof(wb));
	for (i = 0; i < sizeof(wa) / sizeof(wa[0]); i++)
		diff |= wa[i] ^ wb[i];
	return diff == 0;
}

static uint32_t
key_hash(const struct flowtab *ft, const struct flow_key *k)
{
	uint64_t w[sizeof(*k) / 8], h = ft->seed;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		h = hash_mix(h, w[i]);
	h ^= h >> 32;
	return (uint32_t)h;
}

struct flowtab *
flowtab_create(const struct flowtab_conf *conf, char *errbuf, size_t errlen)
{
	struct flowtab *ft;
	uint32_t nb = 1;

	if (conf->max_flows == 0 || conf->max_flows > (1u << 30)) {
		snprintf(errbuf, errlen, "max flows must be 1..%u", 1u << 30);
		return NULL;
	}
	if ((ft = calloc(1, sizeof(*ft))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	ft->conf = *conf;
	if (ft->conf.tcp_linger_ms == 0)
		ft->conf.tcp_linger_ms = FLOWTAB_TCP_LINGER_MS;
	ft->closing_ms = ft->conf.tcp_linger_ms < conf->idle_timeout_ms ?
	    ft->conf.tcp_linger_ms : conf->idle_timeout_ms;
	ft->entry_size = (sizeof(struct ft_links) + sizeof(struct flow) +
	    conf->ext_size + 7) & ~(size_t)7;
	ft->pool_bytes = ((size_t)conf->max_flows + 1) * ft->entry_size;
	/* Reserve address space only; the kernel commits pages on first use. */
	ft->pool = mmap(NULL, ft->pool_bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ft->pool == MAP_FAILED) {
		snprintf(errbuf, errlen, "cannot reserve %zu bytes for %u flows",
		    ft->pool_bytes, conf->max_flows);
		free(ft);
		return NULL;
	}
	while (nb < conf->max_flows)
		nb <<= 1;
	if ((ft->buckets = calloc(nb, sizeof(*ft->buckets))) == NULL) {
		snprintf(errbuf, errlen, "out of memory for the flow index");
		munmap(ft->pool, ft->pool_bytes);
		free(ft);
		return NULL;
	}
	ft->bucket_mask = nb - 1;
	ft->pool_used = 1;
	ft->seed = (uint64_t)time(NULL) * 0x2545f4914f6cdd1dULL ^ (uintptr_t)ft;
	return ft;
}

void
flowtab_destroy(struct flowtab *ft)
{
	if (ft == NULL)
		return;
	munmap(ft->pool, ft->pool_bytes);
	free(ft->buckets);
	free(ft);
}

/* Unlink from the LRU or the closing list, both linked through lru_*. */
static inline void
dlist_unlink(struct flowtab *ft, struct ft_links *l, uint32_t *head,
    uint32_t *tail)
{
	if (l->lru_prev != NIL)
		entry_links(ft, l->lru_prev)->lru_next = l->lru_next;
	else
		*head = l->lru_next;
	if (l->lru_next != NIL)
		entry_links(ft, l->lru_next)->lru_prev = l->lru_prev;
	else
		*tail = l->lru_prev;
}

static inline void
lru_unlink(struct flowtab *ft, struct ft_links *l)
{
	dlist_unlink(ft, l, &ft->lru_head, &ft->lru_tail);
}

static void
lru_push_head(struct flowtab *ft, uint32_t idx, struct ft_links *l)
{
	l->lru_prev = NIL;
	l->lru_next = ft->lru_head;
	if (ft->lru_head != NIL)
		entry_links(ft, ft->lru_head)->lru_prev = idx;
	else
		ft->lru_tail = idx;
	ft->lru_head = idx;
}

static inline void
closing_unlink(struct flowtab *ft, struct ft_links *l)
{
	dlist_unlink(ft, l, &ft->closing_head, &ft->closing_tail);
}

static void
closing_push_tail(struct flowtab *ft, uint32_t idx, struct ft_links *l)
{
	l->lru_next = NIL;
	l->lru_prev = ft->closing_tail;
	if (ft->closing_tail != NIL)
		entry_links(ft, ft->closing_tail)->lru_next = idx;
	else
		ft->closing_head = idx;
	ft->closing_tail = idx;
}

/* A closing flow's packet: it becomes the newest on the closing list. */
static void
closing_touch(struct flowtab *ft, uint32_t idx, struct ft_links *l)
{
	if (ft->closing_tail != idx) {
		closing_unlink(ft, l);
		closing_push_tail(ft, idx, l);
	}
}

static void
fifo_unlink(struct flowtab *ft, uint32_t idx, struct ft_links *l)
{
	if (ft->shed_cur == idx) {
		ft->shed_cur = l->fifo_next;
		ft->shed_past_tail = l->fifo_next == NIL;
	}
	if (l->fifo_prev != NIL)
		entry_links(ft, l->fifo_prev)->fifo_next = l->fifo_next;
	else
		ft->fifo_head = l->fifo_next;
	if (l->fifo_next != NIL)
		entry_links(ft, l->fifo_next)->fifo_prev = l->fifo_prev;
	else
		ft->fifo_tail = l->fifo_prev;
}

static void
fifo_push_tail(struct flowtab *ft, uint32_t idx, struct ft_links *l)
{
	l->fifo_next = NIL;
	l->fifo_prev = ft->fifo_tail;
	if (ft->fifo_tail != NIL)
		entry_links(ft, ft->fifo_tail)->fifo_next = idx;
	else
		ft->fifo_head = idx;
	ft->fifo_tail = idx;
	if (ft->shed_past_tail) {
		ft->shed_cur = idx;
		ft->shed_past_tail = false;
	}
}

static void
hash_unlink(struct flowtab *ft, uint32_t idx, struct ft_links *l)
{
	uint32_t *pp = &ft->buckets[l->hash & ft->bucket_mask];

	while (*pp != idx)
		pp = &entry_links(ft, *pp)->hnext;
	*pp = l->hnext;
}

/* Hand the flow to the sink, then return its entry to the free list. */
static void
count_end(struct flowtab *ft, enum flow_end_reason reason)
{
	ft->stats.active--;
	switch (reason) {
	case FLOW_END_IDLE:
		ft->stats.expired_idle++;
		break;
	case FLOW_END_ACTIVE:
		ft->stats.expired_active++;
		break;
	case FLOW_END_OF_FLOW:
		if (ft->ending)
			ft->stats.ended_plugin++;
		else
			ft->stats.ended_tcp++;
		break;
	case FLOW_END_LACK_OF_RESOURCES:
		if (ft->evict_memory)
			ft->stats.evicted_memory++;
		else
			ft->stats.evicted++;
		break;
	default:
		ft->stats.flushed++;
		break;
	}
}

static void
entry_expire(struct flowtab *ft, uint32_t idx, enum flow_end_reason reason)
{
	struct ft_links *l = entry_links(ft, idx);
	struct flow *f = entry_flow(ft, idx);

	f->end_reason = (uint8_t)reason;
	ft->conf.sink(f, ft->conf.sink_arg);
	hash_unlink(ft, idx, l);
	if (l->closing)
		closing_unlink(ft, l);
	else
		lru_unlink(ft, l);
	fifo_unlink(ft, idx, l);
	l->hnext = ft->free_head;
	ft->free_head = idx;
	count_end(ft, reason);
}

static void
evict_one(struct flowtab *ft)
{
	if (ft->closing_head != NIL)
		entry_expire(ft, ft->closing_head, FLOW_END_OF_FLOW);
	else
		entry_expire(ft, ft->lru_tail, FLOW_END_LACK_OF_RESOURCES);
}

static uint32_t
entry_alloc(struct flowtab *ft)
{
	uint32_t idx;

	if (ft->free_head != NIL) {
		idx = ft->free_head;
		ft->free_head = entry_links(ft, idx)->hnext;
		return idx;
	}
	if (ft->pool_used <= ft->conf.max_flows)
		return ft->pool_used++;
	/*
	 * Full: make room by ending the oldest closing flow, which is finished
	 * anyway, else the least recently used one.
	 */
	evict_one(ft);
	idx = ft->free_head;
	ft->free_head = entry_links(ft, idx)->hnext;
	return idx;
}

/*
 * A packet of a closing flow.  Its linger is checked on arrival like the
 * idle timeout, so a flow's content does not depend on when the scan ran;
 * a SYN without ACK is a new connection on the same ports.  Returns true
 * if the packet belongs to the flow, false if the flow was ended.
 */
static bool
closing_hit(struct flowtab *ft, uint32_t idx, struct ft_links *l,
    const struct pkt_view *pv, uint64_t now_ms)
{
	struct flow *f = entry_flow(ft, idx);

	if (now_ms - flow_last_ms(f) >= ft->closing_ms) {
		entry_expire(ft, idx, FLOW_END_OF_FLOW);
		return false;
	}
	if (now_ms - flow_first_ms(f) >= ft->conf.active_timeout_ms) {
		entry_expire(ft, idx, FLOW_END_ACTIVE);
		return false;
	}
	if ((pv->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) {
		entry_expire(ft, idx, FLOW_END_OF_FLOW);
		return false;
	}
	closing_touch(ft, idx, l);
	return true;
}

void
flowtab_probe_init(const struct flowtab *ft, const struct pkt_view *pv,
    struct flowtab_probe *p)
{
	flow_key_from_pkt(pv, &p->key, &p->src_end);
	p->hash = key_hash(ft, &p->key);
}

void
flowtab_probe_from_key(const struct flowtab *ft, const struct flow_key *key,
    uint8_t src_end, struct flowtab_probe *p)
{
	p->key = *key;
	p->src_end = src_end;
	p->hash = key_hash(ft, key);
}

void
flowtab_prefetch_bucket(const struct flowtab *ft, const struct flowtab_probe *p)
{
	__builtin_prefetch(&ft->buckets[p->hash & ft->bucket_mask]);
}

/* The chain's first entry: the flow itself unless its bucket is shared. */
void
flowtab_prefetch_entry(const struct flowtab *ft, const struct flowtab_probe *p)
{
	uint32_t idx = ft->buckets[p->hash & ft->bucket_mask];
	const uint8_t *e;

	if (idx == NIL)
		return;
	e = (const uint8_t *)entry_links(ft, idx);
	__builtin_prefetch(e, 1);
	__builtin_prefetch(e + 64, 1);
	__builtin_prefetch(e + 128, 1);
}

void
flowtab_prefetch_lru(const struct flowtab *ft, const struct flowtab_probe *p)
{
	uint32_t idx = ft->buckets[p->hash & ft->bucket_mask];
	const struct ft_links *l;

	if (idx == NIL || (l = entry_links(ft, idx))->hash != p->hash)
		return;
	if (l->lru_prev != NIL)
		__builtin_prefetch(entry_links(ft, l->lru_prev), 1);
	if (l->lru_next != NIL)
		__builtin_prefetch(entry_links(ft, l->lru_next), 1);
}

struct flow *
flowtab_lookup(struct flowtab *ft, const struct pkt_view *pv, uint64_t now_ms,
    enum flow_dir *dir)
{
	struct flowtab_probe p;

	flowtab_probe_init(ft, pv, &p);
	return flowtab_lookup_probe(ft, &p, pv, now_ms, dir);
}

struct flow *
flowtab_lookup_probe(struct flowtab *ft, const struct flowtab_probe *p,
    const struct pkt_view *pv, uint64_t now_ms, enum flow_dir *dir)
{
	struct ft_links *l;
	struct flow *f;
	uint32_t h = p->hash, idx;

	for (idx = ft->buckets[h & ft->bucket_mask]; idx != NIL; idx = l->hnext) {
		l = entry_links(ft, idx);
		if (l->hash == h && key_equal(&entry_flow(ft, idx)->key, &p->key))
			break;
	}
	if (idx != NIL) {
		f = entry_flow(ft, idx);
		if (l->closing) {
			if (closing_hit(ft, idx, l, pv, now_ms)) {
				*dir = flow_packet_dir(f, p->src_end);
				return f;
			}
		} else if (now_ms - flow_last_ms(f) >=
		    ft->conf.idle_timeout_ms) {
			entry_expire(ft, idx, FLOW_END_IDLE);
		} else if (now_ms - flow_first_ms(f) >=
		    ft->conf.active_timeout_ms) {
			entry_expire(ft, idx, FLOW_END_ACTIVE);
		} else {
			if (ft->lru_head != idx) {
				lru_unlink(ft, l);
				lru_push_head(ft, idx, l);
			}
			*dir = flow_packet_dir(f, p->src_end);
			return f;
		}
	}

	idx = entry_alloc(ft);
	l = entry_links(ft, idx);
	f = entry_flow(ft, idx);
	memset(f, 0, sizeof(*f) + ft->conf.ext_size);
	f->key = p->key;
	f->src_end = p->src_end;
	memcpy(f->src_mac, pv->src_mac, sizeof(f->src_mac));
	memcpy(f->dst_mac, pv->dst_mac, sizeof(f->dst_mac));
	l->hash = h;
	l->hnext = ft->buckets[h & ft->bucket_mask];
	ft->buckets[h & ft->bucket_mask] = idx;
	lru_push_head(ft, idx, l);
	fifo_push_tail(ft, idx, l);
	l->closing = 0;
	ft->stats.created++;
	if (++ft->stats.active > ft->stats.peak_active)
		ft->stats.peak_active = ft->stats.active;
	*dir = FLOW_DIR_SRC2DST;
	return f;
}

/*
 * Time since a flow's timestamp for the scans, which the live probe may
 * drive with a wall clock a little behind the packet stamps: never due
 * rather than wrapping around.
 */
static inline uint64_t
scan_elapsed(uint64_t now_ms, uint64_t then_ms)
{
	return now_ms > then_ms ? now_ms - then_ms : 0;
}

unsigned
flowtab_expire_idle(struct flowtab *ft, uint64_t now_ms, unsigned budget)
{
	unsigned n = 0;

	while (n < budget && ft->closing_head != NIL &&
	    scan_elapsed(now_ms, flow_last_ms(entry_flow(ft,
	    ft->closing_head))) >= ft->closing_ms) {
		entry_expire(ft, ft->closing_head, FLOW_END_OF_FLOW);
		n++;
	}
	while (n < budget && ft->lru_tail != NIL &&
	    scan_elapsed(now_ms, flow_last_ms(entry_flow(ft, ft->lru_tail))) >=
	    ft->conf.idle_timeout_ms) {
		entry_expire(ft, ft->lru_tail, FLOW_END_IDLE);
		n++;
	}
	return n;
}

/* The creation-order FIFO is also in first_ms order: the clock is monotonic. */
unsigned
flowtab_expire_active(struct flowtab *ft, uint64_t now_ms, unsigned budget)
{
	unsigned n = 0;

	while (n < budget && ft->fifo_head != NIL &&
	    scan_elapsed(now_ms, flow_first_ms(entry_flow(ft,
	    ft->fifo_head))) >= ft->conf.active_timeout_ms) {
		entry_expire(ft, ft->fifo_head, FLOW_END_ACTIVE);
		n++;
	}
	return n;
}

void
flowtab_tcp_check_end(struct flowtab *ft, struct flow *f)
{
	struct ft_links *l;
	uint32_t idx;

	if (!ft->conf.tcp_end)
		return;
	if (((f->tcp_flags[0] & f->tcp_flags[1]) & TCP_FLAG_FIN) == 0 &&
	    ((f->tcp_flags[0] | f->tcp_flags[1]) & TCP_FLAG_RST) == 0)
		return;
	l = (struct ft_links *)(void *)f - 1;
	idx = (uint32_t)(((uint8_t *)l - ft->pool) / ft->entry_size);
	if (l->closing) {
		closing_touch(ft, idx, l);
		return;
	}
	lru_unlink(ft, l);
	l->closing = 1;
	closing_push_tail(ft, idx, l);
}

void
flowtab_end(struct flowtab *ft, struct flow *f)
{
	struct ft_links *l = (struct ft_links *)(void *)f - 1;
	uint32_t idx = (uint32_t)(((uint8_t *)l - ft->pool) / ft->entry_size);

	ft->ending = true;
	entry_expire(ft, idx, FLOW_END_OF_FLOW);
	ft->ending = false;
}

/* Closing flows end with their own reason: their end was seen. */
void
flowtab_flush(struct flowtab *ft, enum flow_end_reason reason)
{
	enum flow_end_reason r;
	struct ft_links *l;
	uint32_t idx, next;
	const uint8_t *e;
	size_t off;

	/* Every flow leaves, so none is unlinked on its own: entry_expire()'s
	 * hash chain and list neighbours are cache misses all over a table of
	 * a million flows (the top of the final flush's profile).  The index
	 * and the lists are emptied at the end instead, and the next flow in
	 * creation order is fetched while the sink copies this one. */
	for (idx = ft->fifo_head; idx != NIL; idx = next) {
		l = entry_links(ft, idx);
		next = l->fifo_next;
		if (next != NIL) {
			e = (const uint8_t *)entry_links(ft, next);
			for (off = 0; off < ft->entry_size; off += 64)
				__builtin_prefetch(e + off);
		}
		r = l->closing ? FLOW_END_OF_FLOW : reason;
		entry_flow(ft, idx)->end_reason = (uint8_t)r;
		ft->conf.sink(entry_flow(ft, idx), ft->conf.sink_arg);
		l->hnext = ft->free_head;
		ft->free_head = idx;
		count_end(ft, r);
	}
	memset(ft->buckets, 0, flowtab_index_bytes(ft));	/* NIL is 0 */
	ft->lru_head = ft->lru_tail = NIL;
	ft->closing_head = ft->closing_tail = NIL;
	ft->fifo_head = ft->fifo_tail = NIL;
	ft->shed_cur = NIL;
	ft->shed_past_tail = false;
}

const struct flowtab_stats *
flowtab_stats(const struct flowtab *ft)
{
	return &ft->stats;
}

size_t
flowtab_entry_bytes(const struct flowtab *ft)
{
	return ft->entry_size;
}

size_t
flowtab_index_bytes(const struct flowtab *ft)
{
	return ((size_t)ft->bucket_mask + 1) * sizeof(ft->buckets[0]);
}

size_t
flowtab_mem_bytes(const struct flowtab *ft)
{
	return flowtab_index_bytes(ft) + (size_t)ft->stats.active *
	    ft->entry_size;
}

size_t
flowtab_bytes_per_flow(const struct flowtab *ft)
{
	return ft->entry_size + (flowtab_index_bytes(ft) +
	    ft->conf.max_flows - 1) / ft->conf.max_flows;
}

struct flow *
flowtab_shed_next(struct flowtab *ft)
{
	uint32_t idx;

	if (ft->shed_past_tail)
		return NULL;
	idx = ft->shed_cur != NIL ? ft->shed_cur : ft->fifo_head;
	if (idx == NIL)
		return NULL;
	ft->shed_cur = entry_links(ft, idx)->fifo_next;
	ft->shed_past_tail = ft->shed_cur == NIL;
	return entry_flow(ft, idx);
}

bool
flowtab_evict(struct flowtab *ft)
{
	if (ft->fifo_head == NIL)
		return false;
	ft->evict_memory = true;	/* counted as memory, not table full */
	evict_one(ft);
	ft->evict_memory = false;
	return true;
}

size_t
flowtab_slack_bytes(const struct flowtab *ft)
{
	return (size_t)(ft->pool_used - 1 - ft->stats.active) * ft->entry_size;
}

/* Move a cached flow from entry from to the free entry to; relink. */
static void
entry_move(struct flowtab *ft, uint32_t from, uint32_t to)
{
	struct ft_links *l;
	uint32_t *pp;

	memcpy(entry_links(ft, to), entry_links(ft, from), ft->entry_size);
	l = entry_links(ft, to);
	pp = &ft->buckets[l->hash & ft->bucket_mask];
	while (*pp != from)
		pp = &entry_links(ft, *pp)->hnext;
	*pp = to;
	if (l->lru_prev != NIL)
		entry_links(ft, l->lru_prev)->lru_next = to;
	else if (l->closing)
		ft->closing_head = to;
	else
		ft->lru_head = to;
	if (l->lru_next != NIL)
		entry_links(ft, l->lru_next)->lru_prev = to;
	else if (l->closing)
		ft->closing_tail = to;
	else
		ft->lru_tail = to;
	if (l->fifo_prev != NIL)
		entry_links(ft, l->fifo_prev)->fifo_next = to;
	else
		ft->fifo_head = to;
	if (l->fifo_next != NIL)
		entry_links(ft, l->fifo_next)->fifo_prev = to;
	else
		ft->fifo_tail = to;
	if (ft->shed_cur == from)
		ft->shed_cur = to;
}

static size_t
page_up(size_t n, size_t page)
{
	return (n + page - 1) / page * page;
}

size_t
flowtab_trim(struct flowtab *ft)
{
	uint32_t top = ft->pool_used, want = ft->stats.active + 1, lo, hi, i;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), keep, end;
	uint8_t *used;

	if (top <= want)
		return 0;
	/* One byte per entry ever handed out, for the length of the trim. */
	if ((used = calloc(top, 1)) == NULL)
		return 0;
	for (i = ft->fifo_head; i != NIL; i = entry_links(ft, i)->fifo_next)
		used[i] = 1;
	for (hi = want, lo = 1; hi < top; hi++) {
		if (!used[hi])
			continue;
		while (used[lo])
			lo++;
		entry_move(ft, hi, lo);
		used[lo] = 1;
	}
	free(used);
	ft->pool_used = want;
	ft->free_head = NIL;
	keep = page_up((size_t)want * ft->entry_size, page);
	end = page_up((size_t)top * ft->entry_size, page);
	if (end <= keep)
		return 0;
	madvise(ft->pool + keep, end - keep, MADV_DONTNEED);
	return end - keep;
}
