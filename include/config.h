/*
 * config.h - the probe's configuration and its command line.
 *
 * Option names follow NFStream's parameters; every long option is also the
 * key a configuration file will use, so both go through config_set().
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
	struct exporter_conf	 outputs[CONFIG_MAX_OUTPUTS];
	unsigned		 noutputs;
	char			*template_name;	/* NULL: standard */
	unsigned		 template_refresh_s;
	unsigned		 template_packets;
	unsigned		 mtu;
	uint32_t		 observation_domain;
	bool			 uniflow;
};

enum config_action {
	CONFIG_RUN,
	CONFIG_HELP,
	CONFIG_VERSION
};

void config_defaults(struct probe_conf *c);
/* Parse argv; -1 with a message in errbuf on bad usage. */
int config_parse_args(struct probe_conf *c, int argc, char **argv,
    enum config_action *action, char *errbuf, size_t errlen);
/* Set one option by its long name (the command line and config files). */
int config_set(struct probe_conf *c, const char *key, const char *value,
    char *errbuf, size_t errlen);
void config_usage(FILE *fp);
void config_free(struct probe_conf *c);

#endif
