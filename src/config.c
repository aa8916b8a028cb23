/*
 * config.c - options: defaults, validation, command line.
 *
 *	config_defaults()	NFStream's defaults
 *	config_set()		one option by name, validated
 *	config_parse_args()	getopt_long front end
 *	config_usage(), config_free()
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "flowfeat.h"

#define MAX_TIMEOUT_S	315360000ULL	/* ten years */

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
	c->template_refresh_s = 60;
	c->template_packets = 20;
	c->mtu = 1400;
	c->observation_domain = 1;
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

/* "-r a.pcap,b.pcap" (and repeated -r) append files in order. */
static int
add_files(struct probe_conf *c, const char *list, char *errbuf, size_t errlen)
{
	const char *p = list, *comma;
	size_t n;

	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
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
		if ((c->files[c->nfiles] = strndup(p, n)) == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
		c->nfiles++;
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

/* HOST:PORT with HOST a name, an IPv4 address or [IPv6]. */
static int
split_host_port(const char *hp, char **host, char **port)
{
	const char *colon;

	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		*host = strndup(hp + 1, (size_t)(end - hp - 1));
		colon = end + 1;
	} else {
		if ((colon = strrchr(hp, ':')) == NULL || strchr(hp, ':') != colon)
			return -1;
		*host = strndup(hp, (size_t)(colon - hp));
	}
	*port = strdup(colon + 1);
	if (*host == NULL || *port == NULL || **host == '\0' ||
	    strspn(*port, "0123456789") != strlen(*port) || **port == '\0' ||
	    atoi(*port) < 1 || atoi(*port) > 65535) {
		free(*host);
		free(*port);
		*host = *port = NULL;
		return -1;
	}
	return 0;
}

static int
parse_export_url(const char *url, struct exporter_conf *out, char *errbuf,
    size_t errlen)
{
	static const struct {
		const char		*scheme;
		enum exporter_kind	 exporter;
		enum transport_kind	 kind;
	} schemes[] = {
		{ "ipfix+udp://", EXPORTER_IPFIX, TRANSPORT_UDP },
		{ "ipfix+tcp://", EXPORTER_IPFIX, TRANSPORT_TCP },
		{ "ipfix+file://", EXPORTER_IPFIX, TRANSPORT_FILE },
		{ "nf9+udp://", EXPORTER_NF9, TRANSPORT_UDP },
	};
	char *host = NULL, *port = NULL;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i].scheme);
		if (strncmp(url, schemes[i].scheme, n) != 0)
			continue;
		out->kind = schemes[i].exporter;
		out->transport.kind = schemes[i].kind;
		if ((out->url = strdup(url)) == NULL)
			goto nomem;
		if (schemes[i].kind == TRANSPORT_FILE) {
			if (url[n] == '\0')
				goto bad;
			if ((out->transport.path = strdup(url + n)) == NULL)
				goto nomem;
			return 0;
		}
		if (split_host_port(url + n, &host, &port) != 0)
			goto bad;
		out->transport.host = host;
		out->transport.port = port;
		return 0;
	}
	if (strncmp(url, "nf9+tcp://", 10) == 0) {
		snprintf(errbuf, errlen, "--export %s: NetFlow v9 over TCP is not "
		    "offered: its header carries no length, so a TCP stream cannot "
		    "be framed (use nf9+udp:// or ipfix+tcp://)", url);
		return -1;
	}
bad:
	snprintf(errbuf, errlen, "--export \"%s\": expected ipfix+udp://HOST:PORT, "
	    "ipfix+tcp://HOST:PORT, ipfix+file://PATH or nf9+udp://HOST:PORT", url);
	free(out->url);
	out->url = NULL;
	return -1;
nomem:
	snprintf(errbuf, errlen, "out of memory");
	return -1;
}

int
config_set(struct probe_conf *c, const char *key, const char *value,
    char *errbuf, size_t errlen)
{
	uint64_t v;

	if (strcmp(key, "read") == 0)
		return add_files(c, value, errbuf, errlen);
	if (strcmp(key, "interface") == 0)
		return set_string(&c->iface, value, errbuf, errlen);
	if (strcmp(key, "bpf") == 0)
		return set_string(&c->bpf, value, errbuf, errlen);
	if (strcmp(key, "csv") == 0)
		return add_output(c, EXPORTER_CSV, value, key, errbuf, errlen);
	if (strcmp(key, "json") == 0)
		return add_output(c, EXPORTER_JSON, value, key, errbuf, errlen);
	if (strcmp(key, "export") == 0) {
		if (c->noutputs == CONFIG_MAX_OUTPUTS) {
			snprintf(errbuf, errlen, "--export: more than %d outputs",
			    CONFIG_MAX_OUTPUTS);
			return -1;
		}
		if (value == NULL || parse_export_url(value,
		    &c->outputs[c->noutputs], errbuf, errlen) != 0)
			return -1;
		c->noutputs++;
		return 0;
	}
	if (strcmp(key, "template") == 0)
		return set_string(&c->template_name, value, errbuf, errlen);
	if (strcmp(key, "template-refresh") == 0) {
		if (parse_uint(key, value, 1, 86400, &v, errbuf, errlen) != 0)
			return -1;
		c->template_refresh_s = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "observation-domain") == 0) {
		if (parse_uint(key, value, 0, UINT32_MAX, &v, errbuf, errlen) != 0)
			return -1;
		c->observation_domain = (uint32_t)v;
		return 0;
	}
	if (strcmp(key, "template-packets") == 0) {
		if (parse_uint(key, value, 1, 1000000, &v, errbuf, errlen) != 0)
			return -1;
		c->template_packets = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "mtu") == 0) {
		if (parse_uint(key, value, 576, 65507, &v, errbuf, errlen) != 0)
			return -1;
		c->mtu = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "uniflow") == 0) {
		c->uniflow = true;
		return 0;
	}
	if (strcmp(key, "no-promisc") == 0) {
		c->promisc = false;
		return 0;
	}
	if (strcmp(key, "no-decode-tunnels") == 0) {
		c->decode_tunnels = false;
		return 0;
	}
	if (strcmp(key, "statistics") == 0) {
		c->statistics = true;
		return 0;
	}
	if (strcmp(key, "snaplen") == 0) {
		if (parse_uint(key, value, 1, 262144, &v, errbuf, errlen) != 0)
			return -1;
		c->snaplen = (int)v;
		return 0;
	}
	if (strcmp(key, "buffer-size") == 0) {
		if (parse_uint(key, value, 0, INT32_MAX, &v, errbuf, errlen) != 0)
			return -1;
		c->buffer_size = (int)v;
		return 0;
	}
	if (strcmp(key, "idle-timeout") == 0)
		return parse_uint(key, value, 0, MAX_TIMEOUT_S, &c->idle_timeout_s,
		    errbuf, errlen);
	if (strcmp(key, "active-timeout") == 0)
		return parse_uint(key, value, 0, MAX_TIMEOUT_S,
		    &c->active_timeout_s, errbuf, errlen);
	if (strcmp(key, "accounting-mode") == 0) {
		if (parse_uint(key, value, 0, 3, &v, errbuf, errlen) != 0)
			return -1;
		c->accounting_mode = (int)v;
		return 0;
	}
	if (strcmp(key, "splt") == 0) {
		if (parse_uint(key, value, 0, FLOWFEAT_SPLT_MAX, &v, errbuf,
		    errlen) != 0)
			return -1;
		c->splt = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "n-dissections") == 0) {
		if (parse_uint(key, value, 0, 255, &v, errbuf, errlen) != 0)
			return -1;
		c->n_dissections = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "max-flows") == 0) {
		if (parse_uint(key, value, 1, 1u << 30, &v, errbuf, errlen) != 0)
			return -1;
		c->max_flows = (uint32_t)v;
		return 0;
	}
	snprintf(errbuf, errlen, "unknown option \"%s\"", key);
	return -1;
}

static const struct option long_options[] = {
	{ "read",		required_argument,	NULL, 'r' },
	{ "interface",		required_argument,	NULL, 'i' },
	{ "bpf",		required_argument,	NULL, 0 },
	{ "snaplen",		required_argument,	NULL, 0 },
	{ "no-promisc",		no_argument,		NULL, 0 },
	{ "buffer-size",	required_argument,	NULL, 0 },
	{ "idle-timeout",	required_argument,	NULL, 0 },
	{ "active-timeout",	required_argument,	NULL, 0 },
	{ "accounting-mode",	required_argument,	NULL, 0 },
	{ "no-decode-tunnels",	no_argument,		NULL, 0 },
	{ "statistics",		no_argument,		NULL, 0 },
	{ "splt",		required_argument,	NULL, 0 },
	{ "n-dissections",	required_argument,	NULL, 0 },
	{ "max-flows",		required_argument,	NULL, 0 },
	{ "csv",		required_argument,	NULL, 0 },
	{ "json",		required_argument,	NULL, 0 },
	{ "export",		required_argument,	NULL, 0 },
	{ "template",		required_argument,	NULL, 0 },
	{ "template-refresh",	required_argument,	NULL, 0 },
	{ "observation-domain",	required_argument,	NULL, 0 },
	{ "uniflow",		no_argument,		NULL, 0 },
	{ "template-packets",	required_argument,	NULL, 0 },
	{ "mtu",		required_argument,	NULL, 0 },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

int
config_parse_args(struct probe_conf *c, int argc, char **argv,
    enum config_action *action, char *errbuf, size_t errlen)
{
	int ch, idx;
	const char *key;

	*action = CONFIG_RUN;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":r:i:hV", long_options, &idx)) !=
	    -1) {
		switch (ch) {
		case 'h':
			*action = CONFIG_HELP;
			return 0;
		case 'V':
			*action = CONFIG_VERSION;
			return 0;
		case 'r':
		case 'i':
			key = ch == 'r' ? "read" : "interface";
			if (config_set(c, key, optarg, errbuf, errlen) != 0)
				return -1;
			break;
		case 0:
			if (config_set(c, long_options[idx].name, optarg, errbuf,
			    errlen) != 0)
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
	if (c->noutputs == 0)
		return add_output(c, EXPORTER_CSV, "-", "csv", errbuf, errlen);
	return 0;
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
"      --no-decode-tunnels  do not decode GTP-U, TZSP, CAPWAP (no tunnel_id)\n"
"\n"
"Flows:\n"
"      --idle-timeout S     expire a flow S seconds after its last packet (120)\n"
"      --active-timeout S   split a flow S seconds after its first packet (1800)\n"
"      --accounting-mode M  bytes counted at 0 link layer, 1 IP, 2 transport,\n"
"                           3 payload (default 0)\n"
"      --statistics         add the 48 statistical columns\n"
"      --splt N             add the first N packets' direction/size/gap (1..255)\n"
"      --n-dissections N    packets of a flow given to nDPI (default 20);\n"
"                           0 turns application detection off\n"
"      --max-flows N        flow table size; the least recently used flow is\n"
"                           evicted when full (default 1048576)\n"
"\n"
"Output (repeatable, each gets every flow; default --csv -):\n"
"      --csv PATH|-         NFStream to_csv layout\n"
"      --json PATH|-        one JSON object per flow and line\n"
"      --export URL         IPFIX: ipfix+udp://HOST:PORT, ipfix+tcp://HOST:PORT,\n"
"                           ipfix+file://PATH; NetFlow v9: nf9+udp://HOST:PORT\n"
"      --template NAME|PATH IPFIX template: standard (default), nfstream,\n"
"                           ntop, or a template file\n"
"      --template-refresh S UDP template and statistics refresh (60)\n"
"      --template-packets N NetFlow v9: templates also every N packets (20)\n"
"      --mtu BYTES          NetFlow v9 packet size (1400)\n"
"      --observation-domain N  IPFIX observation domain / v9 source id (1)\n"
"      --uniflow            two one-direction records per flow instead of\n"
"                           one RFC 5103 biflow record\n"
"\n"
"  -h, --help               this text\n"
"  -V, --version            version\n"
"\n"
"Exit status: 0 success, 1 input or output failed part way (flows read so\n"
"far are written), 2 bad usage or input that cannot be opened.\n", fp);
}

void
config_free(struct probe_conf *c)
{
	unsigned i;

	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	for (i = 0; i < c->noutputs; i++) {
		free((char *)c->outputs[i].path);
		free(c->outputs[i].url);
		free((char *)c->outputs[i].transport.host);
		free((char *)c->outputs[i].transport.port);
		free((char *)c->outputs[i].transport.path);
	}
	free(c->template_name);
	free(c->iface);
	free(c->bpf);
	memset(c, 0, sizeof(*c));
}
