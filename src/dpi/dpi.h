/*
 * dpi.h - application detection with nDPI: the only module that includes
 * nDPI's headers.
 *
 * One struct dpi per metering thread (nDPI keeps the current packet inside
 * its detection module).  Per-flow state lives in the flow's ext area
 * (dpi_ext_size() bytes).  NFStream's call sequence: every packet of both
 * directions, from the innermost IP header, until detection is complete or
 * n_dissections packets have been seen; give up (with guessing) at that
 * limit or when the flow ends.  When the result is final the nDPI state is
 * freed at once and the result kept as protocol ids plus one small block of
 * sanitised strings.  Under the memory budget (meter.c) an undecided flow
 * gives up early the same way (dpi_flow_shed()), so its columns are those
 * of a flow that ended undecided.
 *
 * Ownership: dpi_flow_end() (metering thread, before the flow is copied
 * out) makes the result final; the string block then belongs to whoever
 * holds the flow record, which calls dpi_flow_release() once (export
 * thread after exporting, or the metering thread if the record is dropped).
 * The name tables are immutable after dpi_create() and may be read from
 * any thread.
 */
#ifndef STREAMPROBE_DPI_H
#define STREAMPROBE_DPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dpi;

struct dpi_conf {
	unsigned	n_dissections;	/* 1..255 */
};

/* Final L7 result of a flow, for outputs; strings are not NUL-terminated. */
struct dpi_text {
	const char	*s;
	unsigned	 len;
};

enum dpi_string {
	DPI_SERVER_NAME,	/* requested_server_name */
	DPI_CLIENT_FP,		/* JA3, HASSH client, DHCP fingerprint */
	DPI_SERVER_FP,		/* JA3S, HASSH server */
	DPI_USER_AGENT,
	DPI_CONTENT_TYPE,
	DPI_STRINGS
};

struct dpi_result {
	uint16_t	master_id;	/* nDPI protocol ids */
	uint16_t	app_id;
	char		app_name[48];	/* "Master.App", NFStream's form */
	const char	*category_name;
	int		guessed;
	int		confidence;	/* NFStream's numbering, see README */
	struct dpi_text	 str[DPI_STRINGS];
};

struct dpi *dpi_create(const struct dpi_conf *conf, char *errbuf,
    size_t errlen);
void dpi_destroy(struct dpi *d);
size_t dpi_ext_size(void);

/* Feed packet number k (1-based, both directions) of a flow. */
void dpi_packet(struct dpi *d, void *state, uint64_t k, const uint8_t *l3,
    uint16_t l3_len, uint64_t now_ms);
/* The flow ends: give up if undecided, freeze the result, free nDPI state. */
void dpi_flow_end(struct dpi *d, void *state);
/* Free the result's strings (after dpi_flow_end). */
void dpi_flow_release(void *state);
/* Memory budget: stop an undecided flow's detection now, as at its end;
 * false if it was not detecting. */
bool dpi_flow_shed(struct dpi *d, void *state);

/*
 * Memory held for cached flows, O(1) (running counts): nDPI flow structs
 * in use, nDPI's own allocations since start-up (counted through its
 * allocation wrappers: usable size plus the allocator's chunk header) and
 * the result strings of flows still cached.  Metering thread.
 */
size_t dpi_mem_bytes(struct dpi *d);
/* One nDPI flow struct as the pool holds it. */
size_t dpi_flow_struct_bytes(void);
/*
 * What the default memory budget allows per flow for nDPI's own
 * allocations beside its flow struct (and the result strings).  Measured
 * (the end report's "allocated per flow on average"): 0 on a SYN flood,
 * 536 over the 73 shared captures together, 1.2-2.8 KB on TLS-only
 * captures (certificate buffers, held while detecting); see README,
 * "Memory".
 */
#define DPI_HEAP_PER_FLOW	512

/* dpi_mem_bytes() at its largest, and what it held then. */
struct dpi_mem_peak {
	size_t	total;
	size_t	flows_detecting;
	size_t	heap;
	size_t	strings;
};

struct dpi_mem {
	size_t	flow_struct;		/* bytes per nDPI flow struct */
	size_t	flows_detecting;	/* structs in use */
	size_t	heap;			/* nDPI's allocations since start-up:
					 * flows' and its caches' */
	size_t	strings;		/* result strings of cached flows */
	size_t	module;			/* nDPI's detection module */
	size_t	slabs;			/* flow-struct slabs mapped */
	struct dpi_mem_peak peak;
	/* What nDPI allocated inside a flow struct (freed with it), on
	 * average over the flows whose detection ended. */
	size_t	flow_heap_avg;
};
void dpi_mem_info(const struct dpi *d, struct dpi_mem *out);

void dpi_result(const struct dpi *d, const void *state, struct dpi_result *out);

struct dpi_stats {
	uint64_t	flows_detected;		/* finished by DPI */
	uint64_t	flows_guessed;
	uint64_t	flows_unknown;
	uint64_t	packets_dissected;
	uint64_t	alloc_failures;		/* flows left undetected */
	uint64_t	string_bytes;		/* result blocks allocated */
	uint64_t	flows_shed;		/* lost DPI: memory budget */
};
void dpi_get_stats(const struct dpi *d, struct dpi_stats *out);
/* The protocol name table (for application id -> name options records). */
unsigned dpi_protocol_count(const struct dpi *d);
const char *dpi_protocol_name(const struct dpi *d, unsigned id);
const char *dpi_version(void);

struct flowext;
/*
 * DPI as a flow extension: packet (dpi_packet), flow_end (dpi_flow_end),
 * fill (dpi_result into its scratch: a struct dpi_result) and release
 * (dpi_flow_release).  Sets x->dpi_id.
 */
int dpi_ext_register(struct dpi *d, struct flowext *x, char *errbuf,
    size_t errlen);

#endif
