/*
 * probe.c - the pipeline.
 *
 *	probe_create()		build every stage from the configuration
 *	probe_run()		metering loop + export thread, to the end of input
 *	probe_stop(), probe_request_reopen(), probe_request_counters()
 *				signal handlers: stop, SIGHUP, SIGUSR1
 *	probe_counters(), probe_report(), probe_report_undelivered(),
 *	probe_destroy()
 *
 * Threads: the caller's thread meters (capture, decode, flow table,
 * features; no allocation, formatting or locks per packet).  A finished
 * flow is copied into an SPSC ring from the flow table's sink; the export
 * thread formats and writes it.  When the ring is full, file input waits
 * (nothing is lost, nothing to stall) and live capture counts a drop; the
 * final flush (end of input, SIGTERM) always waits for the export thread.
 *
 * Clock: packet time in integer ms (tv_sec*1000 + tv_usec/1000), clamped
 * so it never goes backwards; an idle scan runs every 10 ms of it, as in
 * NFStream.  Live capture also expires on the wall clock: after every read
 * (at most LIVE_TIMEOUT_MS apart, traffic or not) idle and active timeouts
 * are checked against max(packet clock, wall clock), so flows end on time
 * when the link goes quiet.  Files keep packet time only, so a replayed
 * capture gives NFStream's flows.
 *
 * Timers that are not per packet run between reads on the metering thread:
 * the status line (--stats-interval), SIGUSR1's counters, libpcap's drop
 * counters (published for the exporters' statistics records) and the
 * progress bar.  SIGHUP is served by the export thread, which owns the
 * exporters.
 */
#define _GNU_SOURCE	/* RUSAGE_THREAD */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "columns.h"
#include "config.h"
#include "dpi.h"
#include "exporter.h"
#include "flowfeat.h"
#include "flowtab.h"
#include "log.h"
#include "monotime.h"
#include "probe.h"
#include "ring.h"

#define RING_SLOTS		8192
#define DISPATCH_BATCH		1024
#define IDLE_SCAN_MS		10
#define IDLE_SCAN_BUDGET	1000
#define LIVE_TIMEOUT_MS		100
#define LIVE_EXPIRY_MAX_MS	50	/* quiet link: longest expiry pass */
#define CAPSTATS_MS		1000
#define EXPORT_IDLE_MIN_US	100
#define EXPORT_IDLE_MAX_US	1000	/* < ring slots / export rate */
#define PROGRESS_MS		250
#define FLUSH_STALL_MS		5000	/* shutdown: export thread stuck */

struct probe {
	const struct probe_conf	*conf;
	struct capture		*cap;
	struct flowtab		*ft;
	struct flowfeat_conf	 feat;
	bool			 has_feat;
	struct dpi		*dpi;		/* NULL: no application detection */
	size_t			 dpi_off;	/* its state's offset in the ext */
	struct ring		*ring;
	size_t			 rec_size;
	struct colset		 cols;
	union col_num		*num;		/* export thread: one flow's row */
	struct exporter		*exp[CONFIG_MAX_OUTPUTS];
	unsigned		 nexp;
	enum pkt_size_kind	 size_kind;
	bool			 decode_tunnels;
	bool			 live;
	bool			 tcp_end;
	bool			 progress;	/* files, stderr a terminal */
	uint64_t		 tick_ms;
	uint64_t		 scan_tick_ms;
	volatile sig_atomic_t	 stop;
	_Atomic int		 reopen_req;	/* SIGHUP */
	_Atomic int		 counters_req;	/* SIGUSR1 */
	uint64_t		 next_status_ms, next_capstats_ms, next_progress_ms;
	uint64_t		 status_packets;	/* at the last status line */
	uint64_t		 status_ms;
	uint64_t		 start_ms;
	_Atomic int		 metering_done;
	bool			 final_flush;	/* end of input or stop */
	bool			 flush_gave_up;	/* export thread stuck */
	uint64_t		 flush_stall_ms;	/* ring full since */
	struct probe_counters	 cnt;		/* metering thread */
	_Atomic uint64_t	 exported;	/* export thread */
	_Atomic uint64_t	 export_failures;
	_Atomic uint64_t	 packets_ignored;	/* for IPFIX statistics */
	_Atomic uint64_t	 capture_dropped[2];	/* kernel, interface */
	double			 metering_s;	/* wall time of the capture loop */
	double			 export_user_s;	/* CPU time of the export thread */
	double			 export_sys_s;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The calling thread's CPU time, split: user (building and encoding
 * records) and system (the kernel writing them out). */
static void
thread_cpu_s(double *user, double *sys)
{
	struct rusage ru;

	*user = *sys = 0;
	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return;
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

#define TCP_FLAG_FIN	0x01
#define TCP_FLAG_RST	0x04

static inline void *
dpi_state(const struct probe *p, const struct flow *f)
{
	return (uint8_t *)flow_ext((struct flow *)f) + p->dpi_off;
}

/*
 * The export ring is full.  Returns true after waiting a little (try
 * again), false when the flow must be dropped.  Files wait: nothing to
 * stall.  Live capture drops (counted) while running, since the capture
 * must not stall, but the final flush has no capture left to stall: it
 * waits for the export thread as long as that makes progress, and gives
 * up (dropping and counting the rest) only after FLUSH_STALL_MS without.
 */
static bool
ring_full_wait(struct probe *p)
{
	uint64_t now;

	if (p->live && !p->final_flush)
		return false;
	if (p->live) {
		if (p->flush_gave_up)
			return false;
		now = monotime_ms();
		if (p->flush_stall_ms == 0)
			p->flush_stall_ms = now;
		else if (now - p->flush_stall_ms >= FLUSH_STALL_MS) {
			p->flush_gave_up = true;
			log_warnx("stopping: the export thread took no flow for "
			    "%d s; the remaining flows are dropped (counted)",
			    FLUSH_STALL_MS / 1000);
			return false;
		}
	}
	sleep_us(50);
	return true;
}

/*
 * Flow table sink: freeze the L7 result, then copy the finished flow to
 * the export ring; its string block now belongs to the record.
 */
static void
probe_on_flow_end(struct flow *f, void *arg)
{
	struct probe *p = arg;
	void *slot;

	if (p->dpi != NULL)
		dpi_flow_end(p->dpi, dpi_state(p, f));
	while ((slot = ring_push_begin(p->ring)) == NULL) {
		if (!ring_full_wait(p)) {
			p->cnt.flows_dropped_queue++;
			if (p->dpi != NULL)
				dpi_flow_release(dpi_state(p, f));
			return;
		}
	}
	p->flush_stall_ms = 0;
	memcpy(slot, f, p->rec_size);
	ring_push_end(p->ring);
	p->cnt.flows_expired++;
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

/* "reason N, reason N" for the reasons that occurred; "" when none. */
static void
skipped_reasons(const uint64_t skipped[DECODE_RESULT_COUNT], char *buf,
    size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 1; i < DECODE_RESULT_COUNT && n + 64 < len; i++)
		if (skipped[i] != 0)
			n += (size_t)snprintf(buf + n, len - n, "%s%s %llu",
			    n ? ", " : "", decode_result_name(i),
			    (unsigned long long)skipped[i]);
}

static void
publish_ignored(struct probe *p)
{
	atomic_store_explicit(&p->packets_ignored,
	    skipped_total(p->cnt.packets_skipped), memory_order_relaxed);
}

static void
probe_on_packet(void *arg, const struct cap_pkt *h, const uint8_t *frame)
{
	struct probe *p = arg;
	struct decode_conf dc = { h->dlt, p->decode_tunnels };
	struct pkt_view pv;
	enum decode_result r;
	enum flow_dir dir;
	struct flow *f;
	uint64_t t;
	uint16_t size;

	p->cnt.packets_read++;
	r = decode_packet(&dc, frame, h->caplen, h->wirelen, &pv);
	if (r != DECODE_OK) {
		p->cnt.packets_skipped[r]++;
		return;
	}
	p->cnt.packets_metered++;
	/* NFStream: tv_sec*1000 + tv_usec/1000, truncated, signed usec. */
	t = (uint64_t)h->ts_sec * 1000 + (uint64_t)(h->ts_usec / 1000);
	if (t > p->tick_ms)
		p->tick_ms = t;
	else
		t = p->tick_ms;
	f = flowtab_lookup(p->ft, &pv, t, &dir);
	size = pv.size[p->size_kind];
	/* Both read the counters as they were before this packet. */
	if (p->has_feat)
		flowfeat_update(&p->feat, flow_ext(f), f, dir, t, size,
		    pv.tcp_flags, pv.protocol == 6);
	if (p->dpi != NULL)
		dpi_packet(p->dpi, dpi_state(p, f), flow_packets(f) + 1, pv.l3,
		    pv.l3_len, t);
	flow_account(f, dir, t, size, pv.tcp_flags);
	if (p->tcp_end && (pv.tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) &&
	    pv.protocol == 6)
		flowtab_tcp_check_end(p->ft, f);
	if (t - p->scan_tick_ms >= IDLE_SCAN_MS) {
		p->scan_tick_ms = t;
		/* Live: the wall-clock pass between reads does this job
		 * within the ring's room. */
		if (!p->live)
			flowtab_expire_idle(p->ft, t, IDLE_SCAN_BUDGET);
	}
}

static void
export_one(struct probe *p, const struct flow *f, uint64_t id)
{
	struct flow_view v = { .flow = f, .ext = flow_ext_const(f),
	    .feat = &p->feat, .id = id };
	struct feat_summary summary[FEAT_DIRS];
	struct dpi_result l7;
	unsigned i;
	bool ok = true;

	if (p->dpi != NULL) {
		dpi_result(p->dpi, dpi_state(p, f), &l7);
		v.l7 = &l7;
	}
	flow_view_prepare(&v, summary, p->num);
	for (i = 0; i < p->nexp; i++)
		if (p->exp[i]->ops->export_flow(p->exp[i], &v) != 0)
			ok = false;
	if (ok)
		atomic_fetch_add(&p->exported, 1);
	else
		atomic_fetch_add(&p->export_failures, 1);
	if (p->dpi != NULL)
		dpi_flow_release(dpi_state(p, f));
}

/* SIGHUP: output files and the log start again (logrotate). */
static void
export_reopen(struct probe *p)
{
	unsigned i;

	log_reopen();
	for (i = 0; i < p->nexp; i++) {
		if (p->exp[i]->ops->reopen == NULL)
			continue;
		if (p->exp[i]->ops->reopen(p->exp[i]) < 0)
			log_warnx("%s", p->exp[i]->error);
	}
	log_info("SIGHUP: output files reopened");
}

/* Exporter timers: template refresh, flushing idle messages. */
static void
export_tick(struct probe *p, bool idle)
{
	uint64_t now = monotime_ms();
	unsigned i;

	for (i = 0; i < p->nexp; i++)
		if (p->exp[i]->ops->tick != NULL)
			p->exp[i]->ops->tick(p->exp[i], now, idle);
}

static void *
export_thread_main(void *arg)
{
	struct probe *p = arg;
	const void *slot;
	uint64_t id = 0;
	long idle_us = EXPORT_IDLE_MIN_US;
	int done;

	for (;;) {
		if ((slot = ring_pop_begin(p->ring)) != NULL) {
			idle_us = EXPORT_IDLE_MIN_US;
			export_one(p, slot, id++);
			ring_pop_end(p->ring);
			if ((id & 1023) == 0)
				export_tick(p, false);
			continue;
		}
		if (atomic_exchange(&p->reopen_req, 0))
			export_reopen(p);
		export_tick(p, true);
		/* Empty: finished only if metering ended before this check. */
		done = atomic_load_explicit(&p->metering_done,
		    memory_order_acquire);
		if (done && ring_pop_begin(p->ring) == NULL)
			break;
		/* Back off while idle (a daemon on a quiet link), but wake
		 * quickly again once flows arrive. */
		if (!done)
			sleep_us(idle_us);
		if (idle_us < EXPORT_IDLE_MAX_US)
			idle_us *= 2;
	}
	thread_cpu_s(&p->export_user_s, &p->export_sys_s);
	return NULL;
}

struct probe *
probe_create(const struct probe_conf *conf, char *errbuf, size_t errlen)
{
	struct capture_conf cc;
	struct flowtab_conf fc;
	struct exporter_env env;
	struct probe *p;
	unsigned i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	p->conf = conf;
	p->size_kind = (enum pkt_size_kind)conf->accounting_mode;
	p->decode_tunnels = conf->decode_tunnels;
	p->tcp_end = conf->tcp_end;
	p->feat.statistics = conf->statistics;
	p->feat.splt = (uint16_t)conf->splt;
	p->has_feat = flowfeat_ext_size(&p->feat) > 0;
	p->dpi_off = (flowfeat_ext_size(&p->feat) + 7) & ~(size_t)7;
	atomic_init(&p->metering_done, 0);
	atomic_init(&p->exported, 0);
	atomic_init(&p->export_failures, 0);
	atomic_init(&p->packets_ignored, 0);
	atomic_init(&p->capture_dropped[0], 0);
	atomic_init(&p->capture_dropped[1], 0);
	atomic_init(&p->reopen_req, 0);
	atomic_init(&p->counters_req, 0);

	memset(&cc, 0, sizeof(cc));
	cc.files = (const char *const *)conf->files;
	cc.nfiles = conf->nfiles;
	cc.iface = conf->iface;
	cc.bpf = conf->bpf;
	cc.snaplen = conf->snaplen;
	cc.promisc = conf->promisc;
	cc.buffer_size = conf->buffer_size;
	cc.immediate = conf->immediate;
	cc.timeout_ms = LIVE_TIMEOUT_MS;
	if ((p->cap = capture_open(&cc, errbuf, errlen)) == NULL)
		goto fail;
	p->live = capture_is_live(p->cap);
	/* A bar on stderr would garble flows written to the same terminal. */
	p->progress = !p->live && conf->progress && isatty(STDERR_FILENO) &&
	    !(config_writes_stdout(conf) && isatty(STDOUT_FILENO));

	if (conf->n_dissections > 0) {
		struct dpi_conf dc = { conf->n_dissections };

		if ((p->dpi = dpi_create(&dc, errbuf, errlen)) == NULL)
			goto fail;
	}

	memset(&fc, 0, sizeof(fc));
	fc.max_flows = conf->max_flows;
	fc.ext_size = (uint32_t)(p->dpi_off + (p->dpi ? dpi_ext_size() : 0));
	fc.idle_timeout_ms = conf->idle_timeout_s * 1000;
	fc.active_timeout_ms = conf->active_timeout_s * 1000;
	fc.tcp_end = conf->tcp_end;
	fc.sink = probe_on_flow_end;
	fc.sink_arg = p;
	if ((p->ft = flowtab_create(&fc, errbuf, errlen)) == NULL)
		goto fail;
	p->rec_size = sizeof(struct flow) + fc.ext_size;
	if ((p->ring = ring_create(RING_SLOTS, p->rec_size)) == NULL) {
		snprintf(errbuf, errlen, "out of memory for the export queue");
		goto fail;
	}

	/* The column set is fixed before any output opens. */
	if (columns_init(errbuf, errlen) != 0 ||
	    columns_freeze(errbuf, errlen) != 0)
		goto fail;
	if (colset_init(&p->cols, conf->decode_tunnels, conf->statistics,
	    conf->splt > 0, p->dpi != NULL) != 0 ||
	    (p->num = calloc(column_count(), sizeof(*p->num))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	memset(&env, 0, sizeof(env));
	env.dpi = p->dpi;
	env.statistics = conf->statistics;
	env.splt = conf->splt > 0;
	env.splt_n = conf->splt;
	env.tunnels = conf->decode_tunnels;
	env.template_name = conf->template_name ? conf->template_name :
	    "standard";
	env.template_dir = conf->template_dir;	/* config_parse_args() */
	env.template_refresh_s = conf->template_refresh_s;
	env.template_packets = conf->template_packets;
	env.mtu = conf->mtu;
	env.observation_domain = conf->observation_domain;
	env.uniflow = conf->uniflow;
	env.packets_ignored = &p->packets_ignored;
	env.capture_dropped[0] = &p->capture_dropped[0];
	env.capture_dropped[1] = &p->capture_dropped[1];
	for (i = 0; i < conf->noutputs; i++) {
		p->exp[i] = exporter_open(&conf->outputs[i], &p->cols, &env, errbuf,
		    errlen);
		if (p->exp[i] == NULL)
			goto fail;
		p->nexp++;
	}
	return p;
fail:
	probe_destroy(p);
	return NULL;
}

/* libpcap's drop counters, for the status line and statistics records. */
static void
publish_capture_stats(struct probe *p)
{
	struct capture_stats cs;

	if (!p->live || capture_stats(p->cap, &cs) != 0)
		return;
	atomic_store(&p->capture_dropped[0], cs.dropped);
	atomic_store(&p->capture_dropped[1], cs.if_dropped);
}

static uint64_t
export_errors(struct probe *p)
{
	uint64_t n = atomic_load(&p->export_failures) + p->cnt.flows_dropped_queue;
	unsigned i;

	for (i = 0; i < p->nexp; i++)
		if (p->exp[i]->ops->records_lost != NULL)
			n += p->exp[i]->ops->records_lost(p->exp[i]);
	return n;
}

static void
progress_clear(struct probe *p)
{
	if (p->progress)
		fputs("\r\033[K", stderr);
}

/* The status line: packets, drops, active flows, exported, export errors. */
static void
log_status(struct probe *p, uint64_t now)
{
	uint64_t dt = now - p->status_ms;

	progress_clear(p);
	log_info("status: packets %llu read (%.0f/s), %llu skipped, dropped "
	    "%llu by kernel and %llu by interface; flows %u active, %llu "
	    "exported; %llu export errors",
	    (unsigned long long)p->cnt.packets_read,
	    dt > 0 ? (p->cnt.packets_read - p->status_packets) * 1000.0 / dt : 0,
	    (unsigned long long)skipped_total(p->cnt.packets_skipped),
	    (unsigned long long)atomic_load(&p->capture_dropped[0]),
	    (unsigned long long)atomic_load(&p->capture_dropped[1]),
	    flowtab_stats(p->ft)->active,
	    (unsigned long long)atomic_load(&p->exported),
	    (unsigned long long)export_errors(p));
	p->status_packets = p->cnt.packets_read;
	p->status_ms = now;
}

/* SIGUSR1: the status line and where packets and flows went. */
static void
log_counters(struct probe *p, uint64_t now)
{
	const struct flowtab_stats *fs = flowtab_stats(p->ft);
	char reasons[512];

	log_status(p, now);
	skipped_reasons(p->cnt.packets_skipped, reasons, sizeof(reasons));
	log_info("counters: packets %llu metered; skipped: %s",
	    (unsigned long long)p->cnt.packets_metered,
	    reasons[0] ? reasons : "none");
	log_info("counters: flows %llu created, %llu idle, %llu active, %llu "
	    "tcp end, %llu evicted (table full), %llu dropped (export queue "
	    "full), %llu failed; %u cached (peak %u)",
	    (unsigned long long)fs->created,
	    (unsigned long long)fs->expired_idle,
	    (unsigned long long)fs->expired_active,
	    (unsigned long long)fs->ended_tcp,
	    (unsigned long long)fs->evicted,
	    (unsigned long long)p->cnt.flows_dropped_queue,
	    (unsigned long long)atomic_load(&p->export_failures),
	    fs->active, fs->peak_active);
}

/* Files on a terminal: "[#####.....]  45%  2.10 M packets/s  0:12 left". */
static void
draw_progress(struct probe *p, uint64_t now)
{
	uint64_t done, total, secs;
	double frac, el = (now - p->start_ms) / 1000.0;
	char bar[31];
	int i, fill;

	if (capture_progress(p->cap, &done, &total) != 0)
		return;
	frac = (double)done / (double)total;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	secs = frac > 0.001 ? (uint64_t)(el / frac - el) : 0;
	fprintf(stderr, "\r[%s] %3d%%  %.2f M packets/s  %llu:%02llu left\033[K",
	    bar, (int)(frac * 100), el > 0 ? p->cnt.packets_read / el / 1e6 : 0,
	    (unsigned long long)(secs / 60), (unsigned long long)(secs % 60));
}

/*
 * Live wall-clock expiry, never more flows than the export ring has room
 * for: a full ring would drop them (live capture never waits).  With
 * traffic, a bounded batch per read; on a quiet link, keep going while the
 * export thread drains, up to LIVE_EXPIRY_MAX_MS (a table of idle flows
 * ending at once is exported, not dropped).
 */
static void
live_expire(struct probe *p, uint64_t wall, bool quiet)
{
	uint64_t deadline = monotime_ms() + LIVE_EXPIRY_MAX_MS;
	unsigned room, n;

	for (;;) {
		room = ring_room(p->ring);
		if (!quiet && room > IDLE_SCAN_BUDGET)
			room = IDLE_SCAN_BUDGET;
		n = flowtab_expire_idle(p->ft, wall, room);
		n += flowtab_expire_active(p->ft, wall, room - n);
		if (n < room || !quiet || monotime_ms() >= deadline)
			return;		/* all due flows are out, or time's up */
		sleep_us(200);
	}
}

/* Between reads: wall-clock expiry (live) and the timers. */
static void
metering_timers(struct probe *p, bool quiet)
{
	uint64_t now = monotime_ms(), wall;

	if (p->live) {
		wall = walltime_ms();
		if (wall < p->tick_ms)
			wall = p->tick_ms;
		live_expire(p, wall, quiet);
		if (now >= p->next_capstats_ms) {
			publish_capture_stats(p);
			p->next_capstats_ms = now + CAPSTATS_MS;
		}
	}
	if (p->conf->stats_interval_s > 0 && now >= p->next_status_ms) {
		publish_capture_stats(p);
		log_status(p, now);
		p->next_status_ms = now + p->conf->stats_interval_s * 1000ull;
	}
	if (atomic_exchange(&p->counters_req, 0)) {
		publish_capture_stats(p);
		log_counters(p, now);
	}
	if (p->progress && now >= p->next_progress_ms) {
		draw_progress(p, now);
		p->next_progress_ms = now + PROGRESS_MS;
	}
}

int
probe_run(struct probe *p)
{
	pthread_t thr;
	int n, status = 0, rc;
	unsigned i;
	double t0;

	if ((rc = pthread_create(&thr, NULL, export_thread_main, p)) != 0) {
		log_warnx("cannot start the export thread: %s", strerror(rc));
		return 2;
	}
	t0 = now_s();
	p->start_ms = p->status_ms = monotime_ms();
	p->next_status_ms = p->start_ms + p->conf->stats_interval_s * 1000ull;
	for (;;) {
		if (p->stop)
			break;
		n = capture_dispatch(p->cap, DISPATCH_BATCH, probe_on_packet, p);
		publish_ignored(p);
		if (n == CAPTURE_EOF)
			break;
		if (n == CAPTURE_ERROR) {
			/* Keep what was read: flush it, report, exit 1. */
			log_warnx("capture error: %s", capture_error(p->cap));
			status = 1;
			break;
		}
		metering_timers(p, n == 0);
	}
	p->metering_s = now_s() - t0;
	progress_clear(p);
	if (p->stop)
		log_info("stopping: flushing %u flows",
		    flowtab_stats(p->ft)->active);
	publish_capture_stats(p);
	p->final_flush = true;
	flowtab_flush(p->ft, FLOW_END_FORCED);
	atomic_store_explicit(&p->metering_done, 1, memory_order_release);
	pthread_join(thr, NULL);

	for (i = 0; i < p->nexp; i++) {
		rc = p->exp[i]->ops->finish(p->exp[i]);
		if (rc != 0 || p->exp[i]->failed != 0) {
			log_warnx("output failed: %s", p->exp[i]->error);
			status = 1;
		}
	}
	if (atomic_load(&p->export_failures) != 0)
		status = 1;
	return status;
}

void
probe_stop(struct probe *p)
{
	p->stop = 1;
	if (p->cap != NULL)
		capture_breakloop(p->cap);
}

void
probe_request_reopen(struct probe *p)
{
	atomic_store(&p->reopen_req, 1);
}

void
probe_request_counters(struct probe *p)
{
	atomic_store(&p->counters_req, 1);
}

void
probe_counters(const struct probe *p, struct probe_counters *out)
{
	*out = p->cnt;
	out->flows_exported = atomic_load(&((struct probe *)p)->exported);
	out->export_failures = atomic_load(&((struct probe *)p)->export_failures);
}

void
probe_report(struct probe *p, FILE *fp)
{
	struct probe_counters c;
	const struct flowtab_stats *fs = flowtab_stats(p->ft);
	struct capture_stats cs;
	char reasons[512];
	double cpu;
	int i;

	probe_counters(p, &c);
	skipped_reasons(c.packets_skipped, reasons, sizeof(reasons));
	fprintf(fp, "streamprobe: packets: %llu read, %llu metered, %llu skipped"
	    "%s%s%s\n", (unsigned long long)c.packets_read,
	    (unsigned long long)c.packets_metered,
	    (unsigned long long)skipped_total(c.packets_skipped),
	    reasons[0] ? " (" : "", reasons, reasons[0] ? ")" : "");
	fprintf(fp, "streamprobe: metering: %.3f s, %.2f M packets/s\n",
	    p->metering_s, p->metering_s > 0 ?
	    c.packets_read / p->metering_s / 1e6 : 0.0);
	fprintf(fp, "streamprobe: flows: %llu exported, %llu idle, %llu active, "
	    "%llu at end, %llu evicted (table full), %llu dropped (export queue "
	    "full), %llu failed, %llu tcp end; peak %u cached, %zu bytes each\n",
	    (unsigned long long)c.flows_exported,
	    (unsigned long long)fs->expired_idle,
	    (unsigned long long)fs->expired_active,
	    (unsigned long long)fs->flushed,
	    (unsigned long long)fs->evicted,
	    (unsigned long long)c.flows_dropped_queue,
	    (unsigned long long)c.export_failures,
	    (unsigned long long)fs->ended_tcp,
	    fs->peak_active, flowtab_bytes_per_flow(p->ft));
	if (p->dpi != NULL) {
		struct dpi_stats ds;

		dpi_get_stats(p->dpi, &ds);
		fprintf(fp, "streamprobe: dpi: %llu packets dissected; flows %llu "
		    "detected, %llu guessed, %llu unknown; %llu bytes of strings "
		    "kept; %llu allocation failures\n",
		    (unsigned long long)ds.packets_dissected,
		    (unsigned long long)ds.flows_detected,
		    (unsigned long long)ds.flows_guessed,
		    (unsigned long long)ds.flows_unknown,
		    (unsigned long long)ds.string_bytes,
		    (unsigned long long)ds.alloc_failures);
	}
	cpu = p->export_user_s + p->export_sys_s;
	fprintf(fp, "streamprobe: export thread: %.3f s CPU, %.0f flows/s "
	    "(%.3f s user: records built and encoded, %.0f flows/s; %.3f s "
	    "system: output written)\n", cpu,
	    cpu > 0 ? c.flows_exported / cpu : 0.0, p->export_user_s,
	    p->export_user_s > 0 ? c.flows_exported / p->export_user_s : 0.0,
	    p->export_sys_s);
	for (i = 0; i < (int)p->nexp; i++)
		if (p->exp[i]->ops->report != NULL)
			p->exp[i]->ops->report(p->exp[i], fp);
	if (p->live && capture_stats(p->cap, &cs) == 0)
		fprintf(fp, "streamprobe: capture: %llu received, %llu dropped by "
		    "kernel, %llu dropped by interface\n",
		    (unsigned long long)cs.received,
		    (unsigned long long)cs.dropped,
		    (unsigned long long)cs.if_dropped);
}

/*
 * Records the exporters took but could not deliver (collector refusing or
 * absent, TCP queue full or not drained at the end): one line per output,
 * after probe_run.  Returns the total.
 */
uint64_t
probe_report_undelivered(struct probe *p)
{
	uint64_t n, total = 0;
	unsigned i;

	for (i = 0; i < p->nexp; i++) {
		if (p->exp[i]->ops->records_lost == NULL ||
		    (n = p->exp[i]->ops->records_lost(p->exp[i])) == 0)
			continue;
		log_warnx("%s: %llu records not delivered", p->exp[i]->name,
		    (unsigned long long)n);
		total += n;
	}
	return total;
}

void
probe_destroy(struct probe *p)
{
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nexp; i++)
		p->exp[i]->ops->destroy(p->exp[i]);
	ring_destroy(p->ring);
	flowtab_destroy(p->ft);
	dpi_destroy(p->dpi);
	capture_close(p->cap);
	colset_free(&p->cols);
	free(p->num);
	free(p);
}
