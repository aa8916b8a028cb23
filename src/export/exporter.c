/*
 * exporter.c - exporter registry.
 *
 *	exporter_open()		the constructor for an exporter kind
 */
#include <stdio.h>

#include "exporter.h"

struct exporter *
exporter_open(const struct exporter_conf *conf, const struct colset *cols,
    const struct exporter_env *env, char *errbuf, size_t errlen)
{
	switch (conf->kind) {
	case EXPORTER_CSV:
	case EXPORTER_JSON:
		return export_text_open(conf, cols, errbuf, errlen);
	case EXPORTER_IPFIX:
		return export_ipfix_open(conf, env, errbuf, errlen);
	case EXPORTER_NF9:
		return export_nf9_open(conf, env, errbuf, errlen);
	}
	snprintf(errbuf, errlen, "unknown exporter kind %d", (int)conf->kind);
	return NULL;
}
