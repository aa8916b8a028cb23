/*
 * export_ipfix.c - IPFIX export with libfixbuf: the only module that
 * includes it.
 *
 *	export_ipfix_open()	info model, templates from the template file,
 *				session, buffer, transport; first templates
 *	ipfix_export_flow()	one biflow record (or two uniflow records)
 *	ipfix_tick()		UDP template refresh, flush of an idle message
 *	ipfix_finish()		statistics record, last message, close
 *	ipfix_report(), ipfix_destroy()
 *
 * libfixbuf writes every message into a buffer exporter the size of the
 * transport's MTU; after each libfixbuf call that may emit (one append, one
 * template, one type record, one explicit emit: never more than one message
 * per call) the new message is handed to the transport.  Records are built
 * in an internal layout computed from the template file: numbers in host
 * order at their template length, varlen fields as fbVarfield_t aligned to
 * 8 bytes with paddingOctets that exist only in the internal template.
 *
 * Template ids: 256/257 IPv4/IPv6 biflow, 258/259 IPv4/IPv6 uniflow, 260
 * exporter statistics (RFC 7011 section 4), 261 application table
 * (applicationId -> applicationName, RFC 6759), 262/263 RFC 5610 type
 * records, 264 the application table again.  Each options template goes
 * out in a set of its own (export_template()).  Application records
 * alternate between 261 and 264, so that each is a set of its own: nfdump
 * 1.7.1 (Debian 12) reads only the first record of an IPFIX options set
 * right (it leaves the scope out of the record size; fixed in 1.7.2).
 */
#define _DEFAULT_SOURCE
#include <endian.h>
#include <fixbuf/public.h>
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
#include "template.h"
#include "transport.h"

#define TID_DATA_V4		256
#define TID_DATA_V6		257
#define TID_UNI_V4		258
#define TID_UNI_V6		259
#define TID_STATS		260
#define TID_APPS		261
#define TID_TYPES_INT		262
#define TID_TYPES_EXT		263
#define TID_APPS_ALT		264
#define SPEC_INTERNAL		0x1
#define SPEC_EXTERNAL		0x2
#define FLUSH_IDLE_MS		1000
#define CLOSE_WAIT_MS		5000
#define IPFIX_MSG_HEADER	16
#define IPFIX_SET_HEADER	4

struct ipfix_field {
	const struct tmpl_field	*tf;
	int			 col[2];	/* forward, reverse record */
	size_t			 off;		/* in the internal record */
	uint16_t		 len;		/* wire length (varlen: max) */
	bool			 numeric;	/* read from flow_view.num[] */
	bool			 fixed_text;	/* string/octets at len, NUL-padded */
	bool			 text_reversed;	/* fixed_text of an element that
						 * libfixbuf byte-swaps */
	bool			 wire_order;	/* number in network byte order */
};

/*
 * Fields written straight from flow_view.num: unsigned integers from
 * unsigned columns (clamped: reduced-size encoding saturates) and float64
 * from double columns (the bits as they are).  Each is stored in network
 * byte order, as 8 bytes at its offset whose first `len` are the value;
 * the zero bytes past a short field are overwritten by the fields after
 * it, which are written later.  No per-field type dispatch: that dispatch
 * was the record builder's main cost.
 *
 * Their elements carry no FB_IE_F_ENDIAN in this exporter's information
 * model (see wire_order_element()), so libfixbuf copies them as they are
 * instead of reversing them byte by byte: that reversal was a third of
 * libfixbuf's time per record.
 */
struct ipfix_fast {
	uint32_t		off;
	int16_t			col[2];
	uint8_t			shift;		/* 8 * (8 - len) */
	uint64_t		max;
};

struct ipfix_layout {
	uint16_t		tid;
	bool			used;
	unsigned		n;		/* fields in f[] (fast ones not) */
	struct ipfix_field	f[TMPL_MAX_FIELDS];
	unsigned		nfast;
	struct ipfix_fast	fast[TMPL_MAX_FIELDS];
	size_t			rec_size;
	size_t			max_wire;	/* worst-case record on the wire */
};

/* Statistics options record, internal layout (RFC 7011 section 4). */
struct stats_rec {
	uint32_t	observation_domain;
	uint32_t	pad;
	uint64_t	octets;
	uint64_t	messages;
	uint64_t	records;
	uint64_t	packets_ignored;
	uint64_t	records_dropped;
	uint64_t	init_time_ms;
};

/*
 * Application table options record, internal layout: the NetFlow v9
 * table's.  Scope observationDomainId, not applicationId: nfdump reads the
 * id only outside the scope.  The name has a fixed length, NUL-padded:
 * nfdump and nfacctd take no variable-length applicationName (nfdump then
 * names no application).
 */
#define APP_NAME_LEN		32
struct app_rec {
	uint32_t	observation_domain;
	uint8_t		app_id[5];
	char		name[APP_NAME_LEN];
	uint8_t		pad[3];
};

struct ipfix_exporter {
	struct exporter		 base;
	struct transport	*tr;
	struct tmpl		 tmpl;
	struct exporter_env	 env;
	enum transport_kind	 conf_kind;
	fbInfoModel_t		*model;
	fbSession_t		*session;
	fBuf_t			*fbuf;
	uint8_t			*msgbuf;	/* the buffer exporter's output */
	size_t			 mtu;
	struct ipfix_layout	 lay[4];	/* v4, v6, v4 uniflow, v6 uniflow */
	uint8_t			*rec;
	size_t			 rec_cap;
	uint8_t			*strings;	/* string copies of one record */
	size_t			 strings_cap;
	uint16_t		 cur_tid;
	bool			 opts_tmpl_set;	/* the open message ends with an
						 * options template set */
	uint32_t		 recs_in_msg;
	uint64_t		 last_emit_ms;
	uint64_t		 next_refresh_ms;
	uint64_t		 init_time_ms;
	bool			 app_id_reversed;	/* libfixbuf byte-swaps
						 * applicationId (see text_reversed) */
	bool			 addr_as_text;	/* a template writes an IP or MAC
						 * address as text */
	/* Elements that options and type records use: libfixbuf converts
	 * their byte order, as it does for the records it builds itself. */
	struct { uint32_t ent; uint16_t num; } host_order[32];
	unsigned		 n_host_order;
	uint64_t		 records_too_big;
	uint64_t		 encode_errors;
	/* what the encoder handed to the transport (RFC 7011 statistics) */
	uint64_t		 out_messages, out_octets, out_records;
	struct transport_stats	 final;		/* after close */
	struct strbuf_like {
		uint8_t	*p;
		size_t	 len, cap;
		bool	 active;
	}			 preamble;
	struct col_value	 val;
};

static const fbInfoElementSpec_t stats_spec[] = {
	{ "observationDomainId", 4, 0 },
	{ "paddingOctets", 4, SPEC_INTERNAL },
	{ "exportedOctetTotalCount", 8, 0 },
	{ "exportedMessageTotalCount", 8, 0 },
	{ "exportedFlowRecordTotalCount", 8, 0 },
	{ "ignoredPacketTotalCount", 8, 0 },
	{ "notSentFlowTotalCount", 8, 0 },
	{ "systemInitTimeMilliseconds", 8, 0 },
	FB_IESPEC_NULL
};

static const fbInfoElementSpec_t app_spec[] = {
	{ "observationDomainId", 4, 0 },
	{ "applicationId", 5, 0 },
	{ "applicationName", APP_NAME_LEN, 0 },
	{ "paddingOctets", 3, SPEC_INTERNAL },
	FB_IESPEC_NULL
};

static void
set_gerror(struct ipfix_exporter *x, char *errbuf, size_t errlen,
    const char *what, GError *err)
{
	snprintf(errbuf, errlen, "%s: %s: %s", x->base.name, what,
	    err != NULL ? err->message : "failed");
	g_clear_error(&err);
}

/* Log a libfixbuf failure once, free it, and fail the caller. */
static int
log_gerror(struct ipfix_exporter *x, const char *what, unsigned id,
    GError **err)
{
	log_warnx("%s: %s %u: %s", x->base.name, what, id,
	    *err != NULL ? (*err)->message : "?");
	g_clear_error(err);
	return -1;
}

static int
preamble_add(struct ipfix_exporter *x, const uint8_t *p, size_t len)
{
	uint8_t *np;
	size_t cap;

	if (x->preamble.len + len > x->preamble.cap) {
		cap = x->preamble.cap ? x->preamble.cap * 2 : 8192;
		while (cap < x->preamble.len + len)
			cap *= 2;
		if ((np = realloc(x->preamble.p, cap)) == NULL)
			return -1;
		x->preamble.p = np;
		x->preamble.cap = cap;
	}
	memcpy(x->preamble.p + x->preamble.len, p, len);
	x->preamble.len += len;
	return 0;
}

/*
 * After a libfixbuf call: if it emitted a message (the buffer exporter
 * rewrote the version field we cleared), pass it on.  `appended` tells
 * whether the call added one record to the message it leaves open.
 */
static void
drain(struct ipfix_exporter *x, bool appended)
{
	uint32_t in_msg = x->recs_in_msg;
	size_t len;

	if (x->msgbuf[0] == 0 && x->msgbuf[1] == 10) {
		len = (size_t)x->msgbuf[2] << 8 | x->msgbuf[3];
		if (x->preamble.active)
			(void)preamble_add(x, x->msgbuf, len);
		else
			transport_send(x->tr, x->msgbuf, len, in_msg);
		x->out_messages++;
		x->out_octets += len;
		x->out_records += in_msg;
		x->msgbuf[0] = x->msgbuf[1] = 0xff;
		x->opts_tmpl_set = false;
		x->last_emit_ms = monotime_ms();
		x->recs_in_msg = appended ? 1 : 0;
		return;
	}
	if (appended)
		x->recs_in_msg++;
}

static int
emit(struct ipfix_exporter *x)
{
	GError *err = NULL;

	if (!fBufEmit(x->fbuf, &err)) {
		g_clear_error(&err);
		return -1;
	}
	drain(x, false);
	x->recs_in_msg = 0;
	return 0;
}

static int
use_template(struct ipfix_exporter *x, uint16_t tid)
{
	GError *err = NULL;

	if (x->cur_tid == tid)
		return 0;
	if (!fBufSetInternalTemplate(x->fbuf, tid, &err) ||
	    !fBufSetExportTemplate(x->fbuf, tid, &err))
		return log_gerror(x, "template", tid, &err);
	x->cur_tid = tid;
	return 0;
}

static int
append(struct ipfix_exporter *x, uint16_t tid, const void *rec, size_t len)
{
	GError *err = NULL;

	if (use_template(x, tid) != 0)
		return -1;
	if (!fBufAppend(x->fbuf, (uint8_t *)(uintptr_t)rec, len, &err)) {
		if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			x->records_too_big++;
		else
			x->encode_errors++;
		g_clear_error(&err);
		drain(x, false);
		return -1;
	}
	drain(x, true);
	return 0;
}

/* ---- building templates from the template file ------------------------ */

static fbInfoElement_t *
new_element(const struct tmpl_field *tf)
{
	fbInfoElement_t *ie = calloc(1, sizeof(*ie));
	uint8_t t = tf->type;

	if (ie == NULL)
		return NULL;
	ie->ref.name = tf->name;
	ie->ent = tf->pen;
	ie->num = tf->id;
	ie->len = ie_type_is_varlen(t) ? FB_IE_VARLEN : (uint16_t)ie_type_size(t);
	ie->type = t;	/* RFC 7012 numbering, as libfixbuf's FB_* types */
	if (t != IE_OCTET_ARRAY && t != IE_STRING && t != IE_MAC_ADDRESS &&
	    t != IE_IPV6_ADDRESS)
		ie->flags = FB_IE_F_ENDIAN;
	return ie;
}

/* The element for a template line: libfixbuf's own, or one we add. */
static const fbInfoElement_t *
resolve_element(struct ipfix_exporter *x, const struct tmpl_field *tf,
    char *errbuf, size_t errlen)
{
	const fbInfoElement_t *ie;
	fbInfoElement_t *add;

	ie = fbInfoModelGetElementByID(x->model, tf->id, tf->pen);
	if (ie != NULL) {
		if (ie->type != tf->type) {
			snprintf(errbuf, errlen, "template %s line %u: element %u is "
			    "%s, not %s", x->tmpl.path, tf->line, tf->id,
			    ie_type_name(ie->type), ie_type_name(tf->type));
			return NULL;
		}
		return ie;
	}
	if (fbInfoModelGetElementByName(x->model, tf->name) != NULL) {
		snprintf(errbuf, errlen, "template %s line %u: element name %s "
		    "already names another element", x->tmpl.path, tf->line,
		    tf->name);
		return NULL;
	}
	if (tf->pen == 0 || tf->pen == TMPL_REVERSE_PEN) {
		snprintf(errbuf, errlen, "template %s line %u: %s %u is not a "
		    "known IANA element", x->tmpl.path, tf->line,
		    tf->pen ? "reverse element" : "element", tf->id);
		return NULL;
	}
	if ((add = new_element(tf)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	fbInfoModelAddElement(x->model, add);	/* copies it */
	free(add);
	return fbInfoModelGetElementByID(x->model, tf->id, tf->pen);
}

/* Most bytes a varlen field can carry in this run. */
static size_t
max_wire_len(const struct ipfix_exporter *x, const struct tmpl_field *tf)
{
	if (column_type(tf->column) != COLT_LIST)
		return tf->length;
	return exportrec_list_bytes(tf->column, x->env.splt_n, tf->length);
}

/* Internal-only paddingOctets so that off reaches a multiple of 8. */
static void
spec_pad8(fbInfoElementSpec_t *spec, unsigned *ns, size_t *off)
{
	static char padding_name[] = "paddingOctets";
	unsigned pad = (unsigned)((8 - *off % 8) % 8);

	if (pad == 0)
		return;
	spec[*ns].name = padding_name;
	spec[*ns].len_override = (uint16_t)pad;
	spec[(*ns)++].flags = SPEC_INTERNAL;
	*off += pad;
}

/* Can the field go through the fast loop (see struct ipfix_fast)? */
static bool
fast_field(const struct ipfix_field *f)
{
	enum col_type want;
	int k;

	if (!f->numeric)
		return false;
	switch (f->tf->type) {
	case IE_UNSIGNED8: case IE_UNSIGNED16: case IE_UNSIGNED32:
	case IE_UNSIGNED64: case IE_DATE_TIME_MILLISECONDS:
		want = COLT_UINT;
		break;
	case IE_FLOAT64:
		if (f->len != 8)
			return false;	/* sent as float32 */
		want = COLT_DOUBLE;
		break;
	default:
		return false;
	}
	for (k = 0; k < 2; k++)
		if (f->col[k] >= 0 && column_type((enum col_id)f->col[k]) != want)
			return false;
	return true;
}

/* Note the elements of an options or type template: see host_order. */
static void
keep_host_order(struct ipfix_exporter *x, fbTemplate_t *t)
{
	uint32_t i, n = fbTemplateCountElements(t);
	const fbInfoElement_t *ie;

	for (i = 0; i < n; i++) {
		ie = fbTemplateGetIndexedIE(t, i);
		if (x->n_host_order == sizeof(x->host_order) /
		    sizeof(x->host_order[0]))
			abort();	/* sized for our own options templates */
		x->host_order[x->n_host_order].ent = ie->ent;
		x->host_order[x->n_host_order++].num = ie->num;
	}
}

/*
 * Clear FB_IE_F_ENDIAN on an element of this exporter's own information
 * model: libfixbuf then copies the value, which the record builder writes
 * in network byte order.  False for an element that an options or type
 * record also uses (libfixbuf builds type records in host order).  The
 * model updates an element in place when it is added again; templates
 * built earlier keep the flags they copied, and each layout reads the
 * flags of its own elements when its templates are built.
 */
static bool
wire_order_element(struct ipfix_exporter *x, const fbInfoElement_t *ie)
{
	fbInfoElement_t copy;
	unsigned i;

	if (!(ie->flags & FB_IE_F_ENDIAN))
		return true;
	for (i = 0; i < x->n_host_order; i++)
		if (x->host_order[i].ent == ie->ent &&
		    x->host_order[i].num == ie->num)
			return false;
	copy = *ie;
	/* Not REVERSIBLE: re-adding would also rewrite its reverse twin. */
	copy.flags &= ~(uint32_t)(FB_IE_F_ENDIAN | FB_IE_F_REVERSIBLE);
	fbInfoModelAddElement(x->model, &copy);
	return true;
}

static int
build_layout(struct ipfix_exporter *x, struct ipfix_layout *lay, int family,
    bool uniflow, uint16_t tid, char *errbuf, size_t errlen)
{
	fbInfoElementSpec_t spec[2 * TMPL_MAX_FIELDS + 1];
	fbTemplate_t *ti = NULL, *te = NULL;
	const fbInfoElement_t *ie;
	const struct tmpl_field *tf;
	struct ipfix_field *f;
	GError *err = NULL;
	unsigned i, ns = 0;
	size_t off = 0, wire = 0;

	memset(lay, 0, sizeof(*lay));
	lay->tid = tid;
	for (i = 0; i < x->tmpl.n; i++) {
		tf = &x->tmpl.f[i];
		if (tf->family != 0 && tf->family != family)
			continue;
		if (!exportrec_column_active(&x->env, tf->column))
			continue;
		if (!exportrec_column_fits(tf->column, tf->type)) {
			snprintf(errbuf, errlen, "template %s line %u: column %s "
			    "cannot be written as %s", x->tmpl.path, tf->line,
			    column_name(tf->column), ie_type_name(tf->type));
			return -1;
		}
		if ((ie = resolve_element(x, tf, errbuf, errlen)) == NULL)
			return -1;
		if (tf->fixed && column_type(tf->column) == COLT_LIST) {
			snprintf(errbuf, errlen, "template %s line %u: a list column "
			    "cannot be fixed-length", x->tmpl.path, tf->line);
			return -1;
		}
		f = &lay->f[lay->n];
		if (!exportrec_columns(tf, uniflow, f->col))
			continue;
		lay->n++;
		if ((tf->column == COL_SRC_IP || tf->column == COL_DST_IP ||
		    tf->column == COL_SRC_MAC || tf->column == COL_DST_MAC) &&
		    ie_type_is_varlen(tf->type))
			x->addr_as_text = true;
		f->tf = tf;
		f->fixed_text = tf->fixed;
		f->numeric = !ie_type_is_varlen(tf->type) &&
		    tf->type != IE_IPV4_ADDRESS && tf->type != IE_IPV6_ADDRESS &&
		    tf->type != IE_MAC_ADDRESS &&
		    column_is_number((enum col_id)f->col[0]) &&
		    (f->col[1] < 0 || column_is_number((enum col_id)f->col[1]));
		if (ie_type_is_varlen(tf->type) && !tf->fixed) {
			/* fbVarfield_t holds a size_t and a pointer. */
			spec_pad8(spec, &ns, &off);
			f->len = tf->length;
			f->off = off;
			off += sizeof(fbVarfield_t);
			wire += 3u + max_wire_len(x, tf);
			spec[ns].len_override = FB_IE_VARLEN;
		} else {
			f->len = tf->length;
			f->off = off;
			off += tf->length;
			wire += tf->length;
			spec[ns].len_override = tf->length;
		}
		spec[ns].name = (char *)(uintptr_t)ie->ref.name;
		spec[ns++].flags = 0;
		if (fast_field(f) && wire_order_element(x, ie)) {
			struct ipfix_fast *ff = &lay->fast[lay->nfast++];

			ff->off = (uint32_t)f->off;
			ff->col[0] = (int16_t)f->col[0];
			ff->col[1] = (int16_t)f->col[1];
			ff->shift = (uint8_t)(8 * (8 - f->len));
			ff->max = f->len >= 8 ? UINT64_MAX :
			    ((uint64_t)1 << (8 * f->len)) - 1;
			lay->n--;	/* not in f[]: the fast loop writes it */
		}
	}
	/* Flags as the templates below copy them (another field of this or
	 * an earlier layout may have changed an element's). */
	for (i = 0; i < lay->n; i++) {
		f = &lay->f[i];
		ie = fbInfoModelGetElementByID(x->model, f->tf->id, f->tf->pen);
		f->wire_order = ie != NULL && !ie_type_is_varlen(f->tf->type) &&
		    !(ie->flags & FB_IE_F_ENDIAN);
		/* libfixbuf's model flags some octet arrays (applicationId)
		 * for byte-order conversion: a fixed-length copy of one is
		 * reversed here so that it leaves in its own order. */
		f->text_reversed = ie != NULL && f->fixed_text &&
		    (ie->flags & FB_IE_F_ENDIAN);
	}
	spec_pad8(spec, &ns, &off);
	spec[ns].name = NULL;
	spec[ns].len_override = 0;
	spec[ns].flags = 0;
	lay->rec_size = off;
	lay->max_wire = wire;
	if (lay->n + lay->nfast == 0)
		return 0;
	ti = fbTemplateAlloc(x->model);
	te = fbTemplateAlloc(x->model);
	if (!fbTemplateAppendSpecArray(ti, spec, SPEC_INTERNAL, &err) ||
	    !fbTemplateAppendSpecArray(te, spec, SPEC_EXTERNAL, &err)) {
		set_gerror(x, errbuf, errlen, "building a template", err);
		fbTemplateFreeUnused(ti);
		fbTemplateFreeUnused(te);
		return -1;
	}
	if (fbTemplateGetIELenOfMemBuffer(ti) != off) {
		snprintf(errbuf, errlen, "%s: internal record layout mismatch "
		    "(%u vs %zu bytes)", x->base.name,
		    fbTemplateGetIELenOfMemBuffer(ti), off);
		fbTemplateFreeUnused(ti);
		fbTemplateFreeUnused(te);
		return -1;
	}
	if (!fbSessionAddTemplate(x->session, TRUE, tid, ti, &err) ||
	    !fbSessionAddTemplate(x->session, FALSE, tid, te, &err)) {
		set_gerror(x, errbuf, errlen, "adding a template", err);
		return -1;
	}
	lay->used = true;
	return 0;
}

static int
add_options_template(struct ipfix_exporter *x, uint16_t tid,
    const fbInfoElementSpec_t *spec, uint16_t scope, char *errbuf,
    size_t errlen)
{
	fbTemplate_t *ti = fbTemplateAlloc(x->model);
	fbTemplate_t *te = fbTemplateAlloc(x->model);
	GError *err = NULL;

	if (!fbTemplateAppendSpecArray(ti, (fbInfoElementSpec_t *)(uintptr_t)spec,
	    SPEC_INTERNAL, &err) ||
	    !fbTemplateAppendSpecArray(te, (fbInfoElementSpec_t *)(uintptr_t)spec,
	    SPEC_EXTERNAL, &err)) {
		fbTemplateFreeUnused(ti);
		fbTemplateFreeUnused(te);
		set_gerror(x, errbuf, errlen, "building an options template", err);
		return -1;
	}
	fbTemplateSetOptionsScope(ti, scope);
	fbTemplateSetOptionsScope(te, scope);
	keep_host_order(x, ti);
	if (!fbSessionAddTemplate(x->session, TRUE, tid, ti, &err) ||
	    !fbSessionAddTemplate(x->session, FALSE, tid, te, &err)) {
		set_gerror(x, errbuf, errlen, "adding an options template", err);
		return -1;
	}
	return 0;
}

/* ---- records --------------------------------------------------------- */

static void
put_uint(uint8_t *p, unsigned len, uint64_t v)
{
	uint64_t max = len >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * len)) - 1;

	if (v > max)
		v = max;	/* reduced-size encoding saturates */
	switch (len) {
	case 1: { uint8_t u = (uint8_t)v; memcpy(p, &u, 1); break; }
	case 2: { uint16_t u = (uint16_t)v; memcpy(p, &u, 2); break; }
	case 4: { uint32_t u = (uint32_t)v; memcpy(p, &u, 4); break; }
	case 8: memcpy(p, &v, 8); break;
	default: {
		/* odd sizes (3, 5..7): host little-endian low bytes */
		uint8_t b[8];

		memcpy(b, &v, 8);
		memcpy(p, b, len);
		break;
	}
	}
}

static void
put_int(uint8_t *p, unsigned len, int64_t v)
{
	int64_t max = len >= 8 ? INT64_MAX : ((int64_t)1 << (8 * len - 1)) - 1;
	int64_t min = -max - 1;

	if (v > max)
		v = max;
	if (v < min)
		v = min;
	put_uint(p, len, (uint64_t)v & (len >= 8 ? UINT64_MAX :
	    ((uint64_t)1 << (8 * len)) - 1));
}

/* A number written in host order, for an element without FB_IE_F_ENDIAN. */
static void
host_to_wire(uint8_t *p, size_t len)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (size_t i = 0; i < len / 2; i++) {
		uint8_t t = p[i];

		p[i] = p[len - 1 - i];
		p[len - 1 - i] = t;
	}
#else
	(void)p;
	(void)len;
#endif
}

static uint8_t *
scratch(struct ipfix_exporter *x, size_t used, size_t need)
{
	uint8_t *p;
	size_t cap;

	if (used + need <= x->strings_cap)
		return x->strings + used;
	/* Only at start-up sizes: strings_cap covers the template's maxima. */
	cap = (used + need) * 2;
	if ((p = realloc(x->strings, cap)) == NULL)
		return NULL;
	x->strings = p;
	x->strings_cap = cap;
	return x->strings + used;
}

static int
encode_field(struct ipfix_exporter *x, const struct ipfix_field *f,
    const struct col_value *v, uint8_t *rec, size_t *sused)
{
	uint8_t *p = rec + f->off, *buf;
	fbVarfield_t vf;
	size_t n = 0, i, width;
	double d;

	switch (f->tf->type) {
	case IE_IPV4_ADDRESS: {
		uint32_t a = 0;

		if (v->rawlen == 4)
			a = (uint32_t)v->raw[0] << 24 | (uint32_t)v->raw[1] << 16 |
			    (uint32_t)v->raw[2] << 8 | v->raw[3];
		memcpy(p, &a, 4);
		if (f->wire_order)
			host_to_wire(p, 4);
		return 0;
	}
	case IE_IPV6_ADDRESS:
	case IE_MAC_ADDRESS:
		/* Zeroed explicitly: a fast field's spill may be here. */
		if (v->raw != NULL && v->rawlen >= f->len)
			memcpy(p, v->raw, f->len);
		else
			memset(p, 0, f->len);
		return 0;
	case IE_STRING:
	case IE_OCTET_ARRAY:
		if (f->fixed_text && v->type != COLT_LIST) {
			/* In place; the record was zeroed: NUL padding. */
			if (v->type == COLT_BYTES)
				n = v->rawlen < f->len ? v->rawlen : f->len;
			else
				n = exportrec_text_cut(v->s, v->slen, f->len);
			memcpy(p, v->type == COLT_BYTES ? (const void *)v->raw :
			    (const void *)v->s, n);
			memset(p + n, 0, f->len - n);
			if (f->text_reversed)
				host_to_wire(p, f->len);
			return 0;
		}
		if (v->type == COLT_LIST) {
			width = exportrec_list_width(f->col[0]);
			n = v->n * width;
			if (n > f->len)
				n = f->len / width * width;
			if ((buf = scratch(x, *sused, n)) == NULL)
				return -1;
			for (i = 0; i < n / width; i++) {
				uint64_t u = (uint64_t)v->list[i];

				for (size_t b = 0; b < width; b++)
					buf[i * width + b] =
					    (uint8_t)(u >> (8 * (width - 1 - b)));
			}
		} else if (v->type == COLT_BYTES) {
			n = v->rawlen < f->len ? v->rawlen : f->len;
			if ((buf = scratch(x, *sused, n)) == NULL)
				return -1;
			memcpy(buf, v->raw, n);
		} else {
			n = exportrec_text_cut(v->s, v->slen, f->len);
			if ((buf = scratch(x, *sused, n)) == NULL)
				return -1;
			memcpy(buf, v->s, n);
		}
		vf.len = n;
		vf.buf = buf;
		*sused += n;
		memcpy(p, &vf, sizeof(vf));
		return 0;
	default:
		break;
	}
	/* numbers, in host order */
	switch (f->tf->type) {
	case IE_FLOAT64:
	case IE_FLOAT32:
		d = v->type == COLT_DOUBLE ? v->d : v->type == COLT_INT ?
		    (double)v->i : (double)v->u;
		if (f->len == 8) {
			memcpy(p, &d, 8);
		} else {
			float fl = (float)d;	/* float64 sent as float32 */

			memcpy(p, &fl, 4);
		}
		break;
	case IE_BOOLEAN:
		put_uint(p, 1, (v->type == COLT_DOUBLE ? v->d != 0 : v->u != 0) ?
		    1 : 2);
		break;
	case IE_SIGNED8: case IE_SIGNED16: case IE_SIGNED32: case IE_SIGNED64:
		put_int(p, f->len, v->type == COLT_INT ? v->i :
		    v->type == COLT_DOUBLE ? (int64_t)llround(v->d) : (int64_t)v->u);
		break;
	default:
		if (v->type == COLT_DOUBLE)
			put_uint(p, f->len, v->d <= 0 ? 0 : (uint64_t)llround(v->d));
		else if (v->type == COLT_INT)
			put_uint(p, f->len, v->i < 0 ? 0 : (uint64_t)v->i);
		else
			put_uint(p, f->len, v->u);
		break;
	}
	if (f->wire_order)
		host_to_wire(p, f->len);
	return 0;
}

static int
append_flow_record(struct ipfix_exporter *x, const struct ipfix_layout *lay,
    const struct flow_view *v, int reverse)
{
	const struct ipfix_fast *ff = lay->fast, *ff_end = ff + lay->nfast;
	const union col_num *num = v->num;
	uint8_t *rec = x->rec;
	size_t sused = 0;
	unsigned i;

	memset(rec, 0, lay->rec_size);
	/* Locals, not x->..: the stores below may alias x for the compiler. */
	for (; ff < ff_end; ff++) {
		uint64_t u = num[ff->col[reverse]].u;

		u = u > ff->max ? ff->max : u;
		u = htobe64(u << ff->shift);
		memcpy(rec + ff->off, &u, 8);
	}
	/* The others after the fast ones: they overwrite any spill. */
	for (i = 0; i < lay->n; i++) {
		const struct ipfix_field *f = &lay->f[i];

		/* Numbers straight from the view's row; text, lists and
		 * addresses through column_value(). */
		if (f->numeric)
			column_number_value(v, f->col[reverse], &x->val);
		else
			column_value(v, f->col[reverse], &x->val);
		if (encode_field(x, f, &x->val, x->rec, &sused) != 0)
			return -1;
	}
	return append(x, lay->tid, x->rec, lay->rec_size);
}

static int
ipfix_export_flow(struct exporter *e, const struct flow_view *v)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;
	const struct ipfix_layout *lay = &x->lay[exportrec_layout(v,
	    x->env.uniflow)];
	struct flow_view bv = *v;
	int rc;

	if (!lay->used) {
		e->failed++;
		return -1;
	}
	bv.no_text = !x->addr_as_text;	/* addresses go out as bytes */
	rc = append_flow_record(x, lay, &bv, 0);
	if (rc == 0 && exportrec_has_reverse(v, x->env.uniflow))
		rc = append_flow_record(x, lay, &bv, 1);
	if (rc != 0) {
		e->failed++;
		snprintf(e->error, sizeof(e->error), "%s: %llu records too large "
		    "for a message, %llu encoding errors", e->name,
		    (unsigned long long)x->records_too_big,
		    (unsigned long long)x->encode_errors);
		return -1;
	}
	e->exported++;
	return 0;
}

/* ---- templates, type records, options ---------------------------------- */

/*
 * One template.  libfixbuf puts consecutive options templates into one
 * options template set; nfacctd 1.7 misreads such a set (the second
 * template "malformed", the application table lost), so an options
 * template that would follow another ends the message first: every options
 * template has a set of its own.
 */
static int
export_template(struct ipfix_exporter *x, uint16_t tid, bool options)
{
	GError *err = NULL;

	if (options && x->opts_tmpl_set && emit(x) != 0)
		return log_gerror(x, "message before options template", tid, &err);
	if (!fbSessionExportTemplate(x->session, tid, &err))
		return log_gerror(x, "template", tid, &err);
	drain(x, false);
	x->opts_tmpl_set = options;
	return 0;
}

static int
export_templates(struct ipfix_exporter *x)
{
	static const uint16_t tids[] = { TID_DATA_V4, TID_DATA_V6, TID_UNI_V4,
	    TID_UNI_V6, TID_STATS, TID_APPS, TID_APPS_ALT };
	size_t i;

	for (i = 0; i < sizeof(tids) / sizeof(tids[0]); i++) {
		if (i < 4 && !x->lay[i].used)
			continue;
		if (tids[i] >= TID_APPS && x->env.dpi == NULL)
			continue;
		if (export_template(x, tids[i], tids[i] >= TID_STATS) != 0)
			return -1;
	}
	return 0;
}

/* RFC 5610: name and type of every enterprise element we export. */
static int
export_type_records(struct ipfix_exporter *x)
{
	const fbInfoElement_t *ie;
	GError *err = NULL;
	unsigned i, j;
	bool dup;

	for (i = 0; i < x->tmpl.n; i++) {
		const struct tmpl_field *tf = &x->tmpl.f[i];

		if (tf->pen == 0 || tf->pen == TMPL_REVERSE_PEN ||
		    !exportrec_column_active(&x->env, tf->column))
			continue;
		for (j = 0, dup = false; j < i; j++)
			if (x->tmpl.f[j].pen == tf->pen && x->tmpl.f[j].id == tf->id)
				dup = true;
		if (dup || (ie = fbInfoModelGetElementByID(x->model, tf->id,
		    tf->pen)) == NULL)
			continue;
		x->cur_tid = 0;	/* the call below switches templates itself */
		if (!fbInfoElementWriteOptionsRecord(x->fbuf, ie, TID_TYPES_INT,
		    TID_TYPES_EXT, &err))
			return log_gerror(x, "type record for element", tf->id, &err);
		drain(x, true);
	}
	return 0;
}

static int
export_app_table(struct ipfix_exporter *x)
{
	struct app_rec r;
	unsigned id, n;
	const char *name;

	if (x->env.dpi == NULL)
		return 0;
	n = dpi_protocol_count(x->env.dpi);
	for (id = 0; id < n; id++) {
		memset(&r, 0, sizeof(r));
		r.observation_domain = x->env.observation_domain;
		r.app_id[0] = 22;	/* RFC 6759 engine: nDPI */
		r.app_id[1] = (uint8_t)(id >> 24);
		r.app_id[2] = (uint8_t)(id >> 16);
		r.app_id[3] = (uint8_t)(id >> 8);
		r.app_id[4] = (uint8_t)id;
		name = dpi_protocol_name(x->env.dpi, id);
		memcpy(r.name, name, strnlen(name, sizeof(r.name)));
		if (x->app_id_reversed)
			host_to_wire(r.app_id, sizeof(r.app_id));
		/* One record a set: see TID_APPS_ALT in the header. */
		if (append(x, id % 2 ? TID_APPS_ALT : TID_APPS, &r,
		    sizeof(r)) != 0)
			return -1;
	}
	return 0;
}

static void
fill_stats(struct ipfix_exporter *x, struct stats_rec *r)
{
	struct transport_stats ts;

	transport_stats(x->tr, &ts);
	memset(r, 0, sizeof(*r));
	r->observation_domain = x->env.observation_domain;
	/* Counted as the encoder hands messages over: over TCP the sending
	 * thread may still hold them; what it finally drops is counted in
	 * notSentFlowTotalCount of a later record and in the summary. */
	r->octets = x->out_octets;
	r->messages = x->out_messages;
	r->records = x->out_records;
	r->packets_ignored = exportrec_packets_ignored(&x->env);
	r->records_dropped = ts.records_dropped + x->records_too_big +
	    x->encode_errors;
	r->init_time_ms = x->init_time_ms;
}

static int
export_stats(struct ipfix_exporter *x)
{
	struct stats_rec r;

	fill_stats(x, &r);
	return append(x, TID_STATS, &r, sizeof(r));
}

/*
 * Everything a collector needs before data.  RFC 5610 type records come
 * first, so that a collector knows our elements' types before it reads
 * the templates that use them.
 */
static int
export_metadata(struct ipfix_exporter *x)
{
	if (export_template(x, TID_TYPES_EXT, true) != 0 ||
	    export_type_records(x) != 0 || export_templates(x) != 0 ||
	    export_app_table(x) != 0)
		return -1;
	return 0;
}

static void
ipfix_tick(struct exporter *e, uint64_t now_ms, bool idle)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;

	if (x->env.template_refresh_s > 0 && now_ms >= x->next_refresh_ms) {
		/* UDP has no session: templates again on a timer (RFC 7011
		 * 8.4); statistics records on every transport. */
		if (x->conf_kind == TRANSPORT_UDP)
			(void)export_metadata(x);
		(void)export_stats(x);
		(void)emit(x);
		x->next_refresh_ms = now_ms + x->env.template_refresh_s * 1000ull;
		return;
	}
	if (idle && x->recs_in_msg > 0 && now_ms - x->last_emit_ms >=
	    FLUSH_IDLE_MS)
		(void)emit(x);
}

static int
ipfix_finish(struct exporter *e)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;

	if (x->tr == NULL)
		return 0;
	(void)emit(x);
	(void)export_stats(x);
	(void)emit(x);
	return exportrec_close(&x->tr, CLOSE_WAIT_MS, &x->final, e->error,
	    sizeof(e->error));
}

static void
ipfix_report(struct exporter *e, FILE *fp)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;

	exportrec_report(fp, e->name, e->exported, x->tr, &x->final,
	    x->records_too_big + x->encode_errors, x->conf_kind == TRANSPORT_TCP);
}

static void
ipfix_destroy(struct exporter *e)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;

	(void)exportrec_close(&x->tr, 0, &x->final, x->base.error,
	    sizeof(x->base.error));
	if (x->fbuf != NULL)
		fBufFree(x->fbuf);	/* frees the session and exporter too */
	else if (x->session != NULL)
		fbSessionFree(x->session);
	if (x->model != NULL)
		fbInfoModelFree(x->model);
	free(x->msgbuf);
	free(x->rec);
	free(x->strings);
	free(x->preamble.p);
	free(x);
}

/* SIGHUP: a reopened file starts with the metadata again. */
static int
ipfix_reopen(struct exporter *e)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;
	int rc;

	if (x->tr == NULL || x->conf_kind != TRANSPORT_FILE)
		return 0;
	(void)emit(x);
	if ((rc = transport_reopen(x->tr, e->error, sizeof(e->error))) <= 0)
		return rc;
	if (export_metadata(x) != 0 || export_stats(x) != 0 || emit(x) != 0) {
		snprintf(e->error, sizeof(e->error), "%s: cannot encode the "
		    "templates for the reopened file", e->name);
		return -1;
	}
	return 0;
}

static uint64_t
ipfix_records_lost(struct exporter *e)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;

	/* After finish the transport is gone: its last counters remain. */
	return x->tr != NULL ? exportrec_transport_lost(x->tr) :
	    x->final.records_dropped;
}

static const struct exporter_ops ipfix_ops = {
	.export_flow = ipfix_export_flow,
	.tick = ipfix_tick,
	.finish = ipfix_finish,
	.report = ipfix_report,
	.reopen = ipfix_reopen,
	.records_lost = ipfix_records_lost,
	.destroy = ipfix_destroy,
};

struct exporter *
export_ipfix_open(const struct exporter_conf *conf,
    const struct exporter_env *env, char *errbuf, size_t errlen)
{
	const fbInfoElement_t *ai;
	struct ipfix_exporter *x;
	fbTemplate_t *ti, *te;
	GError *err = NULL;
	size_t max_rec = 0, strings = 0;
	unsigned i;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	x->base.ops = &ipfix_ops;
	x->env = *env;
	x->conf_kind = conf->transport.kind;
	snprintf(x->base.name, sizeof(x->base.name), "%s", conf->url);
	if (tmpl_load(&x->tmpl, env->template_name, env->template_dir, errbuf,
	    errlen) != 0)
		goto fail;
	if ((x->tr = transport_open(&conf->transport, errbuf, errlen)) == NULL)
		goto fail;
	x->mtu = transport_mtu(x->tr);
	if ((x->msgbuf = calloc(1, x->mtu)) == NULL)
		goto nomem;
	x->model = fbInfoModelAlloc();
	x->session = fbSessionAlloc(x->model);
	fbSessionSetDomain(x->session, env->observation_domain);
	/* Options and type templates first: their elements keep libfixbuf's
	 * byte-order conversion (see wire_order_element()). */
	if (add_options_template(x, TID_STATS, stats_spec, 1, errbuf,
	    errlen) != 0 ||
	    (env->dpi != NULL && (add_options_template(x, TID_APPS, app_spec, 1,
	    errbuf, errlen) != 0 || add_options_template(x, TID_APPS_ALT,
	    app_spec, 1, errbuf, errlen) != 0)))
		goto fail;
	if ((ti = fbInfoElementAllocTypeTemplate(x->model, &err)) == NULL ||
	    !fbSessionAddTemplate(x->session, TRUE, TID_TYPES_INT, ti, &err) ||
	    (te = fbInfoElementAllocTypeTemplate(x->model, &err)) == NULL ||
	    !fbSessionAddTemplate(x->session, FALSE, TID_TYPES_EXT, te, &err)) {
		set_gerror(x, errbuf, errlen, "type record template", err);
		goto fail;
	}
	keep_host_order(x, ti);
	ai = fbInfoModelGetElementByName(x->model, "applicationId");
	x->app_id_reversed = ai != NULL && (ai->flags & FB_IE_F_ENDIAN);
	for (i = 0; i < 4; i++) {
		if ((i >= 2) != env->uniflow)
			continue;	/* only the mode's own templates */
		if (build_layout(x, &x->lay[i], (i % 2) ? 6 : 4, i >= 2,
		    (uint16_t)(TID_DATA_V4 + i), errbuf, errlen) != 0)
			goto fail;
		if (x->lay[i].rec_size > max_rec)
			max_rec = x->lay[i].rec_size;
		/* a record must always fit one message */
		if (x->lay[i].used && x->lay[i].max_wire + IPFIX_MSG_HEADER +
		    IPFIX_SET_HEADER > x->mtu) {
			snprintf(errbuf, errlen, "template %s: records can reach %zu "
			    "bytes, more than a %zu-byte %s message holds; use "
			    "ipfix+tcp:// or ipfix+file://, a smaller --splt, or "
			    "shorter lengths in the template", x->tmpl.path,
			    x->lay[i].max_wire, x->mtu, conf->url);
			goto fail;
		}
	}
	for (i = 0; i < x->tmpl.n; i++)
		if (ie_type_is_varlen(x->tmpl.f[i].type) && !x->tmpl.f[i].fixed)
			strings += x->tmpl.f[i].length;
	if ((x->rec = calloc(1, max_rec + 8)) == NULL ||
	    (x->strings = malloc(2 * strings + 64)) == NULL)
		goto nomem;
	x->strings_cap = 2 * strings + 64;
	x->fbuf = fBufAllocForExport(x->session,
	    fbExporterAllocBuffer(x->msgbuf, (uint16_t)x->mtu));
	x->init_time_ms = walltime_ms();
	x->last_emit_ms = monotime_ms();
	/* TCP: the metadata becomes the preamble of every connection. */
	x->preamble.active = transport_is_stream(x->tr);
	if (export_metadata(x) != 0 || emit(x) != 0) {
		snprintf(errbuf, errlen, "%s: cannot encode the templates", conf->url);
		goto fail;
	}
	if (x->preamble.active) {
		x->preamble.active = false;
		if (transport_set_preamble(x->tr, x->preamble.p,
		    x->preamble.len) != 0)
			goto nomem;
	}
	/* Only now may a TCP connection start: it must carry the preamble. */
	if (transport_start(x->tr, errbuf, errlen) != 0)
		goto fail;
	x->next_refresh_ms = monotime_ms() + env->template_refresh_s * 1000ull;
	return &x->base;
nomem:
	snprintf(errbuf, errlen, "out of memory");
fail:
	ipfix_destroy(&x->base);
	return NULL;
}
