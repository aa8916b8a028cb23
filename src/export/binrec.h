/*
 * binrec.h - the binary-export core shared by the IPFIX and NetFlow v9
 * exporters; no library.
 *
 * From the template file it builds one record layout per flow kind (IPv4,
 * IPv6; biflow, or uniflow with --uniflow) and fills records of a finished
 * flow in that layout.  The exporter owns the format: it decides which
 * template lines it can carry (hooks), turns a layout into its templates
 * and hands each record to its message encoder.
 *
 * Encoding rules, one place for both formats:
 *  - every fixed-length field is written in network byte order at its
 *    template length; a field marked host_order is then turned into host
 *    order (reversed on a little-endian host), for a library that converts
 *    it back on the way out (libfixbuf's FB_IE_F_ENDIAN);
 *  - unsigned integers of reduced size saturate at the length's maximum;
 *    signed ones saturate at both ends; a double is rounded, and a negative
 *    value written as unsigned is 0; booleans are 1 (true) or 2 (false);
 *  - float64 in 8 bytes is the double's bits, in 4 bytes a float32;
 *  - strings and octet arrays of a fixed length are cut (never inside a
 *    UTF-8 character or a \xHH escape) and NUL-padded; SPLT lists are their
 *    elements in network byte order, 1, 2 or 4 bytes each;
 *  - an IP or MAC address is its bytes, or its text when the template
 *    writes it as a string;
 *  - with varlen layouts, variable-length fields are a struct
 *    binrec_varfield (libfixbuf's fbVarfield_t) aligned to 8 bytes,
 *    pointing into the core's scratch buffer.
 */
#ifndef STREAMPROBE_BINREC_H
#define STREAMPROBE_BINREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "columns.h"
#include "exporter.h"
#include "template.h"
#include "transport.h"

#define BINREC_LAYOUTS		4	/* v4, v6, v4 uniflow, v6 uniflow */
#define BINREC_TID_FIRST	256	/* template id of layout 0 */
#define BINREC_APP_NAME_LEN	32	/* applicationName, fixed length */
#define BINREC_APP_ENGINE	22	/* RFC 6759 engine id: nDPI */

/* A variable-length field in a varlen record: libfixbuf's fbVarfield_t. */
struct binrec_varfield {
	size_t		 len;
	uint8_t		*buf;
};

struct binrec_field {
	const struct tmpl_field	*tf;
	int			 col[2];	/* forward, reverse record */
	uint32_t		 off;		/* in the record */
	uint16_t		 len;		/* wire length (varlen: most) */
	bool			 numeric;	/* value from flow_view.num[] */
	bool			 varlen;	/* a binrec_varfield slot */
	bool			 host_order;	/* see the rules above */
	bool			 relative;	/* minus the time base (v9
						 * sysUptime) */
};

/*
 * Unsigned integers and float64 written straight from flow_view.num, in
 * network byte order, as 8 bytes at off whose first len are the value:
 * the bytes past a short field are overwritten by the fields written
 * after it.  No per-field type dispatch: the record builder's main cost.
 */
struct binrec_fast {
	uint32_t	off;
	int16_t		col[2];
	uint8_t		shift;		/* 8 * (8 - len) */
	uint64_t	max;
};

struct binrec_layout {
	uint16_t		tid;
	bool			used;
	unsigned		n;		/* every field, template order */
	struct binrec_field	f[TMPL_MAX_FIELDS];
	unsigned		nfast;
	struct binrec_fast	fast[TMPL_MAX_FIELDS];
	unsigned		nslow;		/* f[] less the fast ones */
	struct binrec_field	slow[TMPL_MAX_FIELDS];
	size_t			rec_size;	/* the record in memory */
	size_t			max_wire;	/* worst case on the wire
						 * (varlen: 3-byte lengths) */
};

typedef int (*binrec_append_fn)(void *ctx, uint16_t tid, const uint8_t *rec,
    size_t len);

/* What the exporter decides while the core builds its layouts. */
struct binrec_hooks {
	/* 1 carry the line, 0 leave it out, -1 error (errbuf set).  Called
	 * for each active line that fits its column, before the uniflow
	 * mapping may leave it out. */
	int	(*field)(void *ctx, const struct tmpl_field *tf, char *errbuf,
		    size_t errlen);
	/* May this unsigned or float64 field be written as the plain number
	 * in network byte order (the fast loop)?  NULL: yes. */
	bool	(*fast)(void *ctx, const struct tmpl_field *tf);
	/* Variable-length elements as varfields (IPFIX); false: every field
	 * at its template length (NetFlow v9). */
	bool	  varlen;
};

struct binrec {
	const struct tmpl		*tmpl;
	const struct exporter_env	*env;
	struct binrec_layout		 lay[BINREC_LAYOUTS];
	bool				 addr_as_text;	/* a template writes an
							 * IP or MAC as text */
	uint64_t			 time_base;	/* for relative fields */
	uint8_t				*rec;		/* the record being built */
	uint8_t				*strings;	/* varlen values of it */
	size_t				 strings_cap;
	struct col_value		 val;
};

/*
 * Build the layouts of this run's mode (template ids BINREC_TID_FIRST + i)
 * and the record buffers.  tmpl and env must outlive b.  -1 with errbuf.
 */
int binrec_init(struct binrec *b, const struct tmpl *tmpl,
    const struct exporter_env *env, const struct binrec_hooks *hooks,
    void *ctx, char *errbuf, size_t errlen);
void binrec_free(struct binrec *b);
bool binrec_any_used(const struct binrec *b);


/*
 * Encode the flow's record (or, with --uniflow, its forward record and the
 * reverse one when that direction saw packets) and append each.  0, -1
 * when an append failed, -2 when the flow's layout has no field.
 */
int binrec_export_flow(struct binrec *b, const struct flow_view *v,
    binrec_append_fn append, void *ctx);

/*
 * What every binary exporter holds, as the first member of its own struct
 * (the hooks' and appends' ctx is this struct).
 */
struct binrec_exporter {
	struct exporter		 base;
	struct transport	*tr;
	struct transport_stats	 final;		/* after transport_finish() */
	struct tmpl		 tmpl;
	struct exporter_env	 env;
	struct binrec		 core;
	binrec_append_fn	 append;	/* a record into the format's
						 * message (ctx: this struct) */
	const char		*unit;		/* "message", "packet" */
	bool			 report_connects;	/* TCP */
	/* The format's own resources, freed on destroy after the transport
	 * closed; NULL: none. */
	void			(*release)(struct binrec_exporter *b);
	uint64_t		 too_big;	/* records no message holds */
	uint64_t		 encode_errors;	/* others the encoder refused */
};

/*
 * A zeroed exporter struct of size bytes (struct binrec_exporter first)
 * with its ops, name, run environment and template file; binrec_init() on
 * its core follows, once the hooks can answer.  NULL with errbuf.
 */
void *binrec_exporter_new(size_t size, const struct exporter_ops *ops,
    const struct exporter_conf *conf, const struct exporter_env *env,
    char *errbuf, size_t errlen);
/* The binary exporters' ops.export_flow: binrec_export_flow() through
 * b->append, the flow counted as exported or failed. */
int binrec_exporter_export_flow(struct exporter *e, const struct flow_view *v);
/* ops.report: the summary line (transport_report()). */
void binrec_exporter_report(struct exporter *e, FILE *fp);
/* ops.records_lost. */
uint64_t binrec_exporter_records_lost(struct exporter *e);
/* ops.backlog: the transport's, for TCP. */
bool binrec_exporter_backlog(struct exporter *e,
    struct transport_backlog *out);
/* ops.destroy: close the transport (if still open), b->release(), free the
 * core's buffers and the struct; also what a failed open calls. */
void binrec_exporter_destroy(struct exporter *e);
/* The ops every binary exporter shares, in its struct exporter_ops. */
#define BINREC_EXPORTER_OPS						\
	.export_flow = binrec_exporter_export_flow,			\
	.report = binrec_exporter_report,				\
	.records_lost = binrec_exporter_records_lost,			\
	.backlog = binrec_exporter_backlog,				\
	.destroy = binrec_exporter_destroy

/* ---- encoding rules (exposed for the unit tests) ---------------------- */

void binrec_put_be(uint8_t *p, unsigned len, uint64_t v);
/* Unsigned, saturating at len bytes. */
void binrec_put_uint(uint8_t *p, unsigned len, uint64_t v);
/* Signed, saturating at len bytes. */
void binrec_put_int(uint8_t *p, unsigned len, int64_t v);
/* float64 (len 8) or float32 (len 4). */
void binrec_put_float(uint8_t *p, unsigned len, double d);
/* Network to host order in place: reversed on a little-endian host. */
void binrec_host_order(uint8_t *p, size_t len);
/* A fixed-length field: the value (see the rules above) at f->len bytes. */
void binrec_put_fixed(const struct binrec_field *f, const struct col_value *v,
    uint64_t time_base, uint8_t *p);

/* ---- template lines -------------------------------------------------- */

/* Is the column produced in this run (statistics, SPLT, DPI, tunnels)? */
bool binrec_column_active(const struct exporter_env *env, int col);
/* Most bytes a list column carries with splt_n packets, capped by max. */
size_t binrec_list_bytes(int col, unsigned splt_n, size_t max);

/* ---- options records: exporter statistics, application table --------- */

/*
 * The exporter statistics record (RFC 7011 section 4.2), counted as the
 * encoder hands messages over: over TCP the sending thread may still hold
 * them; what it finally drops is counted in not_sent of a later record.
 */
struct binrec_stats {
	uint32_t	observation_domain;
	uint64_t	octets;		/* exportedOctetTotalCount (40) */
	uint64_t	messages;	/* exportedMessageTotalCount (41) */
	uint64_t	records;	/* exportedFlowRecordTotalCount (42) */
	uint64_t	packets_ignored;	/* ignoredPacketTotalCount (164) */
	uint64_t	not_sent;	/* notSentFlowTotalCount (166) */
};

/* octets, messages, records: what the encoder handed over; not_encoded:
 * records it could not encode; tr's drops are added. */
void binrec_stats_fill(struct binrec_stats *s, const struct exporter_env *env,
    struct transport *tr, uint64_t octets, uint64_t messages,
    uint64_t records, uint64_t not_encoded);

/* An application table entry (DPI protocol id and its name, RFC 6759):
 * applicationId (engine + id, network order) and the NUL-padded name. */
void binrec_app_entry(unsigned id, const char *s, uint8_t app_id[5],
    char name[BINREC_APP_NAME_LEN]);

#endif
