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

enum col_type
column_type(enum col_id id)
{
	switch (id) {
	case COL_EXPIRATION_ID:
		return COLT_INT;
	case COL_SRC_IP: case COL_SRC_MAC: case COL_SRC_OUI:
	case COL_DST_IP: case COL_DST_MAC: case COL_DST_OUI:
		return COLT_STRING;
	case COL_SPLT_DIRECTION: case COL_SPLT_PS: case COL_SPLT_PIAT_MS:
		return COLT_LIST;
	case COL_APPLICATION_NAME: case COL_APPLICATION_CATEGORY_NAME:
	case COL_REQUESTED_SERVER_NAME: case COL_CLIENT_FINGERPRINT:
	case COL_SERVER_FINGERPRINT: case COL_USER_AGENT: case COL_CONTENT_TYPE:
		return COLT_STRING;
	case COL_APPLICATION_ID:
		return COLT_BYTES;
	default:
		break;
	}
	if (id >= COL_PS_FIRST && id <= COL_PIAT_LAST) {
		int m = (id - COL_PS_FIRST) % 4;

		return (m == 1 || m == 2) ? COLT_DOUBLE : COLT_UINT;
	}
	return COLT_UINT;
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
value_mac(const uint8_t *m, unsigned len, struct col_value *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned i, k = 0;

	out->raw = m;
	out->rawlen = 6;
	for (i = 0; i < 6; i++) {
		if (i)
			out->buf[k++] = ':';
		out->buf[k++] = hex[m[i] >> 4];
		out->buf[k++] = hex[m[i] & 0xf];
	}
	out->buf[k] = '\0';
	set_str(out, len);	/* 17 for the MAC, 8 for the OUI */
}

static void
value_stat(const struct flow_view *v, enum col_id id, struct col_value *out)
{
	const struct feat_stats *st = flowfeat_stats(v->feat, v->ext);
	struct feat_summary s;
	int k, d, m;

	if (id >= COL_FLAGS_FIRST) {
		k = id - COL_FLAGS_FIRST;
		out->type = COLT_UINT;
		out->u = st ? st->tcp_flags[k / FEAT_TCP_FLAGS][k % FEAT_TCP_FLAGS] : 0;
		return;
	}
	k = id < COL_PIAT_FIRST ? id - COL_PS_FIRST : id - COL_PIAT_FIRST;
	d = k / 4;
	m = k % 4;
	if (v->summary != NULL)
		s = v->summary[d];
	else if (st != NULL)
		flowfeat_summary(st, v->flow, (enum feat_dir)d, &s);
	else
		memset(&s, 0, sizeof(s));
	out->type = column_type(id);
	if (id < COL_PIAT_FIRST) {
		out->u = m == 0 ? s.min_ps : s.max_ps;
		out->d = m == 1 ? s.mean_ps : s.stddev_ps;
	} else {
		out->u = m == 0 ? s.min_piat_ms : s.max_piat_ms;
		out->d = m == 1 ? s.mean_piat_ms : s.stddev_piat_ms;
	}
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
	case COL_APPLICATION_IS_GUESSED:
		out->type = COLT_UINT;
		out->u = (uint64_t)r->guessed;
		break;
	case COL_APPLICATION_CONFIDENCE:
		out->type = COLT_UINT;
		out->u = (uint64_t)r->confidence;
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

void
flow_view_prepare(struct flow_view *v, struct feat_summary summary[3])
{
	const struct feat_stats *st = flowfeat_stats(v->feat, v->ext);
	int d;

	v->summary = NULL;
	if (st == NULL)
		return;
	for (d = 0; d < FEAT_DIRS; d++)
		flowfeat_summary(st, v->flow, (enum feat_dir)d, &summary[d]);
	v->summary = summary;
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
	int rev = FLOW_DIR_DST2SRC;

	out->type = COLT_UINT;
	out->raw = NULL;
	out->rawlen = 0;
	switch (id) {
	case COL_ID:
		out->u = v->id;
		break;
	case COL_EXPIRATION_ID:
		out->type = COLT_INT;
		out->i = column_expiration_id(f->end_reason);
		break;
	case COL_SRC_IP:
		value_ip(f, src, v->no_text, out);
		break;
	case COL_DST_IP:
		value_ip(f, dst, v->no_text, out);
		break;
	case COL_SRC_MAC:
		value_mac(f->src_mac, 17, out);
		break;
	case COL_SRC_OUI:
		value_mac(f->src_mac, 8, out);
		break;
	case COL_DST_MAC:
		value_mac(f->dst_mac, 17, out);
		break;
	case COL_DST_OUI:
		value_mac(f->dst_mac, 8, out);
		break;
	case COL_SRC_PORT:
		out->u = f->key.port[src];
		break;
	case COL_DST_PORT:
		out->u = f->key.port[dst];
		break;
	case COL_PROTOCOL:
		out->u = f->key.protocol;
		break;
	case COL_IP_VERSION:
		out->u = f->key.ip_version;
		break;
	case COL_VLAN_ID:
		out->u = f->key.vlan_id;
		break;
	case COL_TUNNEL_ID:
		out->u = f->key.tunnel_id;
		break;
	case COL_BI_FIRST_SEEN:
	case COL_S2D_FIRST_SEEN:
		out->u = flow_first_ms(f);
		break;
	case COL_BI_LAST_SEEN:
		out->u = flow_last_ms(f);
		break;
	case COL_BI_DURATION:
		out->u = flow_last_ms(f) - flow_first_ms(f);
		break;
	case COL_BI_PACKETS:
		out->u = flow_packets(f);
		break;
	case COL_BI_BYTES:
		out->u = f->bytes[0] + f->bytes[1];
		break;
	case COL_S2D_LAST_SEEN:
		out->u = f->last_ms[FLOW_DIR_SRC2DST];
		break;
	case COL_S2D_DURATION:
		out->u = f->last_ms[0] - f->first_ms[0];
		break;
	case COL_S2D_PACKETS:
		out->u = f->packets[FLOW_DIR_SRC2DST];
		break;
	case COL_S2D_BYTES:
		out->u = f->bytes[FLOW_DIR_SRC2DST];
		break;
	case COL_D2S_FIRST_SEEN:
		out->u = f->first_ms[rev];
		break;
	case COL_D2S_LAST_SEEN:
		out->u = f->last_ms[rev];
		break;
	case COL_D2S_DURATION:
		out->u = f->last_ms[rev] - f->first_ms[rev];
		break;
	case COL_D2S_PACKETS:
		out->u = f->packets[rev];
		break;
	case COL_D2S_BYTES:
		out->u = f->bytes[rev];
		break;
	case COL_SPLT_DIRECTION:
	case COL_SPLT_PS:
	case COL_SPLT_PIAT_MS:
		value_splt(v, id, out);
		break;
	case COL_FLOW_END_REASON:
		out->u = f->end_reason;
		break;
	case COL_BIFLOW_DIRECTION:
		out->u = 1;
		break;
	case COL_SRC2DST_TCP_FLAGS:
		out->u = f->tcp_flags[FLOW_DIR_SRC2DST];
		break;
	case COL_DST2SRC_TCP_FLAGS:
		out->u = f->tcp_flags[FLOW_DIR_DST2SRC];
		break;
	case COL_APPLICATION_ID:
		value_app_id(v, out);
		break;
	default:
		if (id >= COL_PS_FIRST && id <= COL_FLAGS_LAST)
			value_stat(v, id, out);
		else if (id >= COL_APPLICATION_NAME)
			value_l7(v, id, out);
		break;
	}
}

int
column_number(const struct flow_view *v, enum col_id id, uint64_t *u,
    int64_t *i, double *d)
{
	const struct flow *f = v->flow;
	const struct feat_summary *s;
	const struct feat_stats *st;
	int k, m;

	if (id >= COL_PS_FIRST && id <= COL_PIAT_LAST && v->summary != NULL) {
		k = id < COL_PIAT_FIRST ? id - COL_PS_FIRST : id - COL_PIAT_FIRST;
		s = &v->summary[k / 4];
		m = k % 4;
		if (m == 1 || m == 2) {
			*d = id < COL_PIAT_FIRST ? (m == 1 ? s->mean_ps :
			    s->stddev_ps) : (m == 1 ? s->mean_piat_ms :
			    s->stddev_piat_ms);
			return COLT_DOUBLE;
		}
		*u = id < COL_PIAT_FIRST ? (m == 0 ? s->min_ps : s->max_ps) :
		    (m == 0 ? s->min_piat_ms : s->max_piat_ms);
		return COLT_UINT;
	}
	if (id >= COL_FLAGS_FIRST && id <= COL_FLAGS_LAST) {
		st = flowfeat_stats(v->feat, v->ext);
		k = id - COL_FLAGS_FIRST;
		*u = st ? st->tcp_flags[k / FEAT_TCP_FLAGS][k % FEAT_TCP_FLAGS] : 0;
		return COLT_UINT;
	}
	switch (id) {
	case COL_ID: *u = v->id; return COLT_UINT;
	case COL_EXPIRATION_ID:
		*i = column_expiration_id(f->end_reason);
		return COLT_INT;
	case COL_SRC_PORT: *u = f->key.port[f->src_end]; return COLT_UINT;
	case COL_DST_PORT: *u = f->key.port[!f->src_end]; return COLT_UINT;
	case COL_PROTOCOL: *u = f->key.protocol; return COLT_UINT;
	case COL_IP_VERSION: *u = f->key.ip_version; return COLT_UINT;
	case COL_VLAN_ID: *u = f->key.vlan_id; return COLT_UINT;
	case COL_TUNNEL_ID: *u = f->key.tunnel_id; return COLT_UINT;
	case COL_BI_FIRST_SEEN:
	case COL_S2D_FIRST_SEEN: *u = flow_first_ms(f); return COLT_UINT;
	case COL_BI_LAST_SEEN: *u = flow_last_ms(f); return COLT_UINT;
	case COL_BI_DURATION:
		*u = flow_last_ms(f) - flow_first_ms(f);
		return COLT_UINT;
	case COL_BI_PACKETS: *u = flow_packets(f); return COLT_UINT;
	case COL_BI_BYTES: *u = f->bytes[0] + f->bytes[1]; return COLT_UINT;
	case COL_S2D_LAST_SEEN: *u = f->last_ms[0]; return COLT_UINT;
	case COL_S2D_DURATION: *u = f->last_ms[0] - f->first_ms[0]; return COLT_UINT;
	case COL_S2D_PACKETS: *u = f->packets[0]; return COLT_UINT;
	case COL_S2D_BYTES: *u = f->bytes[0]; return COLT_UINT;
	case COL_D2S_FIRST_SEEN: *u = f->first_ms[1]; return COLT_UINT;
	case COL_D2S_LAST_SEEN: *u = f->last_ms[1]; return COLT_UINT;
	case COL_D2S_DURATION: *u = f->last_ms[1] - f->first_ms[1]; return COLT_UINT;
	case COL_D2S_PACKETS: *u = f->packets[1]; return COLT_UINT;
	case COL_D2S_BYTES: *u = f->bytes[1]; return COLT_UINT;
	case COL_FLOW_END_REASON: *u = f->end_reason; return COLT_UINT;
	case COL_BIFLOW_DIRECTION: *u = 1; return COLT_UINT;
	case COL_SRC2DST_TCP_FLAGS: *u = f->tcp_flags[0]; return COLT_UINT;
	case COL_DST2SRC_TCP_FLAGS: *u = f->tcp_flags[1]; return COLT_UINT;
	case COL_APPLICATION_IS_GUESSED:
		*u = v->l7 ? (uint64_t)v->l7->guessed : 0;
		return COLT_UINT;
	case COL_APPLICATION_CONFIDENCE:
		*u = v->l7 ? (uint64_t)v->l7->confidence : 0;
		return COLT_UINT;
	default:
		return -1;
	}
}
