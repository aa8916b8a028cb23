/*
 * probe.c - the composition root and lifecycle.
 *
 *	probe_create()		build every stage from the configuration
 *	probe_run()		metering loop, export thread, final drain
 *	probe_stop(), probe_request_reopen(), probe_request_counters()
 *				signal handlers: stop, SIGHUP, SIGUSR1
 *	probe_report(), probe_report_undelivered(), probe_destroy()
 *
 * Threads: the caller's thread runs the meter (src/meter/: capture,
 * decode, flow table, extensions) and, between reads, the report's timers
 * (status line, SIGUSR1's counters, progress bar).  The export stage
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
#include "dpi.h"
#include "export_stage.h"
#include "exporter.h"
#include "flowext.h"
#include "log.h"
#include "meter.h"
#include "monotime.h"
#include "probe.h"
#include "report.h"

#define DISPATCH_BATCH		1024
#define LIVE_TIMEOUT_MS		100

struct probe {
	const struct probe_conf	*conf;
	struct capture		*cap;
	struct dpi		*dpi;		/* NULL: no application detection */
	struct flowext		 ext;
	struct meter		*meter;
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

	if (conf->n_dissections > 0) {
		struct dpi_conf dc = { conf->n_dissections };

		if ((p->dpi = dpi_create(&dc, errbuf, errlen)) == NULL)
			goto fail;
	}
	/* The per-flow layout: its clients in hook order. */
	flowext_init(&p->ext);
	if (flowfeat_ext_register(&p->ext, conf->statistics, conf->splt,
	    errbuf, errlen) != 0 || (p->dpi != NULL &&
	    dpi_ext_register(p->dpi, &p->ext, errbuf, errlen) != 0) ||
	    flowext_freeze(&p->ext, errbuf, errlen) != 0)
		goto fail;
	/* The column set is fixed before the export stage sizes its row and
	 * any output opens. */
	if (columns_init(errbuf, errlen) != 0 ||
	    columns_freeze(errbuf, errlen) != 0)
		goto fail;
	if ((p->stage = export_stage_create(&p->ext, errbuf, errlen)) == NULL)
		goto fail;

	memset(&mc, 0, sizeof(mc));
	mc.ext = &p->ext;
	mc.max_flows = conf->max_flows;
	mc.max_memory = conf->max_memory;
	mc.idle_timeout_ms = conf->idle_timeout_s * 1000;
	mc.active_timeout_ms = conf->active_timeout_s * 1000;
	mc.tcp_end = conf->tcp_end;
	mc.accounting_mode = conf->accounting_mode;
	mc.decode_tunnels = conf->decode_tunnels;
	mc.live = p->live;
	mc.wake = export_stage_wake(p->stage);
	if ((p->meter = meter_create(&mc, errbuf, errlen)) == NULL)
		goto fail;
	meter_set_input(p->meter, p->cap);
	if (export_stage_add_ring(p->stage, meter_ring(p->meter)) != 0) {
		snprintf(errbuf, errlen, "too many meters");
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
	/* One meter: its counters are the probe's (N meters: a sum). */
	env.packets_ignored = &meter_snapshot(p->meter)->packets_ignored;
	env.capture_dropped[0] = &meter_snapshot(p->meter)->capture_dropped[0];
	env.capture_dropped[1] = &meter_snapshot(p->meter)->capture_dropped[1];
	for (i = 0; i < conf->noutputs; i++)
		if (export_stage_add_output(p->stage, &conf->outputs[i], &p->cols,
		    &env, errbuf, errlen) != 0)
			goto fail;

	p->rep.meter[0] = meter_snapshot(p->meter);
	p->rep.nmeters = 1;
	p->rep.stage = p->stage;
	p->rep.dpi = p->dpi;
	p->rep.live = p->live;
	/* A bar on stderr would garble flows written to the same terminal. */
	p->rep.progress = !p->live && conf->progress &&
	    isatty(STDERR_FILENO) &&
	    !(config_writes_stdout(conf) && isatty(STDOUT_FILENO));
	p->rep.stats_interval_s = conf->stats_interval_s;
	p->rep.refresh = refresh_meter;
	p->rep.refresh_arg = p->meter;
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
	sigset_t all;
	double t0;

	if (export_stage_start(p->stage, errbuf, sizeof(errbuf)) != 0) {
		log_warnx("%s", errbuf);
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
		n = meter_dispatch(p->meter, DISPATCH_BATCH);
		if (n == CAPTURE_EOF)
			break;
		if (n == CAPTURE_ERROR) {
			/* Keep what was read: flush it, report, exit 1. */
			log_warnx("capture error: %s", capture_error(p->cap));
			status = 1;
			break;
		}
		meter_between_reads(p->meter, n == 0);
		report_timers(&p->rep, monotime_ms());
	}
	p->metering_s = now_s() - t0;
	report_progress_clear(&p->rep);
	if (p->stop)
		log_info("stopping: flushing %u flows",
		    (unsigned)atomic_load(&meter_snapshot(p->meter)->flows_cached));
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
	if (p == NULL)
		return;
	export_stage_destroy(p->stage);
	meter_destroy(p->meter);
	dpi_destroy(p->dpi);
	flowext_destroy(&p->ext);
	capture_close(p->cap);
	colset_free(&p->cols);
	free(p);
}
