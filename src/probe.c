/*
 * probe.c - the pipeline.
 *
 *	probe_create()		build every stage from the configuration
 *	probe_run()		metering loop + export thread, to the end of input
 *	probe_stop()		ask the loop to stop (signal handlers)
 *	probe_counters(), probe_report(), probe_destroy()
 *
 * Threads: the caller's thread meters (capture, decode, flow table,
 * features; no allocation, formatting or locks per packet).  A finished
 * flow is copied into an SPSC ring from the flow table's sink; the export
 * thread formats and writes it.  When the ring is full, file input waits
 * (nothing is lost, nothing to stall) and live capture counts a drop.
 *
 * Clock: packet time in integer ms (tv_sec*1000 + tv_usec/1000), clamped
 * so it never goes backwards; an idle scan runs every 10 ms of it, as in
 * NFStream.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>

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

#define RING_SLOTS		4096
#define DISPATCH_BATCH		1024
#define IDLE_SCAN_MS		10
#define IDLE_SCAN_BUDGET	1000
#define LIVE_TIMEOUT_MS		250

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
	struct exporter		*exp[CONFIG_MAX_OUTPUTS];
	unsigned		 nexp;
	enum pkt_size_kind	 size_kind;
	bool			 decode_tunnels;
	bool			 live;
	uint64_t		 tick_ms;
	uint64_t		 scan_tick_ms;
	volatile sig_atomic_t	 stop;
	_Atomic int		 metering_done;
	struct probe_counters	 cnt;		/* metering thread */
	_Atomic uint64_t	 exported;	/* export thread */
	_Atomic uint64_t	 export_failures;
	_Atomic uint64_t	 packets_ignored;	/* for IPFIX statistics */
	double			 metering_s;	/* wall time of the capture loop */
	double			 export_cpu_s;	/* CPU time of the export thread */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

static inline void *
dpi_state(const struct probe *p, const struct flow *f)
{
	return (uint8_t *)flow_ext((struct flow *)f) + p->dpi_off;
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
		if (p->live) {
			p->cnt.flows_dropped_queue++;
			if (p->dpi != NULL)
				dpi_flow_release(dpi_state(p, f));
			return;
		}
		sleep_us(50);
	}
	memcpy(slot, f, p->rec_size);
	ring_push_end(p->ring);
	p->cnt.flows_expired++;
}

static void
publish_ignored(struct probe *p)
{
	uint64_t n = 0;
	int i;

	for (i = 1; i < DECODE_RESULT_COUNT; i++)
		n += p->cnt.packets_skipped[i];
	atomic_store_explicit(&p->packets_ignored, n, memory_order_relaxed);
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
	if (t - p->scan_tick_ms >= IDLE_SCAN_MS) {
		p->scan_tick_ms = t;
		flowtab_expire_idle(p->ft, t, IDLE_SCAN_BUDGET);
	}
}

static void
export_one(struct probe *p, const struct flow *f, uint64_t id)
{
	struct flow_view v = { f, flow_ext_const(f), &p->feat, NULL, id, NULL,
	    false };
	struct feat_summary summary[FEAT_DIRS];
	struct dpi_result l7;
	unsigned i;
	bool ok = true;

	flow_view_prepare(&v, summary);
	if (p->dpi != NULL) {
		dpi_result(p->dpi, dpi_state(p, f), &l7);
		v.l7 = &l7;
	}
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
	int done;

	for (;;) {
		if ((slot = ring_pop_begin(p->ring)) != NULL) {
			export_one(p, slot, id++);
			ring_pop_end(p->ring);
			if ((id & 1023) == 0)
				export_tick(p, false);
			continue;
		}
		export_tick(p, true);
		/* Empty: finished only if metering ended before this check. */
		done = atomic_load_explicit(&p->metering_done,
		    memory_order_acquire);
		if (done && ring_pop_begin(p->ring) == NULL)
			break;
		if (!done)
			sleep_us(100);
	}
	p->export_cpu_s = thread_cpu_s();
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
	p->feat.statistics = conf->statistics;
	p->feat.splt = (uint16_t)conf->splt;
	p->has_feat = flowfeat_ext_size(&p->feat) > 0;
	p->dpi_off = (flowfeat_ext_size(&p->feat) + 7) & ~(size_t)7;
	atomic_init(&p->metering_done, 0);
	atomic_init(&p->exported, 0);
	atomic_init(&p->export_failures, 0);
	atomic_init(&p->packets_ignored, 0);

	memset(&cc, 0, sizeof(cc));
	cc.files = (const char *const *)conf->files;
	cc.nfiles = conf->nfiles;
	cc.iface = conf->iface;
	cc.bpf = conf->bpf;
	cc.snaplen = conf->snaplen;
	cc.promisc = conf->promisc;
	cc.buffer_size = conf->buffer_size;
	cc.timeout_ms = LIVE_TIMEOUT_MS;
	if ((p->cap = capture_open(&cc, errbuf, errlen)) == NULL)
		goto fail;
	p->live = capture_is_live(p->cap);

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
	fc.sink = probe_on_flow_end;
	fc.sink_arg = p;
	if ((p->ft = flowtab_create(&fc, errbuf, errlen)) == NULL)
		goto fail;
	p->rec_size = sizeof(struct flow) + fc.ext_size;
	if ((p->ring = ring_create(RING_SLOTS, p->rec_size)) == NULL) {
		snprintf(errbuf, errlen, "out of memory for the export queue");
		goto fail;
	}

	colset_init(&p->cols, conf->decode_tunnels, conf->statistics,
	    conf->splt > 0, p->dpi != NULL);
	memset(&env, 0, sizeof(env));
	env.dpi = p->dpi;
	env.statistics = conf->statistics;
	env.splt = conf->splt > 0;
	env.splt_n = conf->splt;
	env.tunnels = conf->decode_tunnels;
	env.template_name = conf->template_name ? conf->template_name :
	    "standard";
	env.template_dir = getenv("STREAMPROBE_TEMPLATE_DIR") ?
	    getenv("STREAMPROBE_TEMPLATE_DIR") : STREAMPROBE_TEMPLATE_DIR;
	env.template_refresh_s = conf->template_refresh_s;
	env.template_packets = conf->template_packets;
	env.mtu = conf->mtu;
	env.observation_domain = conf->observation_domain;
	env.uniflow = conf->uniflow;
	env.packets_ignored = &p->packets_ignored;
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
	}
	p->metering_s = now_s() - t0;
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
	uint64_t skipped = 0;
	int i, first = 1;

	probe_counters(p, &c);
	for (i = 1; i < DECODE_RESULT_COUNT; i++)
		skipped += c.packets_skipped[i];
	fprintf(fp, "streamprobe: packets: %llu read, %llu metered, %llu skipped",
	    (unsigned long long)c.packets_read,
	    (unsigned long long)c.packets_metered,
	    (unsigned long long)skipped);
	for (i = 1; i < DECODE_RESULT_COUNT; i++) {
		if (c.packets_skipped[i] == 0)
			continue;
		fprintf(fp, "%s%s %llu", first ? " (" : ", ",
		    decode_result_name(i),
		    (unsigned long long)c.packets_skipped[i]);
		first = 0;
	}
	fprintf(fp, "%s\n", first ? "" : ")");
	fprintf(fp, "streamprobe: metering: %.3f s, %.2f M packets/s\n",
	    p->metering_s, p->metering_s > 0 ?
	    c.packets_read / p->metering_s / 1e6 : 0.0);
	fprintf(fp, "streamprobe: flows: %llu exported, %llu idle, %llu active, "
	    "%llu at end, %llu evicted (table full), %llu dropped (export queue "
	    "full), %llu failed; peak %u cached, %zu bytes each\n",
	    (unsigned long long)c.flows_exported,
	    (unsigned long long)fs->expired_idle,
	    (unsigned long long)fs->expired_active,
	    (unsigned long long)fs->flushed,
	    (unsigned long long)fs->evicted,
	    (unsigned long long)c.flows_dropped_queue,
	    (unsigned long long)c.export_failures,
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
	fprintf(fp, "streamprobe: export thread: %.3f s CPU, %.0f flows/s\n",
	    p->export_cpu_s, p->export_cpu_s > 0 ?
	    c.flows_exported / p->export_cpu_s : 0.0);
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
	free(p);
}
