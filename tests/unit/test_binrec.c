/*
 * test_binrec.c - the binary-export core (src/export/binrec.c): the
 * encoding rules both IPFIX and NetFlow v9 records follow, and a record
 * built from a template file and a flow.  Expected bytes are written out
 * by hand: network byte order, RFC 7011 section 6.2 reduced-size encoding
 * (saturating, as streamprobe documents), IEEE 754 bit patterns.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "binrec.h"
#include "flow.h"
#include "flowfeat.h"

/* A fixed-length field of type t at len bytes, for binrec_put_fixed(). */
static struct binrec_field
field(struct tmpl_field *tf, enum ie_type t, uint16_t len, int col)
{
	struct binrec_field f;

	memset(tf, 0, sizeof(*tf));
	tf->type = (uint8_t)t;
	tf->length = len;
	tf->column = col;
	memset(&f, 0, sizeof(f));
	f.tf = tf;
	f.len = len;
	f.col[0] = f.col[1] = col;
	return f;
}

/* One number rule: put() at len bytes, then the bytes expected. */
struct num_case {
	char		 kind;		/* 'u' unsigned, 'i' signed, 'f' float */
	unsigned	 len;
	uint64_t	 u;
	int64_t		 i;
	double		 d;
	const char	*want;
	const char	*why;
};

static const struct num_case num_cases[] = {
	{ 'u', 2, 0x1234, 0, 0, "\x12\x34", "big-endian" },
	/* 70000 does not fit 16 bits: the largest value, not 70000 % 65536 */
	{ 'u', 2, 70000, 0, 0, "\xff\xff", "saturates" },
	{ 'u', 3, 0x010203, 0, 0, "\x01\x02\x03", "odd size" },
	{ 'u', 3, 0x01020304, 0, 0, "\xff\xff\xff", "odd size saturates" },
	{ 'u', 8, 0x0102030405060708ull, 0, 0,
	    "\x01\x02\x03\x04\x05\x06\x07\x08", "full size" },
	{ 'i', 1, 0, -1, 0, "\xff", "two's complement" },
	{ 'i', 1, 0, -200, 0, "\x80", "below -128: -128" },
	{ 'i', 1, 0, 300, 0, "\x7f", "above 127: 127" },
	{ 'i', 2, 0, -2, 0, "\xff\xfe", "-2 in 16 bits" },
	{ 'i', 4, 0, 100000, 0, "\x00\x01\x86\xa0", "0x000186a0" },
	/* 1.5 = 1.1b x 2^0: float64 0x3ff8000000000000, float32 0x3fc00000 */
	{ 'f', 8, 0, 0, 1.5, "\x3f\xf8\x00\x00\x00\x00\x00\x00", "float64" },
	{ 'f', 4, 0, 0, 1.5, "\x3f\xc0\x00\x00", "float32" },
	/* 0.1 as float32 rounds to 0x3dcccccd; -2.0 is 0xc0000000 */
	{ 'f', 4, 0, 0, 0.1, "\x3d\xcc\xcc\xcd", "float32 rounded" },
	{ 'f', 4, 0, 0, -2.0, "\xc0\x00\x00\x00", "float32 negative" },
};

static void
test_numbers(void **state)
{
	const struct num_case *c;
	uint8_t b[8];
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(num_cases) / sizeof(num_cases[0]); k++) {
		c = &num_cases[k];
		memset(b, 0xee, sizeof(b));
		if (c->kind == 'u')
			binrec_put_uint(b, c->len, c->u);
		else if (c->kind == 'i')
			binrec_put_int(b, c->len, c->i);
		else
			binrec_put_float(b, c->len, c->d);
		if (memcmp(b, c->want, c->len) != 0)
			fail_msg("case %zu (%c%u, %s): wrong bytes", k, c->kind,
			    c->len, c->why);
	}
}

/* Numbers through the field rules: float64 column into a float64 field of
 * 4 bytes (float32), a double into an unsigned field (rounded, negative is
 * 0), booleans 1/2, and a relative time (v9 sysUptime). */
static void
test_fixed_numbers(void **state)
{
	struct tmpl_field tf;
	struct binrec_field f;
	struct col_value v;
	uint8_t b[8];

	(void)state;
	memset(&v, 0, sizeof(v));
	f = field(&tf, IE_FLOAT64, 4, 0);
	v.type = COLT_DOUBLE;
	v.d = 1.5;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x3f\xc0\x00\x00", 4);
	f = field(&tf, IE_UNSIGNED16, 2, 0);
	v.d = 2.5;				/* llround: 3 */
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x00\x03", 2);
	v.d = -7.0;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x00\x00", 2);
	v.type = COLT_INT;
	v.i = -5;				/* unsigned field: 0 */
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x00\x00", 2);
	f = field(&tf, IE_BOOLEAN, 1, 0);
	v.type = COLT_UINT;
	v.u = 7;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x01", 1);
	v.u = 0;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x02", 1);
	/* 1000 ms after a base of 400: 600 = 0x258; before the base: 0 */
	f = field(&tf, IE_UNSIGNED32, 4, 0);
	f.relative = true;
	v.u = 1000;
	binrec_put_fixed(&f, &v, 400, b);
	assert_memory_equal(b, "\x00\x00\x02\x58", 4);
	binrec_put_fixed(&f, &v, 2000, b);
	assert_memory_equal(b, "\x00\x00\x00\x00", 4);
	/* host_order: the same bytes turned for a converting library */
	f.relative = false;
	f.host_order = true;
	v.u = 0x01020304;
	binrec_put_fixed(&f, &v, 0, b);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	assert_memory_equal(b, "\x04\x03\x02\x01", 4);
#else
	assert_memory_equal(b, "\x01\x02\x03\x04", 4);
#endif
}

static void
test_fixed_strings(void **state)
{
	struct tmpl_field tf;
	struct binrec_field f;
	struct col_value v;
	uint8_t b[8];

	(void)state;
	memset(&v, 0, sizeof(v));
	v.type = COLT_STRING;
	f = field(&tf, IE_STRING, 6, 0);
	memset(b, 0xee, sizeof(b));		/* every byte is written */
	v.s = "abc";
	v.slen = 3;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "abc\0\0\0\xee", 7);	/* NUL-padded */
	v.s = "abcdefgh";
	v.slen = 8;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "abcdef\xee", 7);	/* cut at 6 */
	/* "abcd" + e-acute (c3 a9) in 5 bytes: the character is not split */
	f = field(&tf, IE_STRING, 5, 0);
	v.s = "abcd\xc3\xa9";
	v.slen = 6;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "abcd\0", 5);
	/* "ab\x41" in 4 bytes: the escape is not split */
	f = field(&tf, IE_STRING, 4, 0);
	v.s = "ab\\x41";
	v.slen = 6;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "ab\0\0", 4);
	/* raw bytes (application_id) into an octet array of 4: cut */
	f = field(&tf, IE_OCTET_ARRAY, 4, 0);
	v.type = COLT_BYTES;
	v.raw = (const uint8_t *)"\x16\x00\x00\x00\x07";
	v.rawlen = 5;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x16\x00\x00\x00", 4);
}

static void
test_fixed_list(void **state)
{
	struct tmpl_field tf;
	struct binrec_field f;
	struct col_value v;
	uint8_t b[8];

	(void)state;
	memset(&v, 0, sizeof(v));
	/* splt_ps: 2 bytes an element; 3 elements in 5 bytes: 2 fit */
	f = field(&tf, IE_OCTET_ARRAY, 5, COL_SPLT_PS);
	v.type = COLT_LIST;
	v.n = 3;
	v.list[0] = 0x0102;
	v.list[1] = 60;
	v.list[2] = 1500;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x01\x02\x00\x3c\x00", 5);
	assert_int_equal(binrec_list_bytes(COL_SPLT_PS, 3, 5), 4);
	assert_int_equal(binrec_list_bytes(COL_SPLT_DIRECTION, 3, 5), 3);
	assert_int_equal(binrec_list_bytes(COL_SPLT_PIAT_MS, 3, 100), 12);
}

static void
test_addresses(void **state)
{
	struct tmpl_field tf;
	struct binrec_field f;
	struct col_value v;
	uint8_t b[16];

	(void)state;
	memset(&v, 0, sizeof(v));
	v.type = COLT_STRING;
	v.raw = (const uint8_t *)"\x0a\x00\x00\x01";
	v.rawlen = 4;
	v.s = "10.0.0.1";
	v.slen = 8;
	f = field(&tf, IE_IPV4_ADDRESS, 4, COL_SRC_IP);
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x0a\x00\x00\x01", 4);
	/* an IPv4 address where an IPv6 one goes: zeros, not half a value */
	f = field(&tf, IE_IPV6_ADDRESS, 16, COL_SRC_IP);
	memset(b, 0xee, sizeof(b));
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	/* the element is a string: the text, NUL-padded */
	f = field(&tf, IE_STRING, 10, COL_SRC_IP);
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "10.0.0.1\0\0", 10);
	/* MAC: 6 bytes as they are, never turned to host order */
	v.raw = (const uint8_t *)"\x00\x11\x22\x33\x44\x55";
	v.rawlen = 6;
	f = field(&tf, IE_MAC_ADDRESS, 6, COL_SRC_MAC);
	f.host_order = true;
	binrec_put_fixed(&f, &v, 0, b);
	assert_memory_equal(b, "\x00\x11\x22\x33\x44\x55", 6);
}

/* ---- a whole record: template file -> layout -> bytes ----------------- */

static const char tmpl_text[] =
    "enterprise 32473\n"
    "src_ip                sourceIPv4Address  8         ipv4Address\n"
    "dst_ip                testDstText        ENT:2001  string 12 fixed\n"
    "bidirectional_packets packetDeltaCount   2         unsigned8\n"
    "bidirectional_bytes   octetDeltaCount    1         unsigned32\n"
    "protocol              protocolIdentifier 4         unsigned8\n"
    "dst_port              destinationTransportPort 11  unsigned16\n"
    "expiration_id         testExpiration     ENT:2002  signed8\n";

struct captured {
	uint16_t	tid;
	uint8_t		rec[64];
	size_t		len;
	unsigned	n;
};

static int
capture(void *ctx, uint16_t tid, const uint8_t *rec, size_t len)
{
	struct captured *c = ctx;

	c->tid = tid;
	c->len = len;
	memcpy(c->rec, rec, len < sizeof(c->rec) ? len : sizeof(c->rec));
	c->n++;
	return 0;
}

static int
carry_all(void *ctx, const struct tmpl_field *tf, char *errbuf, size_t errlen)
{
	(void)ctx;
	(void)tf;
	(void)errbuf;
	(void)errlen;
	return 1;
}

static void
test_record(void **state)
{
	static const struct binrec_hooks hooks = { .field = carry_all };
	char dir[] = "/tmp/test_binrec.XXXXXX", path[64], err[256];
	struct flowfeat_conf fc = { .statistics = false, .splt = 0 };
	struct exporter_env env;
	struct feat_summary summary[3];
	union col_num *num;
	struct flow_view v;
	struct captured c;
	struct binrec b;
	struct tmpl t;
	struct flow f;
	FILE *fp;

	(void)state;
	/* the column registry, as the probe sets it up at start */
	assert_int_equal(columns_init(err, sizeof(err)), 0);
	if (!columns_frozen())
		assert_int_equal(columns_freeze(err, sizeof(err)), 0);
	assert_non_null(num = calloc(column_count(), sizeof(*num)));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.tmpl", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs(tmpl_text, fp);
	fclose(fp);
	assert_int_equal(tmpl_load(&t, path, NULL, err, sizeof(err)), 0);
	unlink(path);
	rmdir(dir);

	memset(&env, 0, sizeof(env));
	assert_int_equal(binrec_init(&b, &t, &env, &hooks, NULL, err,
	    sizeof(err)), 0);
	/* 4 + 12 + 1 + 4 + 1 + 2 + 1 bytes, no padding without varlen */
	assert_true(b.lay[0].used);
	assert_int_equal(b.lay[0].n, 7);
	assert_int_equal(b.lay[0].rec_size, 25);
	/* IPv6 flows: every line but the ipv4Address one */
	assert_int_equal(b.lay[1].n, 6);
	/* unsigned from unsigned columns: the fast loop */
	assert_int_equal(b.lay[0].nfast, 4);
	assert_true(b.addr_as_text);	/* dst_ip is a string */

	memset(&f, 0, sizeof(f));
	f.key.ip_version = 4;
	f.key.protocol = 17;
	memcpy(f.key.addr[0], "\xc0\xa8\x01\x02", 4);	/* 192.168.1.2 */
	memcpy(f.key.addr[1], "\x0a\x00\x00\x01", 4);	/* 10.0.0.1 */
	f.key.port[0] = 5353;
	f.key.port[1] = 53;				/* 0x0035 */
	f.packets[0] = 200;
	f.packets[1] = 100;		/* 300 packets: saturate to 255 */
	f.bytes[0] = 0x10000;
	f.bytes[1] = 0x234;		/* 0x10234 */
	f.first_ms[0] = f.last_ms[0] = 1000;
	f.first_ms[1] = f.last_ms[1] = 1001;
	f.end_reason = FLOW_END_IDLE;	/* expiration_id 0 */
	memset(&v, 0, sizeof(v));
	v.flow = &f;
	v.ext = NULL;
	v.feat = &fc;
	flow_view_prepare(&v, summary, num);
	memset(&c, 0, sizeof(c));
	assert_int_equal(binrec_export_flow(&b, &v, capture, &c), 0);
	assert_int_equal(c.n, 1);	/* biflow: one record */
	assert_int_equal(c.tid, 256);
	assert_int_equal(c.len, 25);
	assert_memory_equal(c.rec,
	    "\xc0\xa8\x01\x02"				/* src_ip */
	    "10.0.0.1\0\0\0\0"				/* dst_ip as text */
	    "\xff"					/* 300 packets */
	    "\x00\x01\x02\x34"				/* bytes */
	    "\x11"					/* UDP */
	    "\x00\x35"					/* port 53 */
	    "\x00", 25);				/* expiration 0 */
	binrec_free(&b);
	free(num);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_fixed_numbers),
		cmocka_unit_test(test_fixed_strings),
		cmocka_unit_test(test_fixed_list),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
