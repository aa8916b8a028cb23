/*
 * config.h - the probe's configuration and its command line.
 *
 * Option names follow NFStream's parameters; every long option is also a
 * key of the configuration file (-f), so both go through config_set().
 * The file is applied first and the command line overrides it: a scalar
 * given on the command line replaces the file's value, and a list (the
 * input files, the outputs) given there replaces the file's whole list.
 */
#ifndef STREAMPROBE_CONFIG_H
#define STREAMPROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "exporter.h"

#define CONFIG_MAX_FILES	4096
#define CONFIG_MAX_OUTPUTS	16
#define CONFIG_ERRLEN		512
#define CONFIG_MAX_VALUE	4096	/* bytes in one option's value */
#define CONFIG_MAX_PLUGINS	16
#define CONFIG_MAX_PLUGIN_ARGS	256

struct probe_conf {
	char			*files[CONFIG_MAX_FILES];
	unsigned		 nfiles;
	char			*iface;
	char			*bpf;
	int			 snaplen;
	bool			 promisc;
	int			 buffer_size;
	uint64_t		 idle_timeout_s;
	uint64_t		 active_timeout_s;
	int			 accounting_mode;
	bool			 decode_tunnels;
	bool			 statistics;
	unsigned		 splt;
	unsigned		 n_dissections;
	uint32_t		 max_flows;
	uint64_t		 max_memory;	/* bytes; 0: auto (meter.c) */
	unsigned		 threads;	/* meters (probe.c) */
	struct exporter_conf	 outputs[CONFIG_MAX_OUTPUTS];
	unsigned		 noutputs;
	char			*template_name;	/* NULL: standard */
	/* Where template names are looked up: --template-dir, else
	 * STREAMPROBE_TEMPLATE_DIR, else the built-in rule (config.c);
	 * always set once config_parse_args() succeeded. */
	char			*template_dir;
	const char		*template_dir_from;	/* NULL: the option */
	unsigned		 template_refresh_s;
	unsigned		 template_packets;
	unsigned		 mtu;
	uint32_t		 observation_domain;
	bool			 uniflow;
	/* Deployment (issue: running as a probe on a span port). */
	bool			 immediate;	/* live: deliver packets at once */
	bool			 tcp_end;	/* FIN both ways or RST ends a flow */
	unsigned		 stats_interval_s;	/* 0: no status line */
	bool			 progress;	/* files on a terminal */
	bool			 daemon;
	char			*pidfile;
	char			*user;
	char			*config_path;	/* -f, as given */
	/* Plugins (src/plugin/): PATH[:ARGS] in load order, and the
	 * plugin.NAME.KEY = VALUE arguments (key "NAME.KEY"), in order. */
	char			*plugins[CONFIG_MAX_PLUGINS];
	unsigned		 nplugins;
	char			*plugin_keys[CONFIG_MAX_PLUGIN_ARGS];
	char			*plugin_values[CONFIG_MAX_PLUGIN_ARGS];
	unsigned		 nplugin_args;
	/* Parsing state: where the lists came from (0 none, 1 file, 2 CLI). */
	int			 files_origin, outputs_origin, iface_origin;
	int			 plugins_origin, plugin_args_origin;
	int			 origin;
};

enum config_action {
	CONFIG_RUN,
	CONFIG_HELP,
	CONFIG_VERSION,
	CONFIG_CHECK		/* --check-config: print, exit 0 */
};

void config_defaults(struct probe_conf *c);
/* Parse argv; -1 with a message in errbuf on bad usage. */
int config_parse_args(struct probe_conf *c, int argc, char **argv,
    enum config_action *action, char *errbuf, size_t errlen);
/* Set one option by its long name (the command line and config files). */
int config_set(struct probe_conf *c, const char *key, const char *value,
    char *errbuf, size_t errlen);
/* Apply a configuration file; -1 with "FILE:LINE: ..." in errbuf. */
int config_load_file(struct probe_conf *c, const char *path, char *errbuf,
    size_t errlen);
/* The same from an open stream; path names it in messages. */
int config_load_stream(struct probe_conf *c, FILE *fp, const char *path,
    char *errbuf, size_t errlen);
/* Write the effective configuration in the file's own syntax. */
void config_print(const struct probe_conf *c, FILE *fp);
/* Make relative output, pidfile and input paths absolute (-D: cwd is /). */
int config_absolute_paths(struct probe_conf *c, char *errbuf, size_t errlen);
/* Does an output go to standard output (--csv -, ipfix+file://-)? */
bool config_writes_stdout(const struct probe_conf *c);
/* --check-config's deeper checks, without opening a capture or a socket:
 * the template parses (for every exporter that uses one) and every
 * collector's host name resolves.  -1 with a message in errbuf. */
int config_check_outputs(const struct probe_conf *c, char *errbuf,
    size_t errlen);
/* The template directory a binary uses when nothing sets one. */
const char *config_default_template_dir(void);
void config_usage(FILE *fp);
void config_free(struct probe_conf *c);

#endif
