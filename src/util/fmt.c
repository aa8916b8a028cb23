/*
 * fmt.c - number formatting and a small growable buffer.
 *
 *	fmt_u64(), fmt_i64()	decimal integers
 *	fmt_double()		Python repr() of a double
 *	fmt_sanitize()		wire text -> printable UTF-8 with \xHH escapes
 *	strbuf_grow(), strbuf_free()	the line buffer's slow paths
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "fmt_shortest.h"

size_t
fmt_u64(char *buf, uint64_t v)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930313233"
	    "34353637383940414243444546474849505152535455565758596061626364656667"
	    "6869707172737475767778798081828384858687888990919293949596979899";
	char tmp[24];
	size_t n = sizeof(tmp), len;

	if (v < 10) {		/* most counters of most flows */
		buf[0] = (char)('0' + v);
		buf[1] = '\0';
		return 1;
	}
	/* Two digits per division: this runs for every number of every row. */
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		tmp[--n] = pairs[d + 1];
		tmp[--n] = pairs[d];
	}
	if (v >= 10) {
		tmp[--n] = pairs[v * 2 + 1];
		tmp[--n] = pairs[v * 2];
	} else {
		tmp[--n] = (char)('0' + v);
	}
	len = sizeof(tmp) - n;
	memcpy(buf, tmp + n, len);
	buf[len] = '\0';
	return len;
}

size_t
fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(buf, (uint64_t)v);
}

/*
 * Shortest round-trip digits (fmt_shortest(): Dragonbox), laid out
 * with Python's rules: positional for exponents -4..15, else d.ddde+XX.
 */
static size_t
fmt_literal(char *buf, const char *s)
{
	size_t n = strlen(s);

	memcpy(buf, s, n + 1);
	return n;
}

size_t
fmt_double(char *buf, double v)
{
	char digits[FMT_SHORTEST_MAX];
	int exp, nd, i, k = 0;

	/* Literals copied, not snprintf()'d: 0.0 is the most common value
	 * of the statistics columns. */
	if (isnan(v))
		return fmt_literal(buf, "nan");
	if (isinf(v))
		return fmt_literal(buf, v < 0 ? "-inf" : "inf");
	if (v == 0)
		return fmt_literal(buf, signbit(v) ? "-0.0" : "0.0");
	/* Integral values below 1e16 print as "N.0": skip the digit search. */
	if (fabs(v) < 1e16 && v == (double)(int64_t)v) {
		k = (int)fmt_i64(buf, (int64_t)v);
		buf[k++] = '.';
		buf[k++] = '0';
		buf[k] = '\0';
		return (size_t)k;
	}
	if (v < 0) {
		buf[k++] = '-';
		v = -v;
	}
	nd = fmt_shortest(v, digits, &exp);
	exp--;		/* 0.ddd x 10^point is d.dd x 10^(point - 1) */
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
	/* e+XX, at least two exponent digits (up to 308) */
	buf[k++] = 'e';
	buf[k++] = exp < 0 ? '-' : '+';
	if (exp < 0)
		exp = -exp;
	if (exp >= 100)
		buf[k++] = (char)('0' + exp / 100);
	buf[k++] = (char)('0' + exp / 10 % 10);
	buf[k++] = (char)('0' + exp % 10);
	buf[k] = '\0';
	return (size_t)k;
}

/* Length of a well-formed UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, surrogates, C1 controls or values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return len;
}

size_t
fmt_sanitize(char *dst, size_t dstlen, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, k = 0, len;

	if (src == NULL)
		return 0;
	while (i < n && s[i] != '\0') {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			if (k + 1 > dstlen)
				break;
			dst[k++] = (char)s[i++];
		} else if ((len = utf8_seq_len(s + i, n - i)) != 0) {
			if (k + len > dstlen)
				break;
			memcpy(dst + k, s + i, len);
			k += len;
			i += len;
		} else {
			if (k + 4 > dstlen)
				break;
			dst[k++] = '\\';
			dst[k++] = 'x';
			dst[k++] = hex[s[i] >> 4];
			dst[k++] = hex[s[i] & 15];
			i++;
		}
	}
	return k;
}

int
strbuf_grow(struct strbuf *sb, size_t more)
{
	size_t cap;
	char *p;

	cap = sb->cap ? sb->cap : 1024;
	while (cap < sb->len + more)
		cap *= 2;
	if ((p = realloc(sb->p, cap)) == NULL)
		return -1;
	sb->p = p;
	sb->cap = cap;
	return 0;
}


void
strbuf_free(struct strbuf *sb)
{
	free(sb->p);
	sb->p = NULL;
	sb->len = sb->cap = 0;
}
