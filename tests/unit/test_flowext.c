/*
 * test_flowext.c - the flow-extension registry (src/flow/flowext.c).
 *
 * Offsets honour each client's alignment in registration order (the
 * expected offsets are worked out by hand in the comments); hooks run in
 * registration order, the first-packet hook replaces the packet hook on
 * packet 1 only, flow_end/fill/release reach every client once with its
 * own state; bad registrations are refused with a message at start-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "flowext.h"

static char err[256];
static char calls[64];		/* one letter per hook call, in order */
static unsigned ncalls;

static void
note(void *arg, char what)
{
	calls[ncalls++] = (char)(*(const char *)arg + what);
}

/* Each client's arg is its letter: 'a', 'b', ...; hooks add an offset. */
static void
h_first(void *arg, void *state, const struct flowext_pkt *pk)
{
	(void)pk;
	*(uint8_t *)state = 1;
	note(arg, 'A' - 'a');	/* upper case: first packet */
}

static void
h_packet(void *arg, void *state, const struct flowext_pkt *pk)
{
	(void)state;
	(void)pk;
	note(arg, 0);
}

static void
h_end(void *arg, void *state)
{
	(void)state;
	note(arg, 0);
}

static void
h_fill(void *arg, const void *state, void *scratch)
{
	*(uint8_t *)scratch = *(const uint8_t *)state;
	note(arg, 0);
}

static void
h_release(void *arg, void *state)
{
	(void)state;
	note(arg, 0);
}

static struct flowext_client
client(const char *letter, size_t size, size_t align)
{
	struct flowext_client c;

	memset(&c, 0, sizeof(c));
	c.name = letter;
	c.size = size;
	c.align = align;
	c.hooks.packet = h_packet;
	c.arg = (void *)letter;
	return c;
}

static void
test_offsets(void **state)
{
	struct flowext x;
	struct flowext_client c;

	(void)state;
	flowext_init(&x);
	c = client("a", 3, 1);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), 0);
	c = client("b", 4, 4);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), 1);
	c = client("c", 1, 1);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), 2);
	c = client("d", 16, 8);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), 3);
	c = client("e", 2, 2);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), 4);
	assert_int_equal(flowext_freeze(&x, err, sizeof(err)), 0);
	assert_int_equal(flowext_offset(&x, 0), 0);	/* 0..2 */
	assert_int_equal(flowext_offset(&x, 1), 4);	/* 3 -> 4, 4..7 */
	assert_int_equal(flowext_offset(&x, 2), 8);	/* 8 */
	assert_int_equal(flowext_offset(&x, 3), 16);	/* 9 -> 16, ..31 */
	assert_int_equal(flowext_offset(&x, 4), 32);	/* 32..33 */
	assert_int_equal(x.size, 40);			/* rounded to 8 */
	assert_int_equal(x.rec_size, sizeof(struct flow) + 40);
	flowext_destroy(&x);
}

static void
test_hook_order(void **state)
{
	struct flowext x;
	struct flowext_client a, b, c;
	struct pkt_view pv;
	struct flowext_pkt pk;
	struct flow *f;
	int ida, idb;

	(void)state;
	ncalls = 0;
	memset(calls, 0, sizeof(calls));
	flowext_init(&x);
	a = client("a", 8, 8);
	a.hooks.flow_end = h_end;
	a.hooks.release = h_release;
	b = client("k", 1, 1);		/* first packet, fill */
	b.hooks.first_packet = h_first;
	b.hooks.fill = h_fill;
	b.fill_size = 1;
	c = client("p", 2, 2);		/* first packet only */
	c.hooks.packet = NULL;
	c.hooks.first_packet = h_first;
	assert_true((ida = flowext_register(&x, &a, err, sizeof(err))) >= 0);
	assert_true((idb = flowext_register(&x, &b, err, sizeof(err))) >= 0);
	assert_true(flowext_register(&x, &c, err, sizeof(err)) >= 0);
	assert_int_equal(flowext_freeze(&x, err, sizeof(err)), 0);
	assert_non_null(f = calloc(1, x.rec_size));
	memset(&pv, 0, sizeof(pv));
	memset(&pk, 0, sizeof(pk));
	pk.f = f;
	pk.pv = &pv;
	pk.k = 1;
	flowext_packet(&x, f, &pk);
	pk.k = 2;
	flowext_packet(&x, f, &pk);
	flowext_flow_end(&x, f);
	flowext_fill(&x, f);
	flowext_release(&x, f);
	/* packet 1: a, K, P; packet 2: a, k (p has none); end: a;
	 * fill: k; release: a */
	assert_string_equal(calls, "aKPakaka");
	assert_int_equal(*(uint8_t *)flowext_state(&x, idb, f), 1);
	assert_int_equal(*(uint8_t *)flowext_scratch(&x, idb), 1);
	assert_ptr_equal(flowext_state(&x, ida, f), flow_ext(f));
	free(f);
	flowext_destroy(&x);
}

static void
test_refused(void **state)
{
	struct flowext x;
	struct flowext_client c;

	(void)state;
	flowext_init(&x);
	c = client("odd", 4, 3);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "odd: alignment 3"));
	c = client("big", 4, 16);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "alignment 16"));
	c = client("empty", 0, 1);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size 0"));
	c = client("nohook", 4, 4);
	c.hooks.packet = NULL;
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nohook: no hook"));
	c = client("fill", 4, 4);
	c.hooks.fill = h_fill;		/* without a scratch size */
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "scratch"));
	assert_int_equal(x.n, 0);
	c = client("ok", 4, 4);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), 0);
	assert_int_equal(flowext_freeze(&x, err, sizeof(err)), 0);
	c = client("late", 4, 4);
	assert_int_equal(flowext_register(&x, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "late: registered after start-up"));
	assert_int_equal(x.n, 1);
	flowext_destroy(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_hook_order),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
