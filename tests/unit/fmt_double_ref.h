/*
 * fmt_double_ref.h - the previous fmt_double() (snprintf() digit search
 * checked with strtod()), kept as the reference the unit test compares the
 * library-backed one with, byte for byte, and as the benchmark's baseline.
 * Needs <math.h>, <stdio.h>, <stdlib.h>, <string.h>, <float.h>, fmt.h.
 */
#ifndef STREAMPROBE_FMT_DOUBLE_REF_H
#define STREAMPROBE_FMT_DOUBLE_REF_H

/*
 * Shortest round-trip digits: a normal double that survives 15 significant digits
 * has its shortest form inside that rounding (trailing zeros stripped);
 * otherwise 16, and 17 always works.  Then lay the digits out with
 * Python's rules: positional for exponents -4..15, else d.ddde+XX.
 */
static size_t
ref_fmt_double(char *buf, double v)
{
	char tmp[40], digits[20];
	int p, exp, nd = 0, i, k = 0;
	const char *s, *e;

	if (isnan(v))
		return (size_t)snprintf(buf, FMT_NUM_MAX, "nan");
	if (isinf(v))
		return (size_t)snprintf(buf, FMT_NUM_MAX, v < 0 ? "-inf" : "inf");
	if (v == 0)
		return (size_t)snprintf(buf, FMT_NUM_MAX, signbit(v) ? "-0.0" : "0.0");
	/* Integral values below 1e16 print as "N.0": skip the digit search. */
	if (fabs(v) < 1e16 && v == (double)(int64_t)v) {
		k = (int)fmt_i64(buf, (int64_t)v);
		buf[k++] = '.';
		buf[k++] = '0';
		buf[k] = '\0';
		return (size_t)k;
	}
	/* Subnormals have fewer significant bits: search from one digit. */
	for (p = fabs(v) < DBL_MIN ? 1 : 15; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (p == 17)
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
	s = tmp;
	if (*s == '-') {
		buf[k++] = '-';
		s++;
	}
	e = strchr(s, 'e');
	for (; s < e; s++)
		if (*s != '.')
			digits[nd++] = *s;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	exp = atoi(e + 1);
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			buf[k++] = '0';
			buf[k++] = '.';
			for (i = 0; i < -exp - 1; i++)
				buf[k++] = '0';
			for (i = 0; i < nd; i++)
				buf[k++] = digits[i];
		} else {
			for (i = 0; i <= exp; i++)
				buf[k++] = i < nd ? digits[i] : '0';
			buf[k++] = '.';
			if (nd > exp + 1)
				for (i = exp + 1; i < nd; i++)
					buf[k++] = digits[i];
			else
				buf[k++] = '0';
		}
		buf[k] = '\0';
		return (size_t)k;
	}
	buf[k++] = digits[0];
	if (nd > 1) {
		buf[k++] = '.';
		for (i = 1; i < nd; i++)
			buf[k++] = digits[i];
	}
	k += snprintf(buf + k, (size_t)(FMT_NUM_MAX - k), "e%c%02d",
	    exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	return (size_t)k;
}

#endif
