/*
 * test_flowfeat.c - NFStream post-mortem statistics and SPLT arithmetic.
 *
 * Feeds packets through flowfeat_update() + flow_account() (in that order,
 * as the probe does) on a standalone flow record and checks
 * flowfeat_summary() against hand-computed values and an independent
 * two-pass reference (mean; sample stddev with n-1 for sizes and n-2
 * packets for inter-arrival times), min/max seeded by the first
 * observation, zeros for an absent direction, 1- and 2-packet edge cases,
 * per-direction TCP flag counters and SPLT (direction, size, bidirectional
 * piat with 0 first, false past the packet count, capped at conf.splt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "flow.h"
#include "flowfeat.h"

#define S2D	FLOW_DIR_SRC2DST
#define D2S	FLOW_DIR_DST2SRC

/* A flow record followed by its features ext area. */
struct harness {
	struct flowfeat_conf	 conf;
	struct flow		*f;
};

/* The record under test; teardown frees it even if an assert failed. */
static struct flow *cur_flow;

static int
h_teardown(void **state)
{
	(void)state;
	free(cur_flow);
	cur_flow = NULL;
	return 0;
}

static void
h_init(struct harness *h, bool statistics, uint16_t splt)
{
	h->conf.statistics = statistics;
	h->conf.splt = splt;
	h->f = calloc(1, sizeof(struct flow) + flowfeat_ext_size(&h->conf));
	assert_non_null(h->f);
	assert_null(cur_flow);
	cur_flow = h->f;
}

static void
h_pkt_tcp(struct harness *h, enum flow_dir dir, uint64_t t, uint16_t size,
    uint8_t flags, bool is_tcp)
{
	flowfeat_update(&h->conf, flow_ext(h->f), h->f, dir, t, size, flags,
	    is_tcp);
	flow_account(h->f, dir, t, size, is_tcp ? flags : 0);
}

static void
h_pkt(struct harness *h, enum flow_dir dir, uint64_t t, uint16_t size)
{
	h_pkt_tcp(h, dir, t, size, 0, false);
}

static void
h_summary(const struct harness *h, enum feat_dir d, struct feat_summary *out)
{
	const struct feat_stats *st;

	st = flowfeat_stats(&h->conf, flow_ext_const(h->f));
	assert_non_null(st);
	flowfeat_summary(st, h->f, d, out);
}

static void
expect_close(double got, double want)
{
	double tol = 1e-9 * (fabs(want) > 1.0 ? fabs(want) : 1.0);

	if (fabs(got - want) > tol)
		fail_msg("got %.17g, want %.17g", got, want);
}

static void
expect_ps(const struct feat_summary *s, uint16_t min, double mean,
    double stddev, uint16_t max)
{
	assert_int_equal(s->min_ps, min);
	assert_int_equal(s->max_ps, max);
	expect_close(s->mean_ps, mean);
	expect_close(s->stddev_ps, stddev);
}

static void
expect_piat(const struct feat_summary *s, uint64_t min, double mean,
    double stddev, uint64_t max)
{
	assert_int_equal(s->min_piat_ms, min);
	assert_int_equal(s->max_piat_ms, max);
	expect_close(s->mean_piat_ms, mean);
	expect_close(s->stddev_piat_ms, stddev);
}

static void
expect_all_zero(const struct feat_summary *s)
{
	assert_int_equal(s->min_ps, 0);
	assert_int_equal(s->max_ps, 0);
	assert_true(s->mean_ps == 0.0);
	assert_true(s->stddev_ps == 0.0);
	assert_int_equal(s->min_piat_ms, 0);
	assert_int_equal(s->max_piat_ms, 0);
	assert_true(s->mean_piat_ms == 0.0);
	assert_true(s->stddev_piat_ms == 0.0);
}

/* ---- statistics -------------------------------------------------------- */

static void
test_one_packet_flow(void **state)
{
	struct harness h;
	struct feat_summary s;

	(void)state;
	h_init(&h, true, 0);
	h_pkt(&h, S2D, 1000, 120);
	h_summary(&h, FEAT_BIDIRECTIONAL, &s);
	expect_ps(&s, 120, 120.0, 0.0, 120);
	expect_piat(&s, 0, 0.0, 0.0, 0);	/* no inter-arrival time yet */
	h_summary(&h, FEAT_SRC2DST, &s);
	expect_ps(&s, 120, 120.0, 0.0, 120);
	expect_piat(&s, 0, 0.0, 0.0, 0);
	h_summary(&h, FEAT_DST2SRC, &s);
	expect_all_zero(&s);
}

static void
test_two_packet_flow(void **state)
{
	struct harness h;
	struct feat_summary s;

	(void)state;
	h_init(&h, true, 0);
	h_pkt(&h, S2D, 0, 100);
	h_pkt(&h, S2D, 7, 300);
	h_summary(&h, FEAT_BIDIRECTIONAL, &s);
	/* stddev = sqrt((100^2 + 100^2) / (2 - 1)) = sqrt(20000) */
	expect_ps(&s, 100, 200.0, 141.4213562373095, 300);
	/* one piat of 7 ms; stddev needs > 2 packets */
	expect_piat(&s, 7, 7.0, 0.0, 7);
	h_summary(&h, FEAT_SRC2DST, &s);
	expect_ps(&s, 100, 200.0, 141.4213562373095, 300);
	expect_piat(&s, 7, 7.0, 0.0, 7);
	h_summary(&h, FEAT_DST2SRC, &s);
	expect_all_zero(&s);
}

/*
 * (t ms, dir, size): (0,s2d,100) (5,d2s,60) (10,s2d,300) (30,s2d,200)
 * (45,d2s,60).
 */
static void
test_hand_computed_mixed(void **state)
{
	struct harness h;
	struct feat_summary s;

	(void)state;
	h_init(&h, true, 0);
	h_pkt(&h, S2D, 0, 100);
	h_pkt(&h, D2S, 5, 60);
	h_pkt(&h, S2D, 10, 300);
	h_pkt(&h, S2D, 30, 200);
	h_pkt(&h, D2S, 45, 60);

	h_summary(&h, FEAT_BIDIRECTIONAL, &s);
	/* sizes sum 720 / 5 = 144; squared deviations 1936 + 7056 + 24336 +
	 * 3136 + 7056 = 43520; / 4 = 10880 */
	expect_ps(&s, 60, 144.0, 104.30723848324239, 300);
	/* piats 5, 5, 20, 15: mean 11.25; M2 168.75 / (5 - 2) = 56.25 */
	expect_piat(&s, 5, 11.25, 7.5, 20);

	h_summary(&h, FEAT_SRC2DST, &s);
	/* 100, 300, 200: mean 200, M2 20000 / 2 = 10000 */
	expect_ps(&s, 100, 200.0, 100.0, 300);
	/* piats 10, 20: mean 15, M2 50 / (3 - 2) */
	expect_piat(&s, 10, 15.0, 7.0710678118654755, 20);

	h_summary(&h, FEAT_DST2SRC, &s);
	expect_ps(&s, 60, 60.0, 0.0, 60);
	expect_piat(&s, 40, 40.0, 0.0, 40);	/* 45 - 5, only one piat */
}

static void
test_min_max_seeded_by_first_observation(void **state)
{
	struct harness h;
	struct feat_summary s;

	(void)state;
	h_init(&h, true, 0);
	h_pkt(&h, S2D, 1000, 500);
	h_pkt(&h, S2D, 1100, 700);
	h_pkt(&h, S2D, 1300, 600);
	h_pkt(&h, S2D, 1450, 650);
	h_summary(&h, FEAT_SRC2DST, &s);
	assert_int_equal(s.min_ps, 500);	/* not 0 */
	assert_int_equal(s.max_ps, 700);
	assert_int_equal(s.min_piat_ms, 100);	/* piats 100, 200, 150 */
	assert_int_equal(s.max_piat_ms, 200);
	expect_close(s.mean_piat_ms, 150.0);
	expect_close(s.stddev_piat_ms, 50.0);	/* M2 5000 / (4 - 2) */
}

/* Independent reference: two-pass mean and sample stddev. */
static void
ref_mean_sd(const double *x, unsigned n, double *mean, double *sd)
{
	double sum = 0.0, m2 = 0.0;
	unsigned i;

	*mean = 0.0;
	*sd = 0.0;
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		sum += x[i];
	*mean = sum / n;
	for (i = 0; i < n; i++)
		m2 += (x[i] - *mean) * (x[i] - *mean);
	if (n > 1)
		*sd = sqrt(m2 / (n - 1));
}

#define REF_N	1000

struct ref_dir {
	double		size[REF_N];
	double		piat[REF_N];
	unsigned	n;		/* packets */
	uint64_t	last;
	uint16_t	min_ps, max_ps;
	uint64_t	min_piat, max_piat;
};

static void
ref_add(struct ref_dir *r, uint64_t t, uint16_t size)
{
	if (r->n == 0 || size < r->min_ps)
		r->min_ps = size;
	if (r->n == 0 || size > r->max_ps)
		r->max_ps = size;
	if (r->n > 0) {
		uint64_t p = t - r->last;

		if (r->n == 1 || p < r->min_piat)
			r->min_piat = p;
		if (r->n == 1 || p > r->max_piat)
			r->max_piat = p;
		r->piat[r->n - 1] = (double)p;
	}
	r->size[r->n++] = size;
	r->last = t;
}

static void
ref_check(const struct ref_dir *r, const struct feat_summary *s)
{
	double mean, sd;

	assert_int_equal(s->min_ps, r->min_ps);
	assert_int_equal(s->max_ps, r->max_ps);
	ref_mean_sd(r->size, r->n, &mean, &sd);
	expect_close(s->mean_ps, mean);
	expect_close(s->stddev_ps, sd);
	assert_int_equal(s->min_piat_ms, r->min_piat);
	assert_int_equal(s->max_piat_ms, r->max_piat);
	/* n packets give n - 1 piats; their sample stddev divides by n - 2 */
	ref_mean_sd(r->piat, r->n - 1, &mean, &sd);
	expect_close(s->mean_piat_ms, mean);
	expect_close(s->stddev_piat_ms, sd);
}

static void
test_against_two_pass_reference(void **state)
{
	static struct ref_dir ref[FEAT_DIRS];
	struct harness h;
	struct feat_summary s;
	uint32_t lcg = 12345;
	uint64_t t = 1700000000000ull;
	unsigned i;

	(void)state;
	memset(ref, 0, sizeof(ref));
	h_init(&h, true, 0);
	for (i = 0; i < REF_N; i++) {
		enum flow_dir dir;
		uint16_t size;

		lcg = lcg * 1103515245u + 12345u;
		dir = (i == 0 || ((lcg >> 16) & 3) != 0) ? S2D : D2S;
		size = (uint16_t)(40 + (lcg >> 8) % 1461);
		t += (lcg >> 20) % 60;		/* 0..59 ms, zeros included */
		h_pkt(&h, dir, t, size);
		ref_add(&ref[FEAT_BIDIRECTIONAL], t, size);
		ref_add(&ref[dir == S2D ? FEAT_SRC2DST : FEAT_DST2SRC], t, size);
	}
	assert_true(ref[FEAT_DST2SRC].n > 100);
	for (i = 0; i < FEAT_DIRS; i++) {
		h_summary(&h, (enum feat_dir)i, &s);
		ref_check(&ref[i], &s);
	}
}

static void
test_tcp_flag_counters(void **state)
{
	/* FEAT_SYN, CWR, ECE, URG, ACK, PSH, RST, FIN */
	static const uint32_t want_s2d[FEAT_TCP_FLAGS] = { 1, 0, 1, 1, 5, 1, 0, 1 };
	static const uint32_t want_d2s[FEAT_TCP_FLAGS] = { 2, 2, 2, 1, 3, 1, 2, 1 };
	const struct feat_stats *st;
	struct harness h;
	int i;

	(void)state;
	h_init(&h, true, 0);
	h_pkt_tcp(&h, S2D, 0, 60, 0x02, true);		/* SYN */
	h_pkt_tcp(&h, D2S, 1, 60, 0x12, true);		/* SYN|ACK */
	h_pkt_tcp(&h, S2D, 2, 60, 0x10, true);		/* ACK */
	h_pkt_tcp(&h, S2D, 3, 60, 0x18, true);		/* PSH|ACK */
	h_pkt_tcp(&h, D2S, 4, 60, 0x10, true);		/* ACK */
	h_pkt_tcp(&h, D2S, 5, 60, 0x04, true);		/* RST */
	h_pkt_tcp(&h, D2S, 6, 60, 0xc0, true);		/* ECE|CWR */
	h_pkt_tcp(&h, D2S, 7, 60, 0xff, true);		/* all eight */
	h_pkt_tcp(&h, S2D, 8, 60, 0x30, true);		/* URG|ACK */
	h_pkt_tcp(&h, S2D, 9, 60, 0x11, true);		/* FIN|ACK */
	h_pkt_tcp(&h, S2D, 10, 60, 0x50, true);		/* ECE|ACK, no CWR */
	h_pkt_tcp(&h, S2D, 11, 60, 0xff, false);	/* not TCP: ignored */
	st = flowfeat_stats(&h.conf, flow_ext_const(h.f));
	assert_non_null(st);
	for (i = 0; i < FEAT_TCP_FLAGS; i++) {
		assert_int_equal(st->tcp_flags[FEAT_SRC2DST][i], want_s2d[i]);
		assert_int_equal(st->tcp_flags[FEAT_DST2SRC][i], want_d2s[i]);
		assert_int_equal(st->tcp_flags[FEAT_BIDIRECTIONAL][i],
		    want_s2d[i] + want_d2s[i]);
	}
}

/* ---- SPLT -------------------------------------------------------------- */

/* NFStream's published google_ssl SPLT, first five packets (mode 0). */
static const int splt_dir[] = { 0, 1, 0, 0, 1 };
static const int splt_ps[] = { 58, 60, 54, 180, 60 };
static const uint64_t splt_t[] = { 0, 34, 168, 312, 347 };
static const int64_t splt_piat[] = { 0, 34, 134, 144, 35 };

static void
feed_splt(struct harness *h, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		h_pkt(h, (enum flow_dir)splt_dir[i], 1000 + splt_t[i],
		    (uint16_t)splt_ps[i]);
}

static void
expect_splt(const struct harness *h, unsigned i)
{
	int dir = -1, ps = -1;
	int64_t piat = -1;

	assert_true(flowfeat_splt(&h->conf, flow_ext_const(h->f), h->f, i,
	    &dir, &ps, &piat));
	assert_int_equal(dir, splt_dir[i]);
	assert_int_equal(ps, splt_ps[i]);
	assert_int_equal(piat, splt_piat[i]);
}

static bool
splt_present(const struct harness *h, unsigned i)
{
	int dir, ps;
	int64_t piat;

	return flowfeat_splt(&h->conf, flow_ext_const(h->f), h->f, i, &dir,
	    &ps, &piat);
}

static void
test_splt_fewer_packets_than_n(void **state)
{
	struct harness h;
	unsigned i;

	(void)state;
	h_init(&h, false, 10);
	assert_null(flowfeat_stats(&h.conf, flow_ext_const(h.f)));
	feed_splt(&h, 3);
	for (i = 0; i < 3; i++)
		expect_splt(&h, i);		/* piat 0 for the first */
	for (i = 3; i < 10; i++)
		assert_false(splt_present(&h, i));	/* -1 padding */
	assert_false(splt_present(&h, 10));
}

static void
test_splt_capped_at_n(void **state)
{
	struct harness h;
	unsigned i;

	(void)state;
	h_init(&h, false, 3);
	feed_splt(&h, 5);
	for (i = 0; i < 3; i++)
		expect_splt(&h, i);
	assert_false(splt_present(&h, 3));	/* packet exists, past N */
	assert_false(splt_present(&h, 4));
	assert_false(splt_present(&h, 255));
}

static void
test_splt_with_statistics(void **state)
{
	struct harness h;
	struct feat_summary s;
	unsigned i;

	(void)state;
	h_init(&h, true, 5);
	feed_splt(&h, 5);
	for (i = 0; i < 5; i++)
		expect_splt(&h, i);
	h_summary(&h, FEAT_BIDIRECTIONAL, &s);
	/* sizes 58, 60, 54, 180, 60: sum 412 -> mean 82.4 */
	assert_int_equal(s.min_ps, 54);
	assert_int_equal(s.max_ps, 180);
	expect_close(s.mean_ps, 82.4);
	/* piats 34, 134, 144, 35: sum 347 -> mean 86.75 */
	assert_int_equal(s.min_piat_ms, 34);
	assert_int_equal(s.max_piat_ms, 144);
	expect_close(s.mean_piat_ms, 86.75);
}

static void
test_splt_piat_saturates(void **state)
{
	struct harness h;
	struct feat_summary s;
	int dir, ps;
	int64_t piat;

	(void)state;
	h_init(&h, true, 2);
	h_pkt(&h, S2D, 0, 10);
	h_pkt(&h, D2S, 5000000000ull, 20);	/* gap > UINT32_MAX ms */
	assert_true(flowfeat_splt(&h.conf, flow_ext_const(h.f), h.f, 1, &dir,
	    &ps, &piat));
	assert_int_equal(dir, 1);
	assert_int_equal(piat, UINT32_MAX);	/* SPLT stores 32 bits */
	h_summary(&h, FEAT_BIDIRECTIONAL, &s);
	assert_int_equal(s.max_piat_ms, 5000000000ull);	/* stats do not */
}

static void
test_ext_size(void **state)
{
	struct flowfeat_conf none = { false, 0 }, stats = { true, 0 };
	struct flowfeat_conf splt = { false, FLOWFEAT_SPLT_MAX };

	(void)state;
	assert_int_equal(flowfeat_ext_size(&none), 0);
	assert_true(flowfeat_ext_size(&stats) >= sizeof(struct feat_stats));
	assert_true(flowfeat_ext_size(&splt) >= FLOWFEAT_SPLT_MAX * (1 + 2 + 4));
	assert_int_equal(flowfeat_ext_size(&stats) % 8, 0);
	assert_int_equal(flowfeat_ext_size(&splt) % 8, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_one_packet_flow, h_teardown),
		cmocka_unit_test_teardown(test_two_packet_flow, h_teardown),
		cmocka_unit_test_teardown(test_hand_computed_mixed, h_teardown),
		cmocka_unit_test_teardown(test_min_max_seeded_by_first_observation, h_teardown),
		cmocka_unit_test_teardown(test_against_two_pass_reference, h_teardown),
		cmocka_unit_test_teardown(test_tcp_flag_counters, h_teardown),
		cmocka_unit_test_teardown(test_splt_fewer_packets_than_n, h_teardown),
		cmocka_unit_test_teardown(test_splt_capped_at_n, h_teardown),
		cmocka_unit_test_teardown(test_splt_with_statistics, h_teardown),
		cmocka_unit_test_teardown(test_splt_piat_saturates, h_teardown),
		cmocka_unit_test_teardown(test_ext_size, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
