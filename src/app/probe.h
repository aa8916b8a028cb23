/*
 * probe.h - the composition root: builds the meters (capture -> decode ->
 * flow table -> extensions; one on the calling thread, or --threads N on
 * their own behind a reader, dispatch.h), the export stage (its own
 * thread, every exporter) and the report, runs them to the end of
 * input, and takes the signals' requests.
 */
#ifndef STREAMPROBE_PROBE_H
#define STREAMPROBE_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct probe;
struct probe_conf;

struct probe *probe_create(const struct probe_conf *conf, char *errbuf,
    size_t errlen);
/* Run to the end of input (or probe_stop); returns the exit status. */
int probe_run(struct probe *p);
/* Async-signal-safe requests: stop (flush every flow, drain, return),
 * reopen output files (SIGHUP), log the counters (SIGUSR1). */
void probe_stop(struct probe *p);
void probe_request_reopen(struct probe *p);
void probe_request_counters(struct probe *p);
void probe_report(struct probe *p, FILE *fp);
/* After probe_run: log each output's records not delivered; the total. */
uint64_t probe_report_undelivered(struct probe *p);
void probe_destroy(struct probe *p);

#endif
