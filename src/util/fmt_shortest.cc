/*
 * fmt_shortest.cc - shortest round-trip digits through Dragonbox.
 *
 * The one module that includes Dragonbox (Junekey Jeon's algorithm, the one
 * {fmt} and others use; Debian's libdouble-conversion-dev was measured too,
 * see README "Performance"): to_decimal() gives the shortest significand
 * that reads back to v and, among those, the closest to v, which is what
 * Python's repr() prints.  Header-only C++17, hence this file; no
 * exceptions, no allocation: called from C on the export thread.
 */
#include <cstddef>
#include <cstdint>

#include <dragonbox/dragonbox.h>

extern "C" {
#include "fmt.h"
}
#include "fmt_shortest.h"

int
fmt_shortest(double v, char *digits, int *point)
{
	auto d = jkj::dragonbox::to_decimal(v);
	int n;

	/* Trailing zeros are removed: the significand has at most 17 digits. */
	n = (int)fmt_u64(digits, d.significand);
	*point = d.exponent + n;
	return n;
}
