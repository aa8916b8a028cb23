/*
 * rbuf.h - bounds-checked reads from a borrowed byte buffer.
 *
 * Every packet field is read through these helpers: a read past the end
 * returns false instead of touching memory, so parsers never cast structs
 * onto packet bytes and never read beyond what libpcap captured.
 * Offsets are absolute from the start of the buffer; a failed read also
 * stores 0, so a value is always defined.
 */
#ifndef STREAMPROBE_RBUF_H
#define STREAMPROBE_RBUF_H

#include <stdbool.h>
#include <stdint.h>

struct rbuf {
	const uint8_t	*p;
	uint32_t	 len;
};

static inline bool
rbuf_has(const struct rbuf *b, uint32_t off, uint32_t n)
{
	return off <= b->len && n <= b->len - off;
}

static inline bool
rbuf_u8(const struct rbuf *b, uint32_t off, uint8_t *v)
{
	if (!rbuf_has(b, off, 1)) {
		*v = 0;
		return false;
	}
	*v = b->p[off];
	return true;
}

static inline bool
rbuf_be16(const struct rbuf *b, uint32_t off, uint16_t *v)
{
	if (!rbuf_has(b, off, 2)) {
		*v = 0;
		return false;
	}
	*v = (uint16_t)((b->p[off] << 8) | b->p[off + 1]);
	return true;
}

static inline bool
rbuf_le16(const struct rbuf *b, uint32_t off, uint16_t *v)
{
	if (!rbuf_has(b, off, 2)) {
		*v = 0;
		return false;
	}
	*v = (uint16_t)(b->p[off] | (b->p[off + 1] << 8));
	return true;
}

static inline bool
rbuf_be32(const struct rbuf *b, uint32_t off, uint32_t *v)
{
	if (!rbuf_has(b, off, 4)) {
		*v = 0;
		return false;
	}
	*v = ((uint32_t)b->p[off] << 24) | ((uint32_t)b->p[off + 1] << 16) |
	    ((uint32_t)b->p[off + 2] << 8) | b->p[off + 3];
	return true;
}

static inline bool
rbuf_copy(const struct rbuf *b, uint32_t off, uint32_t n, uint8_t *dst)
{
	uint32_t i;

	if (!rbuf_has(b, off, n))
		return false;
	for (i = 0; i < n; i++)
		dst[i] = b->p[off + i];
	return true;
}

#endif
