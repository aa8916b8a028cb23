/*
 * export_text.c - CSV (NFStream's to_csv layout) and JSON lines.
 *
 *	export_text_open()	open the file (or stdout) at start-up
 *	text_export_flow()	one line per flow
 *	text_finish()		flush, close, report write errors
 *	text_tick()		flush an idle output once a second (live)
 *	text_reopen()		SIGHUP: continue in a new file of the same name
 *
 * CSV: the header is written with the first flow (no flows, empty file,
 * as NFStream); integers in decimal, floats as Python's repr(), every
 * other value in double quotes with inner quotes escaped as \", SPLT
 * lists as "[a, b, c]".  JSON: one object per line with the same keys;
 * numbers as in CSV, lists as arrays, strings JSON-escaped.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "exporter.h"
#include "fmt.h"

struct text_exporter {
	struct exporter		 base;
	enum exporter_kind	 kind;
	FILE			*fp;
	char			*path;		/* NULL for stdout */
	int			 is_stdout;
	uint64_t		 flushed_ms;
	int			 header_done;
	struct colset		 cols;
	struct strbuf		 line;
	struct col_value	 val;
};

static int
add_num_u(struct strbuf *sb, uint64_t u)
{
	char b[FMT_NUM_MAX];

	return strbuf_add(sb, b, fmt_u64(b, u));
}

static int
add_num_i(struct strbuf *sb, int64_t i)
{
	char b[FMT_NUM_MAX];

	return strbuf_add(sb, b, fmt_i64(b, i));
}

static int
add_num_d(struct strbuf *sb, double d)
{
	char b[FMT_NUM_MAX];

	return strbuf_add(sb, b, fmt_double(b, d));
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

static int
text_write_line(struct text_exporter *t)
{
	if (fwrite(t->line.p, 1, t->line.len, t->fp) != t->line.len) {
		snprintf(t->base.error, sizeof(t->base.error), "%s: %s",
		    t->base.name, strerror(errno));
		return -1;
	}
	return 0;
}

static int
text_export_flow(struct exporter *e, const struct flow_view *v)
{
	struct text_exporter *t = (struct text_exporter *)e;
	unsigned i;
	int rc = 0;
	const char *name;

	t->line.len = 0;
	if (t->kind == EXPORTER_CSV && !t->header_done) {
		for (i = 0; i < t->cols.n; i++) {
			name = column_name(t->cols.ids[i]);
			if (i)
				rc |= strbuf_addc(&t->line, ',');
			rc |= strbuf_add(&t->line, name, strlen(name));
		}
		rc |= strbuf_addc(&t->line, '\n');
		t->header_done = 1;
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
		snprintf(e->error, sizeof(e->error), "%s: out of memory", e->name);
		e->failed++;
		return -1;
	}
	if (text_write_line(t) != 0) {
		e->failed++;
		return -1;
	}
	e->exported++;
	return 0;
}

static int
text_finish(struct exporter *e)
{
	struct text_exporter *t = (struct text_exporter *)e;
	int rc = 0;

	if (t->fp == NULL)
		return 0;
	if (fflush(t->fp) != 0 || ferror(t->fp)) {
		snprintf(e->error, sizeof(e->error), "%s: %s", e->name,
		    strerror(errno));
		rc = -1;
	}
	if (!t->is_stdout && fclose(t->fp) != 0 && rc == 0) {
		snprintf(e->error, sizeof(e->error), "%s: %s", e->name,
		    strerror(errno));
		rc = -1;
	}
	t->fp = NULL;
	return rc;
}

/* Live capture: flows reach the file within a second of export. */
static void
text_tick(struct exporter *e, uint64_t now_ms, bool idle)
{
	struct text_exporter *t = (struct text_exporter *)e;

	if (!idle || t->fp == NULL || now_ms - t->flushed_ms < 1000)
		return;
	t->flushed_ms = now_ms;
	fflush(t->fp);
}

/*
 * logrotate renames the file and sends SIGHUP: continue in a file of the
 * same name, appended to (a CSV header only when it is empty).
 */
static int
text_reopen(struct exporter *e)
{
	struct text_exporter *t = (struct text_exporter *)e;
	FILE *fp;

	if (t->is_stdout || t->fp == NULL)
		return 0;
	if ((fp = fopen(t->path, "a")) == NULL) {
		snprintf(e->error, sizeof(e->error), "cannot reopen %s: %s "
		    "(still writing to the old file)", e->name, strerror(errno));
		return -1;
	}
	if (fflush(t->fp) != 0 || fclose(t->fp) != 0)
		e->failed++;	/* the old file lost its tail: counted */
	t->fp = fp;
	setvbuf(t->fp, NULL, _IOFBF, 1 << 16);
	fseek(t->fp, 0, SEEK_END);
	t->header_done = ftell(t->fp) > 0;
	return 0;
}

static void
text_destroy(struct exporter *e)
{
	struct text_exporter *t = (struct text_exporter *)e;

	if (t->fp != NULL && !t->is_stdout)
		fclose(t->fp);
	strbuf_free(&t->line);
	colset_free(&t->cols);
	free(t->path);
	free(t);
}

static const struct exporter_ops text_ops = {
	.export_flow = text_export_flow,
	.tick = text_tick,
	.finish = text_finish,
	.reopen = text_reopen,
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
		t->fp = stdout;
		t->is_stdout = 1;
		snprintf(t->base.name, sizeof(t->base.name), "%s output (stdout)",
		    kind);
	} else {
		snprintf(t->base.name, sizeof(t->base.name), "%s output %s", kind,
		    conf->path);
		if ((t->path = strdup(conf->path)) == NULL ||
		    (t->fp = fopen(conf->path, "w")) == NULL) {
			snprintf(errbuf, errlen, "cannot open %s output %s: %s", kind,
			    conf->path, strerror(errno));
			free(t->path);
			colset_free(&t->cols);
			free(t);
			return NULL;
		}
	}
	/* Large buffer: one write system call per many flows. */
	setvbuf(t->fp, NULL, _IOFBF, 1 << 16);
	return &t->base;
}
