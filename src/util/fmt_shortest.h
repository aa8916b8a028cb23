/*
 * fmt_shortest.h - shortest round-trip digits of a double (fmt.c's helper,
 * src/util/fmt_shortest.cc: Dragonbox).
 *
 * fmt_shortest() writes the fewest significant decimal digits that read
 * back to v (the closest such when several do), as Python's repr() picks
 * them: digits d1..dn with v == 0.d1..dn x 10^point.  v must be finite,
 * positive and non-zero; digits holds FMT_SHORTEST_MAX bytes.  Returns n.
 */
#ifndef STREAMPROBE_FMT_SHORTEST_H
#define STREAMPROBE_FMT_SHORTEST_H

#define FMT_SHORTEST_MAX	18	/* 17 digits and a NUL */

#ifdef __cplusplus
extern "C" {
#endif

int fmt_shortest(double v, char *digits, int *point);

#ifdef __cplusplus
}
#endif

#endif
