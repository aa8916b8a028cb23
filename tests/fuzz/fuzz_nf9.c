/*
 * fuzz_nf9.c - the NetFlow v9 packet encoder (src/export/nf9/nf9.c) run
 * by a program read from the input.
 *
 * Input: 2 bytes, the packet's capacity (big-endian, at least the 20-byte
 * header), then operations until the input ends:
 *   'T' tid:2 n:1 (type:2 len:2)*n		nf9_add_template
 *   'O' tid:2 ns:1 no:1 (type:2 len:2)*(ns+no)	nf9_add_options_template
 *   'R' tid:2 len:2 bytes*len			nf9_add_record (the bytes the
 *						input has left, at most len)
 *   'F'					nf9_finish, check, begin again
 *   anything else				skipped
 * The packet buffer is exactly the capacity (ASan sees a write past it).
 * Checked: an add that fails leaves the packet as it was; the length never
 * passes the capacity; a finished packet is a header and whole FlowSets,
 * 4-byte aligned, whose lengths add up to the packet and whose records
 * are counted in the header.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "nf9.h"

#define MAX_FIELDS	300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	const uint8_t	*p, *end;
};

static bool
get8(struct reader *r, unsigned *v)
{
	if (r->p >= r->end)
		return false;
	*v = *r->p++;
	return true;
}

static bool
get16(struct reader *r, unsigned *v)
{
	if (r->end - r->p < 2)
		return false;
	*v = (unsigned)r->p[0] << 8 | r->p[1];
	r->p += 2;
	return true;
}

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned
get_fields(struct reader *r, struct nf9_field *f, unsigned n)
{
	unsigned i, t, l;

	for (i = 0; i < n && i < MAX_FIELDS; i++) {
		if (!get16(r, &t) || !get16(r, &l))
			break;
		f[i].type = (uint16_t)t;
		f[i].len = (uint16_t)l;
	}
	return i;
}

/* A finished packet, walked as a collector would. */
static void
check_packet(const struct nf9_packet *p, size_t len, unsigned records)
{
	size_t off = NF9_HEADER_LEN, setlen;

	FUZZ_CHECK(len == p->len && len <= p->cap && len >= NF9_HEADER_LEN);
	FUZZ_CHECK(be16(p->buf) == 9);
	FUZZ_CHECK(be16(p->buf + 2) == (records & 0xffff));
	FUZZ_CHECK(len % 4 == 0);
	while (off < len) {
		FUZZ_CHECK(len - off >= NF9_FLOWSET_HEADER);
		setlen = be16(p->buf + off + 2);
		FUZZ_CHECK(setlen >= NF9_FLOWSET_HEADER && setlen % 4 == 0);
		FUZZ_CHECK(setlen <= len - off);
		off += setlen;
	}
	FUZZ_CHECK(off == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, data + size };
	struct nf9_field f[2 * MAX_FIELDS];
	struct nf9_packet p, before;
	uint8_t *buf, *copy;
	unsigned cap, op, tid, n, ns, no, len, records = 0;
	size_t have;
	int rc;

	if (!get16(&r, &cap) || cap < NF9_HEADER_LEN)
		return 0;
	buf = malloc(cap);
	copy = malloc(cap);
	FUZZ_CHECK(buf != NULL && copy != NULL);
	nf9_begin(&p, buf, cap, 1, 2, 3, 4);
	while (get8(&r, &op)) {
		before = p;
		memcpy(copy, buf, p.len);
		rc = 0;
		switch (op) {
		case 'T':
			if (!get16(&r, &tid) || !get8(&r, &n))
				goto out;
			rc = nf9_add_template(&p, (uint16_t)tid, f,
			    get_fields(&r, f, n));
			break;
		case 'O':
			if (!get16(&r, &tid) || !get8(&r, &ns) || !get8(&r, &no))
				goto out;
			ns = get_fields(&r, f, ns);
			rc = nf9_add_options_template(&p, (uint16_t)tid, f, ns,
			    f + ns, get_fields(&r, f + ns, no));
			break;
		case 'R':
			if (!get16(&r, &tid) || !get16(&r, &len))
				goto out;
			have = (size_t)(r.end - r.p);
			if (len > have)
				len = (unsigned)have;
			rc = nf9_add_record(&p, (uint16_t)tid, r.p, len);
			r.p += len;
			break;
		case 'F':
			check_packet(&p, nf9_finish(&p), records);
			nf9_begin(&p, buf, cap, 1, 2, 3, 4);
			records = 0;
			continue;
		default:
			continue;
		}
		FUZZ_CHECK(rc == 0 || rc == NF9_FULL || rc == NF9_BAD);
		FUZZ_CHECK(p.len <= p.cap);
		if (rc != 0) {
			FUZZ_CHECK(p.len == before.len && p.count == before.count &&
			    p.set_start == before.set_start &&
			    p.set_id == before.set_id);
			FUZZ_CHECK(memcmp(copy, buf, p.len) == 0);
		} else {
			FUZZ_CHECK(p.count == before.count + 1);
			records++;
		}
	}
out:
	check_packet(&p, nf9_finish(&p), records);
	free(copy);
	free(buf);
	return 0;
}
