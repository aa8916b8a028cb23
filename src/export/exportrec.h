/*
 * exportrec.h - rules shared by the binary exporters (IPFIX, NetFlow v9)
 * for turning template lines into record fields.
 */
#ifndef STREAMPROBE_EXPORTREC_H
#define STREAMPROBE_EXPORTREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct exporter_env;
struct flow_view;
struct tmpl_field;
struct transport;
struct transport_stats;

/* Is the column produced in this run (statistics, SPLT, DPI, tunnels)? */
bool exportrec_column_active(const struct exporter_env *env, int col);
/* Can the column be written as this element type (enum ie_type)? */
bool exportrec_column_fits(int col, int ie_type);
/*
 * Columns of the field in a forward and a reverse record: for biflows the
 * column itself; with --uniflow the one-direction columns.  Returns false
 * when the field has no place in this mode (reverse elements, dst2src
 * columns and biflow_direction in uniflow records).
 */
bool exportrec_columns(const struct tmpl_field *tf, bool uniflow,
    int col[2]);
/* Bytes per element of a SPLT list column (1, 2 or 4). */
size_t exportrec_list_width(int col);
/* Most bytes a list column carries with splt_n packets, capped by max. */
size_t exportrec_list_bytes(int col, unsigned splt_n, size_t max);
/* Longest prefix of at most max bytes that splits no UTF-8 character and
 * no \xHH escape. */
size_t exportrec_text_cut(const char *s, size_t len, size_t max);

/*
 * Which of a binary exporter's four layouts a flow uses (0 IPv4, 1 IPv6,
 * +2 with --uniflow), and whether a reverse record follows the forward one
 * (uniflow, and the reverse direction saw packets).
 */
unsigned exportrec_layout(const struct flow_view *v, bool uniflow);
bool exportrec_has_reverse(const struct flow_view *v, bool uniflow);

/*
 * Close a binary exporter's transport, keeping its final counters in
 * *final and a failure text in error; *tr is NULL afterwards.
 */
int exportrec_close(struct transport **tr, unsigned wait_ms,
    struct transport_stats *final, char *error, size_t errlen);
/* The summary line of a binary exporter (stderr at the end of a run):
 * live counters while tr is open, the final ones once it is closed. */
void exportrec_report(FILE *fp, const char *name, uint64_t flows,
    struct transport *tr, const struct transport_stats *final,
    uint64_t not_encodable, bool connections);

/*
 * ignoredPacketTotalCount of the statistics records (RFC 7011 4.2: packets
 * observed but not metered): packets skipped by decode plus those the
 * kernel or the interface dropped before capture.
 */
uint64_t exportrec_packets_ignored(const struct exporter_env *env);
/* Records a transport accepted but could not deliver; any thread. */
uint64_t exportrec_transport_lost(struct transport *tr);

#endif
