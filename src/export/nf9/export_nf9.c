/*
 * export_nf9.c - NetFlow v9 export over UDP, with our own encoder (nf9.c).
 *
 *	export_nf9_open()	layouts from the template file, UDP transport
 *	nf9_export_flow()	one biflow record (IN 1/2 + OUT 23/24 counters)
 *				or two uniflow records
 *	nf9_tick()		template refresh by time, idle flush
 *	nf9_finish(), nf9_report(), nf9_destroy()
 *
 * Field types: tmpl_v9_type() (template.c, shared with the collector-file
 * generator); a field without a v9 id is left out.  Every field has a
 * fixed length: strings and octet arrays are NUL-padded or truncated to
 * the template's length.
 * FIRST_SWITCHED (22) and LAST_SWITCHED (21) are milliseconds of sysUptime.
 * Templates (and the options records: exporter statistics, application
 * table) are sent at start, every --template-refresh seconds and every
 * --template-packets export packets (RFC 3954 section 9).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "dpi.h"
#include "exporter.h"
#include "exportrec.h"
#include "flow.h"
#include "log.h"
#include "monotime.h"
#include "nf9.h"
#include "template.h"
#include "transport.h"

#define TID_STATS		260
#define TID_APPS		261
#define V9_SCOPE_SYSTEM		1
#define V9_LAST_SWITCHED	21
#define V9_FIRST_SWITCHED	22
#define APP_NAME_LEN		32
#define FLUSH_IDLE_MS		1000
#define MAX_FIELDS		TMPL_MAX_FIELDS

struct nf9_fieldmap {
	const struct tmpl_field	*tf;
	int			 col[2];
	size_t			 off;
	uint16_t		 len;
	bool			 uptime;	/* FIRST/LAST_SWITCHED */
};

struct nf9_layout {
	uint16_t		tid;
	bool			used;
	unsigned		n;
	struct nf9_fieldmap	f[MAX_FIELDS];
	struct nf9_field	wire[MAX_FIELDS];
	size_t			rec_len;
};

struct nf9_exporter {
	struct exporter		 base;
	struct transport	*tr;
	struct tmpl		 tmpl;
	struct exporter_env	 env;
	struct nf9_layout	 lay[4];	/* v4, v6, v4 uniflow, v6 uniflow */
	uint8_t			*pkt;
	size_t			 mtu;
	struct nf9_packet	 p;
	bool			 open;
	uint16_t		 recs_in_pkt;
	uint32_t		 sequence;	/* export packets sent */
	uint64_t		 boot_ms;	/* wall clock at sysUptime 0 */
	uint64_t		 last_emit_ms;
	uint64_t		 next_refresh_ms;
	unsigned		 packets_since_templates;
	bool			 templates_due;	/* by packet count: templates */
	bool			 options_due;	/* by time: + options records */
	uint8_t			*rec;
	uint64_t		 out_packets, out_octets, out_records;
	uint64_t		 records_too_big;
	struct transport_stats	 final;		/* after close */
	struct col_value	 val;
};

/*
 * The v9 field type of a template line, or 0 when v9 has none; own is the
 * template's enterprise number.
 */
static uint16_t
v9_type(const struct tmpl_field *tf, uint32_t own)
{
	return tmpl_v9_type(tf, own);
}

static void
put_be(uint8_t *p, unsigned len, uint64_t v)
{
	unsigned i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static int
build_layout(struct nf9_exporter *x, struct nf9_layout *lay, int family,
    bool uniflow, uint16_t tid, char *errbuf, size_t errlen)
{
	const struct tmpl_field *tf;
	struct nf9_fieldmap *f;
	uint16_t type;
	unsigned i;
	size_t off = 0;

	memset(lay, 0, sizeof(*lay));
	lay->tid = tid;
	for (i = 0; i < x->tmpl.n; i++) {
		tf = &x->tmpl.f[i];
		if ((tf->family != 0 && tf->family != family) ||
		    !exportrec_column_active(&x->env, tf->column))
			continue;
		if (!exportrec_column_fits(tf->column, tf->type)) {
			snprintf(errbuf, errlen, "template %s line %u: column %s "
			    "cannot be written as %s", x->tmpl.path, tf->line,
			    column_name(tf->column), ie_type_name(tf->type));
			return -1;
		}
		if ((type = v9_type(tf, x->tmpl.enterprise)) == 0)
			continue;	/* no NetFlow v9 id: README lists these */
		f = &lay->f[lay->n];
		if (!exportrec_columns(tf, uniflow, f->col))
			continue;
		f->tf = tf;
		f->len = tf->length;
		f->off = off;
		f->uptime = tf->pen == 0 && (tf->id == V9_FIRST_SWITCHED ||
		    tf->id == V9_LAST_SWITCHED);
		lay->wire[lay->n].type = type;
		lay->wire[lay->n].len = tf->length;
		off += tf->length;
		lay->n++;
	}
	lay->rec_len = off;
	lay->used = lay->n > 0;
	return 0;
}

/* Name, once at start-up, the template's columns v9 has no id for. */
static void
warn_left_out(struct nf9_exporter *x)
{
	char list[1024];
	size_t used = 0;
	unsigned i, n = 0;

	list[0] = '\0';
	for (i = 0; i < x->tmpl.n; i++) {
		const struct tmpl_field *tf = &x->tmpl.f[i];

		if (v9_type(tf, x->tmpl.enterprise) != 0 ||
		    !exportrec_column_active(&x->env, tf->column))
			continue;
		n++;
		if (used + strlen(column_name(tf->column)) + 3 < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
			    "%s%s", used ? ", " : "", column_name(tf->column));
	}
	if (n > 0)
		log_warnx("%s: %u template fields have no NetFlow v9 id and are "
		    "left out: %s", x->base.name, n, list);
}

static void
send_packet(struct nf9_exporter *x)
{
	size_t len;

	if (!x->open)
		return;
	len = nf9_finish(&x->p);
	transport_send(x->tr, x->pkt, len, x->recs_in_pkt);
	x->out_packets++;
	x->out_octets += len;
	x->out_records += x->recs_in_pkt;
	x->sequence++;	/* RFC 3954: counts export packets */
	x->packets_since_templates++;
	if (x->env.template_packets > 0 &&
	    x->packets_since_templates >= x->env.template_packets)
		x->templates_due = true;
	x->open = false;
	x->last_emit_ms = monotime_ms();
}

static void add_templates(struct nf9_exporter *x);

static void
open_packet(struct nf9_exporter *x)
{
	uint64_t now = walltime_ms();

	nf9_begin(&x->p, x->pkt, x->mtu, (uint32_t)(now - x->boot_ms),
	    (uint32_t)(now / 1000), x->sequence, x->env.observation_domain);
	x->open = true;
	x->recs_in_pkt = 0;
	if (x->templates_due || x->options_due) {
		x->templates_due = false;
		x->packets_since_templates = 0;
		add_templates(x);
	}
}

/*
 * Add one item, sending the packet and retrying when it is full: twice,
 * because the packet opened for the retry may start with the templates
 * (and options records), which can leave too little room for a large
 * record; the packet after that starts empty.
 */
static int
add_item(struct nf9_exporter *x, int (*add)(struct nf9_exporter *,
    const void *), const void *arg, bool is_record)
{
	int rc, tries;

	if (!x->open)
		open_packet(x);
	for (tries = 0; (rc = add(x, arg)) == NF9_FULL && tries < 2; tries++) {
		send_packet(x);
		open_packet(x);
	}
	if (rc != 0) {
		if (is_record)
			x->records_too_big++;
		return -1;
	}
	if (is_record)
		x->recs_in_pkt++;
	return 0;
}

struct rec_arg {
	uint16_t	 tid;
	const uint8_t	*rec;
	size_t		 len;
};

static int
add_rec_cb(struct nf9_exporter *x, const void *arg)
{
	const struct rec_arg *a = arg;

	return nf9_add_record(&x->p, a->tid, a->rec, a->len);
}

static int
add_tmpl_cb(struct nf9_exporter *x, const void *arg)
{
	const struct nf9_layout *lay = arg;

	return nf9_add_template(&x->p, lay->tid, lay->wire, lay->n);
}

static const struct nf9_field stats_scope[] = { { V9_SCOPE_SYSTEM, 4 } };
static const struct nf9_field stats_fields[] = {
	{ 40, 8 },	/* TOTAL_BYTES_EXP */
	{ 41, 8 },	/* TOTAL_PKTS_EXP (export packets) */
	{ 42, 8 },	/* TOTAL_FLOWS_EXP */
	{ 164, 8 },	/* ignoredPacketTotalCount */
	{ 166, 8 },	/* notSentFlowTotalCount */
};
static const struct nf9_field app_scope[] = { { V9_SCOPE_SYSTEM, 4 } };
static const struct nf9_field app_fields[] = {
	{ 95, 5 },	/* APPLICATION_ID: engine 22 (nDPI) + id */
	{ 96, APP_NAME_LEN },	/* APPLICATION_NAME */
};

static int
add_stats_tmpl_cb(struct nf9_exporter *x, const void *arg)
{
	(void)arg;
	return nf9_add_options_template(&x->p, TID_STATS, stats_scope, 1,
	    stats_fields, 5);
}

static int
add_apps_tmpl_cb(struct nf9_exporter *x, const void *arg)
{
	(void)arg;
	return nf9_add_options_template(&x->p, TID_APPS, app_scope, 1,
	    app_fields, 2);
}

static void
add_stats_record(struct nf9_exporter *x)
{
	struct transport_stats ts;
	uint8_t r[4 + 5 * 8];
	struct rec_arg a = { TID_STATS, r, sizeof(r) };

	transport_stats(x->tr, &ts);
	put_be(r, 4, x->env.observation_domain);
	put_be(r + 4, 8, x->out_octets);
	put_be(r + 12, 8, x->out_packets);
	put_be(r + 20, 8, x->out_records);
	put_be(r + 28, 8, exportrec_packets_ignored(&x->env));
	put_be(r + 36, 8, ts.records_dropped + x->records_too_big);
	(void)add_item(x, add_rec_cb, &a, true);
}

static void
add_app_records(struct nf9_exporter *x)
{
	uint8_t r[4 + 5 + APP_NAME_LEN];
	struct rec_arg a = { TID_APPS, r, sizeof(r) };
	const char *name;
	unsigned id, n;

	if (x->env.dpi == NULL)
		return;
	n = dpi_protocol_count(x->env.dpi);
	for (id = 0; id < n; id++) {
		memset(r, 0, sizeof(r));
		put_be(r, 4, x->env.observation_domain);
		r[4] = 22;
		put_be(r + 5, 4, id);
		name = dpi_protocol_name(x->env.dpi, id);
		memcpy(r + 9, name, strnlen(name, APP_NAME_LEN));
		(void)add_item(x, add_rec_cb, &a, true);
	}
}

/*
 * Templates at the start of a packet; on the timer, also the options
 * records (statistics, application table), which the packet-count refresh
 * does not need to repeat.
 */
static void
add_templates(struct nf9_exporter *x)
{
	bool options = x->options_due;
	unsigned i;

	x->options_due = false;
	for (i = 0; i < 4; i++)
		if (x->lay[i].used)
			(void)add_item(x, add_tmpl_cb, &x->lay[i], false);
	(void)add_item(x, add_stats_tmpl_cb, NULL, false);
	if (x->env.dpi != NULL)
		(void)add_item(x, add_apps_tmpl_cb, NULL, false);
	if (options) {
		add_stats_record(x);
		add_app_records(x);
	}
}

static void
encode_field(struct nf9_exporter *x, const struct nf9_fieldmap *f,
    const struct col_value *v, uint8_t *p)
{
	size_t n = 0, i, w;

	switch (f->tf->type) {
	case IE_IPV4_ADDRESS:
	case IE_IPV6_ADDRESS:
	case IE_MAC_ADDRESS:
		if (v->raw != NULL && v->rawlen >= f->len)
			memcpy(p, v->raw, f->len);
		return;
	case IE_STRING:
	case IE_OCTET_ARRAY:
		/* fixed length: NUL-padded (the record was zeroed) */
		if (v->type == COLT_LIST) {
			w = exportrec_list_width(f->col[0]);
			for (i = 0; i < v->n && (i + 1) * w <= f->len; i++)
				put_be(p + i * w, (unsigned)w, (uint64_t)v->list[i]);
		} else if (v->type == COLT_BYTES) {
			memcpy(p, v->raw, v->rawlen < f->len ? v->rawlen : f->len);
		} else {
			n = exportrec_text_cut(v->s, v->slen, f->len);
			memcpy(p, v->s, n);
		}
		return;
	case IE_FLOAT64:
	case IE_FLOAT32: {
		double d = v->type == COLT_DOUBLE ? v->d : v->type == COLT_INT ?
		    (double)v->i : (double)v->u;
		float fl = (float)d;	/* float32, or a float64 sent in 4 bytes */
		uint32_t u32;
		uint64_t u;

		if (f->len == 8) {
			memcpy(&u, &d, 8);
		} else {
			memcpy(&u32, &fl, 4);
			u = u32;
		}
		put_be(p, f->len, u);
		return;
	}
	default:
		break;
	}
	{
		uint64_t u = v->type == COLT_DOUBLE ?
		    (v->d <= 0 ? 0 : (uint64_t)llround(v->d)) :
		    v->type == COLT_INT ? (uint64_t)v->i : v->u;
		uint64_t max = f->len >= 8 ? UINT64_MAX :
		    ((uint64_t)1 << (8 * f->len)) - 1;

		if (f->uptime)
			u = u >= x->boot_ms ? u - x->boot_ms : 0;
		if (f->tf->type == IE_BOOLEAN)
			u = u != 0 ? 1 : 2;
		if (v->type != COLT_INT && u > max)
			u = max;	/* reduced size saturates */
		put_be(p, f->len, u);
	}
}

static int
append_flow_record(struct nf9_exporter *x, const struct nf9_layout *lay,
    const struct flow_view *v, int reverse)
{
	struct rec_arg a = { lay->tid, x->rec, lay->rec_len };
	const struct nf9_fieldmap *f;
	unsigned i;

	memset(x->rec, 0, lay->rec_len);
	for (i = 0; i < lay->n; i++) {
		f = &lay->f[i];
		if (!ie_type_is_varlen(f->tf->type) &&
		    f->tf->type != IE_IPV4_ADDRESS &&
		    f->tf->type != IE_IPV6_ADDRESS &&
		    f->tf->type != IE_MAC_ADDRESS &&
		    column_is_number((enum col_id)f->col[reverse]))
			column_number_value(v, f->col[reverse], &x->val);
		else
			column_value(v, f->col[reverse], &x->val);
		encode_field(x, f, &x->val, x->rec + f->off);
	}
	return add_item(x, add_rec_cb, &a, true);
}

static int
nf9_export_flow(struct exporter *e, const struct flow_view *v)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;
	const struct nf9_layout *lay = &x->lay[exportrec_layout(v,
	    x->env.uniflow)];
	int rc;

	if (!lay->used) {
		e->failed++;
		return -1;
	}
	rc = append_flow_record(x, lay, v, 0);
	if (rc == 0 && exportrec_has_reverse(v, x->env.uniflow))
		rc = append_flow_record(x, lay, v, 1);
	if (rc != 0) {
		e->failed++;
		snprintf(e->error, sizeof(e->error), "%s: %llu records too large "
		    "for a packet", e->name,
		    (unsigned long long)x->records_too_big);
		return -1;
	}
	e->exported++;
	return 0;
}

static void
nf9_tick(struct exporter *e, uint64_t now_ms, bool idle)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;

	if (x->env.template_refresh_s > 0 && now_ms >= x->next_refresh_ms) {
		x->next_refresh_ms = now_ms + x->env.template_refresh_s * 1000ull;
		send_packet(x);
		x->options_due = true;
		open_packet(x);
		send_packet(x);
		return;
	}
	if (idle && x->open && x->recs_in_pkt > 0 &&
	    now_ms - x->last_emit_ms >= FLUSH_IDLE_MS)
		send_packet(x);
}

static int
nf9_finish_exp(struct exporter *e)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;

	if (x->tr == NULL)
		return 0;
	send_packet(x);
	open_packet(x);
	add_stats_record(x);
	send_packet(x);
	return exportrec_close(&x->tr, 0, &x->final, e->error,
	    sizeof(e->error));
}

static void
nf9_report(struct exporter *e, FILE *fp)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;

	exportrec_report(fp, e->name, e->exported, x->tr, &x->final,
	    x->records_too_big, false);
}

static void
nf9_destroy(struct exporter *e)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;

	(void)exportrec_close(&x->tr, 0, &x->final, x->base.error,
	    sizeof(x->base.error));
	free(x->pkt);
	free(x->rec);
	free(x);
}

static uint64_t
nf9_records_lost(struct exporter *e)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;

	/* After finish the transport is gone: its last counters remain. */
	return x->tr != NULL ? exportrec_transport_lost(x->tr) :
	    x->final.records_dropped;
}

static const struct exporter_ops nf9_ops = {
	.records_lost = nf9_records_lost,
	.export_flow = nf9_export_flow,
	.tick = nf9_tick,
	.finish = nf9_finish_exp,
	.report = nf9_report,
	.destroy = nf9_destroy,
};

struct exporter *
export_nf9_open(const struct exporter_conf *conf,
    const struct exporter_env *env, char *errbuf, size_t errlen)
{
	struct nf9_exporter *x;
	size_t max_rec = 0, worst = 0;
	unsigned i;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	x->base.ops = &nf9_ops;
	x->env = *env;
	x->mtu = env->mtu;
	snprintf(x->base.name, sizeof(x->base.name), "%s", conf->url);
	if (tmpl_load(&x->tmpl, env->template_name, env->template_dir, errbuf,
	    errlen) != 0)
		goto fail;
	for (i = 0; i < 4; i++) {
		if ((i >= 2) != env->uniflow)
			continue;	/* only the mode's own templates */
		if (build_layout(x, &x->lay[i], (i % 2) ? 6 : 4, i >= 2,
		    (uint16_t)(256 + i), errbuf, errlen) != 0)
			goto fail;
		if (x->lay[i].rec_len > max_rec)
			max_rec = x->lay[i].rec_len;
		worst = NF9_HEADER_LEN + NF9_FLOWSET_HEADER + 3 +
		    (x->lay[i].rec_len > 4 + 4 * (size_t)x->lay[i].n ?
		    x->lay[i].rec_len : 4 + 4 * (size_t)x->lay[i].n);
		if (x->lay[i].used && worst > x->mtu) {
			snprintf(errbuf, errlen, "template %s: NetFlow v9 records "
			    "of %zu bytes do not fit a %zu-byte packet (--mtu); "
			    "shorten the template's lengths or raise --mtu",
			    x->tmpl.path, x->lay[i].rec_len, x->mtu);
			goto fail;
		}
	}
	warn_left_out(x);
	if (!x->lay[0].used && !x->lay[1].used && !x->lay[2].used &&
	    !x->lay[3].used) {
		snprintf(errbuf, errlen, "template %s has no field NetFlow v9 can "
		    "carry", x->tmpl.path);
		goto fail;
	}
	/* With templates in every packet, they and a record must fit one. */
	if (env->template_packets == 1) {
		worst = NF9_HEADER_LEN + NF9_FLOWSET_HEADER + 3 + max_rec +
		    NF9_FLOWSET_HEADER + 3 +
		    2 * (NF9_FLOWSET_HEADER + 6 + 4 * 6 + 3);
		for (i = 0; i < 4; i++)
			if (x->lay[i].used)
				worst += 4 + 4 * (size_t)x->lay[i].n;
		if (worst > x->mtu) {
			snprintf(errbuf, errlen, "--template-packets 1: the templates "
			    "and a record need up to %zu bytes, more than --mtu %zu",
			    worst, x->mtu);
			goto fail;
		}
	}
	if ((x->pkt = malloc(x->mtu)) == NULL ||
	    (x->rec = calloc(1, max_rec + 8)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	if ((x->tr = transport_open(&conf->transport, errbuf, errlen)) == NULL)
		goto fail;
	x->boot_ms = walltime_ms();
	x->last_emit_ms = monotime_ms();
	x->next_refresh_ms = x->last_emit_ms + env->template_refresh_s * 1000ull;
	x->options_due = true;	/* the first packets carry everything */
	open_packet(x);
	send_packet(x);
	return &x->base;
fail:
	nf9_destroy(&x->base);
	return NULL;
}
