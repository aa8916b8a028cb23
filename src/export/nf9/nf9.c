/*
 * nf9.c - NetFlow v9 packets.
 *
 *	nf9_begin()			header
 *	nf9_add_template()		Template FlowSet (id 0) record
 *	nf9_add_options_template()	Options Template FlowSet (id 1) record
 *	nf9_add_record()		Data FlowSet (id = template id) record
 *	nf9_finish()			pad, patch lengths and count
 *
 * Header (RFC 3954 5.1): version 9, count, sysUptime, UNIX secs, sequence
 * number (export packets, kept by the caller), source id.
 */
#include <string.h>

#include "nf9.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
nf9_begin(struct nf9_packet *p, uint8_t *buf, size_t cap,
    uint32_t sys_uptime_ms, uint32_t unix_secs, uint32_t sequence,
    uint32_t source_id)
{
	p->buf = buf;
	p->cap = cap;
	p->len = NF9_HEADER_LEN;
	p->count = 0;
	p->set_start = 0;
	p->set_id = 0;
	put16(buf, 9);
	put16(buf + 2, 0);
	put32(buf + 4, sys_uptime_ms);
	put32(buf + 8, unix_secs);
	put32(buf + 12, sequence);
	put32(buf + 16, source_id);
}

static size_t
pad4(size_t n)
{
	return (4 - n % 4) % 4;
}

/* Close the open FlowSet: zero padding to 4 bytes, patch its length. */
static void
close_set(struct nf9_packet *p)
{
	size_t pad;

	if (p->set_start == 0)
		return;
	pad = pad4(p->len - p->set_start);
	memset(p->buf + p->len, 0, pad);
	p->len += pad;
	put16(p->buf + p->set_start + 2, (uint16_t)(p->len - p->set_start));
	p->set_start = 0;
}

/*
 * Make room for a record of `need` bytes in a FlowSet `set_id`, opening
 * the set if needed; the worst case counts the padding of the set.
 */
static int
reserve(struct nf9_packet *p, uint16_t set_id, size_t need)
{
	size_t start = p->len, extra = 0;

	if (p->set_start == 0 || p->set_id != set_id) {
		start = p->len + pad4(p->set_start ? p->len - p->set_start : 0);
		extra = NF9_FLOWSET_HEADER;
	}
	if (start + extra + need + 3 > p->cap)
		return NF9_FULL;
	if (extra != 0) {
		close_set(p);
		p->set_start = p->len;
		p->set_id = set_id;
		put16(p->buf + p->len, set_id);
		put16(p->buf + p->len + 2, 0);
		p->len += NF9_FLOWSET_HEADER;
	}
	return 0;
}

int
nf9_add_template(struct nf9_packet *p, uint16_t template_id,
    const struct nf9_field *fields, unsigned n)
{
	unsigned i;

	if (template_id < 256 || n == 0 || n > 0xffff)
		return NF9_BAD;
	if (reserve(p, 0, 4 + 4 * (size_t)n) != 0)
		return NF9_FULL;
	put16(p->buf + p->len, template_id);
	put16(p->buf + p->len + 2, (uint16_t)n);
	p->len += 4;
	for (i = 0; i < n; i++) {
		put16(p->buf + p->len, fields[i].type);
		put16(p->buf + p->len + 2, fields[i].len);
		p->len += 4;
	}
	p->count++;
	return 0;
}

int
nf9_add_options_template(struct nf9_packet *p, uint16_t template_id,
    const struct nf9_field *scopes, unsigned nscopes,
    const struct nf9_field *options, unsigned noptions)
{
	unsigned i;

	if (template_id < 256 || nscopes == 0 || nscopes + noptions > 0x3fff)
		return NF9_BAD;
	if (reserve(p, 1, 6 + 4 * ((size_t)nscopes + noptions)) != 0)
		return NF9_FULL;
	put16(p->buf + p->len, template_id);
	put16(p->buf + p->len + 2, (uint16_t)(4 * nscopes));
	put16(p->buf + p->len + 4, (uint16_t)(4 * noptions));
	p->len += 6;
	for (i = 0; i < nscopes; i++, p->len += 4) {
		put16(p->buf + p->len, scopes[i].type);
		put16(p->buf + p->len + 2, scopes[i].len);
	}
	for (i = 0; i < noptions; i++, p->len += 4) {
		put16(p->buf + p->len, options[i].type);
		put16(p->buf + p->len + 2, options[i].len);
	}
	p->count++;
	close_set(p);	/* RFC 3954 6.1: one options template per FlowSet */
	return 0;
}

int
nf9_add_record(struct nf9_packet *p, uint16_t template_id, const uint8_t *rec,
    size_t len)
{
	if (template_id < 256 || len == 0)
		return NF9_BAD;
	if (reserve(p, template_id, len) != 0)
		return NF9_FULL;
	memcpy(p->buf + p->len, rec, len);
	p->len += len;
	p->count++;
	return 0;
}

size_t
nf9_finish(struct nf9_packet *p)
{
	close_set(p);
	put16(p->buf + 2, p->count);
	return p->len;
}
