/*
 * probe.h - the composition root: capture -> decode -> flow table ->
 * features on the metering thread; finished flows cross a ring to the
 * export thread, which feeds every exporter.
 */
#ifndef STREAMPROBE_PROBE_H
#define STREAMPROBE_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"

struct probe;
struct probe_conf;

struct probe_counters {
	uint64_t	packets_read;
	uint64_t	packets_metered;
	uint64_t	packets_skipped[DECODE_RESULT_COUNT];
	uint64_t	flows_expired;
	uint64_t	flows_dropped_queue;	/* live: export queue full */
	uint64_t	flows_exported;		/* by every exporter */
	uint64_t	export_failures;
};

struct probe *probe_create(const struct probe_conf *conf, char *errbuf,
    size_t errlen);
/* Run to the end of input (or probe_stop); returns the exit status. */
int probe_run(struct probe *p);
/* Async-signal-safe requests: stop (flush every flow, drain, return),
 * reopen output files (SIGHUP), log the counters (SIGUSR1). */
void probe_stop(struct probe *p);
void probe_request_reopen(struct probe *p);
void probe_request_counters(struct probe *p);
void probe_counters(const struct probe *p, struct probe_counters *out);
void probe_report(struct probe *p, FILE *fp);
/* After probe_run: log each output's records not delivered; the total. */
uint64_t probe_report_undelivered(struct probe *p);
void probe_destroy(struct probe *p);

#endif
