/*
 * export_stage.h - the export thread: takes finished flows from the
 * meters' rings, builds each flow's view once and hands it to every
 * exporter; serves the exporters' timers and SIGHUP.
 *
 * It sleeps on an eventfd (struct wake) between flows: a meter signals it
 * after a push when it is asleep, a request (reopen, end of metering)
 * kicks it, and otherwise it wakes for the exporters' timers only (idle
 * flush of a partial message or file after 1 s, template refresh in whole
 * seconds), so an idle probe's export thread wakes about once a second.
 */
#ifndef STREAMPROBE_EXPORT_STAGE_H
#define STREAMPROBE_EXPORT_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXPORT_STAGE_MAX_RINGS	64

struct colset;
struct exporter_conf;
struct exporter_env;
struct flowext;
struct ring;
struct wake;
struct export_stage;

struct export_stage *export_stage_create(const struct flowext *ext,
    char *errbuf, size_t errlen);
void export_stage_destroy(struct export_stage *s);	/* and its exporters */
/* Before export_stage_start(): open one more output; its flows come in
 * export order (round robin over the rings, in order within each). */
int export_stage_add_output(struct export_stage *s,
    const struct exporter_conf *conf, const struct colset *cols,
    const struct exporter_env *env, char *errbuf, size_t errlen);
/* One meter's ring; room (may be NULL) is what its meter sleeps on while
 * the ring is full: signalled once the ring is half empty. */
int export_stage_add_ring(struct export_stage *s, struct ring *r,
    struct wake *room);
/* The wake-up every producer (meter) signals after a push. */
struct wake *export_stage_wake(struct export_stage *s);

/* Start the thread; -1 with a message in errbuf. */
int export_stage_start(struct export_stage *s, char *errbuf, size_t errlen);
/* Async-signal-safe: reopen output files and the log (SIGHUP). */
void export_stage_request_reopen(struct export_stage *s);
/* Every meter has finished (its last flow is in its ring): drain every
 * ring, then the thread ends; returns after joining it. */
void export_stage_drain(struct export_stage *s);
/* After export_stage_drain(): flush and close each exporter.  0, or 1 when
 * an output failed (logged) or a flow could not be exported. */
int export_stage_finish(struct export_stage *s);

/*
 * Without the thread (the fuzzer; never with export_stage_start()): export
 * every flow the rings hold now, on the calling thread, and return how many;
 * run the exporters' timers (template refresh, idle flush) at now_ms, a
 * monotime_ms() clock.
 */
unsigned export_stage_pump(struct export_stage *s);
void export_stage_tick(struct export_stage *s, uint64_t now_ms, bool idle);

/* Counters, from any thread. */
uint64_t export_stage_exported(const struct export_stage *s);
uint64_t export_stage_failures(const struct export_stage *s);
/* Records the exporters accepted but could not deliver, all outputs. */
uint64_t export_stage_records_lost(const struct export_stage *s);
/* After export_stage_drain(): the thread's CPU time, user and system. */
void export_stage_cpu(const struct export_stage *s, double *user,
    double *sys);
/* TCP outputs' backlog, added up (struct transport_backlog); false when
 * no output has one. */
struct transport_backlog;
bool export_stage_backlog(const struct export_stage *s,
    struct transport_backlog *out);
/* Each exporter's end report lines. */
void export_stage_report(struct export_stage *s, FILE *fp);
/* After the run: log each output's records not delivered; the total. */
uint64_t export_stage_report_undelivered(struct export_stage *s);

#endif
