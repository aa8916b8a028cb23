/*
 * report.h - what the probe tells its operator: the status line
 * (--stats-interval), the counters (SIGUSR1), the progress bar (files on
 * a terminal) and the end report.  It reads only the meters' published
 * snapshots (summed, so N meters read the same as one), the export
 * stage's counters and DPI's statistics: it may run on any thread.
 */
#ifndef STREAMPROBE_REPORT_H
#define STREAMPROBE_REPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* 64 meters and the reader (--threads > 1). */
#define REPORT_MAX_METERS	65

struct dpi;
struct export_stage;
struct meter_snapshot;

struct report {
	const struct meter_snapshot	*meter[REPORT_MAX_METERS];
	unsigned			 nmeters;
	struct export_stage		*stage;
	const struct dpi		*dpi[REPORT_MAX_METERS];	/* each meter's */
	unsigned			 ndpi;	/* 0 without DPI */
	bool				 live;
	bool				 progress;	/* draw the bar */
	unsigned			 stats_interval_s;	/* 0: none */
	/* Called before a line or the bar: fresh snapshots, libpcap's
	 * counters included (the meters' own thread today). */
	void				(*refresh)(void *arg);
	void				*refresh_arg;
	/* Timers and state. */
	_Atomic int			 counters_req;	/* SIGUSR1 */
	uint64_t			 start_ms;
	uint64_t			 next_status_ms, next_progress_ms;
	uint64_t			 status_ms, status_packets;
};

/* After the fields above are set, when the run starts. */
void report_start(struct report *r, uint64_t now_ms);
/* Async-signal-safe: log the counters at the next report_timers(). */
void report_request_counters(struct report *r);
/* Status line, counters, progress bar when due. */
void report_timers(struct report *r, uint64_t now_ms);
/* Erase the progress bar (before other output on stderr). */
void report_progress_clear(const struct report *r);
/* The end report; metering_s is the capture loop's wall time. */
void report_end(struct report *r, FILE *fp, double metering_s);

#endif
