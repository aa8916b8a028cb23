/*
 * dispatch.c - one reader, N meter threads (see dispatch.h).
 *
 *	dispatch_create(), dispatch_destroy()
 *	dispatch_start()	the meter threads
 *	dispatch_read()		reader: capture -> decode -> hash -> batches
 *	dispatch_finish()	end of input: every meter flushes, joined
 *	dispatch_publish(), dispatch_snapshot()
 *
 * Wake-ups go both ways and only to a sleeper: a meter whose ring is
 * empty sleeps on its own eventfd, which the reader signals after
 * publishing a batch; the reader, when a meter's ring is full, sleeps on
 * its own, which each meter signals after taking a batch.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "dispatch.h"
#include "flow.h"
#include "log.h"
#include "meter.h"
#include "ring.h"
#include "wake.h"

/* Batch slots per meter: 64 x ~204 KiB of address space (what is touched
 * follows the packets' sizes: ~9 MiB a meter for 128-byte snaps).  Deep
 * enough that one meter's full ring seldom holds up the reader while
 * the other meter runs dry: with 16, 15 % of both cores sat idle. */
#define RING_BATCHES	64
/* A meter with nothing to do wakes this often for live wall-clock
 * expiry (the reader also sends the clock after every read): with flows
 * cached, so they end on time; without, only to stay responsive (as one
 * meter polls a quiet interface, meter.c). */
#define IDLE_WAIT_MS	100
#define EMPTY_WAIT_MS	500
#define ROOM_WAIT_MS	100
#define WAKE_BATCHES	4

struct dispatch_q {
	struct dispatch		*d;
	struct meter		*meter;
	struct ring		*ring;
	struct wake		 wake;		/* the meter sleeps on it */
	struct dispatch_batch	*cur;		/* being filled */
	uint64_t		 sent_clock;	/* in its last batch */
	pthread_t		 thread;
	bool			 started;
	unsigned		 index;
};

struct dispatch {
	struct dispatch_conf	 conf;
	struct decode_conf	 dc;
	uint64_t		 clock_ms;
	uint64_t		 packets_read;
	uint64_t		 skipped[DECODE_RESULT_COUNT];
	bool			 finished;
	struct wake		 room;		/* the reader sleeps on it */
	struct meter_snapshot	 snap;
	struct dispatch_q	 q[DISPATCH_MAX_METERS];
};

/* The meter's thread: batches until the end one, then the final flush. */
static void *
meter_thread(void *arg)
{
	struct dispatch_q *q = arg;
	struct dispatch *d = q->d;
	const struct dispatch_batch *b;
	bool end = false, quiet;

	if (d->conf.thread_init != NULL)
		d->conf.thread_init(d->conf.thread_arg, q->index);
	while (!end) {
		if ((b = ring_pop_begin(q->ring)) == NULL) {
			meter_wake_export(q->meter);	/* before sleeping */
			wake_prepare(&q->wake);
			if ((b = ring_pop_begin(q->ring)) == NULL) {
				wake_wait(&q->wake, atomic_load_explicit(
				    &meter_snapshot(q->meter)->flows_cached,
				    memory_order_relaxed) != 0 ? IDLE_WAIT_MS :
				    EMPTY_WAIT_MS);
				meter_between_reads(q->meter, true);
				continue;
			}
			wake_cancel(&q->wake);
		}
		meter_batch(q->meter, b);
		end = b->end;
		quiet = b->n == 0;
		ring_pop_end(q->ring);
		/* Hysteresis: a reader waiting for room is woken once the
		 * ring is half empty, to refill half of it in one go, not for
		 * every batch (a system call and two context switches). */
		if (ring_pending(q->ring) <= RING_BATCHES / 2)
			wake_signal(&d->room);
		meter_between_reads(q->meter, quiet);	/* live only */
		meter_publish(q->meter, false);
	}
	meter_finish(q->meter);
	return NULL;
}

struct dispatch *
dispatch_create(const struct dispatch_conf *conf, char *errbuf,
    size_t errlen)
{
	struct dispatch *d;
	unsigned i;

	if (conf->nmeters < 2 || conf->nmeters > DISPATCH_MAX_METERS) {
		snprintf(errbuf, errlen, "%u meters: 2 to %d", conf->nmeters,
		    DISPATCH_MAX_METERS);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	d->conf = *conf;
	d->dc.decode_tunnels = conf->decode_tunnels;
	d->room.fd = -1;
	for (i = 0; i < conf->nmeters; i++)
		d->q[i].wake.fd = -1;
	if (wake_init(&d->room) != 0)
		goto fail_fd;
	for (i = 0; i < conf->nmeters; i++) {
		struct dispatch_q *q = &d->q[i];

		q->d = d;
		q->meter = conf->meters[i];
		q->index = i;
		if (wake_init(&q->wake) != 0)
			goto fail_fd;
		if ((q->ring = ring_create(RING_BATCHES,
		    sizeof(struct dispatch_batch))) == NULL) {
			snprintf(errbuf, errlen, "out of memory for the meters' "
			    "queues");
			goto fail;
		}
	}
	return d;
fail_fd:
	snprintf(errbuf, errlen, "cannot create an eventfd");
fail:
	dispatch_destroy(d);
	return NULL;
}

int
dispatch_start(struct dispatch *d, char *errbuf, size_t errlen)
{
	unsigned i;
	int e;

	for (i = 0; i < d->conf.nmeters; i++) {
		if ((e = pthread_create(&d->q[i].thread, NULL, meter_thread,
		    &d->q[i])) != 0) {
			snprintf(errbuf, errlen, "cannot start meter thread %u: "
			    "%s", i, strerror(e));
			return -1;
		}
		d->q[i].started = true;
	}
	return 0;
}

/* The meter's slot to fill; waits for room (see dispatch.h). */
static struct dispatch_batch *
batch_get(struct dispatch_q *q)
{
	struct dispatch_batch *b;

	if (q->cur != NULL)
		return q->cur;
	while ((b = ring_push_begin(q->ring)) == NULL) {
		wake_signal(&q->wake);	/* a full ring is never left asleep */
		wake_prepare(&q->d->room);
		if ((b = ring_push_begin(q->ring)) != NULL) {
			wake_cancel(&q->d->room);
			break;
		}
		wake_wait(&q->d->room, ROOM_WAIT_MS);
	}
	b->n = 0;
	b->used = 0;
	b->end = false;
	q->cur = b;
	return b;
}

/*
 * A sleeping meter is woken when its ring holds WAKE_BATCHES, or at once
 * when the reader is done with a read (force): by then it has sent every
 * meter what it had (dispatch_read()), so no meter sleeps on packets for
 * longer than one read, and a meter as fast as the reader is woken for a
 * few batches at a time, not for each.
 */
static void
batch_put(struct dispatch_q *q, bool force)
{
	q->cur->clock_ms = q->d->clock_ms;
	q->sent_clock = q->d->clock_ms;
	ring_push_end(q->ring);
	q->cur = NULL;
	if (force || ring_filled(q->ring) >= WAKE_BATCHES)
		wake_signal(&q->wake);
}

/*
 * The meter of a packet: a hash of its flow key's address pair, which the
 * key holds in canonical order (symmetric), and nothing else.  Ports,
 * protocol, VLAN and tunnel id are left out on purpose: nDPI keeps caches
 * across flows in its detection module (one per meter), keyed on the
 * hosts (TINC's TCP flow announces its UDP flow; TLS certificates, STUN,
 * mining, ...): all flows between two hosts meet on one meter, so such a
 * cache sees what a single meter's would.
 */
static unsigned
key_meter(const struct flow_key *k, unsigned n)
{
	uint64_t w[4], h = 0;
	size_t i;

	memcpy(w, k->addr, sizeof(w));
	for (i = 0; i < 4; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	return (unsigned)(((h & 0xffffffffu) * n) >> 32);
}

static void
dispatch_packet(void *arg, const struct cap_pkt *h, const uint8_t *frame)
{
	struct dispatch *d = arg;
	struct dispatch_batch *b;
	struct dispatch_pkt *p;
	struct dispatch_q *q;
	struct pkt_view pv;
	struct flow_key key;
	enum decode_result r;
	uint32_t len;
	uint64_t t;
	uint8_t src_end;

	d->packets_read++;
	d->dc.dlt = h->dlt;
	r = decode_packet(&d->dc, frame, h->caplen, h->wirelen, &pv);
	if (r != DECODE_OK) {
		d->skipped[r]++;
		return;
	}
	/* meter_packet()'s clock, kept over every meter's packets. */
	t = (uint64_t)h->ts_sec * 1000 + (uint64_t)(h->ts_usec / 1000);
	if (t > d->clock_ms)
		d->clock_ms = t;
	else
		t = d->clock_ms;
	flow_key_from_pkt(&pv, &key, &src_end);	/* once: the meter uses it */
	q = &d->q[key_meter(&key, d->conf.nmeters)];
	len = ((uint32_t)pv.l3_len + 7) & ~(uint32_t)7;
	if (q->cur != NULL && (q->cur->n == DISPATCH_BATCH_PKTS ||
	    q->cur->used + len > DISPATCH_BATCH_BYTES))
		batch_put(q, false);
	b = batch_get(q);
	p = &b->pkt[b->n++];
	p->pv = pv;
	p->pv.l3 = NULL;
	p->key = key;
	p->src_end = src_end;
	p->t_ms = t;
	p->usec = (uint32_t)h->ts_usec;
	p->off = b->used;
	if (pv.l3_len != 0)
		memcpy(b->data + b->used, pv.l3, pv.l3_len);
	b->used += len;
}

int
dispatch_read(struct dispatch *d, int max)
{
	struct dispatch_q *q;
	unsigned i;
	int n;

	n = capture_dispatch(d->conf.cap, max, dispatch_packet, d);
	/* Every meter gets what it has and the clock, so none waits for a
	 * full batch or falls behind the capture's time. */
	for (i = 0; i < d->conf.nmeters; i++) {
		q = &d->q[i];
		if (q->cur != NULL || q->sent_clock != d->clock_ms) {
			(void)batch_get(q);
			batch_put(q, true);
		} else
			wake_signal(&q->wake);
	}
	dispatch_publish(d, false);
	return n;
}

void
dispatch_finish(struct dispatch *d)
{
	struct dispatch_q *q;
	unsigned i;

	if (d->finished)
		return;
	d->finished = true;
	for (i = 0; i < d->conf.nmeters; i++) {
		q = &d->q[i];
		if (!q->started)
			continue;
		batch_get(q)->end = true;
		batch_put(q, true);
	}
	for (i = 0; i < d->conf.nmeters; i++)
		if (d->q[i].started)
			pthread_join(d->q[i].thread, NULL);
	dispatch_publish(d, true);
}

void
dispatch_destroy(struct dispatch *d)
{
	unsigned i;

	if (d == NULL)
		return;
	dispatch_finish(d);
	for (i = 0; i < d->conf.nmeters; i++) {
		ring_destroy(d->q[i].ring);
		wake_destroy(&d->q[i].wake);
	}
	wake_destroy(&d->room);
	free(d);
}

#define PUT(field, v)	atomic_store_explicit(&s->field, (v), \
			    memory_order_relaxed)

void
dispatch_publish(struct dispatch *d, bool capture)
{
	struct meter_snapshot *s = &d->snap;
	uint64_t ignored = 0;
	int i;

	PUT(packets_read, d->packets_read);
	for (i = 0; i < DECODE_RESULT_COUNT; i++) {
		PUT(packets_skipped[i], d->skipped[i]);
		if (i != DECODE_OK)
			ignored += d->skipped[i];
	}
	PUT(packets_ignored, ignored);
	if (capture)
		meter_publish_capture(s, d->conf.cap, d->conf.live);
}

#undef PUT

const struct meter_snapshot *
dispatch_snapshot(const struct dispatch *d)
{
	return &d->snap;
}
