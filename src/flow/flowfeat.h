/*
 * flowfeat.h - NFStream's post-mortem statistics and SPLT, per flow.
 *
 * The state lives in the flow's ext area (flow_ext()); flowfeat_ext_size()
 * says how much the flow table must reserve.  Arithmetic is NFStream's:
 * Welford running mean and M2 initialised from the first observation,
 * sample standard deviations (n-1 for sizes, n-2 for inter-arrival times),
 * integer-millisecond inter-arrival times, zeros for an absent direction.
 * flowfeat_update() must run before flow_account() for the same packet
 * (it reads the previous counters and timestamps).  Allocation-free.
 */
#ifndef STREAMPROBE_FLOWFEAT_H
#define STREAMPROBE_FLOWFEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define FLOWFEAT_SPLT_MAX	255

/* Index of the three accumulators: both directions, then each one. */
enum feat_dir {
	FEAT_BIDIRECTIONAL = 0,
	FEAT_SRC2DST = 1,
	FEAT_DST2SRC = 2,
	FEAT_DIRS = 3
};

/* TCP flag counters, in NFStream's column order. */
enum feat_tcp_flag {
	FEAT_SYN, FEAT_CWR, FEAT_ECE, FEAT_URG, FEAT_ACK, FEAT_PSH, FEAT_RST,
	FEAT_FIN, FEAT_TCP_FLAGS
};

struct flowfeat_conf {
	bool		statistics;
	uint16_t	splt;		/* 0..FLOWFEAT_SPLT_MAX */
};

struct feat_ps {
	double		mean;
	double		m2;
	uint16_t	min;
	uint16_t	max;
};

struct feat_piat {
	double		mean;
	double		m2;
	uint64_t	min;
	uint64_t	max;
};

struct feat_stats {
	struct feat_ps		ps[FEAT_DIRS];
	struct feat_piat	piat[FEAT_DIRS];
	uint32_t		tcp_flags[FEAT_DIRS][FEAT_TCP_FLAGS];
};

/* Final values of one direction, as NFStream reports them. */
struct feat_summary {
	uint16_t	min_ps, max_ps;
	double		mean_ps, stddev_ps;
	uint64_t	min_piat_ms, max_piat_ms;
	double		mean_piat_ms, stddev_piat_ms;
};

size_t flowfeat_ext_size(const struct flowfeat_conf *conf);

struct flowext;
/*
 * The features as a flow extension (nothing to register when both are
 * off): a packet hook only, plain data.  Stores the configuration in
 * x->feat, where the export stage's flow view reads it.
 */
int flowfeat_ext_register(struct flowext *x, bool statistics, unsigned splt,
    char *errbuf, size_t errlen);

void flowfeat_update(const struct flowfeat_conf *conf, void *ext,
    const struct flow *f, enum flow_dir dir, uint64_t now_ms, uint16_t size,
    uint8_t tcp_flags, bool is_tcp);

/* Readers for export; ext is the flow's ext area. */
const struct feat_stats *flowfeat_stats(const struct flowfeat_conf *conf,
    const void *ext);
void flowfeat_summary(const struct feat_stats *st, const struct flow *f,
    enum feat_dir d, struct feat_summary *out);
/* SPLT entry i (i < conf->splt); false when the flow has fewer packets. */
bool flowfeat_splt(const struct flowfeat_conf *conf, const void *ext,
    const struct flow *f, unsigned i, int *dir, int *ps, int64_t *piat_ms);

#endif
