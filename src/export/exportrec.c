/*
 * exportrec.c - template field rules shared by IPFIX and NetFlow v9.
 *
 *	exportrec_column_active(), exportrec_column_fits()
 *	exportrec_columns()		biflow / uniflow column mapping
 *	exportrec_list_width(), exportrec_list_bytes()
 *	exportrec_text_cut()
 *	exportrec_layout(), exportrec_has_reverse()
 *	exportrec_close(), exportrec_report()	transport end and summary
 */
#include <string.h>

#include "columns.h"
#include "exporter.h"
#include "flow.h"
#include "exportrec.h"
#include "template.h"
#include "transport.h"

bool
exportrec_column_active(const struct exporter_env *env, int col)
{
	switch (column_group(col)) {
	case COLG_TUNNEL:
		return env->tunnels;
	case COLG_STATS:
		return env->statistics;
	case COLG_SPLT:
		return env->splt;
	case COLG_L7:
		return env->dpi != NULL;
	default:
		return col != COL_APPLICATION_ID || env->dpi != NULL;
	}
}

bool
exportrec_column_fits(int col, int t)
{
	enum col_type ct = column_type(col);
	bool is_ip = col == COL_SRC_IP || col == COL_DST_IP;
	bool is_mac = col == COL_SRC_MAC || col == COL_DST_MAC;

	switch (t) {
	case IE_IPV4_ADDRESS:
	case IE_IPV6_ADDRESS:
		return is_ip;
	case IE_MAC_ADDRESS:
		return is_mac;
	case IE_STRING:
		return ct == COLT_STRING;
	case IE_OCTET_ARRAY:
		return ct == COLT_STRING || ct == COLT_LIST || ct == COLT_BYTES;
	default:
		return ct == COLT_UINT || ct == COLT_INT || ct == COLT_DOUBLE;
	}
}

bool
exportrec_columns(const struct tmpl_field *tf, bool uniflow, int col[2])
{
	if (!uniflow) {
		col[0] = col[1] = tf->column;
		return true;
	}
	if (tf->pen == TMPL_REVERSE_PEN ||
	    strncmp(column_name(tf->column), "dst2src_", 8) == 0)
		return false;	/* the reverse record carries these */
	col[0] = column_for_direction(tf->column, 0);
	col[1] = column_for_direction(tf->column, 1);
	return col[0] >= 0 && col[1] >= 0;
}

size_t
exportrec_list_width(int col)
{
	return col == COL_SPLT_DIRECTION ? 1 : col == COL_SPLT_PS ? 2 : 4;
}

size_t
exportrec_list_bytes(int col, unsigned splt_n, size_t max)
{
	size_t n = exportrec_list_width(col) * splt_n;

	return n < max ? n : max / exportrec_list_width(col) *
	    exportrec_list_width(col);
}

size_t
exportrec_text_cut(const char *s, size_t len, size_t max)
{
	size_t n, i;

	if (len <= max)
		return len;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	for (i = n >= 3 ? n - 3 : 0; i < n; i++)
		if (s[i] == '\\' && i + 1 < len && s[i + 1] == 'x')
			return i;	/* would split a \xHH escape */
	return n;
}

unsigned
exportrec_layout(const struct flow_view *v, bool uniflow)
{
	return (uniflow ? 2u : 0u) + (v->flow->key.ip_version == 6);
}

bool
exportrec_has_reverse(const struct flow_view *v, bool uniflow)
{
	return uniflow && v->flow->packets[FLOW_DIR_DST2SRC] > 0;
}

int
exportrec_close(struct transport **tr, unsigned wait_ms,
    struct transport_stats *final, char *error, size_t errlen)
{
	char err[256] = "";
	int rc = 0;

	if (*tr == NULL)
		return 0;
	if (transport_close(*tr, wait_ms, final, err, sizeof(err)) != 0) {
		snprintf(error, errlen, "%s", err);
		rc = -1;
	}
	*tr = NULL;
	return rc;
}

void
exportrec_report(FILE *fp, const char *name, uint64_t flows,
    struct transport *tr, const struct transport_stats *final,
    uint64_t not_encodable, bool connections)
{
	struct transport_stats live;
	const struct transport_stats *ts = final;

	if (tr != NULL) {
		transport_stats(tr, &live);
		ts = &live;
	}
	fprintf(fp, "streamprobe: %s: %llu flows; %llu records in %llu messages "
	    "(%llu bytes) sent, %llu records dropped, %llu not encodable",
	    name, (unsigned long long)flows, (unsigned long long)ts->records,
	    (unsigned long long)ts->messages, (unsigned long long)ts->octets,
	    (unsigned long long)ts->records_dropped,
	    (unsigned long long)not_encodable);
	if (connections)
		fprintf(fp, ", %llu connections",
		    (unsigned long long)ts->connects);
	fputc('\n', fp);
}

uint64_t
exportrec_packets_ignored(const struct exporter_env *env)
{
	uint64_t n = 0;
	int i;

	if (env->packets_ignored != NULL)
		n += atomic_load(env->packets_ignored);
	for (i = 0; i < 2; i++)
		if (env->capture_dropped[i] != NULL)
			n += atomic_load(env->capture_dropped[i]);
	return n;
}

uint64_t
exportrec_transport_lost(struct transport *tr)
{
	struct transport_stats ts;

	if (tr == NULL)
		return 0;
	transport_stats(tr, &ts);
	return ts.records_dropped;
}
