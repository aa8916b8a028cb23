/*
 * main.c - command line entry point: parse, build the probe, run, report.
 *
 * Exit status: 0 success; 1 a capture or output failed part way (what was
 * read is still written); 2 bad usage or input that cannot be opened.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dpi.h"
#include "log.h"
#include "probe.h"

#ifndef STREAMPROBE_VERSION
#define STREAMPROBE_VERSION "0.0.0"
#endif

static struct probe *running;

static void
on_stop_signal(int sig)
{
	(void)sig;
	if (running != NULL)
		probe_stop(running);
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
main(int argc, char **argv)
{
	static struct probe_conf conf;	/* large: keep it off the stack */
	char errbuf[CONFIG_ERRLEN];
	enum config_action action;
	struct probe *p;
	int status;

	config_defaults(&conf);
	if (config_parse_args(&conf, argc, argv, &action, errbuf,
	    sizeof(errbuf)) != 0) {
		log_warnx("%s", errbuf);
		config_free(&conf);
		return 2;
	}
	if (action == CONFIG_HELP) {
		config_usage(stdout);
		config_free(&conf);
		return 0;
	}
	if (action == CONFIG_VERSION) {
		printf("streamprobe %s (nDPI %s)\n", STREAMPROBE_VERSION,
		    dpi_version());
		config_free(&conf);
		return 0;
	}
	if ((p = probe_create(&conf, errbuf, sizeof(errbuf))) == NULL) {
		log_warnx("%s", errbuf);
		config_free(&conf);
		return 2;
	}
	running = p;
	install_signals();
	status = probe_run(p);
	probe_report(p, stderr);
	running = NULL;
	probe_destroy(p);
	config_free(&conf);
	return status;
}
