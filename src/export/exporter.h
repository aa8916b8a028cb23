/*
 * exporter.h - the output stage: every finished flow goes to every exporter.
 *
 * Exporters run on the export thread, never on the capture path.  They
 * borrow the flow_view for one call and must not keep pointers into it.
 * Each returns 0 or -1; on -1 it has put a reason in its error text and
 * the caller counts the record as not exported.
 */
#ifndef STREAMPROBE_EXPORTER_H
#define STREAMPROBE_EXPORTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "transport.h"

struct colset;
struct dpi;
struct flow_view;
struct exporter;

enum exporter_kind {
	EXPORTER_CSV,
	EXPORTER_JSON,
	EXPORTER_IPFIX,
	EXPORTER_NF9
};

struct exporter_conf {
	enum exporter_kind	 kind;
	const char		*path;	/* CSV/JSON: "-" for standard output */
	char			*url;	/* IPFIX: as given, for messages */
	struct transport_conf	 transport;	/* IPFIX */
};

/* What every exporter may need from the run (read-only, shared). */
struct exporter_env {
	const struct dpi	*dpi;		/* NULL without DPI */
	bool			 statistics;
	bool			 splt;
	unsigned		 splt_n;	/* packets per SPLT list */
	bool			 tunnels;
	const char		*template_name;
	const char		*template_dir;
	unsigned		 template_refresh_s;
	unsigned		 template_packets;	/* NetFlow v9 */
	size_t			 mtu;			/* NetFlow v9 packet */
	uint32_t		 observation_domain;
	bool			 uniflow;
	const _Atomic uint64_t	*packets_ignored;	/* published by metering */
	const _Atomic uint64_t	*capture_dropped[2];	/* kernel, interface */
};

struct exporter_ops {
	int	(*export_flow)(struct exporter *e, const struct flow_view *v);
	/* Timers (template refresh, flushing a partial message); idle when
	 * no flow is waiting.  Optional. */
	void	(*tick)(struct exporter *e, uint64_t now_ms, bool idle);
	int	(*finish)(struct exporter *e);	/* flush and close */
	void	(*report)(struct exporter *e, FILE *fp);	/* optional */
	/* SIGHUP (logrotate): reopen output files by name, appending; keep
	 * the old file when that fails.  Optional: sockets need nothing. */
	int	(*reopen)(struct exporter *e);
	/* Records accepted but never delivered (collector down, queue full);
	 * safe from any thread.  Optional. */
	uint64_t (*records_lost)(struct exporter *e);
	/* TCP: what waits to be delivered (transport_backlog()); false when
	 * the output has no backlog to tell.  Any thread.  Optional. */
	bool	(*backlog)(struct exporter *e, struct transport_backlog *out);
	void	(*destroy)(struct exporter *e);
};

struct exporter {
	const struct exporter_ops	*ops;
	char				 name[300];	/* for messages */
	char				 error[600];	/* last failure */
	uint64_t			 exported;
	uint64_t			 failed;
};

/* Open an exporter; on failure returns NULL with a message in errbuf. */
struct exporter *exporter_open(const struct exporter_conf *conf,
    const struct colset *cols, const struct exporter_env *env, char *errbuf,
    size_t errlen);

struct exporter *export_text_open(const struct exporter_conf *conf,
    const struct colset *cols, char *errbuf, size_t errlen);
struct exporter *export_ipfix_open(const struct exporter_conf *conf,
    const struct exporter_env *env, char *errbuf, size_t errlen);
struct exporter *export_nf9_open(const struct exporter_conf *conf,
    const struct exporter_env *env, char *errbuf, size_t errlen);


#endif
