/*
 * test_ring.c - the SPSC ring.
 *
 * Capacity is the slot count rounded up to a power of two; push_begin
 * returns NULL when full and pop_begin NULL when empty; records come out
 * in FIFO order across wrap-around; and a producer and a consumer thread
 * pass 1,000,000 sequence numbers through a 16-slot ring without loss,
 * duplication, reordering or torn records.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

#define THREAD_ITEMS	1000000u
#define TORN_MAGIC	0x5a5a5a5a5a5a5a5aull

/* The ring under test; teardown destroys it even if an assert failed. */
static struct ring *cur_ring;

static int
ring_teardown(void **state)
{
	(void)state;
	ring_destroy(cur_ring);
	cur_ring = NULL;
	return 0;
}

static struct ring *
ring_new(uint32_t slots, size_t slot_size)
{
	ring_destroy(cur_ring);
	cur_ring = ring_create(slots, slot_size);
	assert_non_null(cur_ring);
	return cur_ring;
}

/* Records that fit before push_begin says full. */
static unsigned
fill_count(struct ring *r)
{
	unsigned n = 0;
	uint32_t *slot;

	while ((slot = ring_push_begin(r)) != NULL) {
		*slot = n++;
		ring_push_end(r);
		assert_true(n <= 1u << 20);
	}
	return n;
}

static void
test_capacity_rounding(void **state)
{
	static const uint32_t asked[] = { 1, 2, 3, 5, 8, 9, 1000, 4096 };
	static const unsigned want[] = { 1, 2, 4, 8, 8, 16, 1024, 4096 };
	struct ring *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		r = ring_new(asked[i], sizeof(uint32_t));
		assert_int_equal(fill_count(r), want[i]);
	}
	ring_destroy(NULL);
}

static void
test_full_and_empty(void **state)
{
	struct ring *r = ring_new(4, sizeof(uint32_t));
	const uint32_t *out;

	(void)state;
	assert_null(ring_pop_begin(r));		/* empty */
	assert_int_equal(fill_count(r), 4);
	assert_null(ring_push_begin(r));	/* still full */
	out = ring_pop_begin(r);
	assert_non_null(out);
	assert_int_equal(*out, 0);
	ring_pop_end(r);
	assert_non_null(ring_push_begin(r));	/* one slot free again */
}

static void
test_fifo_order_with_wrap(void **state)
{
	struct ring *r = ring_new(8, 3);	/* odd slot size */
	uint8_t *in;
	const uint8_t *out;
	unsigned next_in = 0, next_out = 0, round, k;

	(void)state;
	/* 5 in / 5 out per round walks the indices round the 8 slots */
	for (round = 0; round < 100; round++) {
		for (k = 0; k < 5; k++) {
			in = ring_push_begin(r);
			assert_non_null(in);
			in[0] = (uint8_t)next_in;
			in[1] = (uint8_t)(next_in >> 8);
			in[2] = (uint8_t)~next_in;
			next_in++;
			ring_push_end(r);
		}
		for (k = 0; k < 5; k++) {
			out = ring_pop_begin(r);
			assert_non_null(out);
			assert_int_equal(out[0], (uint8_t)next_out);
			assert_int_equal(out[1], (uint8_t)(next_out >> 8));
			assert_int_equal(out[2], (uint8_t)~next_out);
			next_out++;
			ring_pop_end(r);
		}
		assert_null(ring_pop_begin(r));
	}
}

struct rec {
	uint64_t	seq;
	uint64_t	check;		/* seq ^ TORN_MAGIC */
};

struct thread_ctx {
	struct ring	*r;
	uint64_t	 received;
	uint64_t	 first_bad;	/* index of the first error, or ~0 */
};

static void *
producer_main(void *arg)
{
	struct thread_ctx *c = arg;
	struct rec *slot;
	uint64_t i;

	for (i = 0; i < THREAD_ITEMS; i++) {
		while ((slot = ring_push_begin(c->r)) == NULL)
			sched_yield();
		slot->seq = i;
		slot->check = i ^ TORN_MAGIC;
		ring_push_end(c->r);
	}
	return NULL;
}

static void *
consumer_main(void *arg)
{
	struct thread_ctx *c = arg;
	const struct rec *slot;

	while (c->received < THREAD_ITEMS) {
		if ((slot = ring_pop_begin(c->r)) == NULL) {
			sched_yield();
			continue;
		}
		if (c->first_bad == UINT64_MAX &&
		    (slot->seq != c->received ||
		    slot->check != (c->received ^ TORN_MAGIC)))
			c->first_bad = c->received;
		c->received++;
		ring_pop_end(c->r);
	}
	return NULL;
}

static void
test_two_threads_in_order(void **state)
{
	struct thread_ctx c;
	pthread_t prod, cons;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.r = ring_new(16, sizeof(struct rec));
	c.first_bad = UINT64_MAX;
	assert_int_equal(pthread_create(&cons, NULL, consumer_main, &c), 0);
	assert_int_equal(pthread_create(&prod, NULL, producer_main, &c), 0);
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);
	assert_int_equal(c.received, THREAD_ITEMS);
	assert_int_equal(c.first_bad, UINT64_MAX);
	assert_null(ring_pop_begin(c.r));	/* nothing extra */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_capacity_rounding, ring_teardown),
		cmocka_unit_test_teardown(test_full_and_empty, ring_teardown),
		cmocka_unit_test_teardown(test_fifo_order_with_wrap, ring_teardown),
		cmocka_unit_test_teardown(test_two_threads_in_order, ring_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
