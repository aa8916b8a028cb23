/*
 * meter.h - one metering pipeline: input -> decode -> flow table -> flow
 * extensions (features, DPI) -> its ring to the export stage.
 *
 * A meter runs on one thread: the main thread, reading the capture
 * itself (--threads 1), or its own, fed in batches by the reader
 * (dispatch.h, --threads N).  Per packet it allocates nothing, formats nothing and
 * takes no lock.  A finished flow is copied into the meter's SPSC ring,
 * once per flow, and the export stage's wake-up is signalled.
 *
 * Counters are plain on the metering thread and published by
 * meter_publish() (between reads) into struct meter_snapshot, whose
 * fields are atomics: the status line, SIGUSR1 and the end report read
 * snapshots only, from any thread, and add up N meters the same way.
 *
 * Clock: packet time in integer ms (tv_sec*1000 + tv_usec/1000), clamped
 * so it never goes backwards; an idle scan runs every 10 ms of it, as in
 * NFStream.  Live capture also expires on the wall clock: after every read
 * (at most timeout_ms apart, traffic or not) idle and active timeouts are
 * checked against max(packet clock, wall clock), so flows end on time when
 * the link goes quiet.  Files keep packet time only, so a replayed capture
 * gives NFStream's flows.
 */
#ifndef STREAMPROBE_METER_H
#define STREAMPROBE_METER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flowext.h"

struct capture;
struct cap_pkt;
struct ring;
struct wake;

struct meter_conf {
	const struct flowext	*ext;		/* per-flow extension layout */
	uint32_t		 max_flows;
	/* Memory budget for the flow table and the extensions' state (DPI);
	 * 0: meter_default_memory().  See meter.c, "Memory budget". */
	uint64_t		 max_memory;
	uint64_t		 idle_timeout_ms;
	uint64_t		 active_timeout_ms;
	bool			 tcp_end;
	unsigned		 accounting_mode;	/* enum pkt_size_kind */
	bool			 decode_tunnels;
	/* Live capture: the ring never waits while running (a full ring
	 * drops, counted) and flows also expire on the wall clock. */
	bool			 live;
	struct wake		*wake;		/* the export stage's; may be NULL */
	/* Plugins (src/plugin/): NULL when none is loaded, and then the
	 * packet path pays one predictable branch. */
	struct plugin_meter	*plugins;
};

/* Published counters; every field is written by the meter only. */
struct meter_snapshot {
	_Atomic uint64_t	packets_read;
	_Atomic uint64_t	packets_metered;
	_Atomic uint64_t	packets_skipped[DECODE_RESULT_COUNT];
	_Atomic uint64_t	packets_ignored;	/* sum of skipped */
	_Atomic uint64_t	flows_expired;		/* into the ring */
	_Atomic uint64_t	flows_dropped_queue;	/* live: ring full */
	/* The flow table's (struct flowtab_stats). */
	_Atomic uint64_t	flows_created;
	_Atomic uint64_t	flows_idle;
	_Atomic uint64_t	flows_active;
	_Atomic uint64_t	flows_evicted;
	_Atomic uint64_t	flows_flushed;
	_Atomic uint64_t	flows_tcp_end;
	_Atomic uint64_t	flows_plugin_end;	/* sp_expire() */
	_Atomic uint64_t	flows_evicted_memory;	/* budget reached */
	_Atomic uint64_t	flows_lost_dpi;		/* budget reached */
	_Atomic uint32_t	flows_cached;
	_Atomic uint32_t	flows_peak;
	/* Live input: libpcap's counters. */
	_Atomic uint64_t	capture_received;
	_Atomic uint64_t	capture_dropped[2];	/* kernel, interface */
	/* Files: bytes read and in all (total 0: unknown). */
	_Atomic uint64_t	input_done;
	_Atomic uint64_t	input_total;
	/* Memory (bytes): flow table and extension state, now and at its
	 * peak (with the flows cached then and the extensions' share). */
	_Atomic uint64_t	mem_used;
	_Atomic uint64_t	mem_peak;
	_Atomic uint64_t	mem_peak_ext;
	_Atomic uint32_t	mem_peak_flows;
	_Atomic uint64_t	mem_trimmed;		/* given back */
	/* Constant after meter_create(). */
	size_t			bytes_per_flow;		/* entry + index share */
	size_t			entry_bytes;		/* flow table entry */
	size_t			index_bytes;
	uint64_t		mem_budget;
	bool			mem_budget_auto;
};

struct meter;

/* The ring (RING_SLOTS records of the layout's size) is the meter's. */
struct meter *meter_create(const struct meter_conf *conf, char *errbuf,
    size_t errlen);
void meter_destroy(struct meter *m);
/* The input; NULL (unit tests) feeds meter_packet() by hand.  The meter
 * does not own it. */
void meter_set_input(struct meter *m, struct capture *cap);
struct ring *meter_ring(struct meter *m);
/* What the meter sleeps on while its ring is full (export_stage_add_ring). */
struct wake *meter_room(struct meter *m);

/* One packet (the capture callback): decode, account, expire by packet
 * time.  frame is borrowed for the call. */
void meter_packet(void *meter, const struct cap_pkt *h, const uint8_t *frame);

/* Several meters (dispatch.h): the packets of one batch from the reader,
 * already decoded, at the reader's clock; then the clock alone. */
struct dispatch_batch;
void meter_batch(struct meter *m, const struct dispatch_batch *b);

/* Read up to max packets from the input; capture_dispatch()'s result. */
int meter_dispatch(struct meter *m, int max);
/* Between reads: live wall-clock expiry (quiet: nothing was read). */
void meter_between_reads(struct meter *m, bool quiet);
/* The export thread is woken for finished flows a few hundred at a time
 * or after 10 ms (meter.c); a meter about to sleep wakes it now. */
void meter_wake_export(struct meter *m);
/* End of input or stop: every flow to the ring, waiting for room (the
 * export stage must be draining), then publish. */
void meter_finish(struct meter *m);

/* Counters into the snapshot (and libpcap's, with capture true). */
void meter_publish(struct meter *m, bool capture);
const struct meter_snapshot *meter_snapshot(const struct meter *m);
/* The input's counters into s: libpcap's (live) or file progress. */
void meter_publish_capture(struct meter_snapshot *s, struct capture *cap,
    bool live);
/* Packet clock (ms) as it stands. */
uint64_t meter_clock_ms(const struct meter *m);

#endif
