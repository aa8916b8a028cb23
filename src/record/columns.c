/*
 * columns.c - flow columns: names, types, selection and values.
 *
 *	column_name/type/group()	the static column table
 *	colset_init()			columns of a configuration, in order
 *	column_value()			typed value of one column of one flow
 *	column_expiration_id()		end reason -> NFStream expiration_id
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "columns.h"
#include "flow.h"

static const char *const dir_names[FEAT_DIRS] = {
	"bidirectional", "src2dst", "dst2src"
};
static const char *const stat_names[4] = { "min", "mean", "stddev", "max" };
static const char *const flag_names[FEAT_TCP_FLAGS] = {
	"syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin"
};

static const char *const core_names[COL_PS_FIRST] = {
	"id", "expiration_id", "src_ip", "src_mac", "src_oui", "src_port",
	"dst_ip", "dst_mac", "dst_oui", "dst_port", "protocol", "ip_version",
	"vlan_id", "tunnel_id",
	"bidirectional_first_seen_ms", "bidirectional_last_seen_ms",
	"bidirectional_duration_ms", "bidirectional_packets",
	"bidirectional_bytes",
	"src2dst_first_seen_ms", "src2dst_last_seen_ms", "src2dst_duration_ms",
	"src2dst_packets", "src2dst_bytes",
	"dst2src_first_seen_ms", "dst2src_last_seen_ms", "dst2src_duration_ms",
	"dst2src_packets", "dst2src_bytes",
};

/* Generated names of the statistical columns, filled once. */
static char stat_col_names[COL_SPLT_DIRECTION - COL_PS_FIRST][40];

static void
stat_names_init(void)
{
	static int done;
	int d, m, k = 0;

	if (done)
		return;
	for (d = 0; d < FEAT_DIRS; d++)
		for (m = 0; m < 4; m++)
			snprintf(stat_col_names[k++], sizeof(stat_col_names[0]),
			    "%s_%s_ps", dir_names[d], stat_names[m]);
	for (d = 0; d < FEAT_DIRS; d++)
		for (m = 0; m < 4; m++)
			snprintf(stat_col_names[k++], sizeof(stat_col_names[0]),
			    "%s_%s_piat_ms", dir_names[d], stat_names[m]);
	for (d = 0; d < FEAT_DIRS; d++)
		for (m = 0; m < FEAT_TCP_FLAGS; m++)
			snprintf(stat_col_names[k++], sizeof(stat_col_names[0]),
			    "%s_%s_packets", dir_names[d], flag_names[m]);
	done = 1;
}

const char *
column_name(enum col_id id)
{
	if (id < COL_PS_FIRST)
		return core_names[id];
	if (id < COL_SPLT_DIRECTION) {
		stat_names_init();
		return stat_col_names[id - COL_PS_FIRST];
	}
	switch (id) {
	case COL_SPLT_DIRECTION:
		return "splt_direction";
	case COL_SPLT_PS:
		return "splt_ps";
	case COL_SPLT_PIAT_MS:
		return "splt_piat_ms";
	case COL_APPLICATION_NAME:
		return "application_name";
	case COL_APPLICATION_CATEGORY_NAME:
		return "application_category_name";
	case COL_APPLICATION_IS_GUESSED:
		return "application_is_guessed";
	case COL_APPLICATION_CONFIDENCE:
		return "application_confidence";
	case COL_REQUESTED_SERVER_NAME:
		return "requested_server_name";
	case COL_CLIENT_FINGERPRINT:
		return "client_fingerprint";
	case COL_SERVER_FINGERPRINT:
		return "server_fingerprint";
	case COL_USER_AGENT:
		return "user_agent";
	case COL_CONTENT_TYPE:
		return "content_type";
	case COL_FLOW_END_REASON:
		return "flow_end_reason";
	case COL_BIFLOW_DIRECTION:
		return "biflow_direction";
	case COL_APPLICATION_ID:
		return "application_id";
	case COL_SRC2DST_TCP_FLAGS:
		return "src2dst_tcp_flags";
	case COL_DST2SRC_TCP_FLAGS:
		return "dst2src_tcp_flags";
	default:
		return "?";
	}
}

enum col_group
column_group(enum col_id id)
{
	if (id == COL_TUNNEL_ID)
		return COLG_TUNNEL;
	if (id < COL_PS_FIRST)
		return COLG_CORE;
	if (id < COL_SPLT_DIRECTION)
		return COLG_STATS;
	if (id <= COL_SPLT_PIAT_MS)
		return COLG_SPLT;
	if (id <= COL_CONTENT_TYPE)
		return COLG_L7;
	return COLG_EXPORT;
}

int
column_by_name(const char *name)
{
	int id;

	for (id = 0; id < COL_COUNT; id++)
		if (strcmp(column_name(id), name) == 0)
			return id;
	return -1;
}

/* Replace a leading prefix: "src2dst_bytes" with ("src2dst_", "dst2src_"). */
static int
renamed(const char *name, const char *from, const char *to)
{
	char buf[64];
	size_t n = strlen(from);

	if (strncmp(name, from, n) != 0)
		return -2;
	snprintf(buf, sizeof(buf), "%s%s", to, name + n);
	return column_by_name(buf);
}

int
column_for_direction(enum col_id col, int reverse)
{
	static const char *const swaps[][2] = {
		{ "src2dst_", "dst2src_" }, { "dst2src_", "src2dst_" },
		{ "src_", "dst_" }, { "dst_", "src_" },
	};
	const char *name = column_name(col);
	int r;
	size_t i;

	if (col == COL_BIFLOW_DIRECTION)
		return -1;
	if ((r = renamed(name, "bidirectional_",
	    reverse ? "dst2src_" : "src2dst_")) != -2)
		return r;
	if (!reverse)
		return col;
	for (i = 0; i < sizeof(swaps) / sizeof(swaps[0]); i++)
		if ((r = renamed(name, swaps[i][0], swaps[i][1])) != -2)
			return r;
	return col;
}

/* Types of the columns that are not unsigned integers (COLT_UINT is 0). */
#define STAT_DOUBLES(base)						\
	[(base) + 1] = COLT_DOUBLE, [(base) + 2] = COLT_DOUBLE,		\
	[(base) + 5] = COLT_DOUBLE, [(base) + 6] = COLT_DOUBLE,		\
	[(base) + 9] = COLT_DOUBLE, [(base) + 10] = COLT_DOUBLE

static const uint8_t col_types[COL_COUNT] = {
	[COL_EXPIRATION_ID] = COLT_INT,
	[COL_SRC_IP] = COLT_STRING, [COL_SRC_MAC] = COLT_STRING,
	[COL_SRC_OUI] = COLT_STRING, [COL_DST_IP] = COLT_STRING,
	[COL_DST_MAC] = COLT_STRING, [COL_DST_OUI] = COLT_STRING,
	[COL_SPLT_DIRECTION] = COLT_LIST, [COL_SPLT_PS] = COLT_LIST,
	[COL_SPLT_PIAT_MS] = COLT_LIST,
	[COL_APPLICATION_NAME] = COLT_STRING,
	[COL_APPLICATION_CATEGORY_NAME] = COLT_STRING,
	[COL_REQUESTED_SERVER_NAME] = COLT_STRING,
	[COL_CLIENT_FINGERPRINT] = COLT_STRING,
	[COL_SERVER_FINGERPRINT] = COLT_STRING,
	[COL_USER_AGENT] = COLT_STRING, [COL_CONTENT_TYPE] = COLT_STRING,
	[COL_APPLICATION_ID] = COLT_BYTES,
	STAT_DOUBLES(COL_PS_FIRST),
	STAT_DOUBLES(COL_PIAT_FIRST),
};

enum col_type
column_type(enum col_id id)
{
	return (enum col_type)col_types[id];
}

void
colset_init(struct colset *cs, bool tunnels, bool statistics, bool splt,
    bool l7)
{
	int id;

	stat_names_init();	/* before any output thread reads the names */
	cs->n = 0;
	for (id = 0; id < COL_COUNT; id++) {
		switch (column_group(id)) {
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
		cs->ids[cs->n++] = (uint8_t)id;
	}
}

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

static void
value_l7(const struct flow_view *v, enum col_id id, struct col_value *out)
{
	static const struct dpi_result none;
	const struct dpi_result *r = v->l7 != NULL ? v->l7 : &none;

	switch (id) {
	case COL_APPLICATION_NAME:
		out->type = COLT_STRING;
		out->s = r->app_name;
		out->slen = (unsigned)strlen(r->app_name);
		break;
	case COL_APPLICATION_CATEGORY_NAME:
		out->type = COLT_STRING;
		out->s = r->category_name != NULL ? r->category_name : "";
		out->slen = (unsigned)strlen(out->s);
		break;
	case COL_REQUESTED_SERVER_NAME:
		value_text(&r->str[DPI_SERVER_NAME], out);
		break;
	case COL_CLIENT_FINGERPRINT:
		value_text(&r->str[DPI_CLIENT_FP], out);
		break;
	case COL_SERVER_FINGERPRINT:
		value_text(&r->str[DPI_SERVER_FP], out);
		break;
	case COL_USER_AGENT:
		value_text(&r->str[DPI_USER_AGENT], out);
		break;
	default:
		value_text(&r->str[DPI_CONTENT_TYPE], out);
		break;
	}
}

/* RFC 6759 applicationId: classification engine 22 (nDPI), 4-byte id. */
static void
value_app_id(const struct flow_view *v, struct col_value *out)
{
	uint32_t id = 0;

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

bool
column_is_number(enum col_id id)
{
	enum col_type t = (enum col_type)col_types[id];

	return t == COLT_UINT || t == COLT_INT || t == COLT_DOUBLE;
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

/*
 * Every numeric column in one straight pass.  Binary exporters write ~90
 * numbers a record; looking each up here instead of dispatching per column
 * is what keeps their encoding cheap.
 */
static void
fill_numbers(const struct flow_view *v, union col_num *n)
{
	static const struct feat_summary none;
	const struct flow *f = v->flow;
	const struct feat_stats *st = flowfeat_stats(v->feat, v->ext);
	int src = f->src_end, rev = FLOW_DIR_DST2SRC, d, k;

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
	n[COL_FLOW_END_REASON].u = f->end_reason;
	n[COL_BIFLOW_DIRECTION].u = 1;
	n[COL_SRC2DST_TCP_FLAGS].u = f->tcp_flags[FLOW_DIR_SRC2DST];
	n[COL_DST2SRC_TCP_FLAGS].u = f->tcp_flags[FLOW_DIR_DST2SRC];
	n[COL_APPLICATION_IS_GUESSED].u = v->l7 ? (uint64_t)v->l7->guessed : 0;
	n[COL_APPLICATION_CONFIDENCE].u = v->l7 ?
	    (uint64_t)v->l7->confidence : 0;
	for (d = 0; d < FEAT_DIRS; d++)
		fill_stat_numbers(n + 4 * d, v->summary ? &v->summary[d] : &none);
	for (k = 0; k < FEAT_DIRS * FEAT_TCP_FLAGS; k++)
		n[COL_FLAGS_FIRST + k].u = st ?
		    st->tcp_flags[k / FEAT_TCP_FLAGS][k % FEAT_TCP_FLAGS] : 0;
}

void
flow_view_prepare(struct flow_view *v, struct feat_summary summary[3],
    union col_num num[COL_COUNT])
{
	const struct feat_stats *st = flowfeat_stats(v->feat, v->ext);
	int d;

	v->summary = NULL;
	if (st != NULL) {
		for (d = 0; d < FEAT_DIRS; d++)
			flowfeat_summary(st, v->flow, (enum feat_dir)d,
			    &summary[d]);
		v->summary = summary;
	}
	fill_numbers(v, num);
	v->num = num;
}

static void
value_splt(const struct flow_view *v, enum col_id id, struct col_value *out)
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
		out->list[i] = id == COL_SPLT_DIRECTION ? dir :
		    id == COL_SPLT_PS ? ps : piat;
	}
}

void
column_value(const struct flow_view *v, enum col_id id, struct col_value *out)
{
	const struct flow *f = v->flow;
	int src = f->src_end, dst = !f->src_end;

	out->raw = NULL;
	out->rawlen = 0;
	if (column_is_number(id)) {
		out->type = column_type(id);
		out->u = v->num[id].u;
		out->i = v->num[id].i;
		out->d = v->num[id].d;
		return;
	}
	switch (id) {
	case COL_SRC_IP:
		value_ip(f, src, v->no_text, out);
		break;
	case COL_DST_IP:
		value_ip(f, dst, v->no_text, out);
		break;
	case COL_SRC_MAC:
		value_mac(f->src_mac, 17, v->no_text, out);
		break;
	case COL_SRC_OUI:
		value_mac(f->src_mac, 8, false, out);
		break;
	case COL_DST_MAC:
		value_mac(f->dst_mac, 17, v->no_text, out);
		break;
	case COL_DST_OUI:
		value_mac(f->dst_mac, 8, false, out);
		break;
	case COL_SPLT_DIRECTION:
	case COL_SPLT_PS:
	case COL_SPLT_PIAT_MS:
		value_splt(v, id, out);
		break;
	case COL_APPLICATION_ID:
		value_app_id(v, out);
		break;
	default:
		value_l7(v, id, out);
		break;
	}
}

