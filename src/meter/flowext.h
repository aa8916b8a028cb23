/*
 * flowext.h - where the flow extensions' state lies after each flow
 * record: the features first (statistics, SPLT), then DPI at the next
 * 8-byte boundary.  One layout for the run, shared read-only by the
 * meters (which fill it) and the export stage (which reads it from the
 * ring's copy).  Extension state crosses threads by copy: plain data,
 * except DPI's strings, owned by the record and released by
 * dpi_flow_release() after export (or on a drop).
 */
#ifndef STREAMPROBE_FLOWEXT_H
#define STREAMPROBE_FLOWEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "flowfeat.h"

struct dpi;

struct flowext {
	struct flowfeat_conf	 feat;
	bool			 has_feat;
	struct dpi		*dpi;		/* NULL: no application detection */
	size_t			 dpi_off;	/* its state's offset in the ext */
	size_t			 size;		/* every extension's bytes */
	size_t			 rec_size;	/* flow record + extensions */
};

/* Lay out the extensions: statistics, splt packets (0: none), dpi. */
void flowext_layout(struct flowext *x, bool statistics, unsigned splt,
    struct dpi *dpi);

static inline void *
flowext_dpi(const struct flowext *x, const struct flow *f)
{
	return (uint8_t *)flow_ext((struct flow *)f) + x->dpi_off;
}

#endif
