/*
 * test_columns.c - the column registry (src/record/columns.c).
 *
 * The built-in set: lookup by name, ids equal to enum col_id, types,
 * groups, uniflow twins (the expected pairs are NFStream's names written
 * out by hand here, not derived by the code under test).  A column added
 * after the built-ins gets the next id (past 255: no 8-bit ids), its block
 * fills its slot in flow_view_prepare() and column_value() reads it.
 * Refused at start-up: an unknown name, a name used twice, registering
 * after freeze, a column with neither a numeric slot nor a getter, twins
 * that do not name each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "columns.h"
#include "flow.h"

static char err[256];

static int
setup_builtin(void **state)
{
	(void)state;
	columns_reset();
	err[0] = '\0';
	return columns_init(err, sizeof(err));
}

static int
teardown(void **state)
{
	(void)state;
	columns_reset();
	return 0;
}

static void
test_builtin_lookup(void **state)
{
	(void)state;
	assert_int_equal(columns_freeze(err, sizeof(err)), 0);
	assert_int_equal(column_count(), COL_BUILTIN_COUNT);
	/* 89 of NFStream's CSV (with tunnel_id), 5 for binary exports. */
	assert_int_equal(column_count(), 94);
	assert_int_equal(column_by_name("id"), COL_ID);
	assert_int_equal(column_by_name("src_ip"), COL_SRC_IP);
	assert_int_equal(column_by_name("src2dst_bytes"), COL_S2D_BYTES);
	assert_int_equal(column_by_name("dst2src_fin_packets"),
	    COL_FLAGS_LAST);
	assert_int_equal(column_by_name("bidirectional_min_ps"), COL_PS_FIRST);
	assert_int_equal(column_by_name("content_type"), COL_CONTENT_TYPE);
	assert_int_equal(column_by_name("dst2src_tcp_flags"),
	    COL_DST2SRC_TCP_FLAGS);
	assert_int_equal(column_by_name("no_such_column"), -1);
	assert_int_equal(column_by_name("src2dst_"), -1);
	assert_string_equal(column_name(COL_APPLICATION_ID), "application_id");
	assert_string_equal(column_name(COL_PIAT_FIRST + 5),
	    "src2dst_mean_piat_ms");
}

static void
test_builtin_types(void **state)
{
	(void)state;
	assert_int_equal(columns_freeze(err, sizeof(err)), 0);
	assert_int_equal(column_type(COL_ID), COLT_UINT);
	assert_int_equal(column_type(COL_EXPIRATION_ID), COLT_INT);
	assert_int_equal(column_type(COL_SRC_IP), COLT_STRING);
	assert_int_equal(column_type(column_by_name("bidirectional_mean_ps")),
	    COLT_DOUBLE);
	assert_int_equal(column_type(column_by_name("dst2src_stddev_piat_ms")),
	    COLT_DOUBLE);
	assert_int_equal(column_type(column_by_name("dst2src_max_piat_ms")),
	    COLT_UINT);
	assert_int_equal(column_type(COL_SPLT_PS), COLT_LIST);
	assert_int_equal(column_type(COL_APPLICATION_ID), COLT_BYTES);
	assert_true(column_is_number(COL_APPLICATION_CONFIDENCE));
	assert_false(column_is_number(COL_USER_AGENT));
	assert_int_equal(column_group(COL_TUNNEL_ID), COLG_TUNNEL);
	assert_int_equal(column_group(COL_VLAN_ID), COLG_CORE);
	assert_int_equal(column_group(COL_FLAGS_FIRST), COLG_STATS);
	assert_int_equal(column_group(COL_SPLT_DIRECTION), COLG_SPLT);
	assert_int_equal(column_group(COL_APPLICATION_NAME), COLG_L7);
	assert_int_equal(column_group(COL_BIFLOW_DIRECTION), COLG_EXPORT);
	assert_int_equal(column_direction(COL_D2S_PACKETS), COLD_DST2SRC);
	assert_int_equal(column_direction(COL_BI_BYTES), COLD_BIDIRECTIONAL);
	assert_int_equal(column_direction(COL_SRC_IP), COLD_NONE);
}

/* fwd, rev: the column of a uniflow forward and reverse record. */
static void
check_dir(const char *col, const char *fwd, const char *rev)
{
	int id = column_by_name(col);

	assert_true(id >= 0);
	if (fwd == NULL) {
		assert_int_equal(column_for_direction(id, 0), -1);
		assert_int_equal(column_for_direction(id, 1), -1);
		return;
	}
	assert_string_equal(column_name(column_for_direction(id, 0)), fwd);
	assert_string_equal(column_name(column_for_direction(id, 1)), rev);
}

static void
test_builtin_twins(void **state)
{
	(void)state;
	assert_int_equal(columns_freeze(err, sizeof(err)), 0);
	check_dir("id", "id", "id");
	check_dir("protocol", "protocol", "protocol");
	check_dir("src_ip", "src_ip", "dst_ip");
	check_dir("dst_ip", "dst_ip", "src_ip");
	check_dir("src_port", "src_port", "dst_port");
	check_dir("dst_oui", "dst_oui", "src_oui");
	check_dir("src_mac", "src_mac", "dst_mac");
	check_dir("bidirectional_bytes", "src2dst_bytes", "dst2src_bytes");
	check_dir("src2dst_packets", "src2dst_packets", "dst2src_packets");
	check_dir("dst2src_duration_ms", "dst2src_duration_ms",
	    "src2dst_duration_ms");
	check_dir("bidirectional_stddev_piat_ms", "src2dst_stddev_piat_ms",
	    "dst2src_stddev_piat_ms");
	check_dir("bidirectional_max_ps", "src2dst_max_ps", "dst2src_max_ps");
	check_dir("src2dst_mean_ps", "src2dst_mean_ps", "dst2src_mean_ps");
	check_dir("bidirectional_urg_packets", "src2dst_urg_packets",
	    "dst2src_urg_packets");
	check_dir("dst2src_ack_packets", "dst2src_ack_packets",
	    "src2dst_ack_packets");
	check_dir("src2dst_tcp_flags", "src2dst_tcp_flags",
	    "dst2src_tcp_flags");
	check_dir("application_name", "application_name", "application_name");
	check_dir("biflow_direction", NULL, NULL);
}

static void
fill_extra(const struct flow_view *v, union col_num *row, unsigned base)
{
	row[base].u = v->id * 10;
	row[base + 1].d = 0.5;
}

static void
get_extra(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	(void)v;
	out->type = COLT_STRING;
	out->s = c->arg ? "yes" : "no";
	out->slen = (unsigned)strlen(out->s);
}

static void
test_added_columns(void **state)
{
	static char names[300][16];
	static struct col_def many[300];
	static const struct col_def extra[] = {
		{ "udps.count", COLT_UINT, COLG_CORE, COLD_NONE, NULL, NULL,
		    false, NULL, 0 },
		{ "udps.ratio", COLT_DOUBLE, COLG_CORE, COLD_NONE, NULL, NULL,
		    false, NULL, 0 },
		{ "udps.flag", COLT_STRING, COLG_CORE, COLD_NONE, NULL, NULL,
		    false, get_extra, 1 },
	};
	struct flow f;
	struct flowfeat_conf fc = { false, 0 };
	struct flow_view v = { .flow = &f, .ext = NULL, .feat = &fc, .id = 7 };
	struct feat_summary sum[3];
	struct col_value val;
	struct colset cs;
	union col_num *row;
	int i, base;

	(void)state;
	for (i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "udps.s%d", i);
		many[i].name = names[i];
		many[i].type = COLT_STRING;
		many[i].get = get_extra;
	}
	assert_int_equal(column_register(many, 300, NULL, err, sizeof(err)),
	    COL_BUILTIN_COUNT);
	base = column_register(extra, 3, fill_extra, err, sizeof(err));
	assert_int_equal(base, COL_BUILTIN_COUNT + 300);
	assert_int_equal(columns_freeze(err, sizeof(err)), 0);
	assert_int_equal(column_count(), COL_BUILTIN_COUNT + 303);
	assert_int_equal(column_by_name("udps.flag"), base + 2);
	assert_int_equal(column_by_name("udps.s299"), base - 1);

	/* The row: built-in and added numbers, filled once. */
	memset(&f, 0, sizeof(f));
	f.key.ip_version = 4;
	f.key.addr[1][0] = 10;
	f.key.addr[1][3] = 1;
	f.src_end = 1;
	f.packets[0] = 3;
	f.end_reason = FLOW_END_ACTIVE;
	assert_non_null(row = calloc(column_count(), sizeof(*row)));
	flow_view_prepare(&v, sum, row);
	column_value(&v, base, &val);
	assert_int_equal(val.type, COLT_UINT);
	assert_int_equal(val.u, 70);
	column_value(&v, base + 1, &val);
	assert_true(val.type == COLT_DOUBLE && val.d == 0.5);
	column_value(&v, base + 2, &val);
	assert_int_equal(val.slen, 3);
	assert_memory_equal(val.s, "yes", 3);
	column_value(&v, COL_BI_PACKETS, &val);
	assert_int_equal(val.u, 3);
	column_value(&v, COL_EXPIRATION_ID, &val);
	assert_int_equal(val.i, 1);		/* active timeout */
	column_value(&v, COL_SRC_IP, &val);	/* endpoint 1 is the source */
	assert_int_equal(val.slen, 8);
	assert_memory_equal(val.s, "10.0.0.1", 8);
	free(row);

	/* Added columns are selected like built-in ones of their group. */
	assert_int_equal(colset_init(&cs, false, false, false, false), 0);
	assert_int_equal(cs.ids[cs.n - 1], base + 2);
	colset_free(&cs);
}

static void
test_refused(void **state)
{
	static const struct col_def dup[] = {
		{ "src_ip", COLT_STRING, COLG_CORE, COLD_NONE, NULL, NULL, false,
		    get_extra, 0 },
	};
	static const struct col_def ok[] = {
		{ "udps.x", COLT_UINT, COLG_CORE, COLD_NONE, NULL, NULL, false,
		    NULL, 0 },
	};

	(void)state;
	assert_int_equal(column_register(dup, 1, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "src_ip registered twice"));
	assert_int_equal(column_register(ok, 0, fill_extra, err, sizeof(err)),
	    -1);
	assert_int_equal(columns_freeze(err, sizeof(err)), 0);
	assert_int_equal(column_register(ok, 1, fill_extra, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "frozen"));
	assert_int_equal(column_count(), COL_BUILTIN_COUNT);
}

static void
test_no_value_refused(void **state)
{
	static const struct col_def str[] = {
		{ "udps.text", COLT_STRING, COLG_CORE, COLD_NONE, NULL, NULL,
		    false, NULL, 0 },
	};

	(void)state;
	assert_int_equal(column_register(str, 1, fill_extra, err, sizeof(err)),
	    COL_BUILTIN_COUNT);
	assert_int_equal(columns_freeze(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "udps.text has neither a numeric slot nor "
	    "a getter"));
	assert_false(columns_frozen());
}

static void
test_number_without_fill_refused(void **state)
{
	static const struct col_def num[] = {
		{ "udps.n", COLT_INT, COLG_CORE, COLD_NONE, NULL, NULL, false,
		    NULL, 0 },
	};

	(void)state;
	assert_int_equal(column_register(num, 1, NULL, err, sizeof(err)),
	    COL_BUILTIN_COUNT);
	assert_int_equal(columns_freeze(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "udps.n"));
}

static void
test_bad_twins_refused(void **state)
{
	static const struct col_def lone[] = {
		/* src_ip's twin is dst_ip, not this one */
		{ "udps.a", COLT_STRING, COLG_CORE, COLD_NONE, "src_ip", NULL,
		    false, get_extra, 0 },
	};
	static const struct col_def missing[] = {
		{ "bidirectional_x", COLT_UINT, COLG_CORE, COLD_BIDIRECTIONAL,
		    NULL, "src2dst_x", false, NULL, 0 },
	};

	(void)state;
	assert_true(column_register(lone, 1, NULL, err, sizeof(err)) > 0);
	assert_int_equal(columns_freeze(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "twins must name each other"));
	columns_reset();
	assert_int_equal(columns_init(err, sizeof(err)), 0);
	assert_true(column_register(missing, 1, fill_extra, err,
	    sizeof(err)) > 0);
	assert_int_equal(columns_freeze(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown src2dst column src2dst_x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_builtin_lookup,
		    setup_builtin, teardown),
		cmocka_unit_test_setup_teardown(test_builtin_types,
		    setup_builtin, teardown),
		cmocka_unit_test_setup_teardown(test_builtin_twins,
		    setup_builtin, teardown),
		cmocka_unit_test_setup_teardown(test_added_columns,
		    setup_builtin, teardown),
		cmocka_unit_test_setup_teardown(test_refused,
		    setup_builtin, teardown),
		cmocka_unit_test_setup_teardown(test_no_value_refused,
		    setup_builtin, teardown),
		cmocka_unit_test_setup_teardown(test_number_without_fill_refused,
		    setup_builtin, teardown),
		cmocka_unit_test_setup_teardown(test_bad_twins_refused,
		    setup_builtin, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
