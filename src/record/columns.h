/*
 * columns.h - the flow columns, in NFStream's order and with its names.
 *
 * One table serves every output: CSV and JSON write these names and
 * values, and the template files of the IPFIX/NetFlow exporters will map
 * the same names to information elements.  column_value() turns a finished
 * flow into typed values; formatting belongs to the exporters.
 */
#ifndef STREAMPROBE_COLUMNS_H
#define STREAMPROBE_COLUMNS_H

#include <stdbool.h>
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
	COL_COUNT
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
	/* Every numeric column, indexed by col_id, filled once by
	 * flow_view_prepare(): readers look values up, no per-column code. */
	const union col_num		*num;
	bool				 no_text;	/* binary exporters: skip
							 * text of IP/MAC */
};

/* Fill the per-flow caches a view's readers share (summary[3], num[]);
 * every reader below needs it done. */
void flow_view_prepare(struct flow_view *v, struct feat_summary summary[3],
    union col_num num[COL_COUNT]);

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

/* The columns an output carries, in order. */
struct colset {
	unsigned	n;
	uint8_t		ids[COL_COUNT];
};

const char *column_name(enum col_id id);
/* Column by name, or -1. */
int column_by_name(const char *name);
/*
 * The column that carries col's meaning in a one-direction record: in the
 * forward record bidirectional_* becomes src2dst_*; in the reverse record
 * src and dst swap and src2dst/bidirectional become dst2src.  -1 when the
 * column has no one-direction meaning (RFC 5103 biflow_direction).
 */
int column_for_direction(enum col_id col, int reverse);
enum col_type column_type(enum col_id id);
/* UINT, INT or DOUBLE: the column's value is in flow_view.num[id]. */
bool column_is_number(enum col_id id);
enum col_group column_group(enum col_id id);
void colset_init(struct colset *cs, bool tunnels, bool statistics, bool splt,
    bool l7);
void column_value(const struct flow_view *v, enum col_id id,
    struct col_value *out);


/* A numeric column's value, from the view's row (hot path of the binary
 * exporters: no per-column code). */
static inline void
column_number_value(const struct flow_view *v, enum col_id id,
    struct col_value *out)
{
	out->type = column_type(id);
	out->u = v->num[id].u;
	out->i = v->num[id].i;
	out->d = v->num[id].d;
}

/* NFStream's expiration_id for an end reason (0 idle, 1 active, -1 other). */
int column_expiration_id(int end_reason);

#endif
