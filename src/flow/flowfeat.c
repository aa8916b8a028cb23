/*
 * flowfeat.c - statistics and SPLT accumulators.
 *
 *	flowfeat_ext_size()	bytes of per-flow state for a configuration
 *	flowfeat_update()	one packet, before the core counters move
 *	flowfeat_stats(), flowfeat_summary(), flowfeat_splt()	readers
 *	flowfeat_ext_register()	the features as a flow extension
 *
 * Ext layout: [struct feat_stats if statistics][splt dir u8[N]]
 * [splt piat u32[N]][splt ps u16[N]], each part 8-byte aligned.
 */
#include <math.h>
#include <string.h>

#include "decode.h"
#include "flowext.h"
#include "flowfeat.h"

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t
stats_size(const struct flowfeat_conf *conf)
{
	return conf->statistics ? align8(sizeof(struct feat_stats)) : 0;
}

size_t
flowfeat_ext_size(const struct flowfeat_conf *conf)
{
	size_t n = stats_size(conf);

	if (conf->splt > 0)
		n += align8(conf->splt) + align8(conf->splt * 4u) +
		    align8(conf->splt * 2u);
	return n;
}

static uint8_t *
splt_dir(const struct flowfeat_conf *conf, const void *ext)
{
	return (uint8_t *)ext + stats_size(conf);
}

static uint32_t *
splt_piat(const struct flowfeat_conf *conf, const void *ext)
{
	return (uint32_t *)(void *)(splt_dir(conf, ext) + align8(conf->splt));
}

static uint16_t *
splt_ps(const struct flowfeat_conf *conf, const void *ext)
{
	return (uint16_t *)(void *)((uint8_t *)splt_piat(conf, ext) +
	    align8(conf->splt * 4u));
}

static void
ps_update(struct feat_ps *a, uint64_t n, uint16_t x)
{
	double old;

	if (n == 1) {
		a->min = a->max = x;
		a->mean = x;
		return;
	}
	if (x > a->max)
		a->max = x;
	if (x < a->min)
		a->min = x;
	old = a->mean;
	a->mean += (x - old) / (double)n;
	a->m2 += (x - old) * (x - a->mean);
}

/* n counts packets; the first inter-arrival time exists at packet 2. */
static void
piat_update(struct feat_piat *a, uint64_t n, uint64_t piat)
{
	double old;

	if (n == 2) {
		a->min = a->max = piat;
		a->mean = (double)piat;
		return;
	}
	if (piat > a->max)
		a->max = piat;
	if (piat < a->min)
		a->min = piat;
	old = a->mean;
	a->mean += ((double)piat - old) / (double)(n - 1);
	a->m2 += ((double)piat - old) * ((double)piat - a->mean);
}

static void
flags_update(uint32_t *c, uint8_t fl)
{
	c[FEAT_FIN] += (fl & TCP_FLAG_FIN) != 0;
	c[FEAT_SYN] += (fl & TCP_FLAG_SYN) != 0;
	c[FEAT_RST] += (fl & TCP_FLAG_RST) != 0;
	c[FEAT_PSH] += (fl & TCP_FLAG_PSH) != 0;
	c[FEAT_ACK] += (fl & TCP_FLAG_ACK) != 0;
	c[FEAT_URG] += (fl & TCP_FLAG_URG) != 0;
	c[FEAT_ECE] += (fl & TCP_FLAG_ECE) != 0;
	c[FEAT_CWR] += (fl & TCP_FLAG_CWR) != 0;
}

void
flowfeat_update(const struct flowfeat_conf *conf, void *ext,
    const struct flow *f, enum flow_dir dir, uint64_t now_ms, uint16_t size,
    uint8_t tcp_flags, bool is_tcp)
{
	uint64_t nbi = flow_packets(f);	/* before this packet */
	uint64_t ndir = f->packets[dir];

	if (conf->statistics) {
		struct feat_stats *st = ext;
		enum feat_dir fd = dir == FLOW_DIR_SRC2DST ? FEAT_SRC2DST :
		    FEAT_DST2SRC;

		ps_update(&st->ps[FEAT_BIDIRECTIONAL], nbi + 1, size);
		ps_update(&st->ps[fd], ndir + 1, size);
		if (nbi >= 1)
			piat_update(&st->piat[FEAT_BIDIRECTIONAL], nbi + 1,
			    now_ms - flow_last_ms(f));
		if (ndir >= 1)
			piat_update(&st->piat[fd], ndir + 1,
			    now_ms - f->last_ms[dir]);
		if (is_tcp) {
			flags_update(st->tcp_flags[FEAT_BIDIRECTIONAL], tcp_flags);
			flags_update(st->tcp_flags[fd], tcp_flags);
		}
	}
	if (nbi < conf->splt) {
		uint64_t piat = nbi == 0 ? 0 : now_ms - flow_last_ms(f);

		splt_dir(conf, ext)[nbi] = (uint8_t)dir;
		splt_ps(conf, ext)[nbi] = size;
		splt_piat(conf, ext)[nbi] = piat > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)piat;
	}
}

const struct feat_stats *
flowfeat_stats(const struct flowfeat_conf *conf, const void *ext)
{
	return conf->statistics ? ext : NULL;
}

void
flowfeat_summary(const struct feat_stats *st, const struct flow *f,
    enum feat_dir d, struct feat_summary *out)
{
	uint64_t n;

	switch (d) {
	case FEAT_SRC2DST:
		n = f->packets[FLOW_DIR_SRC2DST];
		break;
	case FEAT_DST2SRC:
		n = f->packets[FLOW_DIR_DST2SRC];
		break;
	default:
		n = flow_packets(f);
		break;
	}
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	out->min_ps = st->ps[d].min;
	out->max_ps = st->ps[d].max;
	out->mean_ps = st->ps[d].mean;
	out->stddev_ps = n > 1 ? sqrt(st->ps[d].m2 / (double)(n - 1)) : 0.0;
	if (n < 2)
		return;
	out->min_piat_ms = st->piat[d].min;
	out->max_piat_ms = st->piat[d].max;
	out->mean_piat_ms = st->piat[d].mean;
	out->stddev_piat_ms = n > 2 ?
	    sqrt(st->piat[d].m2 / (double)(n - 2)) : 0.0;
}

bool
flowfeat_splt(const struct flowfeat_conf *conf, const void *ext,
    const struct flow *f, unsigned i, int *dir, int *ps, int64_t *piat_ms)
{
	if (i >= conf->splt || i >= flow_packets(f))
		return false;
	*dir = splt_dir(conf, ext)[i];
	*ps = splt_ps(conf, ext)[i];
	*piat_ms = splt_piat(conf, ext)[i];
	return true;
}

static void
feat_packet(void *arg, void *state, const struct flowext_pkt *pk)
{
	flowfeat_update(arg, state, pk->f, pk->dir, pk->now_ms, pk->size,
	    pk->pv->tcp_flags, pk->pv->protocol == 6);
}

int
flowfeat_ext_register(struct flowext *x, bool statistics, unsigned splt,
    char *errbuf, size_t errlen)
{
	struct flowext_client c;

	x->feat.statistics = statistics;
	x->feat.splt = (uint16_t)splt;
	if (flowfeat_ext_size(&x->feat) == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.name = "features";
	c.size = flowfeat_ext_size(&x->feat);
	c.align = 8;
	c.hooks.packet = feat_packet;
	c.arg = &x->feat;
	return flowext_register(x, &c, errbuf, errlen) < 0 ? -1 : 0;
}
