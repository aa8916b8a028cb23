/*
 * export_nf9.c - NetFlow v9 export over UDP, with our own encoder (nf9.c).
 *
 *	export_nf9_open()	the core's layouts, v9 templates, UDP transport
 *	append_cb()		a record (from the core) into the open packet:
 *				one biflow record (IN 1/2 + OUT 23/24 counters)
 *				or two uniflow records
 *	nf9_tick()		template refresh by time, idle flush, the
 *				transport's UDP batch
 *	nf9_finish_exp(), nf9_release()
 *
 * Records are laid out and filled by the binary-export core (binrec.c);
 * this file keeps the v9 side: field types from tmpl_v9_type() (template.c,
 * shared with the collector-file generator; a field without a v9 id is
 * left out), packets, and the template refresh.  Every field has a fixed
 * length: strings and octet arrays are NUL-padded or truncated to the
 * template's length.
 * FIRST_SWITCHED (22) and LAST_SWITCHED (21) are milliseconds of sysUptime.
 * Templates (and the options records: exporter statistics, application
 * table) are sent at start, every --template-refresh seconds and every
 * --template-packets export packets (RFC 3954 section 9).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "binrec.h"
#include "dpi.h"
#include "exporter.h"
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
#define FLUSH_IDLE_MS		1000

struct nf9_exporter {
	struct binrec_exporter	 b;		/* first: see binrec.h */
	struct nf9_field	 wire[BINREC_LAYOUTS][TMPL_MAX_FIELDS];
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
	uint64_t		 out_packets, out_octets, out_records;
};

/* FIRST_SWITCHED, LAST_SWITCHED: milliseconds of sysUptime. */
static bool
is_uptime(const struct tmpl_field *tf)
{
	return tf->pen == 0 && (tf->id == V9_FIRST_SWITCHED ||
	    tf->id == V9_LAST_SWITCHED);
}

/* A line without a v9 id is left out: README lists these. */
static int
hook_field(void *ctx, const struct tmpl_field *tf, char *errbuf,
    size_t errlen)
{
	struct nf9_exporter *x = ctx;

	(void)errbuf;
	(void)errlen;
	return tmpl_v9_type(tf, x->b.tmpl.enterprise) != 0;
}

static bool
hook_fast(void *ctx, const struct tmpl_field *tf)
{
	(void)ctx;
	return !is_uptime(tf);	/* relative to boot_ms: not the plain number */
}

static const struct binrec_hooks hooks = {
	.field = hook_field, .fast = hook_fast, .varlen = false
};

/* The v9 template of each layout; uptime fields count from boot_ms. */
static void
build_wire(struct nf9_exporter *x)
{
	struct binrec_layout *lay;
	unsigned i, k;

	for (k = 0; k < BINREC_LAYOUTS; k++) {
		lay = &x->b.core.lay[k];
		for (i = 0; i < lay->n; i++) {
			x->wire[k][i].type = tmpl_v9_type(lay->f[i].tf,
			    x->b.tmpl.enterprise);
			x->wire[k][i].len = lay->f[i].len;
		}
		for (i = 0; i < lay->nslow; i++)
			lay->slow[i].relative = is_uptime(lay->slow[i].tf);
	}
}

/* Name, once at start-up, the template's columns v9 has no id for. */
static void
warn_left_out(struct nf9_exporter *x)
{
	char list[1024];
	size_t used = 0;
	unsigned i, n = 0;

	list[0] = '\0';
	for (i = 0; i < x->b.tmpl.n; i++) {
		const struct tmpl_field *tf = &x->b.tmpl.f[i];

		if (tmpl_v9_type(tf, x->b.tmpl.enterprise) != 0 ||
		    !binrec_column_active(&x->b.env, tf->column))
			continue;
		n++;
		if (used + strlen(column_name(tf->column)) + 3 < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
			    "%s%s", used ? ", " : "", column_name(tf->column));
	}
	if (n > 0)
		log_warnx("%s: %u template fields have no NetFlow v9 id and are "
		    "left out: %s", x->b.base.name, n, list);
}

static void
send_packet(struct nf9_exporter *x)
{
	size_t len;

	if (!x->open)
		return;
	len = nf9_finish(&x->p);
	transport_send(x->b.tr, x->pkt, len, x->recs_in_pkt);
	x->out_packets++;
	x->out_octets += len;
	x->out_records += x->recs_in_pkt;
	x->sequence++;	/* RFC 3954: counts export packets */
	x->packets_since_templates++;
	if (x->b.env.template_packets > 0 &&
	    x->packets_since_templates >= x->b.env.template_packets)
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
	    (uint32_t)(now / 1000), x->sequence, x->b.env.observation_domain);
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
			x->b.too_big++;
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
	const struct binrec_layout *lay = arg;

	return nf9_add_template(&x->p, lay->tid,
	    x->wire[lay->tid - BINREC_TID_FIRST], lay->n);
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
	{ 96, BINREC_APP_NAME_LEN },	/* APPLICATION_NAME */
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
	struct binrec_stats st;
	uint8_t r[4 + 5 * 8];
	struct rec_arg a = { TID_STATS, r, sizeof(r) };

	binrec_stats_fill(&st, &x->b.env, x->b.tr, x->out_octets, x->out_packets,
	    x->out_records, x->b.too_big);
	binrec_put_be(r, 4, st.observation_domain);
	binrec_put_be(r + 4, 8, st.octets);
	binrec_put_be(r + 12, 8, st.messages);	/* export packets */
	binrec_put_be(r + 20, 8, st.records);
	binrec_put_be(r + 28, 8, st.packets_ignored);
	binrec_put_be(r + 36, 8, st.not_sent);
	(void)add_item(x, add_rec_cb, &a, true);
}

static void
add_app_records(struct nf9_exporter *x)
{
	uint8_t r[4 + 5 + BINREC_APP_NAME_LEN];
	struct rec_arg a = { TID_APPS, r, sizeof(r) };
	unsigned id, n;

	if (x->b.env.dpi == NULL)
		return;
	n = dpi_protocol_count(x->b.env.dpi);
	for (id = 0; id < n; id++) {
		binrec_put_be(r, 4, x->b.env.observation_domain);
		binrec_app_entry(id, dpi_protocol_name(x->b.env.dpi, id), r + 4,
		    (char *)r + 9);
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
	for (i = 0; i < BINREC_LAYOUTS; i++)
		if (x->b.core.lay[i].used)
			(void)add_item(x, add_tmpl_cb, &x->b.core.lay[i], false);
	(void)add_item(x, add_stats_tmpl_cb, NULL, false);
	if (x->b.env.dpi != NULL)
		(void)add_item(x, add_apps_tmpl_cb, NULL, false);
	if (options) {
		add_stats_record(x);
		add_app_records(x);
	}
}

static int
append_cb(void *ctx, uint16_t tid, const uint8_t *rec, size_t len)
{
	struct rec_arg a = { tid, rec, len };

	return add_item(ctx, add_rec_cb, &a, true);
}

static void
nf9_tick(struct exporter *e, uint64_t now_ms, bool idle)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;

	if (x->b.env.template_refresh_s > 0 && now_ms >= x->next_refresh_ms) {
		x->next_refresh_ms = now_ms + x->b.env.template_refresh_s * 1000ull;
		send_packet(x);
		x->options_due = true;
		open_packet(x);
		send_packet(x);
	} else if (idle && x->open && x->recs_in_pkt > 0 &&
	    now_ms - x->last_emit_ms >= FLUSH_IDLE_MS) {
		send_packet(x);
	}
	/* UDP: finished packets wait in the transport's batch until it is
	 * full or the rings run dry (an idle tick); a busy tick (every 1024
	 * records) leaves them, as the next ones follow at once. */
	if (idle)
		transport_flush(x->b.tr);
}

static int
nf9_finish_exp(struct exporter *e)
{
	struct nf9_exporter *x = (struct nf9_exporter *)e;

	if (x->b.tr == NULL)
		return 0;
	send_packet(x);
	open_packet(x);
	add_stats_record(x);
	send_packet(x);
	return transport_finish(&x->b.tr, 0, &x->b.final, e->error,
	    sizeof(e->error));
}

static void
nf9_release(struct binrec_exporter *b)
{
	struct nf9_exporter *x = (struct nf9_exporter *)b;

	free(x->pkt);
}

static const struct exporter_ops nf9_ops = {
	BINREC_EXPORTER_OPS,
	.tick = nf9_tick,
	.finish = nf9_finish_exp,
};

struct exporter *
export_nf9_open(const struct exporter_conf *conf,
    const struct exporter_env *env, char *errbuf, size_t errlen)
{
	const struct binrec_layout *lay;
	struct nf9_exporter *x;
	size_t max_rec = 0, worst;
	unsigned i;

	if ((x = binrec_exporter_new(sizeof(*x), &nf9_ops, conf, env, errbuf,
	    errlen)) == NULL)
		return NULL;
	x->b.append = append_cb;
	x->b.release = nf9_release;
	x->b.unit = "packet";
	x->mtu = env->mtu;
	if (binrec_init(&x->b.core, &x->b.tmpl, &x->b.env, &hooks, x, errbuf,
	    errlen) != 0)
		goto fail;
	build_wire(x);
	for (i = 0; i < BINREC_LAYOUTS; i++) {
		lay = &x->b.core.lay[i];
		if (!lay->used)
			continue;
		if (lay->rec_size > max_rec)
			max_rec = lay->rec_size;
		worst = NF9_HEADER_LEN + NF9_FLOWSET_HEADER + 3 +
		    (lay->rec_size > 4 + 4 * (size_t)lay->n ?
		    lay->rec_size : 4 + 4 * (size_t)lay->n);
		if (worst > x->mtu) {
			snprintf(errbuf, errlen, "template %s: NetFlow v9 records "
			    "of %zu bytes do not fit a %zu-byte packet (--mtu); "
			    "shorten the template's lengths or raise --mtu",
			    x->b.tmpl.path, lay->rec_size, x->mtu);
			goto fail;
		}
	}
	warn_left_out(x);
	if (!binrec_any_used(&x->b.core)) {
		snprintf(errbuf, errlen, "template %s has no field NetFlow v9 can "
		    "carry", x->b.tmpl.path);
		goto fail;
	}
	/* With templates in every packet, they and a record must fit one. */
	if (env->template_packets == 1) {
		worst = NF9_HEADER_LEN + NF9_FLOWSET_HEADER + 3 + max_rec +
		    NF9_FLOWSET_HEADER + 3 +
		    2 * (NF9_FLOWSET_HEADER + 6 + 4 * 6 + 3);
		for (i = 0; i < BINREC_LAYOUTS; i++)
			if (x->b.core.lay[i].used)
				worst += 4 + 4 * (size_t)x->b.core.lay[i].n;
		if (worst > x->mtu) {
			snprintf(errbuf, errlen, "--template-packets 1: the templates "
			    "and a record need up to %zu bytes, more than --mtu %zu",
			    worst, x->mtu);
			goto fail;
		}
	}
	if ((x->pkt = malloc(x->mtu)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	if ((x->b.tr = transport_open(&conf->transport, errbuf, errlen)) == NULL)
		goto fail;
	x->boot_ms = walltime_ms();
	x->b.core.time_base = x->boot_ms;
	x->last_emit_ms = monotime_ms();
	x->next_refresh_ms = x->last_emit_ms + env->template_refresh_s * 1000ull;
	x->options_due = true;	/* the first packets carry everything */
	open_packet(x);
	send_packet(x);
	if (transport_start(x->b.tr, errbuf, errlen) != 0)
		goto fail;
	return &x->b.base;
fail:
	binrec_exporter_destroy(&x->b.base);
	return NULL;
}
