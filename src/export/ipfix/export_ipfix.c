/*
 * export_ipfix.c - IPFIX export with libfixbuf: the only module that
 * includes it.
 *
 *	export_ipfix_open()	info model, templates from the core's layouts,
 *				session, buffer, transport; first templates
 *	append()		a record into the open message (the core's
 *				biflow record, or two uniflow records)
 *	ipfix_tick()		UDP template refresh, flush of an idle message
 *				and of the transport's UDP batch
 *	export_data_templates()	UDP: data templates every --template-packets
 *				messages
 *	ipfix_finish()		statistics record, last message, close
 *	ipfix_reopen(), ipfix_release()
 *
 * libfixbuf writes every message into a buffer exporter the size of the
 * transport's MTU; after each libfixbuf call that may emit (one append, one
 * template, one type record, one explicit emit: never more than one message
 * per call) the new message is handed to the transport.  Flow records are
 * laid out and filled by the binary-export core (binrec.c): this file only
 * turns its layouts into libfixbuf templates (varfields aligned to 8 bytes
 * with paddingOctets that exist only in the internal template) and tells it
 * which elements libfixbuf converts from host order.
 *
 * Elements written straight by the core's fast loop carry no
 * FB_IE_F_ENDIAN in this exporter's information model (see
 * wire_order_element()), so libfixbuf copies them as they are instead of
 * reversing them byte by byte: that reversal was a third of libfixbuf's
 * time per record.
 *
 * Template ids: 256/257 IPv4/IPv6 biflow, 258/259 IPv4/IPv6 uniflow, 260
 * exporter statistics (RFC 7011 section 4), 261 application table
 * (applicationId -> applicationName, RFC 6759), 262/263 RFC 5610 type
 * records, 264 the application table again, 265 the TCP backlog (what
 * the probe has queued and what its kernel holds unacknowledged, four
 * elements of the template's enterprise number, ids 2001-2004, named in
 * RFC 5610 type records; a template of its own, so that a collector that
 * drops a template with an element it does not know loses only these).  Each options template goes
 * out in a set of its own (export_template()).  Application records
 * alternate between 261 and 264, so that each is a set of its own: nfdump
 * 1.7.1 (Debian 12) reads only the first record of an IPFIX options set
 * right (it leaves the scope out of the record size; fixed in 1.7.2).
 */
#define _DEFAULT_SOURCE
#include <fixbuf/public.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "binrec.h"
#include "dpi.h"
#include "exporter.h"
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
#define TID_BACKLOG		265
#define BACKLOG_ID		2001	/* the first backlog element's id */
#define BACKLOG_ELEMENTS	4
#define SPEC_INTERNAL		0x1
#define SPEC_EXTERNAL		0x2
#define FLUSH_IDLE_MS		1000
#define CLOSE_WAIT_MS		5000
#define IPFIX_MSG_HEADER	16
#define IPFIX_SET_HEADER	4

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

/* TCP backlog options record, internal layout: transport_backlog(). */
struct backlog_rec {
	uint32_t	observation_domain;
	uint32_t	pad;
	uint64_t	queued_records;
	uint64_t	queued_octets;
	uint64_t	unacked_records;
	uint64_t	unacked_octets;
};

/*
 * Application table options record, internal layout: the NetFlow v9
 * table's.  Scope observationDomainId, not applicationId: nfdump reads the
 * id only outside the scope.  The name has a fixed length, NUL-padded:
 * nfdump and nfacctd take no variable-length applicationName (nfdump then
 * names no application).
 */
struct app_rec {
	uint32_t	observation_domain;
	uint8_t		app_id[5];
	char		name[BINREC_APP_NAME_LEN];
	uint8_t		pad[3];
};

struct ipfix_exporter {
	struct binrec_exporter	 b;		/* first: see binrec.h */
	enum transport_kind	 conf_kind;
	fbInfoModel_t		*model;
	fbSession_t		*session;
	fBuf_t			*fbuf;
	uint8_t			*msgbuf;	/* the buffer exporter's output */
	size_t			 mtu;
	uint16_t		 cur_tid;
	bool			 opts_tmpl_set;	/* the open message ends with an
						 * options template set */
	uint32_t		 recs_in_msg;
	unsigned		 msgs_since_templates;	/* UDP */
	bool			 templates_due;
	uint64_t		 last_emit_ms;
	uint64_t		 next_refresh_ms;
	uint64_t		 init_time_ms;
	bool			 app_id_reversed;
	bool			 backlog;	/* TCP: TID_BACKLOG records */	/* libfixbuf byte-swaps
						 * applicationId (see build_templates()) */
	/* Elements that options and type records use: libfixbuf converts
	 * their byte order, as it does for the records it builds itself. */
	struct { uint32_t ent; uint16_t num; } host_order[48];
	unsigned		 n_host_order;
	/* what the encoder handed to the transport (RFC 7011 statistics) */
	uint64_t		 out_messages, out_octets, out_records;
	struct strbuf_like {
		uint8_t	*p;
		size_t	 len, cap;
		bool	 active;
	}			 preamble;
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

static const char *const backlog_names[BACKLOG_ELEMENTS] = {
	"tcpQueuedRecordCount", "tcpQueuedOctetCount",
	"tcpUnacknowledgedRecordCount", "tcpUnacknowledgedOctetCount"
};
static const char *const backlog_desc[BACKLOG_ELEMENTS] = {
	"records in messages the exporter holds in its queue",
	"octets of the messages the exporter holds in its queue",
	"records in messages written to the connection, not yet acknowledged",
	"octets written to the connection, not yet acknowledged"
};

static const fbInfoElementSpec_t backlog_spec[] = {
	{ "observationDomainId", 4, 0 },
	{ "paddingOctets", 4, SPEC_INTERNAL },
	{ "tcpQueuedRecordCount", 8, 0 },
	{ "tcpQueuedOctetCount", 8, 0 },
	{ "tcpUnacknowledgedRecordCount", 8, 0 },
	{ "tcpUnacknowledgedOctetCount", 8, 0 },
	FB_IESPEC_NULL
};

static const fbInfoElementSpec_t app_spec[] = {
	{ "observationDomainId", 4, 0 },
	{ "applicationId", 5, 0 },
	{ "applicationName", BINREC_APP_NAME_LEN, 0 },
	{ "paddingOctets", 3, SPEC_INTERNAL },
	FB_IESPEC_NULL
};

static void
set_gerror(struct ipfix_exporter *x, char *errbuf, size_t errlen,
    const char *what, GError *err)
{
	snprintf(errbuf, errlen, "%s: %s: %s", x->b.base.name, what,
	    err != NULL ? err->message : "failed");
	g_clear_error(&err);
}

/* Log a libfixbuf failure once, free it, and fail the caller. */
static int
log_gerror(struct ipfix_exporter *x, const char *what, unsigned id,
    GError **err)
{
	log_warnx("%s: %s %u: %s", x->b.base.name, what, id,
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
			transport_send(x->b.tr, x->msgbuf, len, in_msg);
		/* UDP: a collector (re)started mid-run decodes after at most
		 * this many messages, not only at the timed refresh. */
		if (x->conf_kind == TRANSPORT_UDP &&
		    x->b.env.template_packets > 0 &&
		    ++x->msgs_since_templates >= x->b.env.template_packets)
			x->templates_due = true;
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
			x->b.too_big++;
		else
			x->b.encode_errors++;
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
	ie->description = tf->description;	/* plugin fields' */
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
			    "%s, not %s", x->b.tmpl.path, tf->line, tf->id,
			    ie_type_name(ie->type), ie_type_name(tf->type));
			return NULL;
		}
		return ie;
	}
	if (fbInfoModelGetElementByName(x->model, tf->name) != NULL) {
		snprintf(errbuf, errlen, "template %s line %u: element name %s "
		    "already names another element", x->b.tmpl.path, tf->line,
		    tf->name);
		return NULL;
	}
	if (tf->pen == 0 || tf->pen == TMPL_REVERSE_PEN) {
		snprintf(errbuf, errlen, "template %s line %u: %s %u is not a "
		    "known IANA element", x->b.tmpl.path, tf->line,
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

/* A template line the core asks about: its element must resolve. */
static int
hook_field(void *ctx, const struct tmpl_field *tf, char *errbuf,
    size_t errlen)
{
	struct ipfix_exporter *x = ctx;

	if (resolve_element(x, tf, errbuf, errlen) == NULL)
		return -1;
	if (tf->fixed && column_type(tf->column) == COLT_LIST) {
		snprintf(errbuf, errlen, "template %s line %u: a list column "
		    "cannot be fixed-length", x->b.tmpl.path, tf->line);
		return -1;
	}
	return 1;
}

/* A number the core writes in network order: its element must not be
 * converted by libfixbuf (wire_order_element()). */
static bool
hook_fast(void *ctx, const struct tmpl_field *tf)
{
	struct ipfix_exporter *x = ctx;

	return wire_order_element(x, fbInfoModelGetElementByID(x->model, tf->id,
	    tf->pen));
}

static const struct binrec_hooks hooks = {
	.field = hook_field, .fast = hook_fast, .varlen = true
};

/* Internal-only paddingOctets from *off to off. */
static void
spec_pad(fbInfoElementSpec_t *spec, unsigned *ns, size_t *cur, size_t off)
{
	static char padding_name[] = "paddingOctets";

	if (off == *cur)
		return;
	spec[*ns].name = padding_name;
	spec[*ns].len_override = (uint16_t)(off - *cur);
	spec[(*ns)++].flags = SPEC_INTERNAL;
	*cur = off;
}

/*
 * The libfixbuf templates of a layout the core built: its fields in order,
 * varfields for variable-length ones, paddingOctets (internal only) where
 * the core aligned a varfield or the record end.  Fields libfixbuf
 * converts are written in host order by the core.
 */
static int
build_templates(struct ipfix_exporter *x, struct binrec_layout *lay,
    char *errbuf, size_t errlen)
{
	fbInfoElementSpec_t spec[2 * TMPL_MAX_FIELDS + 1];
	fbTemplate_t *ti = NULL, *te = NULL;
	const fbInfoElement_t *ie;
	struct binrec_field *f;
	GError *err = NULL;
	unsigned i, ns = 0;
	size_t cur = 0;

	for (i = 0; i < lay->n; i++) {
		f = &lay->f[i];
		ie = fbInfoModelGetElementByID(x->model, f->tf->id, f->tf->pen);
		spec_pad(spec, &ns, &cur, f->off);
		spec[ns].name = (char *)(uintptr_t)ie->ref.name;
		spec[ns].len_override = f->varlen ? FB_IE_VARLEN : f->len;
		spec[ns++].flags = 0;
		cur += f->varlen ? sizeof(fbVarfield_t) : f->len;
	}
	spec_pad(spec, &ns, &cur, lay->rec_size);
	spec[ns].name = NULL;
	spec[ns].len_override = 0;
	spec[ns].flags = 0;
	/* Flags as the templates below copy them (a field of this or an
	 * earlier layout may have changed an element's).  libfixbuf's model
	 * flags some octet arrays (applicationId) for byte-order conversion:
	 * a fixed-length copy of one is turned too, so that it leaves in its
	 * own order. */
	for (i = 0; i < lay->nslow; i++) {
		f = &lay->slow[i];
		ie = fbInfoModelGetElementByID(x->model, f->tf->id, f->tf->pen);
		f->host_order = !f->varlen && f->tf->type != IE_IPV6_ADDRESS &&
		    f->tf->type != IE_MAC_ADDRESS && (ie->flags & FB_IE_F_ENDIAN);
	}
	ti = fbTemplateAlloc(x->model);
	te = fbTemplateAlloc(x->model);
	if (!fbTemplateAppendSpecArray(ti, spec, SPEC_INTERNAL, &err) ||
	    !fbTemplateAppendSpecArray(te, spec, SPEC_EXTERNAL, &err)) {
		set_gerror(x, errbuf, errlen, "building a template", err);
		fbTemplateFreeUnused(ti);
		fbTemplateFreeUnused(te);
		return -1;
	}
	if (fbTemplateGetIELenOfMemBuffer(ti) != lay->rec_size) {
		snprintf(errbuf, errlen, "%s: internal record layout mismatch "
		    "(%u vs %zu bytes)", x->b.base.name,
		    fbTemplateGetIELenOfMemBuffer(ti), lay->rec_size);
		fbTemplateFreeUnused(ti);
		fbTemplateFreeUnused(te);
		return -1;
	}
	if (!fbSessionAddTemplate(x->session, TRUE, lay->tid, ti, &err) ||
	    !fbSessionAddTemplate(x->session, FALSE, lay->tid, te, &err)) {
		set_gerror(x, errbuf, errlen, "adding a template", err);
		return -1;
	}
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

/*
 * TCP: the backlog elements (the template's enterprise number, ids from
 * BACKLOG_ID; none without an enterprise number or when the template uses
 * those ids itself) and their options template.
 */
static int
add_backlog_template(struct ipfix_exporter *x, char *errbuf, size_t errlen)
{
	fbInfoElement_t ie;
	uint32_t ent = x->b.tmpl.enterprise;
	unsigned i;

	if (ent == 0)
		return 0;
	for (i = 0; i < BACKLOG_ELEMENTS; i++)
		if (fbInfoModelGetElementByID(x->model, BACKLOG_ID + i, ent) !=
		    NULL || fbInfoModelGetElementByName(x->model,
		    backlog_names[i]) != NULL)
			return 0;
	for (i = 0; i < BACKLOG_ELEMENTS; i++) {
		memset(&ie, 0, sizeof(ie));
		ie.ref.name = backlog_names[i];
		ie.ent = ent;
		ie.num = (uint16_t)(BACKLOG_ID + i);
		ie.len = 8;
		ie.type = FB_UINT_64;
		ie.flags = FB_IE_F_ENDIAN | FB_IE_QUANTITY |
		    (i % 2 ? FB_UNITS_OCTETS : FB_UNITS_FLOWS);
		ie.description = backlog_desc[i];
		fbInfoModelAddElement(x->model, &ie);	/* copies it */
	}
	if (add_options_template(x, TID_BACKLOG, backlog_spec, 1, errbuf,
	    errlen) != 0)
		return -1;
	x->backlog = true;
	return 0;
}

/* ---- records --------------------------------------------------------- */

/* The core's varfield is what libfixbuf reads from a record. */
_Static_assert(sizeof(struct binrec_varfield) == sizeof(fbVarfield_t) &&
    offsetof(struct binrec_varfield, len) == offsetof(fbVarfield_t, len) &&
    offsetof(struct binrec_varfield, buf) == offsetof(fbVarfield_t, buf),
    "struct binrec_varfield must be fbVarfield_t");

static int export_data_templates(struct ipfix_exporter *x);

static int
append_cb(void *ctx, uint16_t tid, const uint8_t *rec, size_t len)
{
	struct ipfix_exporter *x = ctx;

	if (x->templates_due)
		(void)export_data_templates(x);
	return append(ctx, tid, rec, len);
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
	    TID_UNI_V6, TID_STATS, TID_APPS, TID_APPS_ALT, TID_BACKLOG };
	size_t i;

	for (i = 0; i < sizeof(tids) / sizeof(tids[0]); i++) {
		if (i < BINREC_LAYOUTS && !x->b.core.lay[i].used)
			continue;
		if (tids[i] == TID_BACKLOG ? !x->backlog :
		    tids[i] >= TID_APPS && x->b.env.dpi == NULL)
			continue;
		if (export_template(x, tids[i], tids[i] >= TID_STATS) != 0)
			return -1;
	}
	return 0;
}

/*
 * UDP, every --template-packets messages: the data templates again, at the
 * head of the next message (a few hundred bytes).  Options templates, type
 * records and the application table follow on the timed refresh.
 */
static int
export_data_templates(struct ipfix_exporter *x)
{
	GError *err = NULL;
	unsigned i;

	x->templates_due = false;
	x->msgs_since_templates = 0;
	for (i = 0; i < BINREC_LAYOUTS; i++) {
		if (!x->b.core.lay[i].used)
			continue;
		if (!fbSessionExportTemplate(x->session, x->b.core.lay[i].tid,
		    &err))
			return log_gerror(x, "template", x->b.core.lay[i].tid, &err);
		drain(x, false);
		x->opts_tmpl_set = false;
	}
	x->cur_tid = 0;	/* the next record opens its data set again */
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

	for (i = 0; i < x->b.tmpl.n; i++) {
		const struct tmpl_field *tf = &x->b.tmpl.f[i];

		if (tf->pen == 0 || tf->pen == TMPL_REVERSE_PEN ||
		    !binrec_column_active(&x->b.env, tf->column))
			continue;
		for (j = 0, dup = false; j < i; j++)
			if (x->b.tmpl.f[j].pen == tf->pen && x->b.tmpl.f[j].id == tf->id)
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
	for (i = 0; x->backlog && i < BACKLOG_ELEMENTS; i++) {
		ie = fbInfoModelGetElementByName(x->model, backlog_names[i]);
		x->cur_tid = 0;
		if (!fbInfoElementWriteOptionsRecord(x->fbuf, ie, TID_TYPES_INT,
		    TID_TYPES_EXT, &err))
			return log_gerror(x, "type record for element",
			    BACKLOG_ID + i, &err);
		drain(x, true);
	}
	return 0;
}

static int
export_app_table(struct ipfix_exporter *x)
{
	struct app_rec r;
	unsigned id, n;

	if (x->b.env.dpi == NULL)
		return 0;
	n = dpi_protocol_count(x->b.env.dpi);
	for (id = 0; id < n; id++) {
		memset(&r, 0, sizeof(r));
		r.observation_domain = x->b.env.observation_domain;
		binrec_app_entry(id, dpi_protocol_name(x->b.env.dpi, id), r.app_id,
		    r.name);
		if (x->app_id_reversed)
			binrec_host_order(r.app_id, sizeof(r.app_id));
		/* One record a set: see TID_APPS_ALT in the header. */
		if (append(x, id % 2 ? TID_APPS_ALT : TID_APPS, &r,
		    sizeof(r)) != 0)
			return -1;
	}
	return 0;
}

/* TCP: with each statistics record, the backlog as the transport sees it
 * (the records of this message not yet in it). */
static int
export_backlog(struct ipfix_exporter *x)
{
	struct transport_backlog tb;
	struct backlog_rec r;

	transport_backlog(x->b.tr, &tb);
	memset(&r, 0, sizeof(r));
	r.observation_domain = x->b.env.observation_domain;
	r.queued_records = tb.queued_records;
	r.queued_octets = tb.queued_bytes;
	r.unacked_records = tb.kernel_records;
	r.unacked_octets = tb.kernel_bytes;
	return append(x, TID_BACKLOG, &r, sizeof(r));
}

static int
export_stats(struct ipfix_exporter *x)
{
	struct binrec_stats st;
	struct stats_rec r;

	binrec_stats_fill(&st, &x->b.env, x->b.tr, x->out_octets, x->out_messages,
	    x->out_records, x->b.too_big + x->b.encode_errors);
	memset(&r, 0, sizeof(r));
	r.observation_domain = st.observation_domain;
	r.octets = st.octets;
	r.messages = st.messages;
	r.records = st.records;
	r.packets_ignored = st.packets_ignored;
	r.records_dropped = st.not_sent;
	r.init_time_ms = x->init_time_ms;
	if (append(x, TID_STATS, &r, sizeof(r)) != 0)
		return -1;
	return x->backlog ? export_backlog(x) : 0;
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

	if (x->b.env.template_refresh_s > 0 && now_ms >= x->next_refresh_ms) {
		/* UDP has no session: templates again on a timer (RFC 7011
		 * 8.4); statistics records on every transport. */
		if (x->conf_kind == TRANSPORT_UDP) {
			(void)export_metadata(x);
			x->templates_due = false;
			x->msgs_since_templates = 0;
		}
		(void)export_stats(x);
		(void)emit(x);
		x->next_refresh_ms = now_ms + x->b.env.template_refresh_s * 1000ull;
	} else if (idle && x->recs_in_msg > 0 && now_ms - x->last_emit_ms >=
	    FLUSH_IDLE_MS) {
		(void)emit(x);
	}
	/* UDP: finished messages wait in the transport's batch until it is
	 * full or the rings run dry (an idle tick); a busy tick (every 1024
	 * records) leaves them, as the next ones follow at once. */
	if (idle)
		transport_flush(x->b.tr);
}

static int
ipfix_finish(struct exporter *e)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;

	if (x->b.tr == NULL)
		return 0;
	(void)emit(x);
	(void)export_stats(x);
	(void)emit(x);
	return transport_finish(&x->b.tr, CLOSE_WAIT_MS, &x->b.final, e->error,
	    sizeof(e->error));
}

/* After the transport closed (binrec_exporter_destroy()). */
static void
ipfix_release(struct binrec_exporter *b)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)b;

	if (x->fbuf != NULL)
		fBufFree(x->fbuf);	/* frees the session and exporter too */
	else if (x->session != NULL)
		fbSessionFree(x->session);
	if (x->model != NULL)
		fbInfoModelFree(x->model);
	free(x->msgbuf);
	free(x->preamble.p);
}

/* SIGHUP: a reopened file starts with the metadata again. */
static int
ipfix_reopen(struct exporter *e)
{
	struct ipfix_exporter *x = (struct ipfix_exporter *)e;
	int rc;

	if (x->b.tr == NULL || x->conf_kind != TRANSPORT_FILE)
		return 0;
	(void)emit(x);
	if ((rc = transport_reopen(x->b.tr, e->error, sizeof(e->error))) <= 0)
		return rc;
	if (export_metadata(x) != 0 || export_stats(x) != 0 || emit(x) != 0) {
		snprintf(e->error, sizeof(e->error), "%s: cannot encode the "
		    "templates for the reopened file", e->name);
		return -1;
	}
	return 0;
}

static const struct exporter_ops ipfix_ops = {
	BINREC_EXPORTER_OPS,
	.tick = ipfix_tick,
	.finish = ipfix_finish,
	.reopen = ipfix_reopen,
};

struct exporter *
export_ipfix_open(const struct exporter_conf *conf,
    const struct exporter_env *env, char *errbuf, size_t errlen)
{
	const fbInfoElement_t *ai;
	struct binrec_layout *lay;
	struct ipfix_exporter *x;
	fbTemplate_t *ti, *te;
	GError *err = NULL;
	unsigned i;

	if ((x = binrec_exporter_new(sizeof(*x), &ipfix_ops, conf, env, errbuf,
	    errlen)) == NULL)
		return NULL;
	x->conf_kind = conf->transport.kind;
	x->b.append = append_cb;
	x->b.release = ipfix_release;
	x->b.unit = "message";
	x->b.report_connects = x->conf_kind == TRANSPORT_TCP;
	if ((x->b.tr = transport_open(&conf->transport, errbuf, errlen)) == NULL)
		goto fail;
	x->mtu = transport_mtu(x->b.tr);
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
	if (x->conf_kind == TRANSPORT_TCP &&
	    add_backlog_template(x, errbuf, errlen) != 0)
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
	if (binrec_init(&x->b.core, &x->b.tmpl, &x->b.env, &hooks, x, errbuf,
	    errlen) != 0)
		goto fail;
	for (i = 0; i < BINREC_LAYOUTS; i++) {
		lay = &x->b.core.lay[i];
		if (!lay->used)
			continue;
		if (build_templates(x, lay, errbuf, errlen) != 0)
			goto fail;
		/* a record must always fit one message */
		if (lay->max_wire + IPFIX_MSG_HEADER + IPFIX_SET_HEADER > x->mtu) {
			snprintf(errbuf, errlen, "template %s: records can reach %zu "
			    "bytes, more than a %zu-byte %s message holds; use "
			    "ipfix+tcp:// or ipfix+file://, a smaller --splt, or "
			    "shorter lengths in the template", x->b.tmpl.path,
			    lay->max_wire, x->mtu, conf->url);
			goto fail;
		}
	}
	x->fbuf = fBufAllocForExport(x->session,
	    fbExporterAllocBuffer(x->msgbuf, (uint16_t)x->mtu));
	x->init_time_ms = walltime_ms();
	x->last_emit_ms = monotime_ms();
	/* TCP: the metadata becomes the preamble of every connection. */
	x->preamble.active = transport_is_stream(x->b.tr);
	if (export_metadata(x) != 0 || emit(x) != 0) {
		snprintf(errbuf, errlen, "%s: cannot encode the templates", conf->url);
		goto fail;
	}
	if (x->preamble.active) {
		x->preamble.active = false;
		if (transport_set_preamble(x->b.tr, x->preamble.p,
		    x->preamble.len) != 0)
			goto nomem;
	}
	/* Only now may a TCP connection start: it must carry the preamble. */
	if (transport_start(x->b.tr, errbuf, errlen) != 0)
		goto fail;
	x->next_refresh_ms = monotime_ms() + env->template_refresh_s * 1000ull;
	return &x->b.base;
nomem:
	snprintf(errbuf, errlen, "out of memory");
fail:
	binrec_exporter_destroy(&x->b.base);
	return NULL;
}
