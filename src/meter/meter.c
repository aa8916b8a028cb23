/*
 * meter.c - one metering pipeline (see meter.h).
 *
 *	meter_create(), meter_destroy(), meter_set_input(), meter_ring()
 *	meter_packet()		the per-packet path
 *	meter_dispatch(), meter_between_reads(), meter_finish()
 *	meter_publish(), meter_snapshot(), meter_clock_ms()
 *
 * The sink (meter_on_flow_end) copies a finished flow into the ring.
 * When the ring is full, file input waits (nothing is lost, nothing to
 * stall) and live capture counts a drop; the final flush (end of input,
 * SIGTERM) always waits for the export stage.
 *
 * Memory budget.  The meter keeps the bytes that cached flows hold: the
 * flow table's (hash index, fixed, plus one entry per cached flow:
 * links, record, extension state) and the extensions' outside the
 * records (DPI: nDPI flow structs in use, nDPI's own allocations counted
 * through its allocation wrappers, result strings; dpi_mem_bytes()).
 * Both are running counts, so the check after each packet is O(1).  Over
 * the budget, the oldest flows still in DPI give it up first, as if they
 * ended there (counted: flows_lost_dpi); when no flow holds DPI state,
 * the least recently used flow is exported early with flowEndReason 5
 * (counted: flows_evicted_memory).  The shedding cursor visits each flow
 * once, so that loop is O(1) amortised.  Default budget (max-memory 0):
 * index + max_flows x (entry + the extensions' mem_per_flow) + 64 MiB,
 * i.e. a full table with every flow in DPI; then --max-flows stays the
 * binding limit.
 * Not in the budget (fixed, measured in README "Memory"): nDPI's
 * detection module, the export ring, libraries.
 *
 * Giving memory back: after an expiry wave (free table entries at least
 * TRIM_MIN_BYTES and as many as cached ones) the table is compacted and
 * its free pages returned (flowtab_trim), and malloc_trim(0) returns
 * what nDPI freed; nDPI flow structs come from slabs that are unmapped
 * when empty (dpi.c).  Never per packet.
 */
#define _GNU_SOURCE	/* malloc_trim */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "dispatch.h"
#include "dpi.h"
#include "flowtab.h"
#include "log.h"
#include "meter.h"
#include "monotime.h"
#include "plugin.h"
#include "ring.h"
#include "wake.h"

#define RING_SLOTS		8192
#define IDLE_SCAN_MS		10
#define IDLE_SCAN_BUDGET	1000
#define LIVE_EXPIRY_MAX_MS	50	/* quiet link: longest expiry pass */
#define CAPSTATS_MS		1000
/* Quiet link: how long the interface is polled between expiry passes.
 * Flows cached: 100 ms, so they end on time on the wall clock.  None: no
 * deadline to meet, only the 1 s timers (drop counters, status line), so
 * an idle probe wakes twice a second instead of ten times. */
#define POLL_FLOWS_MS		100
#define POLL_EMPTY_MS		500
#define FLUSH_STALL_MS		5000	/* shutdown: export stage stuck */
#define ROOM_WAIT_MS		10	/* export ring full: look again */
/* The export thread is woken once this many records wait, at the end of
 * a batch or read when EXPORT_WAKE_MS have passed since the last wake-up,
 * and before the meter sleeps; not for each record: a wake-up is a system
 * call and two context switches, and with flows ending all the time it
 * was woken 39 k times a run. */
#define EXPORT_WAKE_RECORDS	256
#define EXPORT_WAKE_MS		10
#define TRIM_MIN_BYTES		((size_t)16 << 20)
/* The default budget's room beyond max_flows typical flows: a small
 * table of TLS flows (nDPI holds ~3 KB each while it detects them) must
 * not lose DPI to a budget nobody set. */
#define AUTO_SLACK		((uint64_t)64 << 20)
/* The smallest budget: the index plus this many flows in DPI. */
#define BUDGET_MIN_FLOWS	1024

struct meter_counters {
	uint64_t	packets_read;
	uint64_t	packets_metered;
	uint64_t	packets_skipped[DECODE_RESULT_COUNT];
	uint64_t	flows_expired;
	uint64_t	flows_dropped_queue;
	uint64_t	flows_lost_dpi;
	uint64_t	mem_trimmed;
};

struct meter {
	/* The per-packet path's state first. */
	struct flowtab		*ft;
	const struct flowext	*ext;
	struct plugin_meter	*plugins;	/* NULL: none loaded */
	enum pkt_size_kind	 size_kind;
	bool			 decode_tunnels;
	bool			 live;
	bool			 tcp_end;
	uint64_t		 tick_ms;
	uint64_t		 scan_tick_ms;
	uint64_t		 mem_budget;
	uint64_t		 mem_used;
	uint64_t		 mem_peak, mem_peak_ext;
	uint32_t		 mem_peak_flows;
	struct meter_counters	 cnt;
	/* Once per flow. */
	struct ring		*ring;
	struct wake		*wake;
	struct wake		 room;		/* ring full: we sleep on it */
	uint32_t		 wake_pending;	/* records since the last wake */
	uint64_t		 wake_ms;	/* when that was (0: forced) */
	bool			 final_flush;	/* end of input or stop */
	bool			 flush_gave_up;	/* export stage stuck */
	uint64_t		 flush_stall_ms;	/* ring full since */
	/* Between reads. */
	struct capture		*cap;
	uint64_t		 next_capstats_ms;
	struct meter_snapshot	 snap;
};

static void
sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * The export ring is full.  Returns true after waiting a little (try
 * again), false when the flow must be dropped.  Files wait: nothing to
 * stall.  Live capture drops (counted) while running, since the capture
 * must not stall, but the final flush has no capture left to stall: it
 * waits for the export stage as long as that makes progress, and gives
 * up (dropping and counting the rest) only after FLUSH_STALL_MS without.
 */
static bool
ring_full_wait(struct meter *m)
{
	uint64_t now;

	if (m->live && !m->final_flush)
		return false;
	if (m->live) {
		if (m->flush_gave_up)
			return false;
		now = monotime_ms();
		if (m->flush_stall_ms == 0)
			m->flush_stall_ms = now;
		else if (now - m->flush_stall_ms >= FLUSH_STALL_MS) {
			m->flush_gave_up = true;
			log_warnx("stopping: the export thread took no flow for "
			    "%d s; the remaining flows are dropped (counted)",
			    FLUSH_STALL_MS / 1000);
			return false;
		}
	}
	if (m->wake != NULL)
		wake_signal(m->wake);	/* a full ring is never left asleep */
	/* Until the export thread emptied half of it (it signals room
	 * then), not in 50 us naps: 24 k of them in a final flush of 1 M
	 * flows. */
	wake_prepare(&m->room);
	if (ring_room(m->ring) == 0)
		wake_wait(&m->room, ROOM_WAIT_MS);
	else
		wake_cancel(&m->room);
	return true;
}

/* Wake the export thread for the records pushed since the last time:
 * now (force), or if the last wake-up is EXPORT_WAKE_MS old. */
static void
export_wake(struct meter *m, bool force)
{
	uint64_t now;

	if (m->wake_pending == 0 || m->wake == NULL)
		return;
	/* No clock for a forced wake-up: a final flush forces one per
	 * EXPORT_WAKE_RECORDS flows. */
	now = force ? 0 : monotime_ms();
	if (!force && now - m->wake_ms < EXPORT_WAKE_MS)
		return;
	wake_signal(m->wake);
	m->wake_pending = 0;
	m->wake_ms = now;
}

/*
 * Flow table sink: freeze the L7 result, then copy the finished flow to
 * the export ring; its string block now belongs to the record.
 */
static void
meter_on_flow_end(struct flow *f, void *arg)
{
	struct meter *m = arg;
	const struct flowext *x = m->ext;
	void *slot;

	flowext_flow_end(x, f);
	while ((slot = ring_push_begin(m->ring)) == NULL) {
		if (!ring_full_wait(m)) {
			m->cnt.flows_dropped_queue++;
			flowext_release(x, f);
			return;
		}
	}
	m->flush_stall_ms = 0;
	memcpy(slot, f, x->rec_size);
	ring_push_end(m->ring);
	if (++m->wake_pending >= EXPORT_WAKE_RECORDS)
		export_wake(m, true);
	m->cnt.flows_expired++;
}

struct meter *
meter_create(const struct meter_conf *conf, char *errbuf, size_t errlen)
{
	struct flowtab_conf fc;
	struct meter *m;
	uint64_t min;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if (wake_init(&m->room) != 0) {
		snprintf(errbuf, errlen, "cannot create an eventfd");
		free(m);
		return NULL;
	}
	m->ext = conf->ext;
	m->plugins = conf->plugins;
	m->size_kind = (enum pkt_size_kind)conf->accounting_mode;
	m->decode_tunnels = conf->decode_tunnels;
	m->live = conf->live;
	m->tcp_end = conf->tcp_end;
	m->wake = conf->wake;
	/* The snapshot's atomics start at 0 from calloc (lock-free types). */

	memset(&fc, 0, sizeof(fc));
	fc.max_flows = conf->max_flows;
	fc.ext_size = (uint32_t)conf->ext->size;
	fc.idle_timeout_ms = conf->idle_timeout_ms;
	fc.active_timeout_ms = conf->active_timeout_ms;
	fc.tcp_end = conf->tcp_end;
	fc.sink = meter_on_flow_end;
	fc.sink_arg = m;
	if ((m->ft = flowtab_create(&fc, errbuf, errlen)) == NULL)
		goto fail;
	if ((m->ring = ring_create(RING_SLOTS, conf->ext->rec_size)) == NULL) {
		snprintf(errbuf, errlen, "out of memory for the export queue");
		goto fail;
	}
	m->snap.bytes_per_flow = flowtab_bytes_per_flow(m->ft);
	m->snap.index_bytes = flowtab_index_bytes(m->ft);
	m->snap.entry_bytes = flowtab_entry_bytes(m->ft);
	min = flowtab_index_bytes(m->ft) + (uint64_t)BUDGET_MIN_FLOWS *
	    (flowtab_entry_bytes(m->ft) + flowext_mem_per_flow(conf->ext));
	m->mem_budget = conf->max_memory;
	if (m->mem_budget == 0) {
		m->mem_budget = flowtab_index_bytes(m->ft) +
		    (uint64_t)conf->max_flows * (flowtab_entry_bytes(m->ft) +
		    flowext_mem_per_flow(conf->ext)) + AUTO_SLACK;
		m->snap.mem_budget_auto = true;
	} else if (m->mem_budget < min) {
		snprintf(errbuf, errlen, "--max-memory %llu is too small: the "
		    "flow index for --max-flows %u takes %zu bytes, and %d flows "
		    "in DPI %llu more (give at least %llu, or lower --max-flows)",
		    (unsigned long long)conf->max_memory, conf->max_flows,
		    flowtab_index_bytes(m->ft), BUDGET_MIN_FLOWS,
		    (unsigned long long)(min - flowtab_index_bytes(m->ft)),
		    (unsigned long long)min);
		goto fail;
	}
	m->snap.mem_budget = m->mem_budget;
	return m;
fail:
	meter_destroy(m);
	return NULL;
}

void
meter_destroy(struct meter *m)
{
	if (m == NULL)
		return;
	ring_destroy(m->ring);
	flowtab_destroy(m->ft);
	wake_destroy(&m->room);
	free(m);
}

void
meter_set_input(struct meter *m, struct capture *cap)
{
	m->cap = cap;
}

struct ring *
meter_ring(struct meter *m)
{
	return m->ring;
}

struct wake *
meter_room(struct meter *m)
{
	return &m->room;
}

static inline uint64_t
mem_now(const struct meter *m)
{
	return flowtab_mem_bytes(m->ft) + flowext_mem_bytes(m->ext);
}

/*
 * After each packet: over the budget, shed DPI (oldest flows first), then
 * evict; keep the peak.  See "Memory budget" above.
 */
static inline void
mem_check(struct meter *m)
{
	struct flow *f;
	uint64_t mem = mem_now(m);

	while (mem > m->mem_budget) {
		if ((f = flowtab_shed_next(m->ft)) != NULL) {
			if (flowext_shed(m->ext, f)) {
				m->cnt.flows_lost_dpi++;
				mem = mem_now(m);
			}
			continue;
		}
		if (!flowtab_evict(m->ft))
			break;
		mem = mem_now(m);
	}
	m->mem_used = mem;
	if (mem > m->mem_peak) {
		m->mem_peak = mem;
		m->mem_peak_ext = mem - flowtab_mem_bytes(m->ft);
		m->mem_peak_flows = flowtab_stats(m->ft)->active;
	}
}

#ifdef __GLIBC__
/*
 * glibc sets its allocator up lazily, and malloc_trim()'s set-up is not
 * safe against a second thread doing the same: where glibc's malloc was
 * never called (ASan replaces malloc), two meters trimming at once crashed
 * inside glibc (a NULL arena link).  The first trim runs alone.
 */
static pthread_once_t trim_once = PTHREAD_ONCE_INIT;

static void
trim_first(void)
{
	malloc_trim(0);
}
#endif

/*
 * After expiry: give back what an expiry wave freed (force: at the end,
 * whatever is free).  Not per packet: it moves flows and walks the heap.
 */
static void
mem_trim(struct meter *m, bool force)
{
	size_t slack = flowtab_slack_bytes(m->ft);

	m->mem_used = mem_now(m);	/* flows may have ended since */
	if (!force && (slack < TRIM_MIN_BYTES || slack <
	    (size_t)flowtab_stats(m->ft)->active * flowtab_entry_bytes(m->ft)))
		return;
	m->cnt.mem_trimmed += flowtab_trim(m->ft);
#ifdef __GLIBC__
	pthread_once(&trim_once, trim_first);
	malloc_trim(0);
#endif
	m->mem_used = mem_now(m);
}

/*
 * The packet clock's scan: idle expiry every IDLE_SCAN_MS of packet time
 * (files; live does it between reads, on the wall clock too).
 */
static inline void
meter_scan(struct meter *m, uint64_t t)
{
	if (t - m->scan_tick_ms >= IDLE_SCAN_MS) {
		m->scan_tick_ms = t;
		/* Live: the wall-clock pass between reads does this job
		 * within the ring's room. */
		if (!m->live) {
			flowtab_expire_idle(m->ft, t, IDLE_SCAN_BUDGET);
			mem_trim(m, false);
		}
	}
}

/* A decoded packet at packet time t (the clamped clock); usec, the
 * capture's ts_usec, only for the plugins' time_us. */
static inline void
meter_account(struct meter *m, const struct pkt_view *pv,
    const struct flowtab_probe *probe, uint64_t t, uint32_t usec)
{
	const struct flowext *x = m->ext;
	enum flow_dir dir;
	struct flow *f;
	uint16_t size;

	m->cnt.packets_metered++;
	if (t > m->tick_ms)
		m->tick_ms = t;
	f = flowtab_lookup_probe(m->ft, probe, pv, t, &dir);
	size = pv->size[m->size_kind];
	/* The extensions (features, DPI, ...) read the counters as they
	 * were before this packet: flowext.h's ordering rule. */
	if (x->npkt != 0) {
		struct flowext_pkt pk = { f, pv, dir, t, flow_packets(f) + 1,
		    size };

		flowext_packet(x, f, &pk);
	}
	flow_account(f, dir, t, size, pv->tcp_flags);
	/* Plugins see the packet counted (NFStream's order) and may end the
	 * flow after it (expiration_id -1). */
	if (m->plugins != NULL && plugin_packet(m->plugins, f, pv, dir, t,
	    usec))
		flowtab_end(m->ft, f);
	else if (m->tcp_end && (pv->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) &&
	    pv->protocol == 6)
		flowtab_tcp_check_end(m->ft, f);
	/* f may be evicted from here on. */
	mem_check(m);
	meter_scan(m, t);
}

void
meter_packet(void *arg, const struct cap_pkt *h, const uint8_t *frame)
{
	struct meter *m = arg;
	struct decode_conf dc = { h->dlt, m->decode_tunnels };
	struct flowtab_probe probe;
	struct pkt_view pv;
	enum decode_result r;
	uint64_t t;

	m->cnt.packets_read++;
	r = decode_packet(&dc, frame, h->caplen, h->wirelen, &pv);
	if (r != DECODE_OK) {
		m->cnt.packets_skipped[r]++;
		return;
	}
	/* NFStream: tv_sec*1000 + tv_usec/1000, truncated, signed usec. */
	t = (uint64_t)h->ts_sec * 1000 + (uint64_t)(h->ts_usec / 1000);
	if (t < m->tick_ms)
		t = m->tick_ms;
	flowtab_probe_init(m->ft, &pv, &probe);
	meter_account(m, &pv, &probe, t, (uint32_t)h->ts_usec);
}

#define PREFETCH_BUCKET	6
#define PREFETCH_ENTRY	4
#define PREFETCH_LRU	2

void
meter_batch(struct meter *m, const struct dispatch_batch *b)
{
	struct flowtab_probe probe[DISPATCH_BATCH_PKTS];
	struct pkt_view pv;
	unsigned i, n = b->n;

	/* A software pipeline over the batch: packet i + 6's bucket, i + 4's
	 * entry and i + 2's LRU neighbours are fetched while packet i is
	 * metered.  The batch is known ahead, unlike packets read one at a
	 * time; each packet's key comes from the reader (which made it to pick
	 * the meter), its hash with this table's seed is computed once. */
	for (i = 0; i < n && i < PREFETCH_BUCKET; i++) {
		flowtab_probe_from_key(m->ft, &b->pkt[i].key, b->pkt[i].src_end,
		    &probe[i]);
		flowtab_prefetch_bucket(m->ft, &probe[i]);
	}
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_BUCKET < n) {
			flowtab_probe_from_key(m->ft,
			    &b->pkt[i + PREFETCH_BUCKET].key,
			    b->pkt[i + PREFETCH_BUCKET].src_end,
			    &probe[i + PREFETCH_BUCKET]);
			flowtab_prefetch_bucket(m->ft, &probe[i + PREFETCH_BUCKET]);
		}
		if (i + PREFETCH_ENTRY < n)
			flowtab_prefetch_entry(m->ft, &probe[i + PREFETCH_ENTRY]);
		if (i + PREFETCH_LRU < n)
			flowtab_prefetch_lru(m->ft, &probe[i + PREFETCH_LRU]);
		pv = b->pkt[i].pv;
		pv.l3 = b->data + b->pkt[i].off;
		meter_account(m, &pv, &probe[i], b->pkt[i].t_ms,
		    b->pkt[i].usec);
	}
	/* The reader's clock: a meter that got few packets still expires
	 * its flows as the capture's time goes on. */
	if (b->clock_ms > m->tick_ms) {
		m->tick_ms = b->clock_ms;
		meter_scan(m, m->tick_ms);
	}
	export_wake(m, false);
}

int
meter_dispatch(struct meter *m, int max)
{
	int n = capture_dispatch(m->cap, max, meter_packet, m);

	export_wake(m, n <= 0);
	meter_publish(m, false);
	return n;
}

void
meter_wake_export(struct meter *m)
{
	export_wake(m, true);
}

/*
 * Live wall-clock expiry, never more flows than the export ring has room
 * for: a full ring would drop them (live capture never waits).  With
 * traffic, a bounded batch per read; on a quiet link, keep going while the
 * export stage drains, up to LIVE_EXPIRY_MAX_MS (a table of idle flows
 * ending at once is exported, not dropped).
 */
static void
live_expire(struct meter *m, uint64_t wall, bool quiet)
{
	uint64_t deadline = monotime_ms() + LIVE_EXPIRY_MAX_MS;
	unsigned room, n;

	for (;;) {
		room = ring_room(m->ring);
		if (!quiet && room > IDLE_SCAN_BUDGET)
			room = IDLE_SCAN_BUDGET;
		n = flowtab_expire_idle(m->ft, wall, room);
		n += flowtab_expire_active(m->ft, wall, room - n);
		if (n < room || !quiet || monotime_ms() >= deadline)
			return;		/* all due flows are out, or time's up */
		sleep_us(200);
	}
}

void
meter_between_reads(struct meter *m, bool quiet)
{
	uint64_t now, wall;

	if (!m->live)
		return;
	wall = walltime_ms();
	if (wall < m->tick_ms)
		wall = m->tick_ms;
	live_expire(m, wall, quiet);
	export_wake(m, quiet);
	mem_trim(m, false);
	if (m->cap != NULL)
		capture_set_wait(m->cap, flowtab_stats(m->ft)->active > 0 ?
		    POLL_FLOWS_MS : POLL_EMPTY_MS);
	now = monotime_ms();
	if (now >= m->next_capstats_ms) {
		meter_publish(m, true);
		m->next_capstats_ms = now + CAPSTATS_MS;
	} else
		meter_publish(m, false);
}

void
meter_finish(struct meter *m)
{
	meter_publish(m, true);
	m->final_flush = true;
	flowtab_flush(m->ft, FLOW_END_FORCED);
	export_wake(m, true);
	mem_trim(m, true);
	meter_publish(m, true);
}

static uint64_t
skipped_total(const uint64_t skipped[DECODE_RESULT_COUNT])
{
	uint64_t n = 0;
	int i;

	for (i = 1; i < DECODE_RESULT_COUNT; i++)
		n += skipped[i];
	return n;
}

#define PUT(field, v)	atomic_store_explicit(&s->field, (v), \
			    memory_order_relaxed)

void
meter_publish(struct meter *m, bool capture)
{
	struct meter_snapshot *s = &m->snap;
	const struct flowtab_stats *fs = flowtab_stats(m->ft);
	int i;

	PUT(packets_read, m->cnt.packets_read);
	PUT(packets_metered, m->cnt.packets_metered);
	for (i = 0; i < DECODE_RESULT_COUNT; i++)
		PUT(packets_skipped[i], m->cnt.packets_skipped[i]);
	PUT(packets_ignored, skipped_total(m->cnt.packets_skipped));
	PUT(flows_expired, m->cnt.flows_expired);
	PUT(flows_dropped_queue, m->cnt.flows_dropped_queue);
	PUT(flows_created, fs->created);
	PUT(flows_idle, fs->expired_idle);
	PUT(flows_active, fs->expired_active);
	PUT(flows_evicted, fs->evicted);
	PUT(flows_flushed, fs->flushed);
	PUT(flows_tcp_end, fs->ended_tcp);
	PUT(flows_plugin_end, fs->ended_plugin);
	PUT(flows_evicted_memory, fs->evicted_memory);
	PUT(flows_lost_dpi, m->cnt.flows_lost_dpi);
	PUT(mem_used, m->mem_used);
	PUT(mem_peak, m->mem_peak);
	PUT(mem_peak_ext, m->mem_peak_ext);
	PUT(mem_peak_flows, m->mem_peak_flows);
	PUT(mem_trimmed, m->cnt.mem_trimmed);
	PUT(flows_cached, fs->active);
	PUT(flows_peak, fs->peak_active);
	if (capture && m->cap != NULL)
		meter_publish_capture(s, m->cap, m->live);
}

void
meter_publish_capture(struct meter_snapshot *s, struct capture *cap,
    bool live)
{
	struct capture_stats cs;
	uint64_t done, total;

	if (live) {
		if (capture_stats(cap, &cs) == 0) {
			PUT(capture_received, cs.received);
			PUT(capture_dropped[0], cs.dropped);
			PUT(capture_dropped[1], cs.if_dropped);
		}
	} else if (capture_progress(cap, &done, &total) == 0) {
		PUT(input_done, done);
		PUT(input_total, total);
	}
}

#undef PUT

const struct meter_snapshot *
meter_snapshot(const struct meter *m)
{
	return &m->snap;
}

uint64_t
meter_clock_ms(const struct meter *m)
{
	return m->tick_ms;
}
