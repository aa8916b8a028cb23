/*
 * main.c - command line entry point: configure, start (foreground or
 * daemon), run the probe, report.
 *
 * Exit status: 0 success (also after SIGTERM/SIGINT: every flow flushed);
 * 1 a capture or output failed part way (what was read is still written),
 * or, reading files, an exporter could not deliver records (a live probe
 * keeps going through a collector's outage: counted, not an error);
 * 2 bad usage, a bad configuration, or input that cannot be opened.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "columns.h"
#include "config.h"
#include "daemon.h"
#include "dpi.h"
#include "log.h"
#include "plugin.h"
#include "probe.h"

#ifndef STREAMPROBE_VERSION
#define STREAMPROBE_VERSION "0.0.0"
#endif

static struct probe *volatile running;
static volatile sig_atomic_t stop_pending;	/* a stop before the probe ran */

/* Handlers only set flags (probe_* are async-signal-safe). */
static void
on_signal(int sig)
{
	if (running == NULL) {
		if (sig == SIGTERM || sig == SIGINT)
			stop_pending = 1;
		return;
	}
	switch (sig) {
	case SIGHUP:
		probe_request_reopen(running);
		break;
	case SIGUSR1:
		probe_request_counters(running);
		break;
	default:
		probe_stop(running);
		break;
	}
}

static void
install_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Checks that need the whole configuration (--check-config does them too). */
static int
check_deployment(const struct probe_conf *c, char *errbuf, size_t errlen)
{
	if (c->user != NULL && daemon_check_user(c->user, errbuf, errlen) != 0)
		return -1;
	if (c->daemon && config_writes_stdout(c)) {
		snprintf(errbuf, errlen, "-D: a daemon has no standard output; "
		    "give --csv/--json/ipfix+file:// a file, or export to a "
		    "collector");
		return -1;
	}
	return 0;
}

/* The end-of-run report, line by line to the log (syslog in -D). */
static void
report(struct probe *p)
{
	char *buf = NULL, *line, *save;
	size_t len = 0;
	FILE *mem;

	if (!log_is_syslog()) {
		probe_report(p, stderr);
		return;
	}
	if ((mem = open_memstream(&buf, &len)) == NULL)
		return;
	probe_report(p, mem);
	fclose(mem);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		log_info("%s", strncmp(line, "streamprobe: ", 13) == 0 ?
		    line + 13 : line);
	free(buf);
}

static int
start_failed(const char *msg, struct probe_conf *conf)
{
	log_warnx("%s", msg);
	daemon_ready(2);
	config_free(conf);
	return 2;
}

int
main(int argc, char **argv)
{
	static struct probe_conf conf;	/* large: keep it off the stack */
	char errbuf[CONFIG_ERRLEN];
	enum config_action action;
	struct plugin_set *ps = NULL;
	struct probe *p;
	int status;

	/* The built-in columns first: templates name them while the
	 * configuration is checked.  probe_create() closes the set. */
	if (columns_init(errbuf, sizeof(errbuf)) != 0) {
		log_warnx("%s", errbuf);
		return 2;
	}
	config_defaults(&conf);
	if (config_parse_args(&conf, argc, argv, &action, errbuf,
	    sizeof(errbuf)) != 0 ||
	    (action == CONFIG_RUN || action == CONFIG_CHECK ?
	    check_deployment(&conf, errbuf, sizeof(errbuf)) : 0) != 0) {
		log_warnx("%s", errbuf);
		config_free(&conf);
		return 2;
	}
	switch (action) {
	case CONFIG_HELP:
		config_usage(stdout);
		config_free(&conf);
		return 0;
	case CONFIG_VERSION:
		printf("streamprobe %s (nDPI %s)\n", STREAMPROBE_VERSION,
		    dpi_version());
		config_free(&conf);
		return 0;
	case CONFIG_CHECK:
		/* What a start would find wrong, minus opening anything:
		 * plugins are loaded and checked (not initialised), so that
		 * templates may name their columns. */
		if ((ps = plugin_set_load((const char *const *)conf.plugins,
		    conf.nplugins, (const char *const *)conf.plugin_keys,
		    (const char *const *)conf.plugin_values,
		    conf.nplugin_args, errbuf, sizeof(errbuf))) == NULL ||
		    plugin_set_register(ps, errbuf, sizeof(errbuf)) != 0 ||
		    config_check_outputs(&conf, errbuf, sizeof(errbuf)) != 0) {
			log_warnx("%s", errbuf);
			config_free(&conf);
			plugin_set_free(ps);
			return 2;
		}
		config_print(&conf, stdout);
		config_free(&conf);
		plugin_set_free(ps);
		return 0;
	case CONFIG_RUN:
		break;
	}
	if (conf.daemon) {
		/* Before any thread exists; paths made absolute for cwd /. */
		if (config_absolute_paths(&conf, errbuf, sizeof(errbuf)) != 0 ||
		    daemon_start(errbuf, sizeof(errbuf)) != 0)
			return start_failed(errbuf, &conf);
		conf.progress = false;
	}
	/* Before start-up work (resolving collectors can take a while): a
	 * SIGTERM meanwhile still ends in a clean, flushed exit. */
	install_signals();
	/* Every thread started from here (TCP senders, the export stage)
	 * inherits this block, so the signals reach the metering thread and
	 * cut its poll() short; probe_run() unblocks them there. */
	block_signals();
	if ((p = probe_create(&conf, errbuf, sizeof(errbuf))) == NULL)
		return start_failed(errbuf, &conf);
	/* Capture and sockets are open: the pid file, then drop root. */
	if ((conf.pidfile != NULL &&
	    daemon_write_pidfile(conf.pidfile, errbuf, sizeof(errbuf)) != 0) ||
	    (conf.user != NULL && daemon_drop_privileges(conf.user, errbuf,
	    sizeof(errbuf)) != 0)) {
		probe_destroy(p);
		return start_failed(errbuf, &conf);
	}
	running = p;
	if (stop_pending)
		probe_stop(p);
	if (conf.daemon) {
		log_to_syslog("streamprobe");
		daemon_ready(0);
		log_info("started, pid %ld, reading %s", (long)getpid(),
		    conf.iface ? conf.iface : conf.files[0]);
	}
	status = probe_run(p);
	report(p);
	/* Files: a result with holes is not a success (live: counted). */
	if (probe_report_undelivered(p) > 0 && conf.iface == NULL &&
	    status == 0)
		status = 1;
	if (conf.daemon)
		log_info("stopped, exit status %d", status);
	running = NULL;
	probe_destroy(p);
	if (conf.pidfile != NULL)
		daemon_remove_pidfile(conf.pidfile);
	config_free(&conf);
	return status;
}
