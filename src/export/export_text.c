/*
 * export_text.c - CSV (NFStream's to_csv layout) and JSON lines.
 *
 *	export_text_open()	open the file (or stdout) at start-up
 *	text_export_flow()	one line per flow, into the output buffer
 *	text_flush()		the buffer to the file, one write(2) per 64 KB
 *	text_finish()		flush, close, report write errors
 *	text_tick()		flush an idle output once a second (live)
 *	text_reopen()		SIGHUP: continue in a new file of the same name
 *	text_report()		the summary line: rows written, rows failed
 *
 * CSV: the header is written with the first flow (no flows, empty file,
 * as NFStream); integers in decimal, floats as Python's repr(), every
 * other value in double quotes with inner quotes escaped as \", SPLT
 * lists as "[a, b, c]".  JSON: one object per line with the same keys;
 * numbers as in CSV, lists as arrays, strings JSON-escaped.
 *
 * Rows are counted where they end up.  The exporter keeps its own buffer
 * (not stdio's) and the end of every row in it, so after a short or failed
 * write it knows exactly which rows reached the file: the file is cut back
 * to the end of the last whole row (a regular file), the rest of the
 * buffer is counted as failed, the cause is logged at once, and every
 * later row is failed too until a SIGHUP opens a new file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "columns.h"
#include "exporter.h"
#include "fmt.h"
#include "log.h"
#include "wfile.h"

#define TEXT_FLUSH_BYTES	(1u << 16)	/* one write per this much */

struct text_exporter {
	struct exporter		 base;
	enum exporter_kind	 kind;
	struct wfile		 out;		/* fd -1: closed */
	char			*path;		/* NULL for stdout */
	int			 is_stdout;
	bool			 dead;		/* a write failed: rows fail */
	uint64_t		 flushed_ms;
	int			 header_done;
	struct colset		 cols;
	struct strbuf		 line;		/* rows not yet written */
	size_t			*ends;		/* end of each row in line */
	size_t			 nrows, cap_rows;
	uint64_t		 written;	/* rows in the file */
	_Atomic uint64_t	 lost;		/* rows taken, then lost in a
						 * failed write (any thread) */
	struct col_value	 val;
};

/* Numbers are formatted straight into the line (room for the longest
 * and its NUL first): most of a row's columns. */
static int
add_num_u(struct strbuf *sb, uint64_t u)
{
	if (strbuf_reserve(sb, FMT_NUM_MAX) != 0)
		return -1;
	sb->len += fmt_u64(sb->p + sb->len, u);
	return 0;
}

static int
add_num_i(struct strbuf *sb, int64_t i)
{
	if (strbuf_reserve(sb, FMT_NUM_MAX) != 0)
		return -1;
	sb->len += fmt_i64(sb->p + sb->len, i);
	return 0;
}

static int
add_num_d(struct strbuf *sb, double d)
{
	if (strbuf_reserve(sb, FMT_NUM_MAX) != 0)
		return -1;
	sb->len += fmt_double(sb->p + sb->len, d);
	return 0;
}

static int
add_list(struct strbuf *sb, const struct col_value *v, const char *sep)
{
	unsigned i;
	int rc = strbuf_addc(sb, '[');

	for (i = 0; i < v->n; i++) {
		if (i)
			rc |= strbuf_add(sb, sep, strlen(sep));
		rc |= add_num_i(sb, v->list[i]);
	}
	return rc | strbuf_addc(sb, ']');
}

static int
csv_add_string(struct strbuf *sb, const char *s, unsigned n)
{
	const char *q;
	int rc = strbuf_addc(sb, '"');

	while (n > 0 && (q = memchr(s, '"', n)) != NULL) {
		rc |= strbuf_add(sb, s, (size_t)(q - s));
		rc |= strbuf_add(sb, "\\\"", 2);
		n -= (unsigned)(q - s) + 1;
		s = q + 1;
	}
	rc |= strbuf_add(sb, s, n);
	return rc | strbuf_addc(sb, '"');
}

static int
json_add_string(struct strbuf *sb, const char *s, unsigned n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned i;
	unsigned char c;
	int rc = strbuf_addc(sb, '"');

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			rc |= strbuf_addc(sb, '\\');
			rc |= strbuf_addc(sb, (char)c);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			rc |= strbuf_add(sb, esc, sizeof(esc));
		} else {
			rc |= strbuf_addc(sb, (char)c);
		}
	}
	return rc | strbuf_addc(sb, '"');
}

static int
add_value(struct text_exporter *t, const struct col_value *v)
{
	struct strbuf *sb = &t->line;

	switch (v->type) {
	case COLT_UINT:
		return add_num_u(sb, v->u);
	case COLT_INT:
		return add_num_i(sb, v->i);
	case COLT_DOUBLE:
		return add_num_d(sb, v->d);
	case COLT_STRING:
		return t->kind == EXPORTER_CSV ? csv_add_string(sb, v->s, v->slen) :
		    json_add_string(sb, v->s, v->slen);
	case COLT_BYTES: {
		static const char hex[] = "0123456789abcdef";
		char h[2 * sizeof(v->buf)];
		unsigned i;

		for (i = 0; i < v->rawlen && i < sizeof(v->buf); i++) {
			h[2 * i] = hex[v->raw[i] >> 4];
			h[2 * i + 1] = hex[v->raw[i] & 15];
		}
		return t->kind == EXPORTER_CSV ? csv_add_string(sb, h, 2 * i) :
		    json_add_string(sb, h, 2 * i);
	}
	case COLT_LIST:
		if (t->kind == EXPORTER_JSON)
			return add_list(sb, v, ",");
		/* CSV: Python's str(list), quoted like every non-number */
		return strbuf_addc(sb, '"') | add_list(sb, v, ", ") |
		    strbuf_addc(sb, '"');
	}
	return -1;
}

/* The first failure of this file: its cause, logged at once. */
static void
text_fail(struct text_exporter *t, const char *what, int err)
{
	snprintf(t->base.error, sizeof(t->base.error), "%s: %s: %s",
	    t->base.name, what, strerror(err));
	if (!t->dead)
		log_warnx("%s; from now on its rows are counted as failed",
		    t->base.error);
	t->dead = true;
}

/*
 * Write the buffered rows.  After a short or failed write the rows that
 * reached the file whole are kept, the file is cut back to the end of the
 * last of them and the others are counted as lost.  0 or -1.
 */
static int
text_flush(struct text_exporter *t)
{
	size_t done, k;
	int err;

	if (t->line.len == 0)
		return t->dead ? -1 : 0;
	if ((err = wfile_write(&t->out, t->line.p, t->line.len, &done)) == 0) {
		wfile_commit(&t->out, done);
		t->written += t->nrows;
		t->line.len = 0;
		t->nrows = 0;
		return 0;
	}
	/* Whole rows in what was written; the CSV header stays if whole. */
	for (k = 0; k < t->nrows && t->ends[k] <= done; k++)
		;
	wfile_cut(&t->out, k > 0 ? t->ends[k - 1] : 0);
	t->written += k;
	atomic_fetch_add(&t->lost, t->nrows - k);
	t->line.len = 0;
	t->nrows = 0;
	text_fail(t, "write failed", err);
	return -1;
}

static int
text_export_flow(struct exporter *e, const struct flow_view *v)
{
	struct text_exporter *t = (struct text_exporter *)e;
	unsigned i;
	int rc = 0;
	const char *name;
	size_t start = t->line.len, *ends;

	if (t->dead || t->out.fd < 0) {
		e->failed++;
		return -1;
	}
	if (t->nrows == t->cap_rows) {
		i = t->cap_rows ? 2 * (unsigned)t->cap_rows : 1024;
		if ((ends = realloc(t->ends, i * sizeof(*ends))) == NULL) {
			snprintf(e->error, sizeof(e->error), "%s: out of memory",
			    e->name);
			e->failed++;
			return -1;
		}
		t->ends = ends;
		t->cap_rows = i;
	}
	if (t->kind == EXPORTER_CSV && !t->header_done) {
		for (i = 0; i < t->cols.n; i++) {
			name = column_name(t->cols.ids[i]);
			if (i)
				rc |= strbuf_addc(&t->line, ',');
			rc |= strbuf_add(&t->line, name, strlen(name));
		}
		rc |= strbuf_addc(&t->line, '\n');
	}
	if (t->kind == EXPORTER_JSON)
		rc |= strbuf_addc(&t->line, '{');
	for (i = 0; i < t->cols.n; i++) {
		if (i)
			rc |= strbuf_addc(&t->line, ',');
		if (t->kind == EXPORTER_JSON) {
			name = column_name(t->cols.ids[i]);
			rc |= json_add_string(&t->line, name, (unsigned)strlen(name));
			rc |= strbuf_addc(&t->line, ':');
		}
		column_value(v, t->cols.ids[i], &t->val);
		rc |= add_value(t, &t->val);
	}
	if (t->kind == EXPORTER_JSON)
		rc |= strbuf_addc(&t->line, '}');
	rc |= strbuf_addc(&t->line, '\n');
	if (rc != 0) {
		t->line.len = start;
		snprintf(e->error, sizeof(e->error), "%s: out of memory", e->name);
		e->failed++;
		return -1;
	}
	t->header_done = 1;
	t->ends[t->nrows++] = t->line.len;
	e->exported++;
	/* A failed write is counted in text_flush() (lost rows). */
	if (t->line.len >= TEXT_FLUSH_BYTES)
		(void)text_flush(t);
	return 0;
}

static int
text_finish(struct exporter *e)
{
	struct text_exporter *t = (struct text_exporter *)e;
	int rc = 0;

	if (t->out.fd < 0)
		return t->dead ? -1 : 0;
	if (text_flush(t) != 0)
		rc = -1;
	if (wfile_close(&t->out) != 0 && rc == 0) {
		text_fail(t, "close failed", errno);
		rc = -1;
	}
	return rc;
}

/* Live capture: flows reach the file within a second of export. */
static void
text_tick(struct exporter *e, uint64_t now_ms, bool idle)
{
	struct text_exporter *t = (struct text_exporter *)e;

	if (!idle || t->out.fd < 0 || now_ms - t->flushed_ms < 1000)
		return;
	t->flushed_ms = now_ms;
	(void)text_flush(t);
}

/*
 * logrotate renames the file and sends SIGHUP: continue in a file of the
 * same name, appended to (a CSV header only when it is empty).  A file
 * that failed gets another chance in the new one.
 */
static int
text_reopen(struct exporter *e)
{
	struct text_exporter *t = (struct text_exporter *)e;
	struct wfile w;

	if (t->is_stdout || t->out.fd < 0)
		return 0;
	(void)text_flush(t);	/* what it loses is counted */
	if (wfile_open(&w, t->path, O_APPEND) != 0) {
		snprintf(e->error, sizeof(e->error), "cannot reopen %s: %s "
		    "(still writing to the old file)", e->name, strerror(errno));
		return -1;
	}
	(void)wfile_close(&t->out);
	t->out = w;
	t->header_done = t->out.off > 0;
	if (t->dead)
		log_warnx("%s: writing again in the reopened file", e->name);
	t->dead = false;
	return 0;
}

/* Every row handed to this output is in the file or counted as failed. */
static void
text_report(struct exporter *e, FILE *fp)
{
	struct text_exporter *t = (struct text_exporter *)e;

	fprintf(fp, "streamprobe: %s: %llu rows written, %llu failed\n",
	    e->name, (unsigned long long)t->written,
	    (unsigned long long)(e->failed + atomic_load(&t->lost)));
}

/* Rows taken (counted exported by the stage) and lost in a later write;
 * those refused at once (base.failed) are the stage's failures. */
static uint64_t
text_records_lost(struct exporter *e)
{
	return atomic_load(&((struct text_exporter *)e)->lost);
}

static void
text_destroy(struct exporter *e)
{
	struct text_exporter *t = (struct text_exporter *)e;

	(void)wfile_close(&t->out);
	strbuf_free(&t->line);
	free(t->ends);
	colset_free(&t->cols);
	free(t->path);
	free(t);
}

static const struct exporter_ops text_ops = {
	.export_flow = text_export_flow,
	.tick = text_tick,
	.finish = text_finish,
	.reopen = text_reopen,
	.report = text_report,
	.records_lost = text_records_lost,
	.destroy = text_destroy,
};

struct exporter *
export_text_open(const struct exporter_conf *conf, const struct colset *cols,
    char *errbuf, size_t errlen)
{
	struct text_exporter *t;
	const char *kind = conf->kind == EXPORTER_CSV ? "csv" : "json";

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	t->base.ops = &text_ops;
	t->kind = conf->kind;
	if (colset_copy(&t->cols, cols) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		free(t);
		return NULL;
	}
	if (strcmp(conf->path, "-") == 0) {
		wfile_use(&t->out, STDOUT_FILENO);
		t->is_stdout = 1;
		snprintf(t->base.name, sizeof(t->base.name), "%s output (stdout)",
		    kind);
	} else {
		snprintf(t->base.name, sizeof(t->base.name), "%s output %s", kind,
		    conf->path);
		if ((t->path = strdup(conf->path)) == NULL ||
		    wfile_open(&t->out, conf->path, O_TRUNC) != 0) {
			snprintf(errbuf, errlen, "cannot open %s output %s: %s", kind,
			    conf->path, strerror(errno));
			free(t->path);
			colset_free(&t->cols);
			free(t);
			return NULL;
		}
	}
	return &t->base;
}
