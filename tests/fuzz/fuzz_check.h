/*
 * fuzz_check.h - the harnesses' oracle beside the sanitizers: a property
 * the code promises that does not hold is a finding, reported like a crash
 * (abort, so libFuzzer keeps the input and the driver fails).
 */
#ifndef STREAMPROBE_FUZZ_CHECK_H
#define STREAMPROBE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
