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

#include <stddef.h>
#include <stdint.h>

struct colset;
struct flow_view;
struct exporter;

enum exporter_kind {
	EXPORTER_CSV,
	EXPORTER_JSON
};

struct exporter_conf {
	enum exporter_kind	 kind;
	const char		*path;	/* "-" for standard output */
};

struct exporter_ops {
	int	(*export_flow)(struct exporter *e, const struct flow_view *v);
	int	(*finish)(struct exporter *e);	/* flush and close */
	void	(*destroy)(struct exporter *e);
};

struct exporter {
	const struct exporter_ops	*ops;
	char				 name[64];	/* for messages */
	char				 error[256];	/* last failure */
	uint64_t			 exported;
	uint64_t			 failed;
};

/* Open an exporter; on failure returns NULL with a message in errbuf. */
struct exporter *exporter_open(const struct exporter_conf *conf,
    const struct colset *cols, char *errbuf, size_t errlen);

struct exporter *export_text_open(const struct exporter_conf *conf,
    const struct colset *cols, char *errbuf, size_t errlen);

#endif
