/*
 * probe.c - the composition root and lifecycle.
 *
 *	probe_create()		build every stage from the configuration
 *	probe_run()		metering loop, export thread, final drain
 *	probe_stop(), probe_request_reopen(), probe_request_counters()
 *				signal handlers: stop, SIGHUP, SIGUSR1
 *	probe_report(), probe_report_undelivered(), probe_destroy()
 *
 * Threads: with --threads 1 the caller's thread runs the meter
 * (src/meter/: capture, decode, flow table, extensions) and, between
 * reads, the report's timers (status line, SIGUSR1's counters, progress
 * bar).  With --threads N > 1 the caller's thread is the reader
 * (src/meter/dispatch.c: capture, decode, hash, batches) and runs the
 * timers; each of N meter threads has its own flow table, DPI module and
 * extension state, and its own ring to the export stage.  --max-flows
 * and --max-memory are shared out equally.  The export stage
 * (src/export/export_stage.c) runs its own thread: it sleeps until the
 * meter pushes a finished flow into its ring, SIGHUP asks for a reopen,
 * or an exporter timer is due.  At the end of input (or a stop) the meter
 * flushes every flow into the ring, waiting for room, and the export
 * stage drains it before the exporters finish.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "columns.h"
#include "config.h"
#include "dispatch.h"
#include "dpi.h"
#include "export_stage.h"
#include "exporter.h"
#include "flowext.h"
#include "log.h"
#include "meter.h"
#include "monotime.h"
#include "plugin.h"
#include "probe.h"
#include "report.h"

#define DISPATCH_BATCH		1024
#define LIVE_TIMEOUT_MS		100

#define MAX_METERS		DISPATCH_MAX_METERS

struct probe {
	const struct probe_conf	*conf;
	struct capture		*cap;
	unsigned		 nmeters;	/* --threads */
	/* Per meter; [0] names the outputs' protocols and lays out the
	 * export stage's records (the same layout for all). */
	struct dpi		*dpis[MAX_METERS];	/* NULL: no DPI */
	struct flowext		 exts[MAX_METERS];
	struct plugin_meter	*plugins[MAX_METERS];	/* NULL: none */
	struct meter		*meters[MAX_METERS];
	struct dispatch		*disp;		/* nmeters > 1 */
	struct plugin_set	*plugin_set;	/* --plugin, loaded once */
	struct dpi		*dpi;		/* dpis[0] */
	struct meter		*meter;		/* meters[0] */
	struct export_stage	*stage;
	struct colset		 cols;
	struct report		 rep;
	bool			 live;
	volatile sig_atomic_t	 stop;
	double			 metering_s;	/* wall time of the capture loop */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The report's refresh: the meter publishes, libpcap's counters too. */
static void
refresh_meter(void *arg)
{
	meter_publish(arg, true);
}

/* Several meters: each publishes on its own thread; the reader here. */
static void
refresh_reader(void *arg)
{
	dispatch_publish(arg, true);
}

/* First thing on meter thread i: nDPI's allocations there are its. */
static void
meter_thread_init(void *arg, unsigned i)
{
	struct probe *p = arg;

	if (p->dpis[i] != NULL)
		dpi_bind_thread(p->dpis[i]);
}

/* Meter i's DPI module and per-flow layout. */
static int
meter_ext_create(struct probe *p, unsigned i, char *errbuf, size_t errlen)
{
	const struct probe_conf *conf = p->conf;
	struct flowext *x = &p->exts[i];

	if (conf->n_dissections > 0) {
		struct dpi_conf dc = { conf->n_dissections };

		if ((p->dpis[i] = dpi_create(&dc, errbuf, errlen)) == NULL)
			return -1;
	}
	/* The per-flow layout: its clients in hook order. */
	flowext_init(x);
	if (flowfeat_ext_register(x, conf->statistics, conf->splt,
	    errbuf, errlen) != 0 || (p->dpis[i] != NULL &&
	    dpi_ext_register(p->dpis[i], x, errbuf, errlen) != 0))
		return -1;
	/* Plugins last: one instance per meter (init() here). */
	if (plugin_set_count(p->plugin_set) > 0 &&
	    (p->plugins[i] = plugin_meter_create(p->plugin_set, x, errbuf,
	    errlen)) == NULL)
		return -1;
	return flowext_freeze(x, errbuf, errlen);
}

/* Equal shares, rounded up. */
static uint64_t
share(uint64_t total, unsigned n)
{
	return (total + n - 1) / n;
}

struct probe *
probe_create(const struct probe_conf *conf, char *errbuf, size_t errlen)
{
	struct capture_conf cc;
	struct meter_conf mc;
	struct exporter_env env;
	struct probe *p;
	unsigned i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	p->conf = conf;

	/* Plugins before anything is opened or read: a bad one is one
	 * message and exit 2 (main.c). */
	if ((p->plugin_set = plugin_set_load((const char *const *)conf->plugins,
	    conf->nplugins, (const char *const *)conf->plugin_keys,
	    (const char *const *)conf->plugin_values, conf->nplugin_args,
	    errbuf, errlen)) == NULL)
		goto fail;
	p->nmeters = conf->threads > 0 ? conf->threads : 1;
	if (p->nmeters > MAX_METERS)
		p->nmeters = MAX_METERS;
	for (i = 0; i < p->nmeters; i++)
		if (meter_ext_create(p, i, errbuf, errlen) != 0)
			goto fail;

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
	p->dpi = p->dpis[0];
	/* One meter runs on this thread. */
	if (p->nmeters == 1 && p->dpi != NULL)
		dpi_bind_thread(p->dpi);
	/* The column set is fixed before the export stage sizes its row and
	 * any output opens. */
	if (columns_init(errbuf, errlen) != 0 ||
	    plugin_set_register(p->plugin_set, errbuf, errlen) != 0 ||
	    columns_freeze(errbuf, errlen) != 0)
		goto fail;
	if ((p->stage = export_stage_create(&p->exts[0], errbuf, errlen)) ==
	    NULL)
		goto fail;

	memset(&mc, 0, sizeof(mc));
	mc.max_flows = (uint32_t)share(conf->max_flows, p->nmeters);
	mc.max_memory = share(conf->max_memory, p->nmeters);
	mc.idle_timeout_ms = conf->idle_timeout_s * 1000;
	mc.active_timeout_ms = conf->active_timeout_s * 1000;
	mc.tcp_end = conf->tcp_end;
	mc.accounting_mode = conf->accounting_mode;
	mc.decode_tunnels = conf->decode_tunnels;
	mc.live = p->live;
	mc.wake = export_stage_wake(p->stage);
	for (i = 0; i < p->nmeters; i++) {
		mc.ext = &p->exts[i];
		mc.plugins = p->plugins[i];
		if ((p->meters[i] = meter_create(&mc, errbuf, errlen)) == NULL) {
			if (p->nmeters > 1) {
				size_t n = strlen(errbuf);

				snprintf(errbuf + n, errlen - n, " (each of the "
				    "%u meters of --threads gets an equal share "
				    "of --max-flows and --max-memory)",
				    p->nmeters);
			}
			goto fail;
		}
		if (export_stage_add_ring(p->stage, meter_ring(p->meters[i]),
		    meter_room(p->meters[i])) != 0) {
			snprintf(errbuf, errlen, "too many meters");
			goto fail;
		}
	}
	p->meter = p->meters[0];
	if (p->nmeters == 1)
		meter_set_input(p->meter, p->cap);
	else {
		struct dispatch_conf dc;

		memset(&dc, 0, sizeof(dc));
		dc.cap = p->cap;
		dc.meters = p->meters;
		dc.nmeters = p->nmeters;
		dc.decode_tunnels = conf->decode_tunnels;
		dc.live = p->live;
		dc.thread_init = meter_thread_init;
		dc.thread_arg = p;
		if ((p->disp = dispatch_create(&dc, errbuf, errlen)) == NULL)
			goto fail;
	}

	if (colset_init(&p->cols, conf->decode_tunnels, conf->statistics,
	    conf->splt > 0, p->dpi != NULL) != 0) {
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
	/* The exporters' statistics read one counter each: the meter's, or
	 * with several meters the reader's, which counts every packet read
	 * and skipped and the capture's drops. */
	{
		const struct meter_snapshot *rs = p->disp != NULL ?
		    dispatch_snapshot(p->disp) : meter_snapshot(p->meter);

		env.packets_ignored = &rs->packets_ignored;
		env.capture_dropped[0] = &rs->capture_dropped[0];
		env.capture_dropped[1] = &rs->capture_dropped[1];
	}
	for (i = 0; i < conf->noutputs; i++)
		if (export_stage_add_output(p->stage, &conf->outputs[i], &p->cols,
		    &env, errbuf, errlen) != 0)
			goto fail;

	/* The reader first: the report takes the constant fields (bytes
	 * per flow) from the last snapshot, a meter's. */
	if (p->disp != NULL)
		p->rep.meter[p->rep.nmeters++] = dispatch_snapshot(p->disp);
	for (i = 0; i < p->nmeters; i++) {
		p->rep.meter[p->rep.nmeters++] = meter_snapshot(p->meters[i]);
		if (p->dpis[i] != NULL)
			p->rep.dpi[p->rep.ndpi++] = p->dpis[i];
	}
	p->rep.stage = p->stage;
	p->rep.live = p->live;
	/* A bar on stderr would garble flows written to the same terminal. */
	p->rep.progress = !p->live && conf->progress &&
	    isatty(STDERR_FILENO) &&
	    !(config_writes_stdout(conf) && isatty(STDOUT_FILENO));
	p->rep.stats_interval_s = conf->stats_interval_s;
	if (p->disp != NULL) {
		p->rep.refresh = refresh_reader;
		p->rep.refresh_arg = p->disp;
	} else {
		p->rep.refresh = refresh_meter;
		p->rep.refresh_arg = p->meter;
	}
	plugin_set_log(p->plugin_set);	/* every check passed */
	report_start(&p->rep, monotime_ms());
	return p;
fail:
	probe_destroy(p);
	return NULL;
}

int
probe_run(struct probe *p)
{
	char errbuf[256];
	int n, status = 0, rc;
	unsigned i;
	sigset_t all;
	double t0;

	if (export_stage_start(p->stage, errbuf, sizeof(errbuf)) != 0) {
		log_warnx("%s", errbuf);
		return 2;
	}
	if (p->disp != NULL && dispatch_start(p->disp, errbuf,
	    sizeof(errbuf)) != 0) {
		log_warnx("%s", errbuf);
		dispatch_finish(p->disp);
		export_stage_drain(p->stage);
		(void)export_stage_finish(p->stage);
		return 2;
	}
	/* The threads are started (with signals blocked, main.c): from now
	 * on this thread takes the signals, so a stop interrupts its poll. */
	sigfillset(&all);
	pthread_sigmask(SIG_UNBLOCK, &all, NULL);
	t0 = now_s();
	report_start(&p->rep, monotime_ms());
	for (;;) {
		if (p->stop)
			break;
		if (p->disp != NULL)
			n = dispatch_read(p->disp, DISPATCH_BATCH);
		else
			n = meter_dispatch(p->meter, DISPATCH_BATCH);
		if (n == CAPTURE_EOF)
			break;
		if (n == CAPTURE_ERROR) {
			/* Keep what was read: flush it, report, exit 1. */
			log_warnx("capture error: %s", capture_error(p->cap));
			status = 1;
			break;
		}
		if (p->disp == NULL)
			meter_between_reads(p->meter, n == 0);
		report_timers(&p->rep, monotime_ms());
	}
	p->metering_s = now_s() - t0;
	report_progress_clear(&p->rep);
	if (p->stop) {
		unsigned cached = 0;

		for (i = 0; i < p->nmeters; i++)
			cached += atomic_load(&meter_snapshot(p->meters[i])->
			    flows_cached);
		log_info("stopping: flushing %u flows", cached);
	}
	if (p->disp != NULL)
		dispatch_finish(p->disp);	/* each meter flushes */
	else
		meter_finish(p->meter);
	export_stage_drain(p->stage);

	if ((rc = export_stage_finish(p->stage)) != 0)
		status = rc;
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
	export_stage_request_reopen(p->stage);
}

void
probe_request_counters(struct probe *p)
{
	report_request_counters(&p->rep);
}

void
probe_report(struct probe *p, FILE *fp)
{
	report_end(&p->rep, fp, p->metering_s);
}

uint64_t
probe_report_undelivered(struct probe *p)
{
	return export_stage_report_undelivered(p->stage);
}

void
probe_destroy(struct probe *p)
{
	unsigned i;

	if (p == NULL)
		return;
	dispatch_destroy(p->disp);	/* joins the meters if still running */
	export_stage_destroy(p->stage);
	for (i = 0; i < MAX_METERS; i++) {
		meter_destroy(p->meters[i]);
		dpi_destroy(p->dpis[i]);
		flowext_destroy(&p->exts[i]);
		plugin_meter_destroy(p->plugins[i]);	/* cleanup() */
	}
	capture_close(p->cap);
	colset_free(&p->cols);
	/* The column registry names the plugins' columns to the end. */
	plugin_set_free(p->plugin_set);
	free(p);
}
