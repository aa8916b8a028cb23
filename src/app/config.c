/*
 * config.c - options: defaults, validation, command line.
 *
 *	config_defaults()	NFStream's defaults
 *	config_set()		one option by name, validated (table opt_defs)
 *	config_load_file()	"key = value" file, keys are long option names
 *	config_load_stream()	the same from an open stream (the fuzzer)
 *	config_parse_args()	getopt_long front end: file first, then argv
 *	config_print()		effective configuration, in the file's syntax
 *	config_check_outputs()	--check-config: templates parse, collectors resolve
 *	config_default_template_dir()	built-in template directory rule
 *	config_absolute_paths(), config_usage(), config_free()
 */
#define _XOPEN_SOURCE 700	/* realpath() */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "flowfeat.h"
#include "fmt.h"
#include "template.h"
#include "transport.h"

#define MAX_TIMEOUT_S	315360000ULL	/* ten years */

/* Set by CMakeLists.txt; these keep a build without them working. */
#ifndef STREAMPROBE_INSTALL_TEMPLATE_DIR
#define STREAMPROBE_INSTALL_TEMPLATE_DIR "/usr/local/share/streamprobe/templates"
#endif
#ifndef STREAMPROBE_RELATIVE_TEMPLATE_DIR
#define STREAMPROBE_RELATIVE_TEMPLATE_DIR "../share/streamprobe/templates"
#endif

void
config_defaults(struct probe_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->snaplen = 1536;
	c->promisc = true;
	c->idle_timeout_s = 120;
	c->active_timeout_s = 1800;
	c->accounting_mode = 0;
	c->decode_tunnels = true;
	c->splt = 0;
	c->n_dissections = 20;
	c->max_flows = 1u << 20;
	c->threads = 1;
	c->template_refresh_s = 60;
	c->template_packets = 20;
	c->mtu = 1400;
	c->observation_domain = 1;
	c->progress = true;
}

static int
parse_uint(const char *key, const char *s, uint64_t lo, uint64_t hi,
    uint64_t *out, char *errbuf, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		goto bad;
	*out = v;
	return 0;
bad:
	snprintf(errbuf, errlen, "--%s: \"%s\" is not a number in %" PRIu64
	    "..%" PRIu64, key, s ? s : "", lo, hi);
	return -1;
}

/*
 * SIZE: a number of bytes with an optional K, M or G suffix (powers of
 * 1024, either case, "512M"), or "auto" (0: the default, derived from
 * --max-flows at start-up).
 */
static int
parse_size(const char *key, const char *s, uint64_t lo, uint64_t hi,
    uint64_t *out, char *errbuf, size_t errlen)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (s != NULL && strcmp(s, "auto") == 0) {
		*out = 0;
		return 0;
	}
	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	default:
		goto bad;
	}
	if (shift != 0 && end[1] != '\0')
		goto bad;
	if (v > (hi >> shift) || (v << shift) < lo)
		goto bad;
	*out = v << shift;
	return 0;
bad:
	snprintf(errbuf, errlen, "--%s: \"%s\" is not a size in %" PRIu64
	    "M..%" PRIu64 "G (bytes, or a number with K, M or G: 512M) or "
	    "auto", key, s ? s : "", lo >> 20, hi >> 30);
	return -1;
}

/* A size as config files write it: the largest exact suffix. */
static void
print_size(FILE *fp, const char *key, uint64_t v)
{
	static const char suffix[] = "GMK";
	int i;

	if (v == 0) {
		fprintf(fp, "%s = auto\n", key);
		return;
	}
	for (i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * (unsigned)i;

		if ((v & (((uint64_t)1 << shift) - 1)) == 0) {
			fprintf(fp, "%s = %" PRIu64 "%c\n", key, v >> shift,
			    suffix[i]);
			return;
		}
	}
	fprintf(fp, "%s = %" PRIu64 "\n", key, v);
}

static int
set_string(char **dst, const char *value, char *errbuf, size_t errlen)
{
	free(*dst);
	if ((*dst = strdup(value)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* "-r a.pcap,b.pcap" (and repeated -r) append files in order; blanks
 * around an item are not part of it ("read = a.pcap, b.pcap"). */
static int
add_files(struct probe_conf *c, const char *list, char *errbuf, size_t errlen)
{
	const char *p = list, *comma;
	char *name;
	size_t n, i, j;

	for (;;) {
		/* "\," is a comma inside a name, "\\" a backslash. */
		for (comma = p; *comma != '\0' && *comma != ','; comma++)
			if (comma[0] == '\\' && (comma[1] == ',' ||
			    comma[1] == '\\'))
				comma++;
		n = (size_t)(comma - p);
		if (*comma == '\0')
			comma = NULL;
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0) {
			snprintf(errbuf, errlen, "-r: empty file name in \"%s\"",
			    list);
			return -1;
		}
		if (c->nfiles == CONFIG_MAX_FILES) {
			snprintf(errbuf, errlen, "-r: more than %d files",
			    CONFIG_MAX_FILES);
			return -1;
		}
		if ((name = malloc(n + 1)) == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
		for (i = j = 0; i < n; i++) {
			if (p[i] == '\\' && i + 1 < n &&
			    (p[i + 1] == ',' || p[i + 1] == '\\'))
				i++;
			name[j++] = p[i];
		}
		name[j] = '\0';
		if (j > CONFIG_MAX_VALUE) {
			free(name);
			snprintf(errbuf, errlen, "-r: file name longer than %d "
			    "bytes", CONFIG_MAX_VALUE);
			return -1;
		}
		c->files[c->nfiles++] = name;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int
add_output(struct probe_conf *c, enum exporter_kind kind, const char *path,
    const char *key, char *errbuf, size_t errlen)
{
	if (path == NULL || *path == '\0') {
		snprintf(errbuf, errlen, "--%s needs a path or -", key);
		return -1;
	}
	if (c->noutputs == CONFIG_MAX_OUTPUTS) {
		snprintf(errbuf, errlen, "--%s: more than %d outputs", key,
		    CONFIG_MAX_OUTPUTS);
		return -1;
	}
	c->outputs[c->noutputs].kind = kind;
	c->outputs[c->noutputs].path = strdup(path);
	if (c->outputs[c->noutputs].path == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	c->noutputs++;
	return 0;
}

/*
 * HOST:PORT with HOST a name, an IPv4 address or [IPv6].  A bad one is
 * named by its part: the port, the host, the brackets.
 */
static int
split_host_port(const char *hp, char **host, char **port, char *why,
    size_t whylen)
{
	const char *colon, *h, *p;
	size_t hlen;
	unsigned long v;
	char *end;

	*host = *port = NULL;
	if (*hp == '\0') {
		snprintf(why, whylen, "no collector (expected HOST:PORT)");
		return -1;
	}
	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');

		if (close == NULL) {
			snprintf(why, whylen, "\"[\" without \"]\" (an IPv6 "
			    "collector is [ADDRESS]:PORT)");
			return -1;
		}
		h = hp + 1;
		hlen = (size_t)(close - h);
		if (hlen == 0 || memchr(h, ':', hlen) == NULL) {
			snprintf(why, whylen, "\"[%.*s]\" is not an IPv6 address",
			    (int)hlen, h);
			return -1;
		}
		if (close[1] == '\0') {
			snprintf(why, whylen, "missing port after \"[%.*s]\" "
			    "(expected [ADDRESS]:PORT)", (int)hlen, h);
			return -1;
		}
		if (close[1] != ':') {
			snprintf(why, whylen, "\"%s\" after \"]\": expected "
			    "\":PORT\"", close + 1);
			return -1;
		}
		colon = close + 1;
	} else {
		if ((colon = strchr(hp, ':')) == NULL) {
			snprintf(why, whylen, "missing port in \"%s\" (expected "
			    "HOST:PORT)", hp);
			return -1;
		}
		if (strchr(colon + 1, ':') != NULL) {
			snprintf(why, whylen, "\"%s\" has several \":\"; an IPv6 "
			    "collector goes in brackets: [ADDRESS]:PORT", hp);
			return -1;
		}
		h = hp;
		hlen = (size_t)(colon - hp);
		if (hlen == 0) {
			snprintf(why, whylen, "empty host in \"%s\" (expected "
			    "HOST:PORT)", hp);
			return -1;
		}
	}
	p = colon + 1;
	if (*p == '\0') {
		snprintf(why, whylen, "missing port after \"%.*s:\"",
		    (int)(colon - hp), hp);
		return -1;
	}
	errno = 0;
	v = strtoul(p, &end, 10);
	if (*p < '0' || *p > '9' || *end != '\0' || errno != 0 || v < 1 ||
	    v > 65535) {
		snprintf(why, whylen, "port \"%s\" is not in 1..65535", p);
		return -1;
	}
	*host = strndup(h, hlen);
	*port = strdup(p);
	if (*host == NULL || *port == NULL) {
		free(*host);
		free(*port);
		*host = *port = NULL;
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

#define EXPORT_FORMS	"ipfix+udp://HOST:PORT, ipfix+tcp://HOST:PORT, " \
			"ipfix+file://PATH or nf9+udp://HOST:PORT"

static int
parse_export_url(const char *url, struct exporter_conf *out, char *errbuf,
    size_t errlen)
{
	static const struct {
		const char		*scheme;
		enum exporter_kind	 exporter;
		enum transport_kind	 kind;
	} schemes[] = {
		{ "ipfix+udp", EXPORTER_IPFIX, TRANSPORT_UDP },
		{ "ipfix+tcp", EXPORTER_IPFIX, TRANSPORT_TCP },
		{ "ipfix+file", EXPORTER_IPFIX, TRANSPORT_FILE },
		{ "nf9+udp", EXPORTER_NF9, TRANSPORT_UDP },
	};
	char *host = NULL, *port = NULL, why[CONFIG_ERRLEN / 2];
	const char *sep, *rest;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if ((sep = strstr(url, "://")) == NULL) {
		snprintf(errbuf, errlen, "--export \"%s\": no scheme (expected "
		    EXPORT_FORMS ")", url);
		return -1;
	}
	n = (size_t)(sep - url);
	rest = sep + 3;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].scheme) == n &&
		    strncmp(url, schemes[i].scheme, n) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		if (strncmp(url, "nf9+tcp://", 10) == 0)
			snprintf(errbuf, errlen, "--export %s: NetFlow v9 over "
			    "TCP is not offered: its header carries no length, "
			    "so a TCP stream cannot be framed (use nf9+udp:// or "
			    "ipfix+tcp://)", url);
		else
			snprintf(errbuf, errlen, "--export \"%s\": unknown scheme "
			    "\"%.*s\" (expected ipfix+udp, ipfix+tcp, ipfix+file, "
			    "nf9+udp)", url, (int)(n < 64 ? n : 64), url);
		return -1;
	}
	out->kind = schemes[i].exporter;
	out->transport.kind = schemes[i].kind;
	if (schemes[i].kind == TRANSPORT_FILE) {
		if (*rest == '\0') {
			snprintf(errbuf, errlen, "--export \"%s\": no path "
			    "(expected ipfix+file://PATH, or ipfix+file://- for "
			    "standard output)", url);
			return -1;
		}
		if ((out->transport.path = strdup(rest)) == NULL)
			goto nomem;
	} else {
		if (split_host_port(rest, &host, &port, why, sizeof(why)) != 0) {
			snprintf(errbuf, errlen, "--export \"%s\": %s", url, why);
			return -1;
		}
		out->transport.host = host;
		out->transport.port = port;
	}
	if ((out->url = strdup(url)) == NULL)
		goto nomem;
	return 0;
nomem:
	free((char *)out->transport.path);
	free(host);
	free(port);
	memset(out, 0, sizeof(*out));
	snprintf(errbuf, errlen, "out of memory");
	return -1;
}

/*
 * The option table: every long option, its file key, and where its value
 * lives.  Scalars are set and printed generically; lists and the few
 * options with side effects have their own code in config_set().
 */
enum opt_kind {
	OPT_FLAG,	/* no value on the command line; yes/no in a file */
	OPT_UINT,	/* bounded unsigned, stored in a field of any width */
	OPT_SIZE,	/* bytes, K/M/G suffixes (1024s) or auto (0); 64-bit */
	OPT_STRING,
	OPT_LIST,	/* read, csv, json, export, plugin, plugin-arg */
	OPT_ACTION	/* help, version, config, check-config: never printed */
};

struct opt_def {
	const char	*key;
	enum opt_kind	 kind;
	size_t		 off, size;
	uint64_t	 lo, hi;
	bool		 inverted;	/* OPT_FLAG stored as its negation */
	char		 short_name;	/* 0: long option only */
};

#define FIELD(f)	offsetof(struct probe_conf, f), \
			sizeof(((struct probe_conf *)0)->f)
#define NOFIELD		0, 0

static const struct opt_def opt_defs[] = {
	{ "read",		OPT_LIST,   NOFIELD, 0, 0, false, 'r' },
	{ "interface",		OPT_STRING, FIELD(iface), 0, 0, false, 'i' },
	{ "bpf",		OPT_STRING, FIELD(bpf), 0, 0, false, 0 },
	{ "snaplen",		OPT_UINT,   FIELD(snaplen), 1, 262144, false, 0 },
	{ "no-promisc",		OPT_FLAG,   FIELD(promisc), 0, 0, true, 0 },
	{ "buffer-size",	OPT_UINT,   FIELD(buffer_size), 0, INT32_MAX,
	    false, 0 },
	{ "immediate",		OPT_FLAG,   FIELD(immediate), 0, 0, false, 0 },
	{ "no-decode-tunnels",	OPT_FLAG,   FIELD(decode_tunnels), 0, 0, true, 0 },
	{ "idle-timeout",	OPT_UINT,   FIELD(idle_timeout_s), 0,
	    MAX_TIMEOUT_S, false, 0 },
	{ "active-timeout",	OPT_UINT,   FIELD(active_timeout_s), 0,
	    MAX_TIMEOUT_S, false, 0 },
	{ "tcp-end",		OPT_FLAG,   FIELD(tcp_end), 0, 0, false, 0 },
	{ "accounting-mode",	OPT_UINT,   FIELD(accounting_mode), 0, 3, false, 0 },
	{ "statistics",		OPT_FLAG,   FIELD(statistics), 0, 0, false, 0 },
	{ "splt",		OPT_UINT,   FIELD(splt), 0, FLOWFEAT_SPLT_MAX,
	    false, 0 },
	{ "n-dissections",	OPT_UINT,   FIELD(n_dissections), 0, 255, false, 0 },
	{ "max-flows",		OPT_UINT,   FIELD(max_flows), 1, 1u << 30, false, 0 },
	{ "max-memory",		OPT_SIZE,   FIELD(max_memory), 1u << 20,
	    (uint64_t)1 << 50, false, 0 },
	{ "threads",		OPT_UINT,   FIELD(threads), 1, 64, false, 0 },
	{ "csv",		OPT_LIST,   NOFIELD, 0, 0, false, 0 },
	{ "json",		OPT_LIST,   NOFIELD, 0, 0, false, 0 },
	{ "export",		OPT_LIST,   NOFIELD, 0, 0, false, 0 },
	{ "template",		OPT_STRING, FIELD(template_name), 0, 0, false, 0 },
	{ "template-dir",	OPT_STRING, FIELD(template_dir), 0, 0, false, 0 },
	{ "template-refresh",	OPT_UINT,   FIELD(template_refresh_s), 1, 86400,
	    false, 0 },
	{ "template-packets",	OPT_UINT,   FIELD(template_packets), 1, 1000000,
	    false, 0 },
	{ "mtu",		OPT_UINT,   FIELD(mtu), 576, 65507, false, 0 },
	{ "observation-domain",	OPT_UINT,   FIELD(observation_domain), 0,
	    UINT32_MAX, false, 0 },
	{ "uniflow",		OPT_FLAG,   FIELD(uniflow), 0, 0, false, 0 },
	{ "stats-interval",	OPT_UINT,   FIELD(stats_interval_s), 0, 86400,
	    false, 0 },
	{ "no-progress",	OPT_FLAG,   FIELD(progress), 0, 0, true, 0 },
	{ "daemon",		OPT_FLAG,   FIELD(daemon), 0, 0, false, 'D' },
	{ "pidfile",		OPT_STRING, FIELD(pidfile), 0, 0, false, 0 },
	{ "user",		OPT_STRING, FIELD(user), 0, 0, false, 0 },
	{ "plugin",		OPT_LIST,   NOFIELD, 0, 0, false, 0 },
	{ "plugin-arg",		OPT_LIST,   NOFIELD, 0, 0, false, 0 },
	{ "config",		OPT_ACTION, NOFIELD, 0, 0, false, 'f' },
	{ "check-config",	OPT_ACTION, NOFIELD, 0, 0, false, 0 },
	{ "help",		OPT_ACTION, NOFIELD, 0, 0, false, 'h' },
	{ "version",		OPT_ACTION, NOFIELD, 0, 0, false, 'V' },
};

#define NOPTS	(sizeof(opt_defs) / sizeof(opt_defs[0]))

static const struct opt_def *
opt_find(const char *key)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(opt_defs[i].key, key) == 0)
			return &opt_defs[i];
	return NULL;
}

static void
field_store(struct probe_conf *c, const struct opt_def *d, uint64_t v)
{
	uint8_t *p = (uint8_t *)c + d->off;

	switch (d->size) {
	case 1: { bool b = v != 0; memcpy(p, &b, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

static uint64_t
field_load(const struct probe_conf *c, const struct opt_def *d)
{
	const uint8_t *p = (const uint8_t *)c + d->off;

	switch (d->size) {
	case 1: { bool b; memcpy(&b, p, 1); return b; }
	case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
	case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
	default: { uint64_t x; memcpy(&x, p, 8); return x; }
	}
}

/* A flag's value: absent (command line) is yes; a file may say yes/no. */
static int
parse_flag(const char *key, const char *s, bool *out, char *errbuf,
    size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	if (s == NULL) {
		*out = true;
		return 0;
	}
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(errbuf, errlen, "--%s: \"%s\" is not yes or no", key, s);
	return -1;
}

static void
clear_files(struct probe_conf *c)
{
	unsigned i;

	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	c->nfiles = 0;
}

static void
clear_outputs(struct probe_conf *c)
{
	unsigned i;

	for (i = 0; i < c->noutputs; i++) {
		free((char *)c->outputs[i].path);
		free(c->outputs[i].url);
		free((char *)c->outputs[i].transport.host);
		free((char *)c->outputs[i].transport.port);
		free((char *)c->outputs[i].transport.path);
	}
	memset(c->outputs, 0, sizeof(c->outputs));
	c->noutputs = 0;
}

static void
clear_plugins(struct probe_conf *c)
{
	unsigned i;

	for (i = 0; i < c->nplugins; i++)
		free(c->plugins[i]);
	c->nplugins = 0;
}

static void
clear_plugin_args(struct probe_conf *c)
{
	unsigned i;

	for (i = 0; i < c->nplugin_args; i++) {
		free(c->plugin_keys[i]);
		free(c->plugin_values[i]);
	}
	c->nplugin_args = 0;
}

/* --plugin PATH[:ARGS]: one plugin per value, in load order. */
static int
add_plugin(struct probe_conf *c, const char *spec, char *errbuf, size_t errlen)
{
	if (*spec == '\0' || *spec == ':') {
		snprintf(errbuf, errlen, "--plugin needs PATH[:ARGS]");
		return -1;
	}
	if (c->nplugins == CONFIG_MAX_PLUGINS) {
		snprintf(errbuf, errlen, "--plugin: more than %d plugins",
		    CONFIG_MAX_PLUGINS);
		return -1;
	}
	if ((c->plugins[c->nplugins] = strdup(spec)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	c->nplugins++;
	return 0;
}

/*
 * --plugin-arg NAME.KEY=VALUE, or the file's plugin.NAME.KEY = VALUE:
 * NAME and KEY [a-z0-9_-], the value any text (the plugin parses it).
 */
static int
add_plugin_arg(struct probe_conf *c, const char *key, size_t keylen,
    const char *value, char *errbuf, size_t errlen)
{
	const char *dot = memchr(key, '.', keylen);
	size_t i;

	for (i = 0; i < keylen; i++)
		if (!(key[i] == '.' || key[i] == '_' || key[i] == '-' ||
		    (key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9')))
			break;
	if (dot == NULL || dot == key || dot == key + keylen - 1 || i < keylen ||
	    memchr(dot + 1, '.', keylen - (size_t)(dot + 1 - key)) != NULL) {
		snprintf(errbuf, errlen, "--plugin-arg: \"%.*s\" is not "
		    "NAME.KEY=VALUE (NAME the plugin's name, KEY [A-Za-z0-9_-])",
		    (int)(keylen > 64 ? 64 : keylen), key);
		return -1;
	}
	if (c->nplugin_args == CONFIG_MAX_PLUGIN_ARGS) {
		snprintf(errbuf, errlen, "--plugin-arg: more than %d arguments",
		    CONFIG_MAX_PLUGIN_ARGS);
		return -1;
	}
	if ((c->plugin_keys[c->nplugin_args] = strndup(key, keylen)) == NULL ||
	    (c->plugin_values[c->nplugin_args] = strdup(value)) == NULL) {
		free(c->plugin_keys[c->nplugin_args]);
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	c->nplugin_args++;
	return 0;
}

/*
 * The command line overrides the file: the first input or output it names
 * replaces what the file listed.  -r and -i replace each other the same way.
 */
static void
override_lists(struct probe_conf *c, const char *key)
{
	bool input = strcmp(key, "read") == 0 || strcmp(key, "interface") == 0;
	bool output = strcmp(key, "csv") == 0 || strcmp(key, "json") == 0 ||
	    strcmp(key, "export") == 0;

	if (c->origin != 2)
		return;
	if (strcmp(key, "plugin") == 0) {
		if (c->plugins_origin == 1)
			clear_plugins(c);
		c->plugins_origin = 2;
	}
	if (strcmp(key, "plugin-arg") == 0) {
		if (c->plugin_args_origin == 1)
			clear_plugin_args(c);
		c->plugin_args_origin = 2;
	}
	if (input) {
		if (c->files_origin == 1)
			clear_files(c);
		if (c->iface_origin == 1) {
			free(c->iface);
			c->iface = NULL;
		}
		if (strcmp(key, "read") == 0)
			c->files_origin = 2;
		else
			c->iface_origin = 2;
	}
	if (output) {
		if (c->outputs_origin == 1)
			clear_outputs(c);
		c->outputs_origin = 2;
	}
}

static int
set_list(struct probe_conf *c, const char *key, const char *value,
    char *errbuf, size_t errlen)
{
	if (value == NULL) {
		snprintf(errbuf, errlen, "--%s needs a value", key);
		return -1;
	}
	if (strcmp(key, "read") == 0)
		return add_files(c, value, errbuf, errlen);
	if (strcmp(key, "plugin") == 0)
		return add_plugin(c, value, errbuf, errlen);
	if (strcmp(key, "plugin-arg") == 0) {
		const char *eq = strchr(value, '=');

		if (eq == NULL) {
			snprintf(errbuf, errlen, "--plugin-arg: \"%.64s\" is not "
			    "NAME.KEY=VALUE", value);
			return -1;
		}
		return add_plugin_arg(c, value, (size_t)(eq - value), eq + 1,
		    errbuf, errlen);
	}
	if (strcmp(key, "csv") == 0)
		return add_output(c, EXPORTER_CSV, value, key, errbuf, errlen);
	if (strcmp(key, "json") == 0)
		return add_output(c, EXPORTER_JSON, value, key, errbuf, errlen);
	if (c->noutputs == CONFIG_MAX_OUTPUTS) {
		snprintf(errbuf, errlen, "--export: more than %d outputs",
		    CONFIG_MAX_OUTPUTS);
		return -1;
	}
	if (parse_export_url(value, &c->outputs[c->noutputs], errbuf,
	    errlen) != 0)
		return -1;
	c->noutputs++;
	return 0;
}

int
config_set(struct probe_conf *c, const char *key, const char *value,
    char *errbuf, size_t errlen)
{
	const struct opt_def *d = opt_find(key);
	uint64_t v;
	bool b;

	if (d == NULL || d->kind == OPT_ACTION) {
		snprintf(errbuf, errlen, "unknown option \"%s\"", key);
		return -1;
	}
	/* What --check-config prints must read back: one value, one line. */
	if (value != NULL && strpbrk(value, "\n\r") != NULL) {
		snprintf(errbuf, errlen, "--%s: a value cannot contain a line "
		    "break", key);
		return -1;
	}
	/* A read list is checked name by name (add_files): printed, a name
	 * gets its commas and backslashes escaped, up to twice as long. */
	if (value != NULL && strcmp(key, "read") != 0 &&
	    strlen(value) > CONFIG_MAX_VALUE) {
		snprintf(errbuf, errlen, "--%s: value longer than %d bytes", key,
		    CONFIG_MAX_VALUE);
		return -1;
	}
	override_lists(c, key);
	if (c->origin == 1) {
		if (strcmp(key, "read") == 0)
			c->files_origin = 1;
		else if (strcmp(key, "interface") == 0)
			c->iface_origin = 1;
		else if (strcmp(key, "plugin") == 0)
			c->plugins_origin = 1;
		else if (strcmp(key, "plugin-arg") == 0)
			c->plugin_args_origin = 1;
		else if (d->kind == OPT_LIST)
			c->outputs_origin = 1;
	}
	switch (d->kind) {
	case OPT_FLAG:
		if (parse_flag(key, value, &b, errbuf, errlen) != 0)
			return -1;
		field_store(c, d, d->inverted ? !b : b);
		return 0;
	case OPT_UINT:
		if (parse_uint(key, value, d->lo, d->hi, &v, errbuf, errlen) != 0)
			return -1;
		field_store(c, d, v);
		return 0;
	case OPT_SIZE:
		if (parse_size(key, value, d->lo, d->hi, &v, errbuf, errlen) != 0)
			return -1;
		field_store(c, d, v);
		return 0;
	case OPT_STRING:
		if (value == NULL || *value == '\0') {
			snprintf(errbuf, errlen, "--%s needs a value", key);
			return -1;
		}
		return set_string((char **)(void *)((uint8_t *)c + d->off), value,
		    errbuf, errlen);
	case OPT_LIST:
		return set_list(c, key, value, errbuf, errlen);
	case OPT_ACTION:
		break;
	}
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * "key = value" per line; "# ..." comment lines and blank lines; a flag may
 * stand alone.  A value is the rest of the line (BPF filters have spaces);
 * surrounding double quotes are removed.
 */
int
config_load_file(struct probe_conf *c, const char *path, char *errbuf,
    size_t errlen)
{
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(errbuf, errlen, "cannot read configuration file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	rc = config_load_stream(c, fp, path, errbuf, errlen);
	fclose(fp);
	return rc;
}

int
config_load_stream(struct probe_conf *c, FILE *fp, const char *path,
    char *errbuf, size_t errlen)
{
	/* Room for the longest value, escaped, as config_print writes it. */
	char line[2 * CONFIG_MAX_VALUE + 128], msg[CONFIG_ERRLEN];
	char *key, *value, *eq;
	const struct opt_def *d;
	unsigned lineno = 0;
	size_t n;
	int rc = 0, saved = c->origin;

	c->origin = 1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(errbuf, errlen, "%s:%u: line longer than %zu "
			    "bytes", path, lineno, sizeof(line) - 2);
			rc = -1;
			break;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		value = NULL;
		if ((eq = strchr(key, '=')) != NULL) {
			*eq = '\0';
			value = trim(eq + 1);
			key = trim(key);
			n = strlen(value);
			if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
				value[n - 1] = '\0';
				value++;
			}
		}
		if (strncmp(key, "plugin.", 7) == 0 && value != NULL) {
			/* plugin.NAME.KEY = VALUE: --plugin-arg NAME.KEY=VALUE */
			char arg[CONFIG_MAX_VALUE + 128];

			if (strlen(key) + strlen(value) + 1 >= sizeof(arg)) {
				snprintf(errbuf, errlen, "%s:%u: value longer "
				    "than %d bytes", path, lineno,
				    CONFIG_MAX_VALUE);
				rc = -1;
				break;
			}
			snprintf(arg, sizeof(arg), "%s=%s", key + 7, value);
			if (config_set(c, "plugin-arg", arg, msg,
			    sizeof(msg)) != 0) {
				snprintf(errbuf, errlen, "%s:%u: %s", path, lineno,
				    strncmp(msg, "--", 2) == 0 ? msg + 2 : msg);
				rc = -1;
				break;
			}
			continue;
		}
		d = opt_find(key);
		if (d == NULL || d->kind == OPT_ACTION) {
			char shown[96];	/* a binary file must not garble the terminal */

			shown[fmt_sanitize(shown, sizeof(shown) - 1, key,
			    strnlen(key, 48))] = '\0';
			snprintf(errbuf, errlen, "%s:%u: unknown key \"%s\"%s",
			    path, lineno, shown, strlen(key) > 48 ? "..." : "");
			rc = -1;
			break;
		}
		if (value == NULL && d->kind != OPT_FLAG) {
			snprintf(errbuf, errlen, "%s:%u: key \"%s\" needs "
			    "\"= value\"", path, lineno, key);
			rc = -1;
			break;
		}
		if (config_set(c, key, value, msg, sizeof(msg)) != 0) {
			/* "--key: why" reads as "FILE:LINE: key: why" */
			if (strncmp(msg, "--", 2) == 0 &&
			    strncmp(msg + 2, key, strlen(key)) == 0)
				snprintf(errbuf, errlen, "%s:%u: %s", path, lineno,
				    msg + 2);
			else
				snprintf(errbuf, errlen, "%s:%u: key \"%s\": %s",
				    path, lineno, key, msg);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(errbuf, errlen, "cannot read configuration file %s",
		    path);
		rc = -1;
	}
	c->origin = saved;
	return rc;
}

/*
 * "key = value" that config_load_file() reads back as the same value: one
 * that starts or ends with a blank, or is itself in double quotes, gets a
 * pair of quotes (the reader trims blanks and removes one pair).
 */
static void
print_value(FILE *fp, const char *key, const char *value)
{
	size_t n = strlen(value);
	bool quote = n > 0 && (value[0] == ' ' || value[0] == '\t' ||
	    value[n - 1] == ' ' || value[n - 1] == '\t' ||
	    (n >= 2 && value[0] == '"' && value[n - 1] == '"'));

	fprintf(fp, quote ? "%s = \"%s\"\n" : "%s = %s\n", key, value);
}

/* A file name in a read list: commas and backslashes escaped (add_files). */
static void
print_file(FILE *fp, const char *name)
{
	char buf[2 * CONFIG_MAX_VALUE + 1];
	const char *p;
	size_t n = 0;

	for (p = name; *p != '\0' && n + 2 < sizeof(buf); p++) {
		if (*p == ',' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	buf[n] = '\0';
	print_value(fp, "read", buf);
}

void
config_print(const struct probe_conf *c, FILE *fp)
{
	const struct opt_def *d;
	const char *s;
	unsigned i;
	size_t k;
	bool b;

	fputs("# streamprobe: effective configuration\n", fp);
	for (k = 0; k < NOPTS; k++) {
		d = &opt_defs[k];
		switch (d->kind) {
		case OPT_FLAG:
			b = field_load(c, d) != 0;
			print_value(fp, d->key, (d->inverted ? !b : b) ? "yes" :
			    "no");
			break;
		case OPT_UINT:
			fprintf(fp, "%s = %" PRIu64 "\n", d->key, field_load(c, d));
			break;
		case OPT_SIZE:
			print_size(fp, d->key, field_load(c, d));
			break;
		case OPT_STRING:
			memcpy(&s, (const uint8_t *)c + d->off, sizeof(s));
			if (strcmp(d->key, "template-dir") == 0 &&
			    c->template_dir_from != NULL)
				/* Not the file's: a comment, so the printed
				 * configuration reads back the same. */
				fprintf(fp, "# %s = %s (%s)\n", d->key, s,
				    c->template_dir_from);
			else if (s != NULL)
				print_value(fp, d->key, s);
			else
				fprintf(fp, "# %s is not set\n", d->key);
			break;
		case OPT_LIST:
			if (strcmp(d->key, "read") == 0) {
				for (i = 0; i < c->nfiles; i++)
					print_file(fp, c->files[i]);
				break;
			}
			if (strcmp(d->key, "plugin") == 0) {
				for (i = 0; i < c->nplugins; i++)
					print_value(fp, d->key, c->plugins[i]);
				break;
			}
			if (strcmp(d->key, "plugin-arg") == 0) {
				char pk[CONFIG_MAX_VALUE + 16];

				for (i = 0; i < c->nplugin_args; i++) {
					snprintf(pk, sizeof(pk), "plugin.%s",
					    c->plugin_keys[i]);
					print_value(fp, pk, c->plugin_values[i]);
				}
				break;
			}
			for (i = 0; i < c->noutputs; i++) {
				const struct exporter_conf *o = &c->outputs[i];

				if ((strcmp(d->key, "csv") == 0 &&
				    o->kind == EXPORTER_CSV) ||
				    (strcmp(d->key, "json") == 0 &&
				    o->kind == EXPORTER_JSON))
					print_value(fp, d->key, o->path);
				else if (strcmp(d->key, "export") == 0 &&
				    o->url != NULL)
					print_value(fp, d->key, o->url);
			}
			break;
		case OPT_ACTION:
			break;
		}
	}
}

static int
absolute(char **path, const char *cwd, char *errbuf, size_t errlen)
{
	char *abs;
	size_t n;

	if (*path == NULL || (*path)[0] == '/' || strcmp(*path, "-") == 0)
		return 0;
	n = strlen(cwd) + strlen(*path) + 2;
	if ((abs = malloc(n)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	snprintf(abs, n, "%s/%s", cwd, *path);
	free(*path);
	*path = abs;
	return 0;
}

int
config_absolute_paths(struct probe_conf *c, char *errbuf, size_t errlen)
{
	char cwd[4096];
	unsigned i;
	int rc = 0;

	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(errbuf, errlen, "cannot get the working directory: %s",
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < c->nfiles; i++)
		rc |= absolute(&c->files[i], cwd, errbuf, errlen);
	for (i = 0; i < c->nplugins; i++)	/* PATH[:ARGS]: PATH's */
		rc |= absolute(&c->plugins[i], cwd, errbuf, errlen);
	for (i = 0; i < c->noutputs; i++) {
		rc |= absolute((char **)&c->outputs[i].path, cwd, errbuf, errlen);
		rc |= absolute((char **)&c->outputs[i].transport.path, cwd, errbuf,
		    errlen);
	}
	rc |= absolute(&c->pidfile, cwd, errbuf, errlen);
	rc |= absolute(&c->template_dir, cwd, errbuf, errlen);
	if (c->template_name != NULL && strchr(c->template_name, '/') != NULL)
		rc |= absolute(&c->template_name, cwd, errbuf, errlen);
	return rc;
}

/*
 * The built-in template directory.  A binary that runs from its build tree
 * uses the source tree's templates/ (developers, the tests), so an edited
 * template takes effect without installing.  Any other binary uses the
 * installed directory, found relative to itself (BINDIR/../share/
 * streamprobe/templates), so a package or a moved install prefix works;
 * when that does not exist, the install prefix's path compiled in.
 */
const char *
config_default_template_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], path[PATH_MAX + 64], *slash;
	struct stat st;
	size_t n;
	ssize_t len;

	if (dir[0] != '\0')
		return dir;
	snprintf(dir, sizeof(dir), "%s", STREAMPROBE_INSTALL_TEMPLATE_DIR);
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return dir;
	exe[len] = '\0';
#if defined(STREAMPROBE_BUILD_DIR) && defined(STREAMPROBE_SOURCE_TEMPLATE_DIR)
	if (realpath(STREAMPROBE_BUILD_DIR, path) != NULL) {
		n = strlen(path);
		if (strncmp(exe, path, n) == 0 && exe[n] == '/') {
			snprintf(dir, sizeof(dir), "%s",
			    STREAMPROBE_SOURCE_TEMPLATE_DIR);
			return dir;
		}
	}
#endif
	if ((slash = strrchr(exe, '/')) == NULL)
		return dir;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/%s", exe,
	    STREAMPROBE_RELATIVE_TEMPLATE_DIR);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    realpath(path, exe) != NULL)
		snprintf(dir, sizeof(dir), "%s", exe);
	(void)n;
	return dir;
}

/* --template-dir, else STREAMPROBE_TEMPLATE_DIR, else the built-in rule. */
static int
resolve_template_dir(struct probe_conf *c, char *errbuf, size_t errlen)
{
	const char *env = getenv("STREAMPROBE_TEMPLATE_DIR");

	if (c->template_dir != NULL) {
		c->template_dir_from = NULL;
		return 0;
	}
	if (env != NULL && *env != '\0') {
		c->template_dir_from = "from STREAMPROBE_TEMPLATE_DIR";
		return set_string(&c->template_dir, env, errbuf, errlen);
	}
	c->template_dir_from = "built in";
	return set_string(&c->template_dir, config_default_template_dir(),
	    errbuf, errlen);
}

/* Two formats interleaved on one stream help nobody: refuse them. */
static int
check_one_stdout(const struct probe_conf *c, char *errbuf, size_t errlen)
{
	char list[256] = "";
	unsigned i, n = 0;
	size_t used = 0;

	for (i = 0; i < c->noutputs; i++) {
		const struct exporter_conf *o = &c->outputs[i];
		const char *what;

		if (o->path != NULL && strcmp(o->path, "-") == 0)
			what = o->kind == EXPORTER_CSV ? "--csv -" : "--json -";
		else if (o->transport.path != NULL &&
		    strcmp(o->transport.path, "-") == 0)
			what = "--export ipfix+file://-";
		else
			continue;
		n++;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
			    "%s%s", used ? ", " : "", what);
	}
	if (n > 1) {
		snprintf(errbuf, errlen, "%u outputs on standard output (%s): "
		    "only one may write there, give the others a file", n, list);
		return -1;
	}
	return 0;
}

/* getopt_long's table, made from opt_defs so the two cannot disagree. */
static struct option long_options[NOPTS + 1];

static void
build_long_options(void)
{
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		long_options[i].name = opt_defs[i].key;
		long_options[i].has_arg = opt_defs[i].kind == OPT_FLAG ||
		    (opt_defs[i].kind == OPT_ACTION &&
		    strcmp(opt_defs[i].key, "config") != 0) ? no_argument :
		    required_argument;
		long_options[i].flag = NULL;
		long_options[i].val = opt_defs[i].short_name;
	}
	memset(&long_options[NOPTS], 0, sizeof(long_options[NOPTS]));
}

#define SHORT_OPTIONS	":r:i:f:DhV"

/* Pass 1: find -f, --check-config, --help and --version. */
static int
scan_actions(struct probe_conf *c, int argc, char **argv,
    enum config_action *action, char *errbuf, size_t errlen)
{
	int ch, idx;

	opterr = 0;
	/* 0, not 1: glibc then forgets where it was in the last argv (a
	 * parse that stopped inside "-xD" left it pointing there; the fuzzer
	 * parses many argvs in one process: tests/fuzz/regress/config/). */
	optind = 0;
	while ((ch = getopt_long(argc, argv, SHORT_OPTIONS, long_options,
	    &idx)) != -1) {
		if (ch == 'h' && *action != CONFIG_VERSION)
			*action = CONFIG_HELP;
		else if (ch == 'V' && *action != CONFIG_HELP)
			*action = CONFIG_VERSION;
		else if (ch == 'f' &&
		    set_string(&c->config_path, optarg, errbuf, errlen) != 0)
			return -1;
		else if (ch == 0 &&
		    strcmp(long_options[idx].name, "check-config") == 0 &&
		    *action == CONFIG_RUN)
			*action = CONFIG_CHECK;
	}
	return 0;
}

int
config_parse_args(struct probe_conf *c, int argc, char **argv,
    enum config_action *action, char *errbuf, size_t errlen)
{
	int ch, idx;
	const char *key;

	*action = CONFIG_RUN;
	build_long_options();
	if (scan_actions(c, argc, argv, action, errbuf, errlen) != 0)
		return -1;
	if (*action == CONFIG_HELP || *action == CONFIG_VERSION)
		return 0;
	if (c->config_path != NULL &&
	    config_load_file(c, c->config_path, errbuf, errlen) != 0)
		return -1;
	c->origin = 2;
	opterr = 0;
	optind = 0;	/* as in scan_actions() */
	while ((ch = getopt_long(argc, argv, SHORT_OPTIONS, long_options,
	    &idx)) != -1) {
		switch (ch) {
		case 'f':
			break;
		case 'r':
		case 'i':
			key = ch == 'r' ? "read" : "interface";
			if (config_set(c, key, optarg, errbuf, errlen) != 0)
				return -1;
			break;
		case 'D':
			c->daemon = true;
			break;
		case 0:
			key = long_options[idx].name;
			if (strcmp(key, "check-config") == 0)
				break;
			if (config_set(c, key, optarg, errbuf, errlen) != 0)
				return -1;
			break;
		case ':':
			snprintf(errbuf, errlen, "option %s needs a value",
			    argv[optind - 1]);
			return -1;
		default:
			snprintf(errbuf, errlen, "unknown option %s (see --help)",
			    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(errbuf, errlen, "unexpected argument \"%s\" (see --help)",
		    argv[optind]);
		return -1;
	}
	if (c->nfiles == 0 && c->iface == NULL) {
		snprintf(errbuf, errlen, "nothing to read: give -r FILE[,FILE...] "
		    "or -i INTERFACE (see --help)");
		return -1;
	}
	if (c->nfiles != 0 && c->iface != NULL) {
		snprintf(errbuf, errlen, "-r and -i are exclusive");
		return -1;
	}
	if (c->pidfile != NULL && !c->daemon) {
		snprintf(errbuf, errlen, "--pidfile is for -D (daemon) mode");
		return -1;
	}
	if (c->noutputs == 0 &&
	    add_output(c, EXPORTER_CSV, "-", "csv", errbuf, errlen) != 0)
		return -1;
	if (check_one_stdout(c, errbuf, errlen) != 0)
		return -1;
	return resolve_template_dir(c, errbuf, errlen);
}

void
config_usage(FILE *fp)
{
	fputs(
"usage: streamprobe (-r FILE[,FILE...] | -i INTERFACE) [options]\n"
"\n"
"Turns packets into NFStream-compatible bidirectional flow records.\n"
"\n"
"Input:\n"
"  -r, --read FILES         pcap/pcapng files, comma separated, read in order\n"
"                           as one continuous stream (repeatable)\n"
"  -i, --interface IFACE    live capture\n"
"      --bpf FILTER         BPF capture filter\n"
"      --snaplen N          live snapshot length (default 1536)\n"
"      --no-promisc         do not put the interface in promiscuous mode\n"
"      --buffer-size BYTES  live kernel buffer size (default: libpcap's)\n"
"      --immediate          live: hand packets over at once instead of in\n"
"                           kernel blocks (lower latency, more CPU)\n"
"      --no-decode-tunnels  do not decode GTP-U, TZSP, CAPWAP (no tunnel_id)\n"
"\n"
"Flows:\n"
"      --idle-timeout S     expire a flow S seconds after its last packet (120)\n"
"      --active-timeout S   split a flow S seconds after its first packet (1800)\n"
"                           (live capture: both fire on the wall clock too)\n"
"      --tcp-end            end a TCP flow after FIN both ways or RST\n"
"                           (flowEndReason 3; off: NFStream's semantics)\n"
"      --accounting-mode M  bytes counted at 0 link layer, 1 IP, 2 transport,\n"
"                           3 payload (default 0)\n"
"      --statistics         add the 48 statistical columns\n"
"      --splt N             add the first N packets' direction/size/gap (1..255)\n"
"      --n-dissections N    packets of a flow given to nDPI (default 20);\n"
"                           0 turns application detection off\n"
"      --max-flows N        flow table size; the least recently used flow is\n"
"                           evicted when full (default 1048576)\n"
"      --max-memory SIZE    memory for cached flows and their DPI state\n"
"                           (512M, 2G; default auto: what --max-flows flows\n"
"                           in DPI take); when reached the oldest flows give\n"
"                           up DPI, then flows are evicted (flowEndReason 5)\n"
"      --threads N          meter threads (1..64, default 1); flows are split\n"
"                           by a symmetric hash, --max-flows and --max-memory\n"
"                           are shared out equally\n"
"\n"
"Output (repeatable, each gets every flow; default --csv -; at most one\n"
"may write to standard output, -):\n"
"      --csv PATH|-         NFStream to_csv layout\n"
"      --json PATH|-        one JSON object per flow and line\n"
"      --export URL         IPFIX: ipfix+udp://HOST:PORT, ipfix+tcp://HOST:PORT,\n"
"                           ipfix+file://PATH; NetFlow v9: nf9+udp://HOST:PORT\n"
"                           (HOST: a name, an IPv4 or an [IPv6] address)\n"
"      --template NAME|PATH IPFIX template: standard (default), nfstream,\n"
"                           ntop, or a template file\n"
"      --template-dir DIR   where NAME.tmpl is looked up; default: the\n"
"                           STREAMPROBE_TEMPLATE_DIR environment variable,\n"
"                           else the built-in directory (Templates, below)\n"
"      --template-refresh S UDP template and statistics refresh (60)\n"
"      --template-packets N UDP: templates also every N messages (20)\n"
"      --mtu BYTES          NetFlow v9 packet size (1400)\n"
"      --observation-domain N  IPFIX observation domain / v9 source id (1)\n"
"      --uniflow            two one-direction records per flow instead of\n"
"                           one RFC 5103 biflow record\n"
"\n"
"Plugins (README \"Plugins\"; they run inside the probe, with its rights):\n"
"      --plugin PATH[:ARGS] load a plugin (a .so; repeatable, in order); its\n"
"                           fields become the columns udps.NAME\n"
"      --plugin-arg NAME.KEY=VALUE  an argument for plugin NAME (the file's\n"
"                           plugin.NAME.KEY = VALUE; repeatable)\n"
"\n"
"Running as a service:\n"
"  -f, --config FILE        read options from FILE (keys are the long option\n"
"                           names); the command line overrides it\n"
"      --check-config       check the configuration (template parsed,\n"
"                           collectors resolved; no capture, no socket),\n"
"                           print it and exit 0, or name the error, exit 2\n"
"  -D, --daemon             run in the background, log to syslog\n"
"      --pidfile PATH       write the daemon's process id to PATH\n"
"      --user NAME          drop root for NAME once capture and outputs are open\n"
"      --stats-interval S   log a status line every S seconds (0: never)\n"
"      --no-progress        no progress bar when reading files on a terminal\n"
"  Signals: TERM/INT stop, flush every flow and exit; HUP reopens output\n"
"  files; USR1 logs the counters.\n"
"\n"
"  -h, --help               this text\n"
"  -V, --version            version\n"
"\n"
"Exit status: 0 success; 1 input or output failed part way (flows read so\n"
"far are written), or, reading files, records an exporter could not\n"
"deliver (the count is printed); 2 bad usage, a bad configuration or\n"
"input that cannot be opened.\n", fp);
	fprintf(fp, "\nTemplates: %s\n(this binary's built-in template "
	    "directory; see streamprobe(8), FILES)\n",
	    config_default_template_dir());
}

int
config_check_outputs(const struct probe_conf *c, char *errbuf, size_t errlen)
{
	struct tmpl *t = NULL;
	unsigned i;
	int rc = 0;

	for (i = 0; i < c->noutputs && rc == 0; i++) {
		const struct exporter_conf *o = &c->outputs[i];

		if (o->kind != EXPORTER_IPFIX && o->kind != EXPORTER_NF9)
			continue;
		/* One template serves every exporter: parse it once. */
		if (t == NULL) {
			if ((t = malloc(sizeof(*t))) == NULL) {
				snprintf(errbuf, errlen, "out of memory");
				return -1;
			}
			rc = tmpl_load(t, c->template_name != NULL ?
			    c->template_name : "standard", c->template_dir,
			    errbuf, errlen);
		}
		if (rc == 0 &&
		    (rc = transport_resolve(&o->transport, errbuf, errlen)) != 0) {
			char msg[CONFIG_ERRLEN];

			snprintf(msg, sizeof(msg), "%s", errbuf);
			snprintf(errbuf, errlen, "--export %s: %s", o->url, msg);
		}
	}
	free(t);
	return rc;
}

bool
config_writes_stdout(const struct probe_conf *c)
{
	unsigned i;

	for (i = 0; i < c->noutputs; i++) {
		const struct exporter_conf *o = &c->outputs[i];

		if ((o->path != NULL && strcmp(o->path, "-") == 0) ||
		    (o->transport.path != NULL &&
		    strcmp(o->transport.path, "-") == 0))
			return true;
	}
	return false;
}

void
config_free(struct probe_conf *c)
{
	clear_files(c);
	clear_outputs(c);
	clear_plugins(c);
	clear_plugin_args(c);
	free(c->template_name);
	free(c->template_dir);
	free(c->iface);
	free(c->bpf);
	free(c->pidfile);
	free(c->user);
	free(c->config_path);
	memset(c, 0, sizeof(*c));
}
