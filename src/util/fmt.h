/*
 * fmt.h - allocation-free number and string formatting for the outputs.
 *
 * fmt_double() writes a double exactly as Python's repr() does (shortest
 * text that reads back to the same double, "54.0", "1e-05"), which is how
 * NFStream's CSV writes floats.  Buffers must hold FMT_NUM_MAX bytes.
 */
#ifndef STREAMPROBE_FMT_H
#define STREAMPROBE_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FMT_NUM_MAX	32

size_t fmt_u64(char *buf, uint64_t v);
size_t fmt_i64(char *buf, int64_t v);
size_t fmt_double(char *buf, double v);

/*
 * Copy n bytes of wire text into dst (dstlen bytes, no NUL added) as
 * printable UTF-8: control characters and bytes that are not well-formed
 * UTF-8 become \xHH, so CSV, JSON and IPFIX strings stay valid.  Stops at a
 * NUL byte and never splits an escape or a character; returns bytes written.
 */
size_t fmt_sanitize(char *dst, size_t dstlen, const char *src, size_t n);

/* A growable output line (the exporters' scratch buffer). */
struct strbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

int strbuf_grow(struct strbuf *sb, size_t more);
void strbuf_free(struct strbuf *sb);

static inline int
strbuf_reserve(struct strbuf *sb, size_t more)
{
	return sb->len + more <= sb->cap ? 0 : strbuf_grow(sb, more);
}

static inline int
strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
	if (strbuf_reserve(sb, n) != 0)
		return -1;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	return 0;
}

static inline int
strbuf_addc(struct strbuf *sb, char c)
{
	if (strbuf_reserve(sb, 1) != 0)
		return -1;
	sb->p[sb->len++] = c;
	return 0;
}

#endif
