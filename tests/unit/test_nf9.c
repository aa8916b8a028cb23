/*
 * test_nf9.c - the NetFlow v9 packet encoder (src/export/nf9/nf9.c)
 * against bytes written out by hand from RFC 3954 sections 5 and 6: the
 * header, template and options-template FlowSets, data FlowSets padded to
 * 4 bytes, the record count, and records that do not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nf9.h"

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
test_header(void **state)
{
	uint8_t buf[64];
	struct nf9_packet p;
	size_t len;

	(void)state;
	nf9_begin(&p, buf, sizeof(buf), 123456, 1700000000, 42, 7);
	len = nf9_finish(&p);
	/* version 9, count 0, sysUptime, unix secs, sequence, source id */
	assert_int_equal(len, 20);
	assert_int_equal(be16(buf), 9);
	assert_int_equal(be16(buf + 2), 0);
	assert_int_equal(be32(buf + 4), 123456);
	assert_int_equal(be32(buf + 8), 1700000000);
	assert_int_equal(be32(buf + 12), 42);
	assert_int_equal(be32(buf + 16), 7);
}

static void
test_template_and_data(void **state)
{
	static const struct nf9_field f[] = { { 8, 4 }, { 7, 2 }, { 4, 1 } };
	uint8_t buf[256], rec[7] = { 10, 0, 0, 1, 0x1f, 0x90, 6 };
	struct nf9_packet p;
	size_t len;

	(void)state;
	nf9_begin(&p, buf, sizeof(buf), 0, 0, 0, 1);
	assert_int_equal(nf9_add_template(&p, 256, f, 3), 0);
	assert_int_equal(nf9_add_record(&p, 256, rec, sizeof(rec)), 0);
	assert_int_equal(nf9_add_record(&p, 256, rec, sizeof(rec)), 0);
	len = nf9_finish(&p);
	/* template FlowSet: id 0, length 4 + 4 + 3*4 = 20 (already aligned) */
	assert_int_equal(be16(buf + 20), 0);
	assert_int_equal(be16(buf + 22), 20);
	assert_int_equal(be16(buf + 24), 256);
	assert_int_equal(be16(buf + 26), 3);
	assert_int_equal(be16(buf + 28), 8);
	assert_int_equal(be16(buf + 30), 4);
	/* data FlowSet at 40: id 256, 4 + 2*7 = 18 bytes, padded to 20 */
	assert_int_equal(be16(buf + 40), 256);
	assert_int_equal(be16(buf + 42), 20);
	assert_memory_equal(buf + 44, rec, sizeof(rec));
	assert_memory_equal(buf + 51, rec, sizeof(rec));
	assert_int_equal(buf[58], 0);
	assert_int_equal(buf[59], 0);
	assert_int_equal(len, 60);
	/* count: one template record + two data records */
	assert_int_equal(be16(buf + 2), 3);
}

static void
test_options_template_own_flowset(void **state)
{
	static const struct nf9_field scope[] = { { 1, 4 } };
	static const struct nf9_field opt[] = { { 40, 8 }, { 41, 8 } };
	uint8_t buf[256];
	struct nf9_packet p;
	size_t len;

	(void)state;
	nf9_begin(&p, buf, sizeof(buf), 0, 0, 0, 1);
	assert_int_equal(nf9_add_options_template(&p, 260, scope, 1, opt, 2), 0);
	assert_int_equal(nf9_add_options_template(&p, 261, scope, 1, opt, 1), 0);
	len = nf9_finish(&p);
	/* FlowSet id 1: 4 + 6 + 3*4 = 22, padded to 24 */
	assert_int_equal(be16(buf + 20), 1);
	assert_int_equal(be16(buf + 22), 24);
	assert_int_equal(be16(buf + 24), 260);
	assert_int_equal(be16(buf + 26), 4);	/* scope length in bytes */
	assert_int_equal(be16(buf + 28), 8);	/* option length in bytes */
	assert_int_equal(be16(buf + 30), 1);
	assert_int_equal(be16(buf + 34), 40);
	/* the second options template opens its own FlowSet at 44 */
	assert_int_equal(be16(buf + 44), 1);
	assert_int_equal(be16(buf + 46), 4 + 6 + 2 * 4 + 2);	/* 18 + pad */
	assert_int_equal(be16(buf + 48), 261);
	assert_int_equal(len, 64);
	assert_int_equal(be16(buf + 2), 2);
}

static void
test_record_that_does_not_fit(void **state)
{
	uint8_t buf[40], big[32], small[8];
	struct nf9_packet p;
	size_t len;

	(void)state;
	memset(big, 0xab, sizeof(big));
	memset(small, 0xcd, sizeof(small));
	nf9_begin(&p, buf, sizeof(buf), 0, 0, 0, 1);
	/* 20 header + 4 set header + 32 > 40: refused, packet unchanged */
	assert_int_equal(nf9_add_record(&p, 300, big, sizeof(big)), NF9_FULL);
	assert_int_equal(p.len, 20);
	assert_int_equal(p.count, 0);
	/* 20 + 4 + 8 (+ up to 3 padding) fits */
	assert_int_equal(nf9_add_record(&p, 300, small, sizeof(small)), 0);
	/* a second 8-byte record would need 40 bytes plus padding room */
	assert_int_equal(nf9_add_record(&p, 300, small, sizeof(small)), NF9_FULL);
	len = nf9_finish(&p);
	assert_int_equal(len, 32);
	assert_int_equal(be16(buf + 22), 12);
	assert_int_equal(be16(buf + 2), 1);
}

static void
test_bad_ids(void **state)
{
	static const struct nf9_field f[] = { { 1, 4 } };
	uint8_t buf[64], rec[4] = { 0 };
	struct nf9_packet p;

	(void)state;
	nf9_begin(&p, buf, sizeof(buf), 0, 0, 0, 1);
	/* template and data ids start at 256 (0 and 1 are FlowSet ids) */
	assert_int_equal(nf9_add_template(&p, 1, f, 1), NF9_BAD);
	assert_int_equal(nf9_add_record(&p, 255, rec, sizeof(rec)), NF9_BAD);
	assert_int_equal(nf9_add_template(&p, 256, f, 0), NF9_BAD);
	assert_int_equal(nf9_finish(&p), 20);
}

static void
test_flowset_switch_pads_previous(void **state)
{
	static const struct nf9_field f[] = { { 4, 1 } };
	uint8_t buf[128], one = 17, two[2] = { 1, 2 };
	struct nf9_packet p;
	size_t len;

	(void)state;
	nf9_begin(&p, buf, sizeof(buf), 0, 0, 0, 1);
	assert_int_equal(nf9_add_template(&p, 256, f, 1), 0);	/* 20..32 */
	assert_int_equal(nf9_add_record(&p, 256, &one, 1), 0);	/* 32: 4+1 */
	assert_int_equal(nf9_add_record(&p, 257, two, 2), 0);	/* new set */
	len = nf9_finish(&p);
	/* template set 12 bytes; set 256: 5 bytes padded to 8 at 32; set 257
	 * at 40: 6 bytes padded to 8 */
	assert_int_equal(be16(buf + 22), 12);
	assert_int_equal(be16(buf + 32), 256);
	assert_int_equal(be16(buf + 34), 8);
	assert_int_equal(buf[36], 17);
	assert_int_equal(buf[37] | buf[38] | buf[39], 0);
	assert_int_equal(be16(buf + 40), 257);
	assert_int_equal(be16(buf + 42), 8);
	assert_int_equal(len, 48);
	assert_int_equal(be16(buf + 2), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_template_and_data),
		cmocka_unit_test(test_options_template_own_flowset),
		cmocka_unit_test(test_record_that_does_not_fit),
		cmocka_unit_test(test_bad_ids),
		cmocka_unit_test(test_flowset_switch_pads_previous),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
