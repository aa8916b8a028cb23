/*
 * columns.c - the column registry: names, types, twins, selection, values.
 *
 *	columns_init()			register the built-in columns
 *	column_register(), columns_freeze()	add a block; close the set
 *	column_name/type/group/direction(), column_by_name()
 *	column_for_direction()		uniflow twin of a column
 *	colset_init()			columns of a configuration, in order
 *	flow_view_prepare()		one flow's numeric row, once
 *	column_value()			typed value of one column of one flow
 *	column_expiration_id()		end reason -> NFStream expiration_id
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "flow.h"

struct col_entry {
	struct col_def	def;
	int		twin;		/* resolved at freeze; -1 none */
	int		fwd;
	unsigned	block;
};

struct col_block {
	col_fill_fn	fill;
	unsigned	base;
	unsigned	n;
};

/* One registry per process: the column set is a property of the program
 * and its start-up configuration, read by every output. */
static struct {
	struct col_entry	*c;
	unsigned		 n, cap;
	struct col_block	*b;
	unsigned		 nb, bcap;
	bool			 builtin;	/* columns_init() done */
	bool			 frozen;
} reg;

int
column_expiration_id(int end_reason)
{
	switch (end_reason) {
	case FLOW_END_IDLE:
	case FLOW_END_FORCED:
		return 0;	/* NFStream: idle, including end of input */
	case FLOW_END_ACTIVE:
		return 1;
	default:
		return -1;	/* not an NFStream expiry (e.g. table full) */
	}
}

static void
set_str(struct col_value *out, unsigned len)
{
	out->type = COLT_STRING;
	out->s = out->buf;
	out->slen = len;
}

static void
value_ip(const struct flow *f, int end, bool no_text, struct col_value *out)
{
	const uint8_t *a = f->key.addr[end];
	unsigned k = 0;
	int i;

	out->raw = a;
	out->rawlen = f->key.ip_version == 6 ? 16 : 4;
	if (no_text) {
		set_str(out, 0);
		return;
	}
	if (f->key.ip_version == 6) {
		if (inet_ntop(AF_INET6, a, out->buf, sizeof(out->buf)) == NULL)
			out->buf[0] = '\0';
		set_str(out, (unsigned)strlen(out->buf));
		return;
	}
	/* Dotted quad by hand: glibc's inet_ntop goes through sprintf. */
	for (i = 0; i < 4; i++) {
		if (i)
			out->buf[k++] = '.';
		if (a[i] >= 100)
			out->buf[k++] = (char)('0' + a[i] / 100);
		if (a[i] >= 10)
			out->buf[k++] = (char)('0' + a[i] / 10 % 10);
		out->buf[k++] = (char)('0' + a[i] % 10);
	}
	out->buf[k] = '\0';
	set_str(out, k);
}

static void
value_mac(const uint8_t *m, unsigned len, bool no_text, struct col_value *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned i, k = 0;

	out->raw = m;
	out->rawlen = 6;
	if (no_text && len == 17) {
		set_str(out, 0);
		return;
	}
	for (i = 0; i < (len + 1) / 3; i++) {	/* the bytes the text shows */
		if (i)
			out->buf[k++] = ':';
		out->buf[k++] = hex[m[i] >> 4];
		out->buf[k++] = hex[m[i] & 0xf];
	}
	out->buf[k] = '\0';
	set_str(out, len);	/* 17 for the MAC, 8 for the OUI */
}


static void
value_text(const struct dpi_text *t, struct col_value *out)
{
	out->type = COLT_STRING;
	out->s = t->s != NULL ? t->s : "";
	out->slen = t->len;
}

static const struct dpi_result *
view_l7(const struct flow_view *v)
{
	static const struct dpi_result none = { .app_name = "" };

	return v->l7 != NULL ? v->l7 : &none;
}

/* Getters: the value of a column that has no numeric slot. */

static void
get_ip(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	const struct flow *f = v->flow;

	/* arg: 0 the source, 1 the destination. */
	value_ip(f, c->arg ? !f->src_end : f->src_end, v->no_text, out);
}

static void
get_mac(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	const struct flow *f = v->flow;
	const uint8_t *m = (c->arg & 1) ? f->dst_mac : f->src_mac;

	/* arg bit 1: the OUI (8 characters), always as text. */
	if (c->arg & 2)
		value_mac(m, 8, false, out);
	else
		value_mac(m, 17, v->no_text, out);
}

static void
get_l7_name(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	const struct dpi_result *r = view_l7(v);

	(void)c;
	out->type = COLT_STRING;
	out->s = r->app_name;
	out->slen = (unsigned)strlen(r->app_name);
}

static void
get_l7_category(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	const struct dpi_result *r = view_l7(v);

	(void)c;
	out->type = COLT_STRING;
	out->s = r->category_name != NULL ? r->category_name : "";
	out->slen = (unsigned)strlen(out->s);
}

/* arg: the enum dpi_string index. */
static void
get_l7_text(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	value_text(&view_l7(v)->str[c->arg], out);
}

/* RFC 6759 applicationId: classification engine 22 (nDPI), 4-byte id. */
static void
get_app_id(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	uint32_t id = 0;

	(void)c;
	if (v->l7 != NULL)
		id = v->l7->app_id != 0 ? v->l7->app_id : v->l7->master_id;
	out->type = COLT_BYTES;
	out->buf[0] = 22;
	out->buf[1] = (char)(id >> 24);
	out->buf[2] = (char)(id >> 16);
	out->buf[3] = (char)(id >> 8);
	out->buf[4] = (char)id;
	out->raw = (const uint8_t *)out->buf;
	out->rawlen = 5;
}


/* arg: 0 direction, 1 packet size, 2 inter-arrival time. */
static void
get_splt(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	unsigned i;
	int dir, ps;
	int64_t piat;

	out->type = COLT_LIST;
	out->n = v->feat->splt;
	for (i = 0; i < out->n; i++) {
		if (!flowfeat_splt(v->feat, v->ext, v->flow, i, &dir, &ps, &piat)) {
			out->list[i] = -1;	/* NFStream pads with -1 */
			continue;
		}
		out->list[i] = c->arg == 0 ? dir : c->arg == 1 ? ps : piat;
	}
}

/*
 * Block fills: every numeric column of a block in one straight pass.
 * Binary exporters write ~90 numbers a record; looking each up in the row
 * instead of dispatching per column is what keeps their encoding cheap.
 * The built-in blocks sit at their enum col_id ids (base is theirs).
 */

static void
fill_core(const struct flow_view *v, union col_num *n, unsigned base)
{
	const struct flow *f = v->flow;
	int src = f->src_end, rev = FLOW_DIR_DST2SRC;

	(void)base;
	n[COL_ID].u = v->id;
	n[COL_EXPIRATION_ID].i = column_expiration_id(f->end_reason);
	n[COL_SRC_PORT].u = f->key.port[src];
	n[COL_DST_PORT].u = f->key.port[!src];
	n[COL_PROTOCOL].u = f->key.protocol;
	n[COL_IP_VERSION].u = f->key.ip_version;
	n[COL_VLAN_ID].u = f->key.vlan_id;
	n[COL_TUNNEL_ID].u = f->key.tunnel_id;
	n[COL_BI_FIRST_SEEN].u = flow_first_ms(f);
	n[COL_BI_LAST_SEEN].u = flow_last_ms(f);
	n[COL_BI_DURATION].u = flow_last_ms(f) - flow_first_ms(f);
	n[COL_BI_PACKETS].u = flow_packets(f);
	n[COL_BI_BYTES].u = f->bytes[0] + f->bytes[1];
	n[COL_S2D_FIRST_SEEN].u = f->first_ms[FLOW_DIR_SRC2DST];
	n[COL_S2D_LAST_SEEN].u = f->last_ms[FLOW_DIR_SRC2DST];
	n[COL_S2D_DURATION].u = f->last_ms[0] - f->first_ms[0];
	n[COL_S2D_PACKETS].u = f->packets[FLOW_DIR_SRC2DST];
	n[COL_S2D_BYTES].u = f->bytes[FLOW_DIR_SRC2DST];
	n[COL_D2S_FIRST_SEEN].u = f->first_ms[rev];
	n[COL_D2S_LAST_SEEN].u = f->last_ms[rev];
	n[COL_D2S_DURATION].u = f->last_ms[rev] - f->first_ms[rev];
	n[COL_D2S_PACKETS].u = f->packets[rev];
	n[COL_D2S_BYTES].u = f->bytes[rev];
}

/* The statistics columns of one direction: min, mean, stddev, max. */
static void
fill_stat_numbers(union col_num *n, const struct feat_summary *s)
{
	n[COL_PS_FIRST].u = s->min_ps;
	n[COL_PS_FIRST + 1].d = s->mean_ps;
	n[COL_PS_FIRST + 2].d = s->stddev_ps;
	n[COL_PS_FIRST + 3].u = s->max_ps;
	n[COL_PIAT_FIRST].u = s->min_piat_ms;
	n[COL_PIAT_FIRST + 1].d = s->mean_piat_ms;
	n[COL_PIAT_FIRST + 2].d = s->stddev_piat_ms;
	n[COL_PIAT_FIRST + 3].u = s->max_piat_ms;
}

static void
fill_stats(const struct flow_view *v, union col_num *n, unsigned base)
{
	static const struct feat_summary none;
	const struct feat_stats *st = flowfeat_stats(v->feat, v->ext);
	int d, k;

	(void)base;
	for (d = 0; d < FEAT_DIRS; d++)
		fill_stat_numbers(n + 4 * d, v->summary ? &v->summary[d] : &none);
	for (k = 0; k < FEAT_DIRS * FEAT_TCP_FLAGS; k++)
		n[COL_FLAGS_FIRST + k].u = st ?
		    st->tcp_flags[k / FEAT_TCP_FLAGS][k % FEAT_TCP_FLAGS] : 0;
}

static void
fill_l7(const struct flow_view *v, union col_num *n, unsigned base)
{
	(void)base;
	n[COL_APPLICATION_IS_GUESSED].u = v->l7 ? (uint64_t)v->l7->guessed : 0;
	n[COL_APPLICATION_CONFIDENCE].u = v->l7 ?
	    (uint64_t)v->l7->confidence : 0;
}

static void
fill_export(const struct flow_view *v, union col_num *n, unsigned base)
{
	const struct flow *f = v->flow;

	(void)base;
	n[COL_FLOW_END_REASON].u = f->end_reason;
	n[COL_BIFLOW_DIRECTION].u = 1;
	n[COL_SRC2DST_TCP_FLAGS].u = f->tcp_flags[FLOW_DIR_SRC2DST];
	n[COL_DST2SRC_TCP_FLAGS].u = f->tcp_flags[FLOW_DIR_DST2SRC];
}

/* The built-in columns, by block, in enum col_id order. */

#define U(name)		{ name, COLT_UINT, COLG_CORE, COLD_NONE, NULL, NULL, \
			  false, NULL, 0 }
#define BI(name, fwd)	{ "bidirectional_" name, COLT_UINT, COLG_CORE,	\
			  COLD_BIDIRECTIONAL, NULL, "src2dst_" fwd, false,	\
			  NULL, 0 }
#define S2D(name)	{ "src2dst_" name, COLT_UINT, COLG_CORE, COLD_SRC2DST, \
			  "dst2src_" name, NULL, false, NULL, 0 }
#define D2S(name)	{ "dst2src_" name, COLT_UINT, COLG_CORE, COLD_DST2SRC, \
			  "src2dst_" name, NULL, false, NULL, 0 }
#define STR(name, twin, get, arg, group)				\
			{ name, COLT_STRING, group, COLD_NONE, twin, NULL,	\
			  false, get, arg }

static const struct col_def core_defs[] = {
	U("id"),
	{ "expiration_id", COLT_INT, COLG_CORE, COLD_NONE, NULL, NULL, false,
	    NULL, 0 },
	STR("src_ip", "dst_ip", get_ip, 0, COLG_CORE),
	STR("src_mac", "dst_mac", get_mac, 0, COLG_CORE),
	STR("src_oui", "dst_oui", get_mac, 2, COLG_CORE),
	{ "src_port", COLT_UINT, COLG_CORE, COLD_NONE, "dst_port", NULL, false,
	    NULL, 0 },
	STR("dst_ip", "src_ip", get_ip, 1, COLG_CORE),
	STR("dst_mac", "src_mac", get_mac, 1, COLG_CORE),
	STR("dst_oui", "src_oui", get_mac, 3, COLG_CORE),
	{ "dst_port", COLT_UINT, COLG_CORE, COLD_NONE, "src_port", NULL, false,
	    NULL, 0 },
	U("protocol"), U("ip_version"), U("vlan_id"),
	{ "tunnel_id", COLT_UINT, COLG_TUNNEL, COLD_NONE, NULL, NULL, false,
	    NULL, 0 },
	BI("first_seen_ms", "first_seen_ms"), BI("last_seen_ms", "last_seen_ms"),
	BI("duration_ms", "duration_ms"), BI("packets", "packets"),
	BI("bytes", "bytes"),
	S2D("first_seen_ms"), S2D("last_seen_ms"), S2D("duration_ms"),
	S2D("packets"), S2D("bytes"),
	D2S("first_seen_ms"), D2S("last_seen_ms"), D2S("duration_ms"),
	D2S("packets"), D2S("bytes"),
};

static const struct col_def splt_defs[] = {
	{ "splt_direction", COLT_LIST, COLG_SPLT, COLD_NONE, NULL, NULL, false,
	    get_splt, 0 },
	{ "splt_ps", COLT_LIST, COLG_SPLT, COLD_NONE, NULL, NULL, false,
	    get_splt, 1 },
	{ "splt_piat_ms", COLT_LIST, COLG_SPLT, COLD_NONE, NULL, NULL, false,
	    get_splt, 2 },
};

static const struct col_def l7_defs[] = {
	STR("application_name", NULL, get_l7_name, 0, COLG_L7),
	STR("application_category_name", NULL, get_l7_category, 0, COLG_L7),
	{ "application_is_guessed", COLT_UINT, COLG_L7, COLD_NONE, NULL, NULL,
	    false, NULL, 0 },
	{ "application_confidence", COLT_UINT, COLG_L7, COLD_NONE, NULL, NULL,
	    false, NULL, 0 },
	STR("requested_server_name", NULL, get_l7_text, DPI_SERVER_NAME, COLG_L7),
	STR("client_fingerprint", NULL, get_l7_text, DPI_CLIENT_FP, COLG_L7),
	STR("server_fingerprint", NULL, get_l7_text, DPI_SERVER_FP, COLG_L7),
	STR("user_agent", NULL, get_l7_text, DPI_USER_AGENT, COLG_L7),
	STR("content_type", NULL, get_l7_text, DPI_CONTENT_TYPE, COLG_L7),
};

static const struct col_def export_defs[] = {
	/* IPFIX flowEndReason value */
	{ "flow_end_reason", COLT_UINT, COLG_EXPORT, COLD_NONE, NULL, NULL,
	    false, NULL, 0 },
	/* RFC 5103: 1, the source initiated; no meaning in a uniflow record */
	{ "biflow_direction", COLT_UINT, COLG_EXPORT, COLD_NONE, NULL, NULL,
	    true, NULL, 0 },
	/* RFC 6759: engine 22 (nDPI) + id */
	{ "application_id", COLT_BYTES, COLG_EXPORT, COLD_NONE, NULL, NULL,
	    false, get_app_id, 0 },
	/* OR of the direction's TCP flags */
	{ "src2dst_tcp_flags", COLT_UINT, COLG_EXPORT, COLD_SRC2DST,
	    "dst2src_tcp_flags", NULL, false, NULL, 0 },
	{ "dst2src_tcp_flags", COLT_UINT, COLG_EXPORT, COLD_DST2SRC,
	    "src2dst_tcp_flags", NULL, false, NULL, 0 },
};

#undef U
#undef BI
#undef S2D
#undef D2S
#undef STR

#define NSTATS	(COL_SPLT_DIRECTION - COL_PS_FIRST)

/*
 * The statistical columns: {bidirectional,src2dst,dst2src} x
 * {min,mean,stddev,max}_ps, then _piat_ms, then the eight TCP flag
 * counters.  Their names are generated once (static: the registry keeps
 * pointers to them).
 */
static void
stats_defs_init(struct col_def defs[NSTATS])
{
	static const char *const dirs[FEAT_DIRS] = {
		"bidirectional", "src2dst", "dst2src"
	};
	static const enum col_dir cdir[FEAT_DIRS] = {
		COLD_BIDIRECTIONAL, COLD_SRC2DST, COLD_DST2SRC
	};
	static const char *const stat[4] = { "min", "mean", "stddev", "max" };
	static const char *const flag[FEAT_TCP_FLAGS] = {
		"syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin"
	};
	static char names[NSTATS][40];
	struct col_def *c;
	int kind, d, m, k = 0, nm;

	for (kind = 0; kind < 3; kind++) {
		nm = kind < 2 ? 4 : FEAT_TCP_FLAGS;
		for (d = 0; d < FEAT_DIRS; d++)
			for (m = 0; m < nm; m++, k++) {
				c = &defs[k];
				memset(c, 0, sizeof(*c));
				snprintf(names[k], sizeof(names[k]), kind == 0 ?
				    "%s_%s_ps" : kind == 1 ? "%s_%s_piat_ms" :
				    "%s_%s_packets", dirs[d],
				    kind < 2 ? stat[m] : flag[m]);
				c->name = names[k];
				c->type = kind < 2 && (m == 1 || m == 2) ?
				    COLT_DOUBLE : COLT_UINT;
				c->group = COLG_STATS;
				c->dir = cdir[d];
			}
	}
	/* Twins by position: each direction's columns are nm apart. */
	for (k = 0; k < NSTATS; k++) {
		nm = k < 24 ? 4 : FEAT_TCP_FLAGS;
		kind = k < 24 ? k / 12 * 12 : 24;	/* first of its kind */
		d = (k - kind) / nm;
		m = (k - kind) % nm;
		if (d == 0)
			defs[k].fwd = names[kind + nm + m];
		else
			defs[k].twin = names[kind + (3 - d) * nm + m];
	}
}

static int
register_at(const struct col_def *defs, unsigned n, col_fill_fn fill,
    int want, char *errbuf, size_t errlen)
{
	int base;

	if ((base = column_register(defs, n, fill, errbuf, errlen)) < 0)
		return -1;
	if (base != want) {
		snprintf(errbuf, errlen, "built-in columns out of order: %s at "
		    "%d, not %d", defs[0].name, base, want);
		return -1;
	}
	return 0;
}

int
columns_init(char *errbuf, size_t errlen)
{
	static struct col_def stats_defs[NSTATS];

	if (reg.builtin)
		return 0;
	if (reg.n != 0) {
		snprintf(errbuf, errlen, "columns_init() after other columns");
		return -1;
	}
	stats_defs_init(stats_defs);
	if (register_at(core_defs, sizeof(core_defs) / sizeof(core_defs[0]),
	    fill_core, COL_ID, errbuf, errlen) != 0 ||
	    register_at(stats_defs, NSTATS, fill_stats, COL_PS_FIRST, errbuf,
	    errlen) != 0 ||
	    register_at(splt_defs, sizeof(splt_defs) / sizeof(splt_defs[0]),
	    NULL, COL_SPLT_DIRECTION, errbuf, errlen) != 0 ||
	    register_at(l7_defs, sizeof(l7_defs) / sizeof(l7_defs[0]), fill_l7,
	    COL_APPLICATION_NAME, errbuf, errlen) != 0 ||
	    register_at(export_defs, sizeof(export_defs) / sizeof(export_defs[0]),
	    fill_export, COL_FLOW_END_REASON, errbuf, errlen) != 0)
		return -1;
	if (reg.n != COL_BUILTIN_COUNT) {
		snprintf(errbuf, errlen, "built-in columns: %u registered, %d "
		    "expected", reg.n, COL_BUILTIN_COUNT);
		return -1;
	}
	reg.builtin = true;
	return 0;
}

static int
find(const char *name)
{
	unsigned i;

	for (i = 0; i < reg.n; i++)
		if (strcmp(reg.c[i].def.name, name) == 0)
			return (int)i;
	return -1;
}

static bool
is_number_type(enum col_type t)
{
	return t == COLT_UINT || t == COLT_INT || t == COLT_DOUBLE;
}

int
column_register(const struct col_def *defs, unsigned n, col_fill_fn fill,
    char *errbuf, size_t errlen)
{
	const struct col_def *d;
	unsigned i, j, base = reg.n;
	void *p;

	if (reg.frozen) {
		snprintf(errbuf, errlen, "column %s registered after start-up "
		    "(the column set is frozen)", n > 0 && defs[0].name ?
		    defs[0].name : "?");
		return -1;
	}
	if (n == 0 || reg.n + n > UINT16_MAX) {
		snprintf(errbuf, errlen, "column block of %u columns refused", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		d = &defs[i];
		if (d->name == NULL || d->name[0] == '\0') {
			snprintf(errbuf, errlen, "column without a name");
			return -1;
		}
		if (find(d->name) >= 0) {
			snprintf(errbuf, errlen, "column %s registered twice",
			    d->name);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(defs[j].name, d->name) == 0) {
				snprintf(errbuf, errlen, "column %s registered "
				    "twice", d->name);
				return -1;
			}
		if ((unsigned)d->type > COLT_LIST ||
		    (unsigned)d->group > COLG_EXPORT ||
		    (unsigned)d->dir > COLD_DST2SRC) {
			snprintf(errbuf, errlen, "column %s: bad type, group or "
			    "direction", d->name);
			return -1;
		}
	}
	if (reg.n + n > reg.cap) {
		unsigned cap = reg.cap ? reg.cap : 128;

		while (cap < reg.n + n)
			cap *= 2;
		if ((p = realloc(reg.c, cap * sizeof(*reg.c))) == NULL)
			goto nomem;
		reg.c = p;
		reg.cap = cap;
	}
	if (reg.nb == reg.bcap) {
		unsigned cap = reg.bcap ? 2 * reg.bcap : 8;

		if ((p = realloc(reg.b, cap * sizeof(*reg.b))) == NULL)
			goto nomem;
		reg.b = p;
		reg.bcap = cap;
	}
	reg.b[reg.nb].fill = fill;
	reg.b[reg.nb].base = base;
	reg.b[reg.nb].n = n;
	for (i = 0; i < n; i++) {
		reg.c[base + i].def = defs[i];
		reg.c[base + i].twin = reg.c[base + i].fwd = -1;
		reg.c[base + i].block = reg.nb;
	}
	reg.nb++;
	reg.n += n;
	return (int)base;
nomem:
	snprintf(errbuf, errlen, "out of memory for columns");
	return -1;
}

/* Resolve and check a column's twins and its source of values. */
static int
check_column(struct col_entry *e, char *errbuf, size_t errlen)
{
	const struct col_def *d = &e->def;
	const struct col_entry *t;

	if (is_number_type(d->type)) {
		if (d->get != NULL || reg.b[e->block].fill == NULL) {
			snprintf(errbuf, errlen, "column %s: a number needs its "
			    "block's fill function and no getter", d->name);
			return -1;
		}
	} else if (d->get == NULL) {
		snprintf(errbuf, errlen, "column %s has neither a numeric slot "
		    "nor a getter", d->name);
		return -1;
	}
	if (d->twin != NULL) {
		if ((e->twin = find(d->twin)) < 0) {
			snprintf(errbuf, errlen, "column %s: unknown twin %s",
			    d->name, d->twin);
			return -1;
		}
		t = &reg.c[e->twin];
		if (t->def.twin == NULL || strcmp(t->def.twin, d->name) != 0 ||
		    t->def.type != d->type) {
			snprintf(errbuf, errlen, "columns %s and %s: twins must "
			    "name each other and have one type", d->name,
			    d->twin);
			return -1;
		}
	}
	if ((d->dir == COLD_BIDIRECTIONAL) != (d->fwd != NULL)) {
		snprintf(errbuf, errlen, "column %s: a bidirectional column, and "
		    "only one, names its src2dst column", d->name);
		return -1;
	}
	if (d->fwd != NULL) {
		if ((e->fwd = find(d->fwd)) < 0) {
			snprintf(errbuf, errlen, "column %s: unknown src2dst "
			    "column %s", d->name, d->fwd);
			return -1;
		}
		t = &reg.c[e->fwd];
		if (t->def.dir != COLD_SRC2DST || t->def.twin == NULL ||
		    t->def.type != d->type) {
			snprintf(errbuf, errlen, "column %s: %s is not a src2dst "
			    "column of the same type with a twin", d->name,
			    d->fwd);
			return -1;
		}
	}
	return 0;
}

int
columns_freeze(char *errbuf, size_t errlen)
{
	unsigned i;

	if (reg.frozen)
		return 0;
	if (reg.n == 0) {
		snprintf(errbuf, errlen, "no columns registered");
		return -1;
	}
	for (i = 0; i < reg.n; i++)
		if (check_column(&reg.c[i], errbuf, errlen) != 0)
			return -1;
	reg.frozen = true;
	return 0;
}

bool
columns_frozen(void)
{
	return reg.frozen;
}

void
columns_reset(void)
{
	free(reg.c);
	free(reg.b);
	memset(&reg, 0, sizeof(reg));
}

unsigned
column_count(void)
{
	return reg.n;
}

const char *
column_name(int id)
{
	return reg.c[id].def.name;
}

int
column_by_name(const char *name)
{
	return find(name);
}

enum col_type
column_type(int id)
{
	return reg.c[id].def.type;
}

bool
column_is_number(int id)
{
	return is_number_type(reg.c[id].def.type);
}

enum col_group
column_group(int id)
{
	return reg.c[id].def.group;
}

enum col_dir
column_direction(int id)
{
	return reg.c[id].def.dir;
}

int
column_for_direction(int col, int reverse)
{
	const struct col_entry *e = &reg.c[col];

	if (e->def.biflow_only)
		return -1;
	if (e->fwd >= 0)
		e = &reg.c[e->fwd];
	if (reverse && e->twin >= 0)
		return e->twin;
	return (int)(e - reg.c);
}

int
colset_init(struct colset *cs, bool tunnels, bool statistics, bool splt,
    bool l7)
{
	unsigned id;

	cs->n = 0;
	if ((cs->ids = calloc(reg.n ? reg.n : 1, sizeof(*cs->ids))) == NULL)
		return -1;
	for (id = 0; id < reg.n; id++) {
		switch (column_group((int)id)) {
		case COLG_TUNNEL:
			if (!tunnels)
				continue;
			break;
		case COLG_STATS:
			if (!statistics)
				continue;
			break;
		case COLG_SPLT:
			if (!splt)
				continue;
			break;
		case COLG_L7:
			if (!l7)
				continue;
			break;
		case COLG_EXPORT:
			continue;
		default:
			break;
		}
		cs->ids[cs->n++] = (uint16_t)id;
	}
	return 0;
}

int
colset_copy(struct colset *dst, const struct colset *src)
{
	dst->n = src->n;
	if ((dst->ids = calloc(src->n ? src->n : 1, sizeof(*dst->ids))) == NULL)
		return -1;
	memcpy(dst->ids, src->ids, src->n * sizeof(*dst->ids));
	return 0;
}

void
colset_free(struct colset *cs)
{
	free(cs->ids);
	cs->ids = NULL;
	cs->n = 0;
}

void
flow_view_prepare(struct flow_view *v, struct feat_summary summary[3],
    union col_num *num)
{
	const struct feat_stats *st = flowfeat_stats(v->feat, v->ext);
	unsigned b;
	int d;

	v->summary = NULL;
	if (st != NULL) {
		for (d = 0; d < FEAT_DIRS; d++)
			flowfeat_summary(st, v->flow, (enum feat_dir)d,
			    &summary[d]);
		v->summary = summary;
	}
	for (b = 0; b < reg.nb; b++)
		if (reg.b[b].fill != NULL)
			reg.b[b].fill(v, num, reg.b[b].base);
	v->num = num;
}

void
column_value(const struct flow_view *v, int id, struct col_value *out)
{
	const struct col_def *c = &reg.c[id].def;

	out->raw = NULL;
	out->rawlen = 0;
	if (c->get == NULL) {	/* a number: columns_freeze() checked */
		out->type = c->type;
		out->u = v->num[id].u;
		out->i = v->num[id].i;
		out->d = v->num[id].d;
		return;
	}
	c->get(v, c, out);
}
