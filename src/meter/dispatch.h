/*
 * dispatch.h - several meters (--threads N > 1): one reader thread and N
 * meter threads.
 *
 * The reader (the caller's thread) reads the capture, decodes each packet
 * once (decode_packet()) and picks its meter by a hash of the address pair
 * of its flow key (flow_key_from_pkt(): canonical order, so both
 * directions agree; tunnelled packets by their inner addresses, as the
 * flow table keys them).  Every packet of a flow, and every flow between
 * two hosts, meets on one meter (see key_meter() for why not the ports).
 * IP fragments: decode drops non-first fragments (counted, never part of a
 * flow, as in NFStream), and a first fragment carries its ports, so no
 * packet of a flow can land elsewhere.
 *
 * Packets travel to each meter in batches through an SPSC ring of batch
 * slots (no lock, no allocation per packet): the decoded view, its flow
 * key (made once, here) and the bytes from the IP header on (all that the flow table, the features and
 * nDPI read) are copied into the meter's current slot, which is published
 * when it holds DISPATCH_BATCH_PKTS packets or its bytes are full, and
 * after every read of the capture.  A meter thread sleeps on an eventfd
 * (struct wake) while its ring is empty; the reader signals it after a
 * publish.  A full ring makes the reader wait (files: nothing to lose;
 * live: the kernel buffer absorbs it, its drops are counted).
 *
 * Clock: the reader keeps the packet clock (NFStream's ms, clamped so it
 * never goes back) over all packets and stamps each packet with it, so a
 * flow's times are those one meter would give; every batch, empty ones
 * included, carries the clock so that a meter that got no packets still
 * expires its flows.  Flow timeouts are checked per flow at lookup
 * (flowtab.c), so the flows do not depend on the split.
 *
 * Counters: the reader's snapshot holds packets read and skipped and the
 * capture's counters (libpcap, file progress); each meter's holds what it
 * metered.  The report adds them all up.
 */
#ifndef STREAMPROBE_DISPATCH_H
#define STREAMPROBE_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"

#define DISPATCH_BATCH_PKTS	512
/* Room for any packet: l3_len is at most 65535. */
#define DISPATCH_BATCH_BYTES	(128 * 1024)
#define DISPATCH_MAX_METERS	64

struct capture;
struct meter;
struct meter_snapshot;

struct dispatch_pkt {
	struct pkt_view	pv;	/* l3 is set by the meter: data + off */
	struct flow_key	key;	/* the reader's, for the meter's lookup */
	uint8_t		src_end;
	uint64_t	t_ms;	/* the reader's clock at this packet */
	uint32_t	off;
	uint32_t	usec;	/* the packet's ts_usec (plugins' time_us) */
};

struct dispatch_batch {
	uint32_t		n;
	uint32_t		used;		/* bytes of data */
	uint64_t		clock_ms;
	bool			end;		/* no more input */
	struct dispatch_pkt	pkt[DISPATCH_BATCH_PKTS];
	uint8_t			data[DISPATCH_BATCH_BYTES];
};

struct dispatch_conf {
	struct capture	*cap;
	struct meter	**meters;
	unsigned	 nmeters;		/* 2..DISPATCH_MAX_METERS */
	bool		 decode_tunnels;
	bool		 live;
	/* Run first on meter i's thread (binds its DPI module). */
	void		(*thread_init)(void *arg, unsigned i);
	void		*thread_arg;
};

struct dispatch;

struct dispatch *dispatch_create(const struct dispatch_conf *conf,
    char *errbuf, size_t errlen);
/* Start the meter threads; -1 with a message. */
int dispatch_start(struct dispatch *d, char *errbuf, size_t errlen);
/* Read up to max packets into the meters' rings: capture_dispatch()'s
 * result. */
int dispatch_read(struct dispatch *d, int max);
/* End of input or stop: every meter flushes its flows (meter_finish) and
 * its thread ends; returns after joining them. */
void dispatch_finish(struct dispatch *d);
void dispatch_destroy(struct dispatch *d);

/* The reader's counters into its snapshot (with libpcap's: capture). */
void dispatch_publish(struct dispatch *d, bool capture);
const struct meter_snapshot *dispatch_snapshot(const struct dispatch *d);

#endif
