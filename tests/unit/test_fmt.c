/*
 * test_fmt.c - number formatting.
 *
 * fmt_double() must print exactly what Python's repr() prints (the
 * expected strings below were produced with python3 -c 'print(repr(x))'),
 * fmt_u64()/fmt_i64() the plain decimal text at the range edges; each
 * returns the string length.  Also a small strbuf round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fmt.h"

struct dcase {
	double		v;
	const char	*repr;
};

static void
expect_double(double v, const char *want)
{
	char buf[FMT_NUM_MAX];
	size_t n;

	memset(buf, 'x', sizeof(buf));
	n = fmt_double(buf, v);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void
test_fmt_double_python_repr(void **state)
{
	static const struct dcase cases[] = {
		{ 0.0, "0.0" },
		{ -0.0, "-0.0" },
		{ 1.0, "1.0" },
		{ 54.0, "54.0" },
		{ 0.1, "0.1" },
		{ 325.2857142857144, "325.2857142857144" },
		{ 632.9999999999999, "632.9999999999999" },
		{ 104.10000000000001, "104.10000000000001" },
		{ 1e-05, "1e-05" },
		{ 0.0001, "0.0001" },
		{ 1e16, "1e+16" },
		{ 1.5e16, "1.5e+16" },
		{ 123456789012345.0, "123456789012345.0" },
		{ 1e22, "1e+22" },
		{ 1.7976931348623157e+308, "1.7976931348623157e+308" },
		{ -2.5, "-2.5" },
		{ 1 / 3.0, "0.3333333333333333" },
		{ 2 / 3.0, "0.6666666666666666" },
		{ 247.037037037037, "247.037037037037" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_double(cases[i].v, cases[i].repr);
}

/*
 * Regression: a digit search starting at 15 significant digits is only
 * shortest for normal doubles; subnormals once printed their 15-digit
 * rounding ("4.94065645841247e-324") instead of Python's repr.
 */
static void
test_fmt_double_subnormal(void **state)
{
	(void)state;
	expect_double(5e-324, "5e-324");
	expect_double(1e-310, "1e-310");
}

static void
test_fmt_u64(void **state)
{
	char buf[FMT_NUM_MAX];

	(void)state;
	assert_int_equal(fmt_u64(buf, 0), 1);
	assert_string_equal(buf, "0");
	assert_int_equal(fmt_u64(buf, 10), 2);
	assert_string_equal(buf, "10");
	assert_int_equal(fmt_u64(buf, UINT64_MAX), 20);
	assert_string_equal(buf, "18446744073709551615");
}

static void
test_fmt_i64(void **state)
{
	char buf[FMT_NUM_MAX];

	(void)state;
	assert_int_equal(fmt_i64(buf, 0), 1);
	assert_string_equal(buf, "0");
	assert_int_equal(fmt_i64(buf, -1), 2);
	assert_string_equal(buf, "-1");
	assert_int_equal(fmt_i64(buf, INT64_MIN), 20);
	assert_string_equal(buf, "-9223372036854775808");
	assert_int_equal(fmt_i64(buf, INT64_MAX), 19);
	assert_string_equal(buf, "9223372036854775807");
}

static void
test_strbuf(void **state)
{
	struct strbuf sb = { NULL, 0, 0 };
	int i;

	(void)state;
	for (i = 0; i < 3000; i++)
		assert_int_equal(strbuf_addc(&sb, (char)('a' + i % 26)), 0);
	assert_int_equal(strbuf_add(&sb, "xyz", 3), 0);
	assert_int_equal(sb.len, 3003);
	assert_true(sb.cap >= sb.len);
	assert_int_equal(sb.p[0], 'a');
	assert_int_equal(sb.p[2999], 'a' + 2999 % 26);
	assert_memory_equal(sb.p + 3000, "xyz", 3);
	strbuf_free(&sb);
	assert_null(sb.p);
	assert_int_equal(sb.len, 0);
}

/* fmt_sanitize: expected outputs written out by hand from the input bytes. */
static void
expect_sanitized(const char *in, size_t n, size_t dstlen, const char *want)
{
	char out[256];
	size_t len;

	assert_true(dstlen <= sizeof(out));
	len = fmt_sanitize(out, dstlen, in, n);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
}

static void
test_fmt_sanitize(void **state)
{
	(void)state;
	/* printable ASCII, quote and backslash pass unchanged */
	expect_sanitized("a \"b\" \\ c", 11, 64, "a \"b\" \\ c");
	/* controls and DEL become \xHH */
	expect_sanitized("a\tb\x01\x7f", 5, 64, "a\\x09b\\x01\\x7f");
	/* valid 2-, 3- and 4-byte UTF-8 (e-acute, euro sign, U+1F600) pass */
	expect_sanitized("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 64,
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* a lone lead byte, a stray continuation, 0xff, an overlong "/"
	 * (c0 af), a surrogate (ed a0 80) and a C1 control (c2 85) */
	expect_sanitized("\xc3(", 2, 64, "\\xc3(");
	expect_sanitized("\x80\xff", 2, 64, "\\x80\\xff");
	expect_sanitized("\xc0\xaf", 2, 64, "\\xc0\\xaf");
	expect_sanitized("\xed\xa0\x80", 3, 64, "\\xed\\xa0\\x80");
	expect_sanitized("\xc2\x85", 2, 64, "\\xc2\\x85");
	/* a sequence cut by the end of the input is escaped byte by byte */
	expect_sanitized("\xe2\x82", 2, 64, "\\xe2\\x82");
	/* stops at NUL; never splits an escape or a character at the limit */
	expect_sanitized("ab\0cd", 5, 64, "ab");
	expect_sanitized("ab\x01", 3, 5, "ab");
	expect_sanitized("a\xc3\xa9", 3, 2, "a");
	expect_sanitized(NULL, 4, 64, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_double_python_repr),
		cmocka_unit_test(test_fmt_double_subnormal),
		cmocka_unit_test(test_fmt_u64),
		cmocka_unit_test(test_fmt_i64),
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_fmt_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
