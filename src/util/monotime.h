/*
 * monotime.h - wall and monotonic clocks in milliseconds, for timers
 * (template refresh, backoff, flushing).  Flows use packet time instead.
 */
#ifndef STREAMPROBE_MONOTIME_H
#define STREAMPROBE_MONOTIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t
walltime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
