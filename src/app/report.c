/*
 * report.c - status line, counters, progress bar, end report (see
 * report.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "decode.h"
#include "dpi.h"
#include "export_stage.h"
#include "transport.h"
#include "log.h"
#include "meter.h"
#include "report.h"

#define PROGRESS_MS	250

/* The meters' snapshots, added up. */
struct totals {
	uint64_t	packets_read;
	uint64_t	packets_metered;
	uint64_t	packets_skipped[DECODE_RESULT_COUNT];
	uint64_t	skipped;
	uint64_t	flows_dropped_queue;
	uint64_t	flows_created, flows_idle, flows_active;
	uint64_t	flows_evicted, flows_flushed, flows_tcp_end;
	uint64_t	flows_plugin_end;
	uint64_t	flows_cached, flows_peak;
	uint64_t	capture_received, capture_dropped[2];
	uint64_t	input_done, input_total;
	uint64_t	flows_evicted_memory, flows_lost_dpi;
	uint64_t	mem_used, mem_peak, mem_peak_ext, mem_budget;
	uint64_t	mem_peak_flows, mem_trimmed, index_bytes;
	size_t		bytes_per_flow, entry_bytes;
	bool		mem_budget_auto;
};

#define GET(field)	atomic_load_explicit(&s->field, memory_order_relaxed)

static void
totals(const struct report *r, struct totals *t)
{
	const struct meter_snapshot *s;
	unsigned m;
	int i;

	memset(t, 0, sizeof(*t));
	for (m = 0; m < r->nmeters; m++) {
		s = r->meter[m];
		t->packets_read += GET(packets_read);
		t->packets_metered += GET(packets_metered);
		for (i = 0; i < DECODE_RESULT_COUNT; i++)
			t->packets_skipped[i] += GET(packets_skipped[i]);
		t->skipped += GET(packets_ignored);
		t->flows_dropped_queue += GET(flows_dropped_queue);
		t->flows_created += GET(flows_created);
		t->flows_idle += GET(flows_idle);
		t->flows_active += GET(flows_active);
		t->flows_evicted += GET(flows_evicted);
		t->flows_flushed += GET(flows_flushed);
		t->flows_tcp_end += GET(flows_tcp_end);
		t->flows_plugin_end += GET(flows_plugin_end);
		t->flows_cached += GET(flows_cached);
		/* Peaks of separate tables add up to at most this. */
		t->flows_peak += GET(flows_peak);
		t->capture_received += GET(capture_received);
		t->capture_dropped[0] += GET(capture_dropped[0]);
		t->capture_dropped[1] += GET(capture_dropped[1]);
		t->input_done += GET(input_done);
		t->input_total += GET(input_total);
		t->flows_evicted_memory += GET(flows_evicted_memory);
		t->flows_lost_dpi += GET(flows_lost_dpi);
		t->mem_used += GET(mem_used);
		/* Peaks of separate meters add up to at most this. */
		t->mem_peak += GET(mem_peak);
		t->mem_peak_ext += GET(mem_peak_ext);
		t->mem_peak_flows += GET(mem_peak_flows);
		t->mem_trimmed += GET(mem_trimmed);
		t->mem_budget += s->mem_budget;
		t->index_bytes += s->index_bytes;
		t->mem_budget_auto = s->mem_budget_auto;
		t->bytes_per_flow = s->bytes_per_flow;
		t->entry_bytes = s->entry_bytes;
	}
}

static double
mib(uint64_t bytes)
{
	return bytes / 1048576.0;
}

/*
 * True bytes per cached flow at the memory peak: the table entry, its
 * share of the hash index at a full table, and the extensions' state
 * (DPI) that the flows cached then held, on average.  Without a flow
 * yet: the table's figure.
 */
static uint64_t
bytes_each(const struct totals *t)
{
	if (t->mem_peak_flows == 0)
		return t->bytes_per_flow;
	return t->bytes_per_flow + t->mem_peak_ext / t->mem_peak_flows;
}

/* The same, now. */
static uint64_t
now_each(const struct totals *t)
{
	if (t->flows_cached == 0 || t->mem_used < t->index_bytes)
		return t->bytes_per_flow;
	return t->bytes_per_flow - t->entry_bytes +
	    (t->mem_used - t->index_bytes) / t->flows_cached;
}

/* Resident set size of the process now (Linux /proc), bytes; 0 unknown. */
static uint64_t
rss_now(void)
{
	unsigned long long size, resident;
	FILE *fp = fopen("/proc/self/statm", "r");
	int n;

	if (fp == NULL)
		return 0;
	n = fscanf(fp, "%llu %llu", &size, &resident);
	fclose(fp);
	return n == 2 ? resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static uint64_t
rss_peak(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;	/* Linux: kilobytes */
}

#undef GET

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
refresh(struct report *r)
{
	if (r->refresh != NULL)
		r->refresh(r->refresh_arg);
}

void
report_start(struct report *r, uint64_t now_ms)
{
	r->start_ms = r->status_ms = now_ms;
	r->next_status_ms = now_ms + r->stats_interval_s * 1000ull;
	r->next_progress_ms = 0;
	r->status_packets = 0;
}

void
report_request_counters(struct report *r)
{
	atomic_store(&r->counters_req, 1);
}

void
report_progress_clear(const struct report *r)
{
	if (r->progress)
		fputs("\r\033[K", stderr);
}

/* Flows not exported: failed, dropped before the export stage, lost by
 * an exporter. */
static uint64_t
export_errors(const struct report *r, const struct totals *t)
{
	return export_stage_failures(r->stage) + t->flows_dropped_queue +
	    export_stage_records_lost(r->stage);
}

/* The status line: packets, drops, active flows, exported, export errors
 * (and, with a TCP output, what waits to be delivered). */
static void
log_status(struct report *r, const struct totals *t, uint64_t now)
{
	uint64_t dt = now - r->status_ms;
	struct transport_backlog b;
	char backlog[160] = "";

	if (export_stage_backlog(r->stage, &b))
		snprintf(backlog, sizeof(backlog), "; tcp backlog %llu records "
		    "(%llu bytes) queued, %llu records (%llu bytes) "
		    "unacknowledged", (unsigned long long)b.queued_records,
		    (unsigned long long)b.queued_bytes,
		    (unsigned long long)b.kernel_records,
		    (unsigned long long)b.kernel_bytes);

	report_progress_clear(r);
	log_info("status: packets %llu read (%.0f/s), %llu skipped, dropped "
	    "%llu by kernel and %llu by interface; flows %u active, %llu "
	    "exported; %llu export errors; memory %.1f of %.1f MiB "
	    "(%llu bytes per flow), %llu flows lost DPI, %llu evicted (memory)%s",
	    (unsigned long long)t->packets_read,
	    dt > 0 ? (t->packets_read - r->status_packets) * 1000.0 / dt : 0,
	    (unsigned long long)t->skipped,
	    (unsigned long long)t->capture_dropped[0],
	    (unsigned long long)t->capture_dropped[1],
	    (unsigned)t->flows_cached,
	    (unsigned long long)export_stage_exported(r->stage),
	    (unsigned long long)export_errors(r, t),
	    mib(t->mem_used), mib(t->mem_budget),
	    (unsigned long long)now_each(t),
	    (unsigned long long)t->flows_lost_dpi,
	    (unsigned long long)t->flows_evicted_memory, backlog);
	r->status_packets = t->packets_read;
	r->status_ms = now;
}

/* SIGUSR1: the status line and where packets and flows went. */
static void
log_counters(struct report *r, const struct totals *t, uint64_t now)
{
	char reasons[512];

	log_status(r, t, now);
	skipped_reasons(t->packets_skipped, reasons, sizeof(reasons));
	log_info("counters: packets %llu metered; skipped: %s",
	    (unsigned long long)t->packets_metered,
	    reasons[0] ? reasons : "none");
	log_info("counters: flows %llu created, %llu idle, %llu active, %llu "
	    "tcp end, %llu evicted (table full), %llu dropped (export queue "
	    "full), %llu failed; %u cached (peak %u)",
	    (unsigned long long)t->flows_created,
	    (unsigned long long)t->flows_idle,
	    (unsigned long long)t->flows_active,
	    (unsigned long long)t->flows_tcp_end,
	    (unsigned long long)t->flows_evicted,
	    (unsigned long long)t->flows_dropped_queue,
	    (unsigned long long)export_stage_failures(r->stage),
	    (unsigned)t->flows_cached, (unsigned)t->flows_peak);
	log_info("counters: memory %.1f MiB of %.1f MiB%s, peak %.1f MiB with "
	    "%llu flows (%llu bytes each); %llu flows lost DPI, %llu evicted "
	    "(memory budget); %.1f MiB given back",
	    mib(t->mem_used), mib(t->mem_budget),
	    t->mem_budget_auto ? " (auto)" : "", mib(t->mem_peak),
	    (unsigned long long)t->mem_peak_flows,
	    (unsigned long long)bytes_each(t),
	    (unsigned long long)t->flows_lost_dpi,
	    (unsigned long long)t->flows_evicted_memory, mib(t->mem_trimmed));
}

/* Files on a terminal: "[#####.....]  45%  2.10 M packets/s  0:12 left". */
static void
draw_progress(struct report *r, const struct totals *t, uint64_t now)
{
	uint64_t secs;
	double frac, el = (now - r->start_ms) / 1000.0;
	char bar[31];
	int i, fill;

	if (t->input_total == 0)
		return;
	frac = (double)t->input_done / (double)t->input_total;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	secs = frac > 0.001 ? (uint64_t)(el / frac - el) : 0;
	fprintf(stderr, "\r[%s] %3d%%  %.2f M packets/s  %llu:%02llu left\033[K",
	    bar, (int)(frac * 100), el > 0 ? t->packets_read / el / 1e6 : 0,
	    (unsigned long long)(secs / 60), (unsigned long long)(secs % 60));
}

void
report_timers(struct report *r, uint64_t now)
{
	struct totals t;
	bool status, counters, progress;

	status = r->stats_interval_s > 0 && now >= r->next_status_ms;
	counters = atomic_exchange(&r->counters_req, 0) != 0;
	progress = r->progress && now >= r->next_progress_ms;
	if (!status && !counters && !progress)
		return;
	refresh(r);
	totals(r, &t);
	if (status) {
		log_status(r, &t, now);
		r->next_status_ms = now + r->stats_interval_s * 1000ull;
	}
	if (counters)
		log_counters(r, &t, now);
	if (progress) {
		draw_progress(r, &t, now);
		r->next_progress_ms = now + PROGRESS_MS;
	}
}

/* The meters' DPI figures, added up (the per-flow average: their mean). */
static void
dpi_mem_sum(const struct report *r, struct dpi_mem *out)
{
	struct dpi_mem dm;
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < r->ndpi; i++) {
		dpi_mem_info(r->dpi[i], &dm);
		out->flow_struct = dm.flow_struct;
		out->flows_detecting += dm.flows_detecting;
		out->heap += dm.heap;
		out->strings += dm.strings;
		out->module += dm.module;
		out->slabs += dm.slabs;
		out->peak.total += dm.peak.total;
		out->peak.flows_detecting += dm.peak.flows_detecting;
		out->peak.heap += dm.peak.heap;
		out->peak.strings += dm.peak.strings;
		out->flow_heap_avg += dm.flow_heap_avg;
	}
	if (r->ndpi > 0)
		out->flow_heap_avg /= r->ndpi;
}

static void
dpi_stats_sum(const struct report *r, struct dpi_stats *out)
{
	struct dpi_stats ds;
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < r->ndpi; i++) {
		dpi_get_stats(r->dpi[i], &ds);
		out->flows_detected += ds.flows_detected;
		out->flows_guessed += ds.flows_guessed;
		out->flows_unknown += ds.flows_unknown;
		out->packets_dissected += ds.packets_dissected;
		out->alloc_failures += ds.alloc_failures;
		out->string_bytes += ds.string_bytes;
		out->flows_shed += ds.flows_shed;
	}
}

/*
 * The end report's memory line.  Flow state is what the budget covers
 * (meter.c); the process's RSS adds the fixed part (nDPI's detection
 * module, the export ring, libraries) and allocator slack.
 */
static void
report_memory(const struct report *r, FILE *fp, const struct totals *t)
{
	char dpi[320] = "";

	if (r->ndpi > 0) {
		struct dpi_mem dm;

		dpi_mem_sum(r, &dm);
		snprintf(dpi, sizeof(dpi), "; nDPI: detection module %.1f MiB "
		    "(+%.1f MiB of caches grown since), %zu bytes per flow "
		    "struct and %zu bytes it allocated per flow on average; DPI "
		    "state at its peak %.1f MiB for %zu flows detecting",
		    mib(dm.module), mib(dm.heap), dm.flow_struct,
		    dm.flow_heap_avg, mib(dm.peak.total),
		    dm.peak.flows_detecting);
	}
	fprintf(fp, "streamprobe: memory: budget %.1f MiB%s; peak %.1f MiB "
	    "with %llu flows cached (index %.1f MiB, entries %zu bytes each, "
	    "DPI state %.1f MiB); %llu flows lost DPI, %llu evicted (memory "
	    "budget); %.1f MiB given back; process RSS peak %.1f MiB, %.1f MiB "
	    "at the end%s\n",
	    mib(t->mem_budget), t->mem_budget_auto ? " (auto)" : "",
	    mib(t->mem_peak), (unsigned long long)t->mem_peak_flows,
	    mib(t->index_bytes), t->entry_bytes, mib(t->mem_peak_ext),
	    (unsigned long long)t->flows_lost_dpi,
	    (unsigned long long)t->flows_evicted_memory, mib(t->mem_trimmed),
	    mib(rss_peak()), mib(rss_now()), dpi);
}

void
report_end(struct report *r, FILE *fp, double metering_s)
{
	struct totals t;
	char reasons[512];
	uint64_t exported = export_stage_exported(r->stage);
	double user, sys, cpu;

	refresh(r);
	totals(r, &t);
	skipped_reasons(t.packets_skipped, reasons, sizeof(reasons));
	fprintf(fp, "streamprobe: packets: %llu read, %llu metered, %llu skipped"
	    "%s%s%s\n", (unsigned long long)t.packets_read,
	    (unsigned long long)t.packets_metered,
	    (unsigned long long)t.skipped,
	    reasons[0] ? " (" : "", reasons, reasons[0] ? ")" : "");
	fprintf(fp, "streamprobe: metering: %.3f s, %.2f M packets/s\n",
	    metering_s, metering_s > 0 ?
	    t.packets_read / metering_s / 1e6 : 0.0);
	fprintf(fp, "streamprobe: flows: %llu exported, %llu idle, %llu active, "
	    "%llu at end, %llu evicted (table full), %llu dropped (export queue "
	    "full), %llu failed, %llu tcp end; peak %u cached, %zu bytes each\n",
	    (unsigned long long)exported,
	    (unsigned long long)t.flows_idle,
	    (unsigned long long)t.flows_active,
	    (unsigned long long)t.flows_flushed,
	    (unsigned long long)t.flows_evicted,
	    (unsigned long long)t.flows_dropped_queue,
	    (unsigned long long)export_stage_failures(r->stage),
	    (unsigned long long)t.flows_tcp_end,
	    (unsigned)t.flows_peak, (size_t)bytes_each(&t));
	if (t.flows_plugin_end > 0)
		fprintf(fp, "streamprobe: flows: %llu ended early by plugins "
		    "(expiration_id -1)\n",
		    (unsigned long long)t.flows_plugin_end);
	report_memory(r, fp, &t);
	if (r->ndpi > 0) {
		struct dpi_stats ds;

		dpi_stats_sum(r, &ds);
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
	export_stage_cpu(r->stage, &user, &sys);
	cpu = user + sys;
	fprintf(fp, "streamprobe: export thread: %.3f s CPU, %.0f flows/s "
	    "(%.3f s user: records built and encoded, %.0f flows/s; %.3f s "
	    "system: output written)\n", cpu,
	    cpu > 0 ? exported / cpu : 0.0, user,
	    user > 0 ? exported / user : 0.0, sys);
	export_stage_report(r->stage, fp);
	if (r->live)
		fprintf(fp, "streamprobe: capture: %llu received, %llu dropped by "
		    "kernel, %llu dropped by interface\n",
		    (unsigned long long)t.capture_received,
		    (unsigned long long)t.capture_dropped[0],
		    (unsigned long long)t.capture_dropped[1]);
}
