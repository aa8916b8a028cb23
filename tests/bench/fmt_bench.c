/*
 * fmt_bench.c - ns per value of fmt_double() against the snprintf() and
 * strtod() search it replaced (tests/unit/fmt_double_ref.h).  Not a test:
 * run build/tests/fmt_bench [VALUES] by hand.
 *
 * The values are the kinds the statistics columns hold: means and rates
 * (ratios of integers), standard deviations (square roots), and whole
 * numbers (which both print through the same integer fast path).  Rounds
 * alternate old and new on the same values; the median of 7 is printed.
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "fmt_double_ref.h"

#define ROUNDS	7

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
run(size_t (*f)(char *, double), const double *v, size_t n, size_t *sink)
{
	char buf[FMT_NUM_MAX];
	double t0 = now_s();
	size_t i;

	for (i = 0; i < n; i++)
		*sink += f(buf, v[i]);
	return (now_s() - t0) / (double)n * 1e9;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, i, sink = 0;
	uint64_t s = 0x9e3779b97f4a7c15ull;
	double *v, old_ns[ROUNDS], new_ns[ROUNDS];
	int r;

	if (n == 0 || (v = malloc(n * sizeof(*v))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
		switch (i % 4) {
		case 0:		/* a mean of packet sizes */
			v[i] = (double)(s % 1500000) / (double)(s % 97 + 3);
			break;
		case 1:		/* a standard deviation */
			v[i] = sqrt((double)(s % 10000000) / 7.0);
			break;
		case 2:		/* a mean inter-arrival time in ms */
			v[i] = (double)(s % 100000000) / 1000.0 / (double)(s % 13 + 1);
			break;
		default:	/* a whole number */
			v[i] = (double)(s % 100000);
			break;
		}
	}
	for (r = 0; r < ROUNDS; r++) {
		old_ns[r] = run(ref_fmt_double, v, n, &sink);
		new_ns[r] = run(fmt_double, v, n, &sink);
	}
	qsort(old_ns, ROUNDS, sizeof(double), cmp_double);
	qsort(new_ns, ROUNDS, sizeof(double), cmp_double);
	printf("fmt_double, %zu values (3 of 4 fractional), median of %d "
	    "interleaved rounds:\n", n, ROUNDS);
	printf("  snprintf+strtod (old)     %7.1f ns/value\n", old_ns[ROUNDS / 2]);
	printf("  Dragonbox (new)           %7.1f ns/value\n", new_ns[ROUNDS / 2]);
	printf("  speed-up                  %7.1fx\n",
	    old_ns[ROUNDS / 2] / new_ns[ROUNDS / 2]);
	free(v);
	return sink == 0;
}
