/*
 * template.c - template files.
 *
 *	tmpl_load()		parse and validate one template file
 *	tmpl_parse_stream(), tmpl_parse_buffer()	the same from a stream or
 *				memory (the fuzzer, tests)
 *	ie_type_name(), ie_type_is_varlen(), ie_type_size()
 *	tmpl_v9_type()		a line's NetFlow v9 field type
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "template.h"

static const struct {
	const char	*name;
	unsigned	 size;
} ie_types[IE_TYPE_COUNT] = {
	[IE_OCTET_ARRAY] = { "octetArray", 0 },
	[IE_UNSIGNED8] = { "unsigned8", 1 },
	[IE_UNSIGNED16] = { "unsigned16", 2 },
	[IE_UNSIGNED32] = { "unsigned32", 4 },
	[IE_UNSIGNED64] = { "unsigned64", 8 },
	[IE_SIGNED8] = { "signed8", 1 },
	[IE_SIGNED16] = { "signed16", 2 },
	[IE_SIGNED32] = { "signed32", 4 },
	[IE_SIGNED64] = { "signed64", 8 },
	[IE_FLOAT32] = { "float32", 4 },
	[IE_FLOAT64] = { "float64", 8 },
	[IE_BOOLEAN] = { "boolean", 1 },
	[IE_MAC_ADDRESS] = { "macAddress", 6 },
	[IE_STRING] = { "string", 0 },
	[IE_DATE_TIME_SECONDS] = { "dateTimeSeconds", 4 },
	[IE_DATE_TIME_MILLISECONDS] = { "dateTimeMilliseconds", 8 },
	[IE_DATE_TIME_MICROSECONDS] = { "dateTimeMicroseconds", 8 },
	[IE_DATE_TIME_NANOSECONDS] = { "dateTimeNanoseconds", 8 },
	[IE_IPV4_ADDRESS] = { "ipv4Address", 4 },
	[IE_IPV6_ADDRESS] = { "ipv6Address", 16 },
};

const char *
ie_type_name(enum ie_type t)
{
	return t < IE_TYPE_COUNT ? ie_types[t].name : "?";
}

int
ie_type_is_varlen(enum ie_type t)
{
	return t == IE_OCTET_ARRAY || t == IE_STRING;
}

unsigned
ie_type_size(enum ie_type t)
{
	return t < IE_TYPE_COUNT ? ie_types[t].size : 0;
}

#define NTOP_PEN		35632u
#define NTOP_V9_BASE		57472u
#define OWN_V9_BASE		48000u	/* streamprobe element n: 48000 + n */
#define OWN_V9_MAX		9000u	/* below 57000: clear of ntop's */
#define IANA_FLOW_ID		148
#define OWN_FLOW_ID		1000	/* the flow id's own element number */
#define V9_OUT_BYTES		23
#define V9_OUT_PKTS		24

/*
 * An IANA element keeps its id (below 128 v9 and IPFIX agree; above, the id
 * the template names), except flowId 148, which v9 collectors read as Cisco
 * ASA's NSEL connection id (nfdump then takes every record for a firewall
 * event): the flow id goes out as 49000, streamprobe's element 1000.  RFC
 * 5103 reverse octet and packet counts become OUT_BYTES 23 and OUT_PKTS 24;
 * ntop's elements (PEN 35632) take ntop's v9 ids, 57472 + id; streamprobe's
 * own (the template's "enterprise" number, own) 48000 + id, a range nfdump,
 * pmacct, Wireshark, Cisco NSEL and ntop do not use, except the SPLT lists;
 * any other enterprise element has no v9 id.
 */
uint16_t
tmpl_v9_type(const struct tmpl_field *tf, uint32_t own)
{
	if (tf->v9_set)
		return tf->v9_id;
	if (tf->pen == 0)
		return tf->id == IANA_FLOW_ID ? OWN_V9_BASE + OWN_FLOW_ID : tf->id;
	if (tf->pen == TMPL_REVERSE_PEN)
		return tf->id == 1 ? V9_OUT_BYTES : tf->id == 2 ? V9_OUT_PKTS : 0;
	if (tf->pen == NTOP_PEN && NTOP_V9_BASE + tf->id <= 0xffff)
		return (uint16_t)(NTOP_V9_BASE + tf->id);
	/* Not the SPLT lists: at their fixed v9 lengths (1785 bytes) a
	 * record would not fit a packet. */
	if (own != 0 && tf->pen == own && tf->id < OWN_V9_MAX &&
	    column_type(tf->column) != COLT_LIST)
		return (uint16_t)(OWN_V9_BASE + tf->id);
	return 0;
}

static const struct tmpl_field *auto_f;
static unsigned auto_n;

void
tmpl_set_auto(const struct tmpl_field *f, unsigned n)
{
	auto_f = f;
	auto_n = n;
}

static int
append_auto(struct tmpl *t, char *errbuf, size_t errlen)
{
	struct tmpl_field *f;
	unsigned i, j;
	int named;

	if (auto_n == 0 || !t->plugin_fields)
		return 0;
	for (i = 0; i < auto_n; i++) {
		for (j = 0, named = 0; j < t->n; j++)
			named |= t->f[j].column == auto_f[i].column;
		if (named)
			continue;
		if (t->n == TMPL_MAX_FIELDS) {
			snprintf(errbuf, errlen, "template %s: more than %d fields "
			    "with plugin %s's", t->path, TMPL_MAX_FIELDS,
			    auto_f[i].owner);
			return -1;
		}
		f = &t->f[t->n];
		*f = auto_f[i];
		if (f->ent_auto) {
			if (t->enterprise == 0) {
				snprintf(errbuf, errlen, "template %s: plugin %s's "
				    "field %s needs an \"enterprise N\" line",
				    t->path, f->owner, f->name);
				return -1;
			}
			f->pen = t->enterprise;
		}
		for (j = 0; j < t->n; j++)
			if (t->f[j].pen == f->pen && t->f[j].id == f->id) {
				snprintf(errbuf, errlen, "plugin %s: field %s is "
				    "element %u:%u, which template %s already has "
				    "(line %u, %s)", f->owner, f->name, f->pen,
				    f->id, t->path, t->f[j].line, t->f[j].name);
				return -1;
			}
		t->n++;
	}
	return 0;
}

/*
 * RFC 7011 section 6.2: integers may be sent in fewer octets than their
 * type's (reduced-size encoding), float64 as float32; every other fixed
 * type has exactly its own size.
 */
static int
ie_length_ok(enum ie_type t, unsigned long len)
{
	switch (t) {
	case IE_UNSIGNED16: case IE_UNSIGNED32: case IE_UNSIGNED64:
	case IE_SIGNED16: case IE_SIGNED32: case IE_SIGNED64:
		return len >= 1 && len <= ie_types[t].size;
	case IE_FLOAT64:
		return len == 4 || len == 8;
	default:
		return ie_type_is_varlen(t) || len == ie_types[t].size;
	}
}

static int
parse_type(const char *s)
{
	int i;

	for (i = 0; i < IE_TYPE_COUNT; i++)
		if (strcmp(ie_types[i].name, s) == 0)
			return i;
	return -1;
}

static int
parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	*out = strtoul(s, &end, 0);
	return (errno == 0 && *end == '\0' && *out <= max) ? 0 : -1;
}

/* "[pen:]id" where pen may be ENT (the file's enterprise number). */
static int
parse_id(struct tmpl *t, const char *s, struct tmpl_field *f, int *needs_ent)
{
	const char *colon = strchr(s, ':');
	char pen[32];
	unsigned long v;

	f->pen = 0;
	if (colon != NULL) {
		if ((size_t)(colon - s) >= sizeof(pen))
			return -1;
		memcpy(pen, s, (size_t)(colon - s));
		pen[colon - s] = '\0';
		if (strcmp(pen, "ENT") == 0) {
			*needs_ent = 1;
			f->pen = t->enterprise;
		} else if (parse_num(pen, UINT32_MAX, &v) == 0) {
			f->pen = (uint32_t)v;
		} else {
			return -1;
		}
		s = colon + 1;
	}
	if (parse_num(s, 0x7fff, &v) != 0 || v == 0)
		return -1;
	f->id = (uint16_t)v;
	return 0;
}

static int load_error(char *, size_t, const char *, unsigned, const char *,
    ...) __attribute__((format(printf, 5, 6)));

static int
load_error(char *errbuf, size_t errlen, const char *path, unsigned line,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(errbuf, errlen, "template %s line %u: %s", path, line, msg);
	return -1;
}

/* The lines of fp into t (t->path names it in messages). */
static int
parse_stream(struct tmpl *t, FILE *fp, char *errbuf, size_t errlen)
{
	char line[512], *tok[6], *save, *p;
	struct tmpl_field *f;
	unsigned lineno = 0, ntok, j;
	unsigned long v;
	int needs_ent, type, col;

	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		/* A longer line would be read in pieces, and the tail of a
		 * comment could turn into a field. */
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "line longer than %zu bytes", sizeof(line) - 2);
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		ntok = 0;
		for (p = strtok_r(line, " \t\r\n", &save); p != NULL && ntok < 6;
		    p = strtok_r(NULL, " \t\r\n", &save))
			tok[ntok++] = p;
		if (ntok == 0)
			continue;
		/* The loaded plugins' fields go after the template's own. */
		if (strcmp(tok[0], "plugin-fields") == 0 && ntok == 1) {
			t->plugin_fields = true;
			continue;
		}
		if (strcmp(tok[0], "enterprise") == 0) {
			if (ntok != 2 || parse_num(tok[1], UINT32_MAX, &v) != 0 ||
			    v == 0 || v == TMPL_REVERSE_PEN) {
				return load_error(errbuf, errlen, t->path, lineno,
				    "bad enterprise number \"%s\"", ntok > 1 ? tok[1] : "");
			}
			t->enterprise = (uint32_t)v;
			continue;
		}
		if (ntok < 4 || ntok > 6 ||
		    (ntok == 6 && strcmp(tok[5], "fixed") != 0)) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "expected \"column element [pen:]id type [length "
			    "[fixed]]\"");
		}
		if (t->n == TMPL_MAX_FIELDS) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "more than %d fields", TMPL_MAX_FIELDS);
		}
		f = &t->f[t->n];
		memset(f, 0, sizeof(*f));
		f->line = (uint16_t)lineno;
		if ((col = column_by_name(tok[0])) < 0) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "unknown column \"%s\"", tok[0]);
		}
		f->column = col;
		if (strlen(tok[1]) >= sizeof(f->name)) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "element name too long: %s", tok[1]);
		}
		snprintf(f->name, sizeof(f->name), "%s", tok[1]);
		needs_ent = 0;
		if (parse_id(t, tok[2], f, &needs_ent) != 0) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "bad element id \"%s\" (want [pen:]1..32767)", tok[2]);
		}
		if (needs_ent && t->enterprise == 0) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "ENT used before an \"enterprise N\" line");
		}
		if ((type = parse_type(tok[3])) < 0) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "unknown type \"%s\"", tok[3]);
		}
		f->type = (uint8_t)type;
		f->family = type == IE_IPV4_ADDRESS ? 4 : type == IE_IPV6_ADDRESS ?
		    6 : 0;
		f->length = (uint16_t)ie_type_size(type);
		if (ntok >= 5) {
			if (parse_num(tok[4], 65534, &v) != 0 || v == 0) {
				return load_error(errbuf, errlen, t->path, lineno,
				    "bad length \"%s\"", tok[4]);
			}
			if (!ie_length_ok((enum ie_type)type, v)) {
				return load_error(errbuf, errlen, t->path, lineno,
				    "%s cannot be %lu bytes long (RFC 7011 "
				    "section 6.2)", tok[3], v);
			}
			f->length = (uint16_t)v;
		}
		if (ntok == 6 && !ie_type_is_varlen(type)) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "\"fixed\" is for string and octetArray fields");
		}
		f->fixed = ntok == 6;
		if (ie_type_is_varlen(type) && f->length == 0) {
			return load_error(errbuf, errlen, t->path, lineno,
			    "%s needs a maximum length", tok[3]);
		}
		for (j = 0; j < t->n; j++) {
			if (t->f[j].pen == f->pen && t->f[j].id == f->id &&
			    (t->f[j].family == 0 || f->family == 0 ||
			    t->f[j].family == f->family)) {
				return load_error(errbuf, errlen, t->path, lineno,
				    "element %s appears twice", tok[2]);
			}
		}
		t->n++;
	}
	if (t->n == 0) {
		snprintf(errbuf, errlen, "template %s has no fields", t->path);
		return -1;
	}
	return append_auto(t, errbuf, errlen);
}

int
tmpl_load(struct tmpl *t, const char *name_or_path, const char *dir,
    char *errbuf, size_t errlen)
{
	FILE *fp;
	int rc;

	memset(t, 0, sizeof(*t));
	if (strchr(name_or_path, '/') != NULL)
		snprintf(t->path, sizeof(t->path), "%s", name_or_path);
	else
		snprintf(t->path, sizeof(t->path), "%s/%s.tmpl", dir, name_or_path);
	if ((fp = fopen(t->path, "r")) == NULL) {
		snprintf(errbuf, errlen, "unknown template \"%s\" (%s: %s)",
		    name_or_path, t->path, strerror(errno));
		return -1;
	}
	rc = parse_stream(t, fp, errbuf, errlen);
	fclose(fp);
	return rc;
}

int
tmpl_parse_stream(struct tmpl *t, FILE *fp, const char *name, char *errbuf,
    size_t errlen)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", name);
	return parse_stream(t, fp, errbuf, errlen);
}

int
tmpl_parse_buffer(struct tmpl *t, const void *buf, size_t len,
    const char *name, char *errbuf, size_t errlen)
{
	static char empty[1];
	FILE *fp;
	int rc;

	/* fmemopen() only reads ("r"); an empty buffer is an empty file. */
	if ((fp = fmemopen(len > 0 ? (void *)(uintptr_t)buf : empty, len,
	    "r")) == NULL) {
		memset(t, 0, sizeof(*t));
		snprintf(errbuf, errlen, "template %s: %s", name, strerror(errno));
		return -1;
	}
	rc = tmpl_parse_stream(t, fp, name, errbuf, errlen);
	fclose(fp);
	return rc;
}
