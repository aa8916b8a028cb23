/*
 * template.h - export templates: which flow column goes into which
 * information element, read from the files in templates/ that users copy
 * and edit.  Shared by the IPFIX and NetFlow v9 exporters; no library.
 *
 * A file has one field per line:
 *	column  element-name  [pen:]id  type  [length]
 * plus "enterprise N", the number that "ENT" stands for in ids (the
 * project's own elements).  A column may appear once per address family
 * (ipv4Address / ipv6Address fields go to the IPv4 / IPv6 template only).
 * For strings and octet arrays, length is the maximum carried.  Elements
 * under PEN 29305 (RFC 5103) are reverse elements: biflow records only.
 */
#ifndef STREAMPROBE_TEMPLATE_H
#define STREAMPROBE_TEMPLATE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TMPL_MAX_FIELDS		160
#define TMPL_NAME_LEN		64
#define TMPL_REVERSE_PEN	29305u

/* IPFIX abstract data types (RFC 7012 numbering). */
enum ie_type {
	IE_OCTET_ARRAY = 0, IE_UNSIGNED8, IE_UNSIGNED16, IE_UNSIGNED32,
	IE_UNSIGNED64, IE_SIGNED8, IE_SIGNED16, IE_SIGNED32, IE_SIGNED64,
	IE_FLOAT32, IE_FLOAT64, IE_BOOLEAN, IE_MAC_ADDRESS, IE_STRING,
	IE_DATE_TIME_SECONDS, IE_DATE_TIME_MILLISECONDS,
	IE_DATE_TIME_MICROSECONDS, IE_DATE_TIME_NANOSECONDS,
	IE_IPV4_ADDRESS, IE_IPV6_ADDRESS,
	IE_TYPE_COUNT
};

struct tmpl_field {
	int		column;		/* enum col_id */
	uint32_t	pen;
	uint16_t	id;
	uint8_t		type;		/* enum ie_type */
	uint8_t		family;		/* 0 both, 4 or 6 */
	uint16_t	length;		/* wire length, or max for varlen */
	uint8_t		fixed;		/* string/octetArray sent at length,
					 * NUL-padded, not variable-length */
	uint16_t	line;
	char		name[TMPL_NAME_LEN];
	/* Plugin fields (tmpl_set_auto()): v9_set says that v9_id, not
	 * the ENT rule, is the NetFlow v9 type (0: none); ent_auto takes
	 * the template's enterprise number as pen; owner names the plugin
	 * in messages; description goes into its RFC 5610 type record. */
	uint16_t	v9_id;
	uint8_t		v9_set;
	uint8_t		ent_auto;
	const char	*owner;
	const char	*description;	/* RFC 5610 text; NULL: none */
};

struct tmpl {
	char			path[256];
	uint32_t		enterprise;
	bool			plugin_fields;	/* a "plugin-fields" line */
	unsigned		n;
	struct tmpl_field	f[TMPL_MAX_FIELDS];
};

/* NAME (templates/NAME.tmpl under dir) or a path containing '/'. */
int tmpl_load(struct tmpl *t, const char *name_or_path, const char *dir,
    char *errbuf, size_t errlen);
/* The same from an open stream or a buffer; name is for messages. */
int tmpl_parse_stream(struct tmpl *t, FILE *fp, const char *name,
    char *errbuf, size_t errlen);
int tmpl_parse_buffer(struct tmpl *t, const void *buf, size_t len,
    const char *name, char *errbuf, size_t errlen);
/*
 * Start-up: fields appended to every template with a "plugin-fields" line
 * (the shipped nfstream.tmpl has one) after its own lines, unless the
 * template names their column itself: the plugins' exported fields
 * (src/plugin/).  An element
 * already in the template is an error naming the owner.  The array is
 * kept (not copied); n 0 clears.
 */
void tmpl_set_auto(const struct tmpl_field *f, unsigned n);
const char *ie_type_name(enum ie_type t);
int ie_type_is_varlen(enum ie_type t);
/* Natural wire size of a fixed-size type (0 for variable length). */
unsigned ie_type_size(enum ie_type t);
/*
 * The NetFlow v9 field type of a template line, or 0 when v9 has none (the
 * exporter leaves such fields out); own is the template's enterprise
 * number.  The one rule shared by the v9 exporter and the collector-file
 * generator (src/tools/gen_collectors.c).
 */
uint16_t tmpl_v9_type(const struct tmpl_field *tf, uint32_t own);

#endif
