/*
 * test_meter.c - one meter fed hand-built Ethernet frames through
 * meter_packet(), without libpcap: flows created, the published counters,
 * idle expiry on the packet clock, finished flows arriving in the ring
 * (with the export stage's wake-up signalled), the final flush, and a
 * live meter dropping (counted) what a full ring cannot take, and the
 * memory budget (a fake extension holding state outside the records).
 *
 * Expected values are derived by hand from the frames: each frame is
 * 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + 18 (payload) = 60 bytes on the
 * wire, so a flow of n packets has 60 * n bytes in accounting mode 0
 * (pcap wire length); the packet clock is ts_sec * 1000 + ts_usec / 1000.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "decode.h"
#include "flow.h"
#include "flowext.h"
#include "meter.h"
#include "pktwriter.h"
#include "ring.h"
#include "wake.h"

#define FRAME_BYTES	60
#define RING_SLOTS	8192	/* meter.c's export ring */

static const uint8_t HOST_A[4] = { 10, 0, 0, 1 };
static const uint8_t HOST_B[4] = { 10, 0, 0, 2 };
static const uint8_t HOST_C[4] = { 10, 0, 0, 3 };
static const uint8_t MAC_1[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_2[6] = { 0x02, 0, 0, 0, 0, 0x02 };

struct fixture {
	struct flowext	 ext;
	struct wake	 wake;
	struct meter	*m;
};

static struct fixture *
fixture_new(bool live, uint32_t max_flows)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct meter_conf mc;
	char err[256];

	assert_non_null(fx);
	flowext_init(&fx->ext);				/* core flow only */
	assert_int_equal(flowext_freeze(&fx->ext, err, sizeof(err)), 0);
	assert_int_equal(wake_init(&fx->wake), 0);
	memset(&mc, 0, sizeof(mc));
	mc.ext = &fx->ext;
	mc.max_flows = max_flows;
	mc.idle_timeout_ms = 1000;
	mc.active_timeout_ms = 100000;
	mc.accounting_mode = PKT_SIZE_RAW;
	mc.decode_tunnels = true;
	mc.live = live;
	mc.wake = &fx->wake;
	fx->m = meter_create(&mc, err, sizeof(err));
	assert_non_null(fx->m);
	return fx;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx != NULL) {
		meter_destroy(fx->m);
		flowext_destroy(&fx->ext);
		wake_destroy(&fx->wake);
		free(fx);
	}
	return 0;
}

/* One UDP frame src:sport -> dst:dport at ts (seconds, microseconds). */
static void
feed_udp(struct meter *m, const uint8_t src[4], uint16_t sport,
    const uint8_t dst[4], uint16_t dport, int64_t sec, int64_t usec)
{
	struct cap_pkt h = { .ts_sec = sec, .ts_usec = usec,
	    .dlt = DECODE_DLT_EN10MB };
	struct pw w;

	pw_init(&w);
	pw_eth(&w, MAC_2, MAC_1, 0x0800);
	pw_ipv4(&w, 20 + 8 + 18, 0, 17, src, dst);
	pw_udp(&w, sport, dport, 8 + 18);
	pw_fill(&w, 0xab, 18);
	assert_int_equal(w.len, FRAME_BYTES);
	h.caplen = h.wirelen = w.len;
	meter_packet(m, &h, w.b);
}

/* An ARP frame: decoded as not IP, skipped. */
static void
feed_arp(struct meter *m, int64_t sec)
{
	struct cap_pkt h = { .ts_sec = sec, .dlt = DECODE_DLT_EN10MB };
	struct pw w;

	pw_init(&w);
	pw_eth(&w, MAC_2, MAC_1, 0x0806);
	pw_pad_to(&w, FRAME_BYTES);
	h.caplen = h.wirelen = w.len;
	meter_packet(m, &h, w.b);
}

#define SNAP(fx, field) \
	atomic_load(&meter_snapshot((fx)->m)->field)

static bool
wake_pending(struct wake *w)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* Two flows, one of them both ways, and a skipped frame. */
static void
test_flows_and_counters(void **state)
{
	struct fixture *fx = fixture_new(false, 64);

	*state = fx;
	feed_udp(fx->m, HOST_A, 1000, HOST_B, 53, 1, 0);	/* t 1000 */
	feed_udp(fx->m, HOST_B, 53, HOST_A, 1000, 1, 10000);	/* t 1010 */
	feed_arp(fx->m, 1);
	feed_udp(fx->m, HOST_C, 2000, HOST_B, 53, 1, 20999);	/* t 1020 */
	meter_publish(fx->m, false);
	assert_int_equal(SNAP(fx, packets_read), 4);
	assert_int_equal(SNAP(fx, packets_metered), 3);
	assert_int_equal(SNAP(fx, packets_skipped[DECODE_NOT_IP]), 1);
	assert_int_equal(SNAP(fx, packets_ignored), 1);
	assert_int_equal(SNAP(fx, flows_created), 2);
	assert_int_equal(SNAP(fx, flows_cached), 2);
	assert_int_equal(SNAP(fx, flows_expired), 0);
	/* 20999 us truncates to 20 ms. */
	assert_int_equal(meter_clock_ms(fx->m), 1020);
	assert_null(ring_pop_begin(meter_ring(fx->m)));
}

/*
 * Idle timeout 1000 ms on the packet clock: flow A-B (last packet at
 * 1010 ms) is idle at 2010 ms, so the scan run by the packet at 2500 ms
 * (every 10 ms of packet time) ends it; flow C-B (1020 ms) too.  The
 * packet at 2500 starts a third flow.  The ring gets both, LRU order.
 * The export stage, asleep, is not woken for two records in the middle of
 * a read (EXPORT_WAKE_RECORDS), but at the end of it (meter_dispatch()),
 * or when the meter goes to sleep (meter_wake_export()).
 */
static void
test_idle_expiry_to_ring(void **state)
{
	struct fixture *fx = fixture_new(false, 64);
	const struct flow *f;
	struct ring *r;

	*state = fx;
	r = meter_ring(fx->m);
	feed_udp(fx->m, HOST_A, 1000, HOST_B, 53, 1, 0);
	feed_udp(fx->m, HOST_B, 53, HOST_A, 1000, 1, 10000);
	feed_udp(fx->m, HOST_C, 2000, HOST_B, 53, 1, 20000);
	/* 1999 ms: nothing idle for 1000 ms yet (A-B 989, C-B 979). */
	feed_udp(fx->m, HOST_C, 2001, HOST_B, 53, 1, 999000);
	assert_null(ring_pop_begin(r));
	wake_prepare(&fx->wake);	/* the export stage goes to sleep */
	feed_udp(fx->m, HOST_A, 3000, HOST_C, 80, 2, 500000);	/* t 2500 */
	assert_false(wake_pending(&fx->wake));
	meter_wake_export(fx->m);
	assert_true(wake_pending(&fx->wake));
	wake_wait(&fx->wake, 0);

	assert_non_null(f = ring_pop_begin(r));
	assert_memory_equal(f->key.addr[f->src_end], HOST_A, 4);
	assert_int_equal(f->packets[FLOW_DIR_SRC2DST], 1);
	assert_int_equal(f->packets[FLOW_DIR_DST2SRC], 1);
	assert_int_equal(f->bytes[FLOW_DIR_SRC2DST] + f->bytes[FLOW_DIR_DST2SRC],
	    2 * FRAME_BYTES);
	assert_int_equal(flow_first_ms(f), 1000);
	assert_int_equal(flow_last_ms(f), 1010);
	assert_int_equal(f->end_reason, FLOW_END_IDLE);
	ring_pop_end(r);
	assert_non_null(f = ring_pop_begin(r));
	assert_memory_equal(f->key.addr[f->src_end], HOST_C, 4);
	assert_int_equal(f->key.port[f->src_end], 2000);
	assert_int_equal(flow_packets(f), 1);
	assert_int_equal(f->end_reason, FLOW_END_IDLE);
	ring_pop_end(r);
	assert_null(ring_pop_begin(r));	/* C:2001 (1999 ms) is not idle */

	meter_publish(fx->m, false);
	assert_int_equal(SNAP(fx, flows_created), 4);
	assert_int_equal(SNAP(fx, flows_idle), 2);
	assert_int_equal(SNAP(fx, flows_expired), 2);
	assert_int_equal(SNAP(fx, flows_cached), 2);

	/* End of input: the other two, oldest created first, forced. */
	meter_finish(fx->m);
	assert_non_null(f = ring_pop_begin(r));
	assert_int_equal(f->key.port[f->src_end], 2001);
	assert_int_equal(f->end_reason, FLOW_END_FORCED);
	ring_pop_end(r);
	assert_non_null(f = ring_pop_begin(r));
	assert_int_equal(f->key.port[f->src_end], 3000);
	assert_int_equal(f->end_reason, FLOW_END_FORCED);
	ring_pop_end(r);
	assert_null(ring_pop_begin(r));
	assert_int_equal(SNAP(fx, flows_flushed), 2);
	assert_int_equal(SNAP(fx, flows_expired), 4);
	assert_int_equal(SNAP(fx, flows_cached), 0);
}

/*
 * Live, running: the ring never waits.  A table of 16 flows fed
 * RING_SLOTS + 16 + 5 one-packet flows evicts RING_SLOTS + 5 of them
 * (lack of resources); the ring takes RING_SLOTS and the last 5 are
 * dropped and counted.  All packets at t 1000 ms: nothing is idle.
 */
static void
test_live_full_ring_drops(void **state)
{
	struct fixture *fx = fixture_new(true, 16);
	unsigned i, n = RING_SLOTS + 16 + 5;

	*state = fx;
	for (i = 0; i < n; i++)
		feed_udp(fx->m, HOST_A, (uint16_t)(1024 + i), HOST_B, 53, 1, 0);
	meter_publish(fx->m, false);
	assert_int_equal(SNAP(fx, flows_created), n);
	assert_int_equal(SNAP(fx, flows_evicted), RING_SLOTS + 5);
	assert_int_equal(SNAP(fx, flows_expired), RING_SLOTS);
	assert_int_equal(SNAP(fx, flows_dropped_queue), 5);
	assert_int_equal(SNAP(fx, flows_cached), 16);
	assert_int_equal(ring_room(meter_ring(fx->m)), 0);
}

/*
 * A fake extension that holds HELD bytes outside the record from a flow's
 * first packet until it is shed or the flow ends, as DPI holds nDPI
 * state.
 */
#define HELD	200

struct fake_ext {
	size_t		bytes;
	unsigned	shed;
};

struct fake_state {
	uint64_t	held;
};

static void
fake_first(void *arg, void *state, const struct flowext_pkt *pk)
{
	struct fake_state *st = state;

	(void)pk;
	st->held = 1;
	((struct fake_ext *)arg)->bytes += HELD;
}

static void
fake_packet(void *arg, void *state, const struct flowext_pkt *pk)
{
	(void)arg;
	(void)state;
	(void)pk;
}

static bool
fake_shed(void *arg, void *state)
{
	struct fake_state *st = state;
	struct fake_ext *fe = arg;

	if (!st->held)
		return false;
	st->held = 0;
	fe->bytes -= HELD;
	fe->shed++;
	return true;
}

static void
fake_end(void *arg, void *state)
{
	if (fake_shed(arg, state))
		((struct fake_ext *)arg)->shed--;	/* an end is not a shed */
}

static size_t
fake_mem(void *arg)
{
	return ((struct fake_ext *)arg)->bytes;
}

/*
 * Budget: the index plus 1024 flows of (entry + HELD), the smallest the
 * meter takes.  3000 one-packet flows at one instant (nothing idle, table
 * of 4096): flow 1025 goes over, so the oldest states are shed first, one
 * per new flow plus one every so often (an entry is smaller than HELD),
 * until no old flow holds state; then each new flow's own state is shed
 * and, still over by its entry, the least recently used (oldest) flow is
 * evicted with reason 5.  At the end: every flow shed, the table holds
 * (budget - index) / entry flows, the rest were evicted oldest first.
 */
static void
test_memory_budget(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct fake_ext fe = { 0, 0 };
	struct flowext_client c;
	struct meter_conf mc;
	const struct flow *f;
	uint64_t entry, index, budget, cached;
	unsigned i, n = 3000;
	char err[256];

	assert_non_null(fx);
	*state = fx;
	flowext_init(&fx->ext);
	memset(&c, 0, sizeof(c));
	c.name = "fake";
	c.size = sizeof(struct fake_state);
	c.align = 8;
	c.mem_per_flow = HELD;
	c.hooks.first_packet = fake_first;
	c.hooks.packet = fake_packet;
	c.hooks.flow_end = fake_end;
	c.hooks.shed = fake_shed;
	c.hooks.mem_bytes = fake_mem;
	c.arg = &fe;
	assert_true(flowext_register(&fx->ext, &c, err, sizeof(err)) >= 0);
	assert_int_equal(flowext_freeze(&fx->ext, err, sizeof(err)), 0);
	assert_int_equal(wake_init(&fx->wake), 0);
	memset(&mc, 0, sizeof(mc));
	mc.ext = &fx->ext;
	mc.max_flows = 4096;
	mc.idle_timeout_ms = 1000;
	mc.active_timeout_ms = 100000;
	mc.wake = &fx->wake;
	/* Below the smallest budget: refused with a message. */
	mc.max_memory = 4096;
	assert_null(meter_create(&mc, err, sizeof(err)));
	assert_non_null(strstr(err, "too small"));
	mc.max_memory = 0;
	fx->m = meter_create(&mc, err, sizeof(err));
	assert_non_null(fx->m);
	entry = meter_snapshot(fx->m)->entry_bytes;
	index = meter_snapshot(fx->m)->index_bytes;
	/* auto: a full table with every flow holding its state */
	assert_int_equal(meter_snapshot(fx->m)->mem_budget,
	    index + 4096 * (entry + HELD) + (64 << 20));
	meter_destroy(fx->m);
	budget = index + 1024 * (entry + HELD);
	mc.max_memory = budget;
	fx->m = meter_create(&mc, err, sizeof(err));
	assert_non_null(fx->m);

	for (i = 0; i < n; i++)
		feed_udp(fx->m, HOST_A, (uint16_t)(1024 + i), HOST_B, 53, 1, 0);
	meter_publish(fx->m, false);
	cached = (budget - index) / entry;
	assert_int_equal(SNAP(fx, flows_lost_dpi), n);
	assert_int_equal(fe.shed, n);
	assert_int_equal(fe.bytes, 0);
	assert_int_equal(SNAP(fx, flows_cached), cached);
	assert_int_equal(SNAP(fx, flows_evicted_memory), n - cached);
	assert_int_equal(SNAP(fx, flows_evicted), 0);
	assert_true(SNAP(fx, mem_peak) <= budget);
	assert_true(SNAP(fx, mem_used) <= budget);
	/* Evicted oldest first, with reason 5, their state already shed. */
	assert_non_null(f = ring_pop_begin(meter_ring(fx->m)));
	assert_int_equal(f->key.port[f->src_end], 1024);
	assert_int_equal(f->end_reason, FLOW_END_LACK_OF_RESOURCES);
	assert_int_equal(((const struct fake_state *)flow_ext_const(f))->held,
	    0);
	ring_pop_end(meter_ring(fx->m));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_flows_and_counters, teardown),
		cmocka_unit_test_teardown(test_idle_expiry_to_ring, teardown),
		cmocka_unit_test_teardown(test_live_full_ring_drops, teardown),
		cmocka_unit_test_teardown(test_memory_budget, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
