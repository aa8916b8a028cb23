/*
 * binrec.c - the binary-export core: record layouts from the template
 * file, the encoding rules, options record content (binrec.h).
 *
 *	binrec_init(), binrec_free()	layouts of the run's mode, buffers
 *	binrec_export_flow()		a flow's record(s), appended
 *	encode()			one record: fast loop, then the rest
 *	binrec_put_*()			the encoding rules
 *	binrec_column_active(), column_fits(), columns_of()
 *					which columns a template line carries
 *	binrec_exporter_*()		the binary exporters' common part
 *	binrec_stats_fill(), binrec_app_entry()	options record content
 */
#define _DEFAULT_SOURCE
#include <endian.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "binrec.h"
#include "exporter.h"
#include "flow.h"
#include "transport.h"

/* ---- template lines -------------------------------------------------- */

bool
binrec_column_active(const struct exporter_env *env, int col)
{
	switch (column_group(col)) {
	case COLG_TUNNEL:
		return env->tunnels;
	case COLG_STATS:
		return env->statistics;
	case COLG_SPLT:
		return env->splt;
	case COLG_L7:
		return env->dpi != NULL;
	default:
		return col != COL_APPLICATION_ID || env->dpi != NULL;
	}
}

static bool
column_is_address(int col)
{
	return col == COL_SRC_IP || col == COL_DST_IP || col == COL_SRC_MAC ||
	    col == COL_DST_MAC;
}

/* Can the column be written as this element type (enum ie_type)? */
static bool
column_fits(int col, int t)
{
	enum col_type ct = column_type(col);

	switch (t) {
	case IE_IPV4_ADDRESS:
	case IE_IPV6_ADDRESS:
		return col == COL_SRC_IP || col == COL_DST_IP;
	case IE_MAC_ADDRESS:
		return col == COL_SRC_MAC || col == COL_DST_MAC;
	case IE_STRING:
		return ct == COLT_STRING;
	case IE_OCTET_ARRAY:
		return ct == COLT_STRING || ct == COLT_LIST || ct == COLT_BYTES;
	default:
		return ct == COLT_UINT || ct == COLT_INT || ct == COLT_DOUBLE;
	}
}

/*
 * Columns of the field in a forward and a reverse record: for biflows the
 * column itself; with --uniflow the one-direction columns.  False when the
 * field has no place in this mode (reverse elements, dst2src columns and
 * biflow_direction in uniflow records).
 */
static bool
columns_of(const struct tmpl_field *tf, bool uniflow, int col[2])
{
	if (!uniflow) {
		col[0] = col[1] = tf->column;
		return true;
	}
	if (tf->pen == TMPL_REVERSE_PEN ||
	    strncmp(column_name(tf->column), "dst2src_", 8) == 0)
		return false;	/* the reverse record carries these */
	col[0] = column_for_direction(tf->column, 0);
	col[1] = column_for_direction(tf->column, 1);
	return col[0] >= 0 && col[1] >= 0;
}

/* Bytes per element of a SPLT list column (1, 2 or 4). */
static size_t
list_width(int col)
{
	return col == COL_SPLT_DIRECTION ? 1 : col == COL_SPLT_PS ? 2 : 4;
}

size_t
binrec_list_bytes(int col, unsigned splt_n, size_t max)
{
	size_t w = list_width(col), n = w * splt_n;

	return n < max ? n : max / w * w;
}

/* Longest prefix of at most max bytes that splits no UTF-8 character and
 * no \xHH escape. */
static size_t
text_cut(const char *s, size_t len, size_t max)
{
	size_t n, i;

	if (len <= max)
		return len;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	for (i = n >= 3 ? n - 3 : 0; i < n; i++)
		if (s[i] == '\\' && i + 1 < len && s[i + 1] == 'x')
			return i;	/* would split a \xHH escape */
	return n;
}

/* ---- layouts ---------------------------------------------------------- */

static void
pad8(size_t *off)
{
	*off += (8 - *off % 8) % 8;
}

/* Can the field go through the fast loop (see struct binrec_fast)? */
static bool
fast_candidate(const struct binrec_field *f)
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

static int
build_layout(struct binrec *b, struct binrec_layout *lay, int family,
    bool uniflow, const struct binrec_hooks *h, void *ctx, char *errbuf,
    size_t errlen)
{
	const struct tmpl *t = b->tmpl;
	const struct tmpl_field *tf;
	struct binrec_field *f;
	struct binrec_fast *ff;
	size_t off = 0, wire = 0;
	unsigned i;
	int rc;

	for (i = 0; i < t->n; i++) {
		tf = &t->f[i];
		if ((tf->family != 0 && tf->family != family) ||
		    !binrec_column_active(b->env, tf->column))
			continue;
		if (!column_fits(tf->column, tf->type)) {
			snprintf(errbuf, errlen, "template %s line %u: column %s "
			    "cannot be written as %s", t->path, tf->line,
			    column_name(tf->column), ie_type_name(tf->type));
			return -1;
		}
		if ((rc = h->field(ctx, tf, errbuf, errlen)) <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		f = &lay->f[lay->n];
		memset(f, 0, sizeof(*f));
		if (!columns_of(tf, uniflow, f->col))
			continue;
		lay->n++;
		if (column_is_address(tf->column) && ie_type_is_varlen(tf->type))
			b->addr_as_text = true;
		f->tf = tf;
		f->len = tf->length;
		f->varlen = h->varlen && ie_type_is_varlen(tf->type) && !tf->fixed;
		f->numeric = !ie_type_is_varlen(tf->type) &&
		    tf->type != IE_IPV4_ADDRESS && tf->type != IE_IPV6_ADDRESS &&
		    tf->type != IE_MAC_ADDRESS &&
		    column_is_number((enum col_id)f->col[0]) &&
		    (f->col[1] < 0 || column_is_number((enum col_id)f->col[1]));
		if (f->varlen) {
			pad8(&off);
			f->off = (uint32_t)off;
			off += sizeof(struct binrec_varfield);
			wire += 3u + (column_type(tf->column) == COLT_LIST ?
			    binrec_list_bytes(tf->column, b->env->splt_n,
			    tf->length) : tf->length);
		} else {
			f->off = (uint32_t)off;
			off += tf->length;
			wire += tf->length;
		}
		if (fast_candidate(f) && (h->fast == NULL || h->fast(ctx, tf))) {
			ff = &lay->fast[lay->nfast++];
			ff->off = f->off;
			ff->col[0] = (int16_t)f->col[0];
			ff->col[1] = (int16_t)f->col[1];
			ff->shift = (uint8_t)(8 * (8 - f->len));
			ff->max = f->len >= 8 ? UINT64_MAX :
			    ((uint64_t)1 << (8 * f->len)) - 1;
		} else {
			lay->slow[lay->nslow++] = *f;
		}
	}
	if (h->varlen)
		pad8(&off);	/* libfixbuf's records are 8-byte multiples */
	lay->rec_size = off;
	lay->max_wire = wire;
	lay->used = lay->n > 0;
	return 0;
}

int
binrec_init(struct binrec *b, const struct tmpl *tmpl,
    const struct exporter_env *env, const struct binrec_hooks *hooks,
    void *ctx, char *errbuf, size_t errlen)
{
	size_t max_rec = 0, strings = 0;
	unsigned i;

	memset(b, 0, sizeof(*b));
	b->tmpl = tmpl;
	b->env = env;
	for (i = 0; i < BINREC_LAYOUTS; i++) {
		b->lay[i].tid = (uint16_t)(BINREC_TID_FIRST + i);
		if ((i >= 2) != env->uniflow)
			continue;	/* only the mode's own templates */
		if (build_layout(b, &b->lay[i], (i % 2) ? 6 : 4, i >= 2, hooks,
		    ctx, errbuf, errlen) != 0)
			return -1;
		if (b->lay[i].rec_size > max_rec)
			max_rec = b->lay[i].rec_size;
	}
	for (i = 0; hooks->varlen && i < tmpl->n; i++)
		if (ie_type_is_varlen(tmpl->f[i].type) && !tmpl->f[i].fixed)
			strings += tmpl->f[i].length;
	/* +8: the fast loop writes 8 bytes for a field of any length */
	b->strings_cap = 2 * strings + 64;
	if ((b->rec = calloc(1, max_rec + 8)) == NULL ||
	    (b->strings = malloc(b->strings_cap)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void
binrec_free(struct binrec *b)
{
	free(b->rec);
	free(b->strings);
	b->rec = b->strings = NULL;
}

bool
binrec_any_used(const struct binrec *b)
{
	unsigned i;

	for (i = 0; i < BINREC_LAYOUTS; i++)
		if (b->lay[i].used)
			return true;
	return false;
}

/* The layout of a flow; NULL when that layout has no field. */
static const struct binrec_layout *
layout_of(const struct binrec *b, const struct flow_view *v)
{
	const struct binrec_layout *lay = &b->lay[(b->env->uniflow ? 2 : 0) +
	    (v->flow->key.ip_version == 6)];

	return lay->used ? lay : NULL;
}

/* ---- encoding rules --------------------------------------------------- */

void
binrec_put_be(uint8_t *p, unsigned len, uint64_t v)
{
	unsigned i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

void
binrec_put_uint(uint8_t *p, unsigned len, uint64_t v)
{
	uint64_t max = len >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * len)) - 1;

	binrec_put_be(p, len, v > max ? max : v);	/* reduced size saturates */
}

void
binrec_put_int(uint8_t *p, unsigned len, int64_t v)
{
	int64_t max = len >= 8 ? INT64_MAX : ((int64_t)1 << (8 * len - 1)) - 1;
	int64_t min = -max - 1;

	if (v > max)
		v = max;
	if (v < min)
		v = min;
	binrec_put_be(p, len, (uint64_t)v);	/* two's complement, low bytes */
}

void
binrec_put_float(uint8_t *p, unsigned len, double d)
{
	float fl;
	uint32_t u32;
	uint64_t u;

	if (len == 8) {
		memcpy(&u, &d, 8);
		binrec_put_be(p, 8, u);
		return;
	}
	fl = (float)d;	/* float32, or a float64 sent in 4 bytes */
	memcpy(&u32, &fl, 4);
	binrec_put_be(p, len, u32);
}

void
binrec_host_order(uint8_t *p, size_t len)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	size_t i;
	uint8_t t;

	for (i = 0; i < len / 2; i++) {
		t = p[i];
		p[i] = p[len - 1 - i];
		p[len - 1 - i] = t;
	}
#else
	(void)p;
	(void)len;
#endif
}

static double
value_double(const struct col_value *v)
{
	return v->type == COLT_DOUBLE ? v->d : v->type == COLT_INT ?
	    (double)v->i : (double)v->u;
}

/* A fixed-length string or octet array: the record may hold a fast
 * field's spill here, so every byte is written. */
static void
put_text(const struct binrec_field *f, const struct col_value *v, uint8_t *p)
{
	size_t n, i, w;

	memset(p, 0, f->len);
	if (v->type == COLT_LIST) {
		w = list_width(f->col[0]);
		for (i = 0; i < v->n && (i + 1) * w <= f->len; i++)
			binrec_put_be(p + i * w, (unsigned)w, (uint64_t)v->list[i]);
	} else if (v->type == COLT_BYTES) {
		memcpy(p, v->raw, v->rawlen < f->len ? v->rawlen : f->len);
	} else {
		n = text_cut(v->s, v->slen, f->len);
		memcpy(p, v->s, n);
	}
}

void
binrec_put_fixed(const struct binrec_field *f, const struct col_value *v,
    uint64_t time_base, uint8_t *p)
{
	uint64_t u;

	switch (f->tf->type) {
	case IE_IPV4_ADDRESS:
		if (v->raw != NULL && v->rawlen == 4 && f->len == 4)
			memcpy(p, v->raw, 4);
		else
			memset(p, 0, f->len);
		break;
	case IE_IPV6_ADDRESS:
	case IE_MAC_ADDRESS:
		if (v->raw != NULL && v->rawlen >= f->len)
			memcpy(p, v->raw, f->len);
		else
			memset(p, 0, f->len);
		return;	/* bytes: no byte order */
	case IE_STRING:
	case IE_OCTET_ARRAY:
		put_text(f, v, p);
		break;
	case IE_FLOAT32:
	case IE_FLOAT64:
		binrec_put_float(p, f->len, value_double(v));
		break;
	case IE_BOOLEAN:
		binrec_put_uint(p, f->len, (v->type == COLT_DOUBLE ? v->d != 0 :
		    v->u != 0) ? 1 : 2);
		break;
	case IE_SIGNED8: case IE_SIGNED16: case IE_SIGNED32: case IE_SIGNED64:
		binrec_put_int(p, f->len, v->type == COLT_INT ? v->i :
		    v->type == COLT_DOUBLE ? (int64_t)llround(v->d) :
		    (int64_t)v->u);
		break;
	default:
		if (v->type == COLT_DOUBLE)
			u = v->d <= 0 ? 0 : (uint64_t)llround(v->d);
		else if (v->type == COLT_INT)
			u = v->i < 0 ? 0 : (uint64_t)v->i;
		else
			u = v->u;
		if (f->relative)
			u = u >= time_base ? u - time_base : 0;
		binrec_put_uint(p, f->len, u);
		break;
	}
	if (f->host_order)
		binrec_host_order(p, f->len);
}

/* A variable-length field: its bytes in the scratch buffer. */
static void
put_varlen(struct binrec *b, const struct binrec_field *f,
    const struct col_value *v, uint8_t *p, size_t *sused)
{
	struct binrec_varfield vf;
	uint8_t *buf = b->strings + *sused;
	size_t n, i, w;

	/* strings_cap holds twice the template's maxima: always room. */
	if (v->type == COLT_LIST) {
		w = list_width(f->col[0]);
		n = v->n * w;
		if (n > f->len)
			n = f->len / w * w;
		for (i = 0; i < n / w; i++)
			binrec_put_be(buf + i * w, (unsigned)w, (uint64_t)v->list[i]);
	} else if (v->type == COLT_BYTES) {
		n = v->rawlen < f->len ? v->rawlen : f->len;
		memcpy(buf, v->raw, n);
	} else {
		n = text_cut(v->s, v->slen, f->len);
		memcpy(buf, v->s, n);
	}
	vf.len = n;
	vf.buf = buf;
	*sused += n;
	memcpy(p, &vf, sizeof(vf));
}

/* Fill b->rec with the flow's forward (0) or reverse (1) record. */
static void
encode(struct binrec *b, const struct binrec_layout *lay,
    const struct flow_view *v, int reverse)
{
	const struct binrec_fast *ff = lay->fast, *ff_end = ff + lay->nfast;
	const union col_num *num = v->num;
	uint8_t *rec = b->rec;
	size_t sused = 0;
	unsigned i;

	memset(rec, 0, lay->rec_size);
	/* Locals, not b->..: the stores below may alias b for the compiler. */
	for (; ff < ff_end; ff++) {
		uint64_t u = num[ff->col[reverse]].u;

		u = u > ff->max ? ff->max : u;
		u = htobe64(u << ff->shift);
		memcpy(rec + ff->off, &u, 8);
	}
	/* The others after the fast ones: they overwrite any spill. */
	for (i = 0; i < lay->nslow; i++) {
		const struct binrec_field *f = &lay->slow[i];
		enum col_id col = (enum col_id)f->col[reverse];

		/* Numbers straight from the view's row; text, lists and
		 * addresses through column_value(). */
		if (f->numeric)
			column_number_value(v, col, &b->val);
		else
			column_value(v, col, &b->val);
		if (f->varlen)
			put_varlen(b, f, &b->val, rec + f->off, &sused);
		else
			binrec_put_fixed(f, &b->val, b->time_base, rec + f->off);
	}
}

int
binrec_export_flow(struct binrec *b, const struct flow_view *v,
    binrec_append_fn append, void *ctx)
{
	const struct binrec_layout *lay = layout_of(b, v);
	struct flow_view bv = *v;

	if (lay == NULL)
		return -2;
	bv.no_text = !b->addr_as_text;	/* addresses go out as bytes */
	encode(b, lay, &bv, 0);
	if (append(ctx, lay->tid, b->rec, lay->rec_size) != 0)
		return -1;
	if (!b->env->uniflow || v->flow->packets[FLOW_DIR_DST2SRC] == 0)
		return 0;
	encode(b, lay, &bv, 1);
	return append(ctx, lay->tid, b->rec, lay->rec_size) != 0 ? -1 : 0;
}

/* ---- the binary exporters' common part ------------------------------- */

void *
binrec_exporter_new(size_t size, const struct exporter_ops *ops,
    const struct exporter_conf *conf, const struct exporter_env *env,
    char *errbuf, size_t errlen)
{
	struct binrec_exporter *b;

	if ((b = calloc(1, size)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	b->base.ops = ops;
	b->env = *env;
	snprintf(b->base.name, sizeof(b->base.name), "%s", conf->url);
	if (tmpl_load(&b->tmpl, env->template_name, env->template_dir, errbuf,
	    errlen) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

void
binrec_exporter_destroy(struct exporter *e)
{
	struct binrec_exporter *b = (struct binrec_exporter *)e;

	(void)transport_finish(&b->tr, 0, &b->final, e->error,
	    sizeof(e->error));
	if (b->release != NULL)
		b->release(b);
	binrec_free(&b->core);
	free(b);
}

int
binrec_exporter_export_flow(struct exporter *e, const struct flow_view *v)
{
	struct binrec_exporter *b = (struct binrec_exporter *)e;
	int rc = binrec_export_flow(&b->core, v, b->append, b);

	if (rc != 0) {
		e->failed++;
		if (rc == -1)
			snprintf(e->error, sizeof(e->error), "%s: %llu records "
			    "too large for a %s, %llu encoding errors", e->name,
			    (unsigned long long)b->too_big, b->unit,
			    (unsigned long long)b->encode_errors);
		return -1;
	}
	e->exported++;
	return 0;
}

void
binrec_exporter_report(struct exporter *e, FILE *fp)
{
	struct binrec_exporter *b = (struct binrec_exporter *)e;

	transport_report(fp, e->name, e->exported, b->tr, &b->final,
	    b->too_big + b->encode_errors, b->report_connects);
}

uint64_t
binrec_exporter_records_lost(struct exporter *e)
{
	struct binrec_exporter *b = (struct binrec_exporter *)e;

	return transport_records_lost(b->tr, &b->final);
}

bool
binrec_exporter_backlog(struct exporter *e, struct transport_backlog *out)
{
	struct binrec_exporter *b = (struct binrec_exporter *)e;

	if (b->tr == NULL || !transport_is_stream(b->tr))
		return false;
	transport_backlog(b->tr, out);
	return true;
}

/* ---- options records -------------------------------------------------- */

void
binrec_stats_fill(struct binrec_stats *s, const struct exporter_env *env,
    struct transport *tr, uint64_t octets, uint64_t messages,
    uint64_t records, uint64_t not_encoded)
{
	struct transport_stats ts;
	int i;

	transport_stats(tr, &ts);
	memset(s, 0, sizeof(*s));
	s->observation_domain = env->observation_domain;
	s->octets = octets;
	s->messages = messages;
	s->records = records;
	/* RFC 7011 4.2: packets observed but not metered: skipped by decode
	 * plus those the kernel or the interface dropped before capture. */
	if (env->packets_ignored != NULL)
		s->packets_ignored += atomic_load(env->packets_ignored);
	for (i = 0; i < 2; i++)
		if (env->capture_dropped[i] != NULL)
			s->packets_ignored += atomic_load(env->capture_dropped[i]);
	s->not_sent = ts.records_dropped + not_encoded;
}

void
binrec_app_entry(unsigned id, const char *s, uint8_t app_id[5],
    char name[BINREC_APP_NAME_LEN])
{
	app_id[0] = BINREC_APP_ENGINE;
	binrec_put_be(app_id + 1, 4, id);
	memset(name, 0, BINREC_APP_NAME_LEN);
	memcpy(name, s, strnlen(s, BINREC_APP_NAME_LEN));
}
