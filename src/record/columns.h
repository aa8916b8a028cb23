/*
 * columns.h - the column registry: every flow column, in NFStream's order
 * and with its names, for every output.
 *
 * CSV and JSON write these names and values; the template files of the
 * IPFIX/NetFlow exporters map the same names to information elements.
 * column_value() turns a finished flow into typed values; formatting
 * belongs to the exporters.
 *
 * The set of columns is fixed at start-up: columns_init() registers the
 * built-in ones (their ids are enum col_id), later clients (flow
 * extensions, plugins) add blocks with column_register(), and
 * columns_freeze() checks the whole set and closes it.  A column is
 * either numeric, with a slot in the row that its block's fill function
 * writes once per flow (flow_view_prepare()), or has a getter (strings,
 * addresses, lists).  A column with neither, a twin that does not exist or
 * does not name it back, or a name used twice is a start-up error, so no
 * output ever writes one column's value under another's name.
 *
 * The row (flow_view.num) is indexed by column id: a getter column's entry
 * is unused, so that the binary exporters read num[id] with no indirection.
 * After columns_freeze() the registry is read-only and may be read from any
 * thread; registration is for the start-up thread only.
 */
#ifndef STREAMPROBE_COLUMNS_H
#define STREAMPROBE_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpi.h"
#include "flowfeat.h"

struct flow;

enum col_group {
	COLG_CORE,
	COLG_TUNNEL,	/* tunnel_id: only when tunnel decoding is on */
	COLG_STATS,
	COLG_SPLT,
	COLG_L7,
	COLG_EXPORT	/* binary exporters only (IPFIX, NetFlow v9), never in CSV */
};

enum col_type {
	COLT_UINT,
	COLT_BYTES,	/* raw bytes only (application_id) */
	COLT_INT,
	COLT_DOUBLE,
	COLT_STRING,
	COLT_LIST	/* list of integers (SPLT) */
};

/* The direction a column describes: what a uniflow record does with it. */
enum col_dir {
	COLD_NONE,		/* the flow as a whole, or its key */
	COLD_BIDIRECTIONAL,	/* both directions: src2dst/dst2src twins */
	COLD_SRC2DST,
	COLD_DST2SRC
};

/*
 * The built-in columns, registered first by columns_init() in this order:
 * their ids are these values.  Code names a built-in column by id where it
 * must treat it specially (addresses, the application id); everything else
 * goes through the registry.  Columns registered later get ids from
 * COL_BUILTIN_COUNT up; column_count() is the total.
 */
enum col_id {
	COL_ID, COL_EXPIRATION_ID, COL_SRC_IP, COL_SRC_MAC, COL_SRC_OUI,
	COL_SRC_PORT, COL_DST_IP, COL_DST_MAC, COL_DST_OUI, COL_DST_PORT,
	COL_PROTOCOL, COL_IP_VERSION, COL_VLAN_ID, COL_TUNNEL_ID,
	COL_BI_FIRST_SEEN, COL_BI_LAST_SEEN, COL_BI_DURATION, COL_BI_PACKETS,
	COL_BI_BYTES,
	COL_S2D_FIRST_SEEN, COL_S2D_LAST_SEEN, COL_S2D_DURATION,
	COL_S2D_PACKETS, COL_S2D_BYTES,
	COL_D2S_FIRST_SEEN, COL_D2S_LAST_SEEN, COL_D2S_DURATION,
	COL_D2S_PACKETS, COL_D2S_BYTES,
	/* {bidirectional,src2dst,dst2src}_{min,mean,stddev,max}_ps */
	COL_PS_FIRST,
	COL_PS_LAST = COL_PS_FIRST + 11,
	/* {bidirectional,src2dst,dst2src}_{min,mean,stddev,max}_piat_ms */
	COL_PIAT_FIRST,
	COL_PIAT_LAST = COL_PIAT_FIRST + 11,
	/* {bidirectional,src2dst,dst2src}_{syn,cwr,ece,urg,ack,psh,rst,fin}_packets */
	COL_FLAGS_FIRST,
	COL_FLAGS_LAST = COL_FLAGS_FIRST + 23,
	COL_SPLT_DIRECTION, COL_SPLT_PS, COL_SPLT_PIAT_MS,
	COL_APPLICATION_NAME, COL_APPLICATION_CATEGORY_NAME,
	COL_APPLICATION_IS_GUESSED, COL_APPLICATION_CONFIDENCE,
	COL_REQUESTED_SERVER_NAME, COL_CLIENT_FINGERPRINT,
	COL_SERVER_FINGERPRINT, COL_USER_AGENT, COL_CONTENT_TYPE,
	/* export-only */
	COL_FLOW_END_REASON,		/* IPFIX flowEndReason value */
	COL_BIFLOW_DIRECTION,		/* RFC 5103: 1, the source initiated */
	COL_APPLICATION_ID,		/* RFC 6759: engine 22 (nDPI) + id */
	COL_SRC2DST_TCP_FLAGS,		/* OR of the direction's TCP flags */
	COL_DST2SRC_TCP_FLAGS,
	COL_BUILTIN_COUNT
};

/* A numeric column's value; its type is column_type(). */
union col_num {
	uint64_t	u;
	int64_t		i;
	double		d;
};

/* What an output needs to read a finished flow. */
struct flow_view {
	const struct flow		*flow;
	const void			*ext;
	const struct flowfeat_conf	*feat;
	const struct dpi_result		*l7;	/* NULL without DPI */
	uint64_t			 id;	/* export order, from 0 */
	/* Statistics of the three directions, computed once by
	 * flow_view_prepare(); NULL without --statistics. */
	const struct feat_summary	*summary;
	/* Every numeric column, indexed by column id (column_count()
	 * entries), filled once by flow_view_prepare(): readers look values
	 * up, no per-column code. */
	const union col_num		*num;
	bool				 no_text;	/* binary exporters: skip
							 * text of IP/MAC */
};

/* Fill the per-flow caches a view's readers share (summary[3], num[] of
 * column_count() entries); every reader below needs it done. */
void flow_view_prepare(struct flow_view *v, struct feat_summary summary[3],
    union col_num *num);

struct col_value {
	enum col_type	 type;
	uint64_t	 u;
	int64_t		 i;
	double		 d;
	const char	*s;		/* COLT_STRING: s[0..slen) */
	unsigned	 slen;
	const uint8_t	*raw;		/* addresses: network-order bytes */
	unsigned	 rawlen;	/* 4 or 16 (IP), 6 (MAC), 5 (app id) */
	unsigned	 n;		/* COLT_LIST: list[0..n) */
	char		 buf[64];
	int64_t		 list[FLOWFEAT_SPLT_MAX];
};

struct col_def;

/* A getter: the value of a column that has no numeric slot. */
typedef void (*col_get_fn)(const struct flow_view *v, const struct col_def *c,
    struct col_value *out);
/* A block's fill: write row[base + k] for its numeric columns k. */
typedef void (*col_fill_fn)(const struct flow_view *v, union col_num *row,
    unsigned base);

/*
 * One column as its client declares it.  Names (name, twin, fwd) must stay
 * valid for the life of the process (string literals, static buffers).
 */
struct col_def {
	const char	*name;
	enum col_type	 type;
	enum col_group	 group;
	enum col_dir	 dir;
	/* The column with this meaning seen from the other end (src_ip and
	 * dst_ip, src2dst_bytes and dst2src_bytes); NULL when none.  Twins
	 * name each other. */
	const char	*twin;
	/* COLD_BIDIRECTIONAL: its src2dst column (a uniflow forward record
	 * carries that one, the reverse record its twin). */
	const char	*fwd;
	bool		 biflow_only;	/* no meaning in a uniflow record */
	col_get_fn	 get;		/* non-numeric types; NULL for numbers */
	unsigned	 arg;		/* for the getter */
};

/* The columns an output carries, in order. */
struct colset {
	unsigned	 n;
	uint16_t	*ids;		/* column_count() entries at most */
};

/*
 * Start-up: columns_init() registers the built-in columns (once; later
 * calls do nothing), column_register() adds a block of n columns filled by
 * fill (NULL when the block has no numeric column) and returns the id of
 * the first, columns_freeze() checks and closes the set.  Each returns -1
 * with a message in errbuf on error.
 */
int columns_init(char *errbuf, size_t errlen);
int column_register(const struct col_def *defs, unsigned n, col_fill_fn fill,
    char *errbuf, size_t errlen);
int columns_freeze(char *errbuf, size_t errlen);
bool columns_frozen(void);
/* Tests only: forget every column. */
void columns_reset(void);

unsigned column_count(void);
const char *column_name(int id);
/* Column by name, or -1. */
int column_by_name(const char *name);
/*
 * The column that carries col's meaning in a one-direction record: in the
 * forward record bidirectional_* becomes its src2dst twin; in the reverse
 * record each column becomes its twin (src and dst swap, src2dst and
 * bidirectional become dst2src).  -1 when the column has no one-direction
 * meaning (RFC 5103 biflow_direction).
 */
int column_for_direction(int col, int reverse);
enum col_type column_type(int id);
/* UINT, INT or DOUBLE: the column's value is in flow_view.num[id]. */
bool column_is_number(int id);
enum col_group column_group(int id);
enum col_dir column_direction(int id);

int colset_init(struct colset *cs, bool tunnels, bool statistics, bool splt,
    bool l7);
int colset_copy(struct colset *dst, const struct colset *src);
void colset_free(struct colset *cs);
void column_value(const struct flow_view *v, int id, struct col_value *out);


/* A numeric column's value, from the view's row (hot path of the binary
 * exporters: no per-column code). */
static inline void
column_number_value(const struct flow_view *v, int id, struct col_value *out)
{
	out->type = column_type(id);
	out->u = v->num[id].u;
	out->i = v->num[id].i;
	out->d = v->num[id].d;
}

/* NFStream's expiration_id for an end reason (0 idle, 1 active, -1 other). */
int column_expiration_id(int end_reason);

#endif
