/*
 * test_flowtab.c - the flow cache: canonical keys, direction, expiry.
 *
 * Covers flow_key_from_pkt() through flowtab_lookup() (both directions of
 * a conversation share one flow, src = first packet's source, replies are
 * direction 1, same-address ordering by port, same endpoint both ends),
 * what separates flows (vlan_id, tunnel_id, protocol) and what does not
 * (ICMP ids), expiry on packet arrival (idle before active, idle_timeout 0),
 * flowtab_expire_idle() LRU order and budget, flowtab_flush() creation
 * order, LRU eviction of a full table and the stats counters; the live
 * active-timeout scan flowtab_expire_active(); TCP end detection (tcp_end:
 * FIN both ways or RST, packets of a closing flow, linger, SYN reusing the
 * ports, flush and eviction of closing flows).  Packets are accounted with
 * flow_account() after the lookup, as probe_on_packet() does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "flow.h"
#include "flowtab.h"
#include "pktwriter.h"

#define MAX_RECS	64
#define PKT_BYTES	100

#define FIN	0x01
#define SYN	0x02
#define RST	0x04
#define ACK	0x10

static const uint8_t HOST_LO[4] = { 10, 0, 0, 1 };
static const uint8_t HOST_HI[4] = { 10, 0, 0, 2 };
static const uint8_t MAC_1[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_2[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* What the sink saw: copies of each expired flow record, in order. */
struct sink_log {
	unsigned	n;
	struct flow	recs[MAX_RECS];
};

/* The table under test; teardown destroys it even if an assert failed. */
static struct flowtab *cur_ft;

static int
ft_teardown(void **state)
{
	(void)state;
	flowtab_destroy(cur_ft);
	cur_ft = NULL;
	return 0;
}

static void
log_sink(struct flow *f, void *arg)
{
	struct sink_log *log = arg;

	assert_true(log->n < MAX_RECS);
	log->recs[log->n++] = *f;
}

static struct flowtab *
ft_new_conf(uint32_t max_flows, uint32_t ext_size, uint64_t idle_ms,
    uint64_t active_ms, bool tcp_end, uint64_t linger_ms,
    struct sink_log *log)
{
	struct flowtab_conf conf;
	struct flowtab *ft;
	char err[128] = "";

	memset(log, 0, sizeof(*log));
	memset(&conf, 0, sizeof(conf));
	conf.max_flows = max_flows;
	conf.ext_size = ext_size;
	conf.idle_timeout_ms = idle_ms;
	conf.active_timeout_ms = active_ms;
	conf.tcp_end = tcp_end;
	conf.tcp_linger_ms = linger_ms;
	conf.sink = log_sink;
	conf.sink_arg = log;
	ft = flowtab_create(&conf, err, sizeof(err));
	assert_non_null(ft);
	assert_null(cur_ft);
	cur_ft = ft;
	return ft;
}

static struct flowtab *
ft_new(uint32_t max_flows, uint32_t ext_size, uint64_t idle_ms,
    uint64_t active_ms, struct sink_log *log)
{
	return ft_new_conf(max_flows, ext_size, idle_ms, active_ms, false, 0,
	    log);
}

/* A table with tcp_end on; linger_ms 0 is the default linger. */
static struct flowtab *
ft_new_tcp(uint32_t max_flows, uint64_t idle_ms, uint64_t active_ms,
    uint64_t linger_ms, struct sink_log *log)
{
	return ft_new_conf(max_flows, 0, idle_ms, active_ms, true, linger_ms,
	    log);
}

static struct pkt_view
pv_v4(const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
    uint16_t dport, uint8_t proto)
{
	struct pkt_view pv;
	int i;

	memset(&pv, 0, sizeof(pv));
	memcpy(pv.src_addr, src, 4);
	memcpy(pv.dst_addr, dst, 4);
	pv.src_port = sport;
	pv.dst_port = dport;
	pv.protocol = proto;
	pv.ip_version = 4;
	for (i = 0; i < PKT_SIZE_KINDS; i++)
		pv.size[i] = PKT_BYTES;
	return pv;
}

/* The reply of a packet: endpoints swapped. */
static struct pkt_view
pv_reply(const struct pkt_view *pv)
{
	struct pkt_view r = *pv;

	memcpy(r.src_addr, pv->dst_addr, 16);
	memcpy(r.dst_addr, pv->src_addr, 16);
	r.src_port = pv->dst_port;
	r.dst_port = pv->src_port;
	memcpy(r.src_mac, pv->dst_mac, 6);
	memcpy(r.dst_mac, pv->src_mac, 6);
	return r;
}

/* Lookup + account, as the probe does; returns the flow and direction. */
static struct flow *
feed(struct flowtab *ft, const struct pkt_view *pv, uint64_t t,
    enum flow_dir *dir_out)
{
	enum flow_dir dir;
	struct flow *f;

	f = flowtab_lookup(ft, pv, t, &dir);
	assert_non_null(f);
	flow_account(f, dir, t, pv->size[PKT_SIZE_RAW], pv->tcp_flags);
	if (dir_out != NULL)
		*dir_out = dir;
	return f;
}

/*
 * Feed a TCP packet as the probe does with tcp_end: lookup, account, then
 * the end check when it carried FIN or RST.
 */
static struct flow *
feed_tcp(struct flowtab *ft, const struct pkt_view *pv, uint64_t t,
    enum flow_dir *dir_out)
{
	struct flow *f = feed(ft, pv, t, dir_out);

	if (pv->tcp_flags & (FIN | RST))
		flowtab_tcp_check_end(ft, f);
	return f;
}

/* Source port of a flow record (the sender of its first packet). */
static uint16_t
flow_src_port(const struct flow *f)
{
	return f->key.port[f->src_end];
}

static const uint8_t *
flow_src_addr(const struct flow *f)
{
	return f->key.addr[f->src_end];
}

static void
expect_stats_tcp(const struct flowtab *ft, uint64_t created, uint64_t idle,
    uint64_t active, uint64_t evicted, uint64_t flushed, uint64_t ended_tcp,
    uint32_t n_active)
{
	const struct flowtab_stats *st = flowtab_stats(ft);

	assert_int_equal(st->created, created);
	assert_int_equal(st->expired_idle, idle);
	assert_int_equal(st->expired_active, active);
	assert_int_equal(st->evicted, evicted);
	assert_int_equal(st->flushed, flushed);
	assert_int_equal(st->ended_tcp, ended_tcp);
	assert_int_equal(st->active, n_active);
}

static void
expect_stats(const struct flowtab *ft, uint64_t created, uint64_t idle,
    uint64_t active, uint64_t evicted, uint64_t flushed, uint32_t n_active)
{
	expect_stats_tcp(ft, created, idle, active, evicted, flushed, 0,
	    n_active);
}

/* ---- keys and direction ------------------------------------------------ */

static void
test_both_directions_one_flow(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view a2b, b2a;
	struct flow *f, *g;
	enum flow_dir dir;

	(void)state;
	/* First packet from the higher address: it is still the source. */
	a2b = pv_v4(HOST_HI, 40000, HOST_LO, 80, 6);
	b2a = pv_reply(&a2b);
	f = feed(ft, &a2b, 1, &dir);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(f->src_end, 1);	/* canonical: 10.0.0.1 first */
	assert_memory_equal(flow_src_addr(f), HOST_HI, 4);
	assert_int_equal(flow_src_port(f), 40000);
	g = feed(ft, &b2a, 2, &dir);
	assert_ptr_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_DST2SRC);
	g = feed(ft, &a2b, 3, &dir);
	assert_ptr_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(f->packets[0], 2);
	assert_int_equal(f->packets[1], 1);
	assert_int_equal(f->bytes[0], 2 * PKT_BYTES);
	assert_int_equal(f->first_ms[0], 1);
	assert_int_equal(f->first_ms[1], 2);
	assert_int_equal(flow_last_ms(f), 3);

	/* First packet from the lower address: src_end 0, same rules. */
	a2b = pv_v4(HOST_LO, 5000, HOST_HI, 53, 17);
	b2a = pv_reply(&a2b);
	f = feed(ft, &a2b, 4, &dir);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(f->src_end, 0);
	assert_memory_equal(flow_src_addr(f), HOST_LO, 4);
	g = feed(ft, &b2a, 5, &dir);
	assert_ptr_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_DST2SRC);
	expect_stats(ft, 2, 0, 0, 0, 0, 2);
}

static void
test_src_is_first_packet_source(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view syn_ack;
	struct flow *f;

	(void)state;
	/* A capture starting with the server's SYN-ACK: the server is src. */
	syn_ack = pv_v4(HOST_LO, 443, HOST_HI, 51000, 6);
	syn_ack.tcp_flags = 0x12;
	f = feed(ft, &syn_ack, 0, NULL);
	assert_memory_equal(flow_src_addr(f), HOST_LO, 4);
	assert_int_equal(flow_src_port(f), 443);
	assert_int_equal(f->key.port[1 - f->src_end], 51000);
}

static void
test_same_ip_ordered_by_port(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view p, r;
	struct flow *f, *g;
	enum flow_dir dir;

	(void)state;
	p = pv_v4(HOST_LO, 5000, HOST_LO, 80, 6);
	r = pv_reply(&p);
	f = feed(ft, &p, 0, &dir);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(f->key.port[0], 80);	/* lower port first */
	assert_int_equal(f->key.port[1], 5000);
	assert_int_equal(f->src_end, 1);
	g = feed(ft, &r, 1, &dir);
	assert_ptr_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_DST2SRC);
	g = feed(ft, &p, 2, &dir);
	assert_ptr_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	expect_stats(ft, 1, 0, 0, 0, 0, 1);
}

static void
test_same_endpoint_both_ends(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view p;
	struct flow *f, *g;
	enum flow_dir dir;
	int i;

	(void)state;
	p = pv_v4(HOST_LO, 53, HOST_LO, 53, 17);
	f = feed(ft, &p, 0, &dir);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	for (i = 1; i < 4; i++) {
		g = feed(ft, &p, (uint64_t)i, &dir);
		assert_ptr_equal(g, f);
		assert_int_equal(dir, FLOW_DIR_SRC2DST);
	}
	assert_int_equal(f->packets[0], 4);
	assert_int_equal(f->packets[1], 0);
	assert_int_equal(f->first_ms[1], 0);	/* absent direction */
	expect_stats(ft, 1, 0, 0, 0, 0, 1);
}

static void
test_vlan_and_protocol_separate_flows(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view base, vlan, tcp, vlan_reply;
	struct flow *fb, *fv, *ft_tcp;
	enum flow_dir dir;

	(void)state;
	base = pv_v4(HOST_LO, 1234, HOST_HI, 80, 17);
	vlan = base;
	vlan.vlan_id = 10;
	tcp = base;
	tcp.protocol = 6;
	fb = feed(ft, &base, 0, NULL);
	fv = feed(ft, &vlan, 1, NULL);
	ft_tcp = feed(ft, &tcp, 2, NULL);
	assert_ptr_not_equal(fb, fv);
	assert_ptr_not_equal(fb, ft_tcp);
	assert_ptr_not_equal(fv, ft_tcp);
	/* each key still finds its own flow, replies included */
	vlan_reply = pv_reply(&vlan);
	assert_ptr_equal(feed(ft, &vlan_reply, 3, &dir), fv);
	assert_int_equal(dir, FLOW_DIR_DST2SRC);
	assert_ptr_equal(feed(ft, &base, 4, NULL), fb);
	assert_ptr_equal(feed(ft, &tcp, 5, NULL), ft_tcp);
	assert_int_equal(fb->packets[0], 2);
	assert_int_equal(fv->packets[0] + fv->packets[1], 2);
	expect_stats(ft, 3, 0, 0, 0, 0, 3);
}

/*
 * Regression: key_equal()/key_hash() work on 64-bit words; when the key was
 * 44 bytes they ignored tunnel_id (offset 40) and a tunnelled flow merged
 * with the plain flow of the same 5-tuple.
 */
static void
test_tunnel_id_separates_flows(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view plain, gtp, tzsp;
	struct flow *fp, *fg, *fz;

	(void)state;
	plain = pv_v4(HOST_LO, 1234, HOST_HI, 80, 17);
	gtp = plain;
	gtp.tunnel_id = TUNNEL_GTP;
	tzsp = plain;
	tzsp.tunnel_id = TUNNEL_TZSP;
	fp = feed(ft, &plain, 0, NULL);
	fg = feed(ft, &gtp, 1, NULL);
	fz = feed(ft, &tzsp, 2, NULL);
	assert_ptr_not_equal(fp, fg);
	assert_ptr_not_equal(fp, fz);
	assert_ptr_not_equal(fg, fz);
	assert_int_equal(fg->key.tunnel_id, TUNNEL_GTP);
	expect_stats(ft, 3, 0, 0, 0, 0, 3);
}

/* Decode an Ethernet/IPv4 ICMP echo frame into pv. */
static void
decode_icmp_echo(const uint8_t src[4], const uint8_t dst[4], uint8_t type,
    uint16_t id, struct pkt_view *pv)
{
	struct decode_conf conf = { DECODE_DLT_EN10MB, true };
	struct pw w;

	pw_init(&w);
	pw_eth(&w, MAC_2, MAC_1, 0x0800);
	pw_ipv4(&w, 36, 0, 1, src, dst);	/* 20 IP + 8 ICMP + 8 data */
	pw_icmp_echo(&w, type, id, 1);
	pw_fill(&w, 0x61, 8);
	assert_int_equal(decode_packet(&conf, w.b, w.len, w.len, pv),
	    DECODE_OK);
}

/* Decode an Ethernet/IPv4 TCP segment (no payload) with the given flags. */
static void
decode_tcp(const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
    uint16_t dport, uint8_t flags, struct pkt_view *pv)
{
	struct decode_conf conf = { DECODE_DLT_EN10MB, true };
	struct pw w;

	pw_init(&w);
	pw_eth(&w, MAC_2, MAC_1, 0x0800);
	pw_ipv4(&w, 40, 0, 6, src, dst);	/* 20 IP + 20 TCP */
	pw_tcp(&w, sport, dport, flags, 5);
	assert_int_equal(decode_packet(&conf, w.b, w.len, w.len, pv),
	    DECODE_OK);
	assert_int_equal(pv->tcp_flags, flags);
	pv->l3 = NULL;				/* w.b is gone on return */
}

static void
test_icmp_echo_ids_one_flow(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view req, rep, req2;
	struct flow *f;
	enum flow_dir dir;

	(void)state;
	decode_icmp_echo(HOST_LO, HOST_HI, 8, 0x1111, &req);	/* request */
	decode_icmp_echo(HOST_HI, HOST_LO, 0, 0x1111, &rep);	/* reply */
	decode_icmp_echo(HOST_LO, HOST_HI, 8, 0x2222, &req2);	/* new id */
	f = feed(ft, &req, 0, &dir);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_ptr_equal(feed(ft, &rep, 1, &dir), f);
	assert_int_equal(dir, FLOW_DIR_DST2SRC);
	assert_ptr_equal(feed(ft, &req2, 2, &dir), f);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(f->key.port[0], 0);
	assert_int_equal(f->key.port[1], 0);
	assert_int_equal(f->packets[0], 2);
	assert_int_equal(f->packets[1], 1);
	expect_stats(ft, 1, 0, 0, 0, 0, 1);
}

static void
test_macs_from_first_packet(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view p, r;
	struct flow *f;

	(void)state;
	p = pv_v4(HOST_HI, 1000, HOST_LO, 2000, 17);
	memcpy(p.src_mac, MAC_1, 6);
	memcpy(p.dst_mac, MAC_2, 6);
	r = pv_reply(&p);
	memset(r.src_mac, 0xee, 6);		/* later packets do not matter */
	f = feed(ft, &p, 0, NULL);
	assert_ptr_equal(feed(ft, &r, 1, NULL), f);
	assert_memory_equal(f->src_mac, MAC_1, 6);
	assert_memory_equal(f->dst_mac, MAC_2, 6);
}

/* ---- expiry on arrival ------------------------------------------------- */

static void
test_idle_expiry_on_arrival(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 100, 10000, &log);
	struct pkt_view a2b, b2a;
	struct flow *f;
	enum flow_dir dir;

	(void)state;
	a2b = pv_v4(HOST_LO, 1000, HOST_HI, 2000, 17);
	b2a = pv_reply(&a2b);
	f = feed(ft, &a2b, 0, NULL);
	assert_ptr_equal(feed(ft, &b2a, 50, NULL), f);
	assert_ptr_equal(feed(ft, &a2b, 149, NULL), f);	/* 149 - 50 = 99 */
	assert_int_equal(log.n, 0);
	/* 249 - 149 = 100 >= idle: the old flow ends without this packet */
	f = feed(ft, &b2a, 249, &dir);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_IDLE);
	assert_int_equal(log.recs[0].packets[0], 2);
	assert_int_equal(log.recs[0].packets[1], 1);
	assert_int_equal(log.recs[0].first_ms[0], 0);
	assert_int_equal(flow_last_ms(&log.recs[0]), 149);
	assert_int_equal(flow_src_port(&log.recs[0]), 1000);
	/* the new flow's source is this packet's source */
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(flow_src_port(f), 2000);
	assert_memory_equal(flow_src_addr(f), HOST_HI, 4);
	assert_int_equal(f->packets[0], 1);
	assert_int_equal(f->packets[1], 0);
	assert_int_equal(flow_first_ms(f), 249);
	expect_stats(ft, 2, 1, 0, 0, 0, 1);
}

static void
test_active_expiry_on_arrival(void **state)
{
	static const uint64_t times[] = { 0, 90, 180, 270, 299 };
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 100, 300, &log);
	struct pkt_view p;
	struct flow *f, *first;
	size_t i;

	(void)state;
	p = pv_v4(HOST_LO, 1000, HOST_HI, 2000, 6);
	first = feed(ft, &p, times[0], NULL);
	for (i = 1; i < sizeof(times) / sizeof(times[0]); i++)
		assert_ptr_equal(feed(ft, &p, times[i], NULL), first);
	assert_int_equal(log.n, 0);
	/* 300 - 299 < idle, 300 - 0 >= active */
	f = feed(ft, &p, 300, NULL);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_ACTIVE);
	assert_int_equal(log.recs[0].packets[0], 5);
	assert_int_equal(flow_first_ms(&log.recs[0]), 0);
	assert_int_equal(flow_last_ms(&log.recs[0]), 299);
	assert_int_equal(f->packets[0], 1);
	assert_int_equal(flow_first_ms(f), 300);
	expect_stats(ft, 2, 0, 1, 0, 0, 1);
}

static void
test_idle_checked_before_active(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 100, 100, &log);
	struct pkt_view p;

	(void)state;
	p = pv_v4(HOST_LO, 1000, HOST_HI, 2000, 6);
	feed(ft, &p, 0, NULL);
	feed(ft, &p, 100, NULL);		/* both timeouts reached */
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_IDLE);
	expect_stats(ft, 2, 1, 0, 0, 0, 1);
}

static void
test_idle_timeout_zero_every_packet_a_flow(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 0, 1000, &log);
	struct pkt_view p, r;
	unsigned i;

	(void)state;
	p = pv_v4(HOST_LO, 1000, HOST_HI, 2000, 17);
	r = pv_reply(&p);
	feed(ft, &p, 5, NULL);
	feed(ft, &r, 5, NULL);			/* same ms: 0 >= 0 */
	feed(ft, &p, 6, NULL);
	expect_stats(ft, 3, 2, 0, 0, 0, 1);
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(log.n, 3);
	for (i = 0; i < log.n; i++) {
		assert_int_equal(flow_packets(&log.recs[i]), 1);
		assert_int_equal(log.recs[i].packets[0], 1);
	}
	assert_int_equal(flow_src_port(&log.recs[1]), 2000);	/* the reply */
	expect_stats(ft, 3, 2, 0, 0, 1, 0);
}

static void
test_new_flow_zeroed_including_ext(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(1, 24, 10, 1000, &log);
	static const uint8_t zero[24];
	struct pkt_view p;
	struct flow *f;

	(void)state;
	p = pv_v4(HOST_LO, 1000, HOST_HI, 2000, 17);
	f = feed(ft, &p, 0, NULL);
	assert_memory_equal(flow_ext(f), zero, sizeof(zero));
	memset(flow_ext(f), 0xff, sizeof(zero));
	f = feed(ft, &p, 10, NULL);		/* idle: same entry reused */
	assert_int_equal(log.n, 1);
	assert_memory_equal(flow_ext(f), zero, sizeof(zero));
	assert_int_equal(f->packets[0], 1);
	assert_int_equal(f->end_reason, 0);
	assert_true(flowtab_bytes_per_flow(ft) >= sizeof(struct flow) + 24);
}

/* ---- periodic idle expiry, flush, eviction ----------------------------- */

static void
test_expire_idle_lru_order_and_budget(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 100, 1000000, &log);
	struct pkt_view p[4];
	uint16_t i;

	(void)state;
	/* flows A..D (src ports 1..4) created at 0, 10, 20, 30 */
	for (i = 0; i < 4; i++) {
		p[i] = pv_v4(HOST_LO, (uint16_t)(i + 1), HOST_HI, 9, 17);
		feed(ft, &p[i], 10u * i, NULL);
	}
	feed(ft, &p[0], 40, NULL);		/* A is now most recent */
	/* LRU tail first: B (10), C (20) idle at 125; D (30) is not */
	assert_int_equal(flowtab_expire_idle(ft, 125, 10), 2);
	assert_int_equal(log.n, 2);
	assert_int_equal(flow_src_port(&log.recs[0]), 2);
	assert_int_equal(flow_src_port(&log.recs[1]), 3);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_IDLE);
	assert_int_equal(log.recs[1].end_reason, FLOW_END_IDLE);
	assert_int_equal(flowtab_expire_idle(ft, 125, 10), 0);
	/* budget: one at a time, then none, then the rest */
	assert_int_equal(flowtab_expire_idle(ft, 1000, 1), 1);
	assert_int_equal(flow_src_port(&log.recs[2]), 4);
	assert_int_equal(flowtab_expire_idle(ft, 1000, 0), 0);
	assert_int_equal(log.n, 3);
	assert_int_equal(flowtab_expire_idle(ft, 1000, 5), 1);
	assert_int_equal(flow_src_port(&log.recs[3]), 1);
	assert_int_equal(log.recs[3].packets[0], 2);
	assert_int_equal(flowtab_expire_idle(ft, 5000, 5), 0);	/* empty */
	expect_stats(ft, 4, 4, 0, 0, 0, 0);
}

static void
test_flush_creation_order(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 1000000, &log);
	struct pkt_view p[3];
	uint16_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		p[i] = pv_v4(HOST_LO, (uint16_t)(i + 1), HOST_HI, 9, 17);
		feed(ft, &p[i], 10u * i, NULL);
	}
	feed(ft, &p[2], 30, NULL);		/* LRU is now A, C... */
	feed(ft, &p[0], 40, NULL);		/* ...and then C, A */
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(log.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(flow_src_port(&log.recs[i]), i + 1);
		assert_int_equal(log.recs[i].end_reason, FLOW_END_FORCED);
	}
	expect_stats(ft, 3, 0, 0, 0, 3, 0);
	/* the table is usable again */
	feed(ft, &p[1], 50, NULL);
	expect_stats(ft, 4, 0, 0, 0, 3, 1);
	flowtab_flush(ft, FLOW_END_IDLE);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.recs[3].end_reason, FLOW_END_IDLE);
	expect_stats(ft, 4, 1, 0, 0, 3, 0);
}

static void
test_full_table_evicts_lru(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(2, 0, 1000, 1000000, &log);
	struct pkt_view a, b, c;
	struct flow *fa;

	(void)state;
	a = pv_v4(HOST_LO, 1, HOST_HI, 9, 17);
	b = pv_v4(HOST_LO, 2, HOST_HI, 9, 17);
	c = pv_v4(HOST_LO, 3, HOST_HI, 9, 17);
	fa = feed(ft, &a, 0, NULL);
	feed(ft, &b, 1, NULL);
	assert_ptr_equal(feed(ft, &a, 2, NULL), fa);	/* B is now LRU */
	feed(ft, &c, 3, NULL);
	assert_int_equal(log.n, 1);
	assert_int_equal(flow_src_port(&log.recs[0]), 2);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_LACK_OF_RESOURCES);
	expect_stats(ft, 3, 0, 0, 1, 0, 2);
	/* A survived with its counters */
	fa = feed(ft, &a, 4, NULL);
	assert_int_equal(fa->packets[0], 3);
	/* B again: C is LRU now */
	feed(ft, &b, 5, NULL);
	assert_int_equal(log.n, 2);
	assert_int_equal(flow_src_port(&log.recs[1]), 3);
	assert_int_equal(log.recs[1].end_reason, FLOW_END_LACK_OF_RESOURCES);
	expect_stats(ft, 4, 0, 0, 2, 0, 2);
	assert_int_equal(flowtab_stats(ft)->peak_active, 2);
}

static void
test_peak_active(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 100, 1000000, &log);
	struct pkt_view p;
	uint16_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		p = pv_v4(HOST_LO, (uint16_t)(i + 1), HOST_HI, 9, 17);
		feed(ft, &p, i, NULL);
	}
	assert_int_equal(flowtab_expire_idle(ft, 1000, 100), 5);
	p = pv_v4(HOST_LO, 77, HOST_HI, 9, 17);
	feed(ft, &p, 1000, NULL);
	expect_stats(ft, 6, 5, 0, 0, 0, 1);
	assert_int_equal(flowtab_stats(ft)->peak_active, 5);
}

/* ---- live active-timeout scan ------------------------------------------ */

static void
test_expire_active_order_budget_stop(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 500, 1000, &log);
	struct pkt_view p[5];
	uint16_t i;

	(void)state;
	for (i = 0; i < 5; i++)
		p[i] = pv_v4(HOST_LO, (uint16_t)(i + 1), HOST_HI, 9, 17);
	/* A (port 1) at 0, B at 100, C at 200 */
	feed(ft, &p[0], 0, NULL);
	feed(ft, &p[1], 100, NULL);
	feed(ft, &p[2], 200, NULL);
	feed(ft, &p[0], 300, NULL);		/* A: 2 packets, first 0 */
	feed(ft, &p[3], 850, NULL);		/* D */
	/* C: 900 - 200 >= idle, ends on arrival; C' joins the FIFO last */
	feed(ft, &p[2], 900, NULL);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_IDLE);
	/* FIFO: A (first 0), B (100), D (850), C' (900) */
	assert_int_equal(flowtab_expire_active(ft, 999, 10), 0);
	assert_int_equal(log.n, 1);
	/* A and B are due at 1100 (1100, 1000); D (250) is not: stop there */
	assert_int_equal(flowtab_expire_active(ft, 1100, 10), 2);
	assert_int_equal(log.n, 3);
	assert_int_equal(flow_src_port(&log.recs[1]), 1);
	assert_int_equal(log.recs[1].end_reason, FLOW_END_ACTIVE);
	assert_int_equal(log.recs[1].packets[0], 2);
	assert_int_equal(flow_last_ms(&log.recs[1]), 300);
	assert_int_equal(flow_src_port(&log.recs[2]), 2);
	assert_int_equal(log.recs[2].end_reason, FLOW_END_ACTIVE);
	/* at 1900 D (1050) and C' (1000) are both due: the budget counts */
	assert_int_equal(flowtab_expire_active(ft, 1900, 0), 0);
	assert_int_equal(flowtab_expire_active(ft, 1900, 1), 1);
	assert_int_equal(log.n, 4);
	assert_int_equal(flow_src_port(&log.recs[3]), 4);
	assert_int_equal(flowtab_expire_active(ft, 1900, 5), 1);
	assert_int_equal(log.n, 5);
	assert_int_equal(flow_src_port(&log.recs[4]), 3);
	assert_int_equal(flow_first_ms(&log.recs[4]), 900);
	assert_int_equal(log.recs[4].packets[0], 1);
	assert_int_equal(log.recs[4].end_reason, FLOW_END_ACTIVE);
	assert_int_equal(flowtab_expire_active(ft, 10000, 5), 0); /* empty */
	expect_stats(ft, 5, 1, 4, 0, 0, 0);
	/* a clock behind the packet stamps never makes a flow due */
	feed(ft, &p[4], 20000, NULL);
	assert_int_equal(flowtab_expire_active(ft, 19990, 5), 0);
	assert_int_equal(flowtab_expire_idle(ft, 19990, 5), 0);
	expect_stats(ft, 6, 1, 4, 0, 0, 1);
}

/* ---- TCP end detection ------------------------------------------------- */

/* Client HOST_LO:cport to server HOST_HI:80, and the server's replies. */
static struct pkt_view
cli(uint16_t cport, uint8_t flags)
{
	struct pkt_view pv;

	decode_tcp(HOST_LO, cport, HOST_HI, 80, flags, &pv);
	return pv;
}

static struct pkt_view
srv(uint16_t cport, uint8_t flags)
{
	struct pkt_view pv;

	decode_tcp(HOST_HI, 80, HOST_LO, cport, flags, &pv);
	return pv;
}

static void
test_tcp_end_off_fin_fin_nothing(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 10000, 100000, &log);
	struct pkt_view p;
	struct flow *f;

	(void)state;
	p = cli(40000, SYN);
	f = feed_tcp(ft, &p, 0, NULL);
	p = srv(40000, SYN | ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 1, NULL), f);
	p = cli(40000, ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 2, NULL), f);
	p = cli(40000, FIN | ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 3, NULL), f);
	p = srv(40000, FIN | ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 4, NULL), f);
	p = cli(40000, ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 5, NULL), f);
	assert_int_equal(f->tcp_flags[0], SYN | ACK | FIN);
	assert_int_equal(f->tcp_flags[1], SYN | ACK | FIN);
	/* no linger: only the idle timeout (10 s) ends it */
	assert_int_equal(flowtab_expire_idle(ft, 5000, 10), 0);
	/* and a new SYN is just another packet of the same flow */
	p = cli(40000, SYN);
	assert_ptr_equal(feed_tcp(ft, &p, 5001, NULL), f);
	assert_int_equal(f->packets[0], 5);
	assert_int_equal(f->packets[1], 2);
	assert_int_equal(log.n, 0);
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_FORCED);
	expect_stats_tcp(ft, 1, 0, 0, 0, 1, 0, 0);
}

static void
test_tcp_end_fin_both_ways_linger(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 0, &log);
	struct pkt_view p, u;
	struct flow *f;
	enum flow_dir dir;

	(void)state;
	u = pv_v4(HOST_LO, 7, HOST_HI, 9, 17);	/* an unrelated UDP flow */
	p = cli(40000, SYN);
	f = feed_tcp(ft, &p, 0, NULL);
	p = srv(40000, SYN | ACK);
	feed_tcp(ft, &p, 1, NULL);
	p = cli(40000, ACK);
	feed_tcp(ft, &p, 2, NULL);
	feed(ft, &u, 5, NULL);
	/* FIN one way only: not closing, the 1 s linger does not apply */
	p = cli(40000, FIN | ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 10, NULL), f);
	assert_int_equal(flowtab_expire_idle(ft, 1500, 10), 0);
	/* the server's FIN: closing, last packet 20 */
	p = srv(40000, FIN | ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 20, NULL), f);
	/* the final ACK still belongs to it: last packet 30 */
	p = cli(40000, ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 30, &dir), f);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(f->packets[0], 4);	/* SYN, ACK, FIN, ACK */
	assert_int_equal(f->packets[1], 2);	/* SYN-ACK, FIN */
	/* 1029 - 30 = 999 < 1000 (default linger) */
	assert_int_equal(flowtab_expire_idle(ft, 1029, 10), 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(flowtab_expire_idle(ft, 1030, 10), 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_OF_FLOW);
	assert_int_equal(flow_src_port(&log.recs[0]), 40000);
	assert_int_equal(log.recs[0].packets[0], 4);
	assert_int_equal(log.recs[0].packets[1], 2);
	assert_int_equal(flow_first_ms(&log.recs[0]), 0);
	assert_int_equal(flow_last_ms(&log.recs[0]), 30);
	/* the UDP flow (last 5, idle 10 s) is untouched */
	expect_stats_tcp(ft, 2, 0, 0, 0, 0, 1, 1);
}

static void
test_tcp_end_rst_one_way(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 300, 100000, 1000, &log);
	struct pkt_view p;
	struct flow *f;

	(void)state;
	p = cli(40001, SYN);
	f = feed_tcp(ft, &p, 0, NULL);
	p = srv(40001, RST | ACK);			/* refused */
	assert_ptr_equal(feed_tcp(ft, &p, 1, NULL), f);
	p = cli(40001, ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 2, NULL), f);
	assert_int_equal(f->packets[0], 2);
	/* idle (300) is below the linger: closing flows go at 300, reason 3 */
	assert_int_equal(flowtab_expire_idle(ft, 301, 10), 0);	/* 299 */
	assert_int_equal(flowtab_expire_idle(ft, 302, 10), 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_OF_FLOW);
	assert_int_equal(log.recs[0].packets[0], 2);
	assert_int_equal(log.recs[0].packets[1], 1);
	assert_int_equal(log.recs[0].tcp_flags[1], RST | ACK);
	expect_stats_tcp(ft, 1, 0, 0, 0, 0, 1, 0);
}

static void
test_tcp_end_syn_starts_new_flow(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	struct pkt_view p;
	struct flow *f, *g;
	enum flow_dir dir;

	(void)state;
	p = cli(40002, SYN);
	f = feed_tcp(ft, &p, 0, NULL);
	p = srv(40002, SYN | ACK);
	feed_tcp(ft, &p, 1, NULL);
	p = cli(40002, ACK);
	feed_tcp(ft, &p, 2, NULL);
	p = cli(40002, FIN | ACK);
	feed_tcp(ft, &p, 3, NULL);
	p = srv(40002, FIN | ACK);
	feed_tcp(ft, &p, 4, NULL);
	p = cli(40002, ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 5, NULL), f);
	/* a SYN with ACK is no new connection: still the closing flow */
	p = srv(40002, SYN | ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 50, NULL), f);
	assert_int_equal(log.n, 0);
	/* the client's new SYN on the same ports ends the old flow first */
	p = cli(40002, SYN);
	g = feed_tcp(ft, &p, 100, &dir);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_OF_FLOW);
	/* client: SYN, ACK, FIN, ACK; server: SYN-ACK, FIN, SYN-ACK */
	assert_int_equal(log.recs[0].packets[0], 4);
	assert_int_equal(log.recs[0].packets[1], 3);
	assert_int_equal(flow_last_ms(&log.recs[0]), 50);
	assert_int_equal(log.recs[0].tcp_flags[0], SYN | ACK | FIN);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(flow_src_port(g), 40002);
	assert_int_equal(g->packets[0], 1);
	assert_int_equal(g->packets[1], 0);
	assert_int_equal(flow_first_ms(g), 100);
	assert_int_equal(g->tcp_flags[0], SYN);
	/* the new flow is an ordinary one: its SYN-ACK joins it */
	p = srv(40002, SYN | ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 101, &dir), g);
	assert_int_equal(dir, FLOW_DIR_DST2SRC);
	assert_int_equal(flowtab_expire_idle(ft, 5000, 10), 0);
	expect_stats_tcp(ft, 2, 0, 0, 0, 0, 1, 1);
}

static void
test_tcp_end_linger_on_arrival(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	struct pkt_view p;
	struct flow *f;
	enum flow_dir dir;

	(void)state;
	p = cli(40003, FIN | ACK);
	f = feed_tcp(ft, &p, 1, NULL);
	p = srv(40003, FIN | ACK);
	feed_tcp(ft, &p, 2, NULL);			/* closing */
	p = cli(40003, ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 1001, NULL), f);	/* 999 */
	assert_int_equal(log.n, 0);
	/* 2001 - 1001 = linger, no scan ran: it ends on arrival */
	f = feed_tcp(ft, &p, 2001, &dir);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_OF_FLOW);
	assert_int_equal(log.recs[0].packets[0], 2);
	assert_int_equal(log.recs[0].packets[1], 1);
	assert_int_equal(flow_last_ms(&log.recs[0]), 1001);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(f->packets[0], 1);
	assert_int_equal(flow_first_ms(f), 2001);
	expect_stats_tcp(ft, 2, 0, 0, 0, 0, 1, 1);
}

static void
test_tcp_end_closing_order(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	struct pkt_view p;
	struct flow *x;

	(void)state;
	/* X (40010) closes at 10, Y (40011) at 20 */
	p = cli(40010, SYN);
	x = feed_tcp(ft, &p, 0, NULL);
	p = cli(40011, SYN);
	feed_tcp(ft, &p, 1, NULL);
	p = srv(40010, RST);
	feed_tcp(ft, &p, 10, NULL);
	p = srv(40011, RST);
	feed_tcp(ft, &p, 20, NULL);
	/* X's last packet at 30: it goes behind Y */
	p = cli(40010, ACK);
	assert_ptr_equal(feed_tcp(ft, &p, 30, NULL), x);
	assert_int_equal(flowtab_expire_idle(ft, 1025, 10), 1);	/* Y: 1005 */
	assert_int_equal(log.n, 1);
	assert_int_equal(flow_src_port(&log.recs[0]), 40011);
	assert_int_equal(flowtab_expire_idle(ft, 1030, 10), 1);	/* X */
	assert_int_equal(flow_src_port(&log.recs[1]), 40010);
	assert_int_equal(log.recs[1].end_reason, FLOW_END_OF_FLOW);
	/* checking an already closing flow moves it to the tail, closing */
	p = cli(40020, SYN);
	x = feed_tcp(ft, &p, 2000, NULL);
	p = cli(40021, SYN);
	feed_tcp(ft, &p, 2000, NULL);
	p = srv(40020, RST);
	feed_tcp(ft, &p, 2001, NULL);
	p = srv(40021, RST);
	feed_tcp(ft, &p, 2001, NULL);
	flowtab_tcp_check_end(ft, x);
	/* both due at 3001 (linger from 2001): Y first, X still closing */
	assert_int_equal(flowtab_expire_idle(ft, 3001, 1), 1);
	assert_int_equal(flow_src_port(&log.recs[2]), 40021);
	assert_int_equal(flowtab_expire_idle(ft, 3001, 1), 1);
	assert_int_equal(flow_src_port(&log.recs[3]), 40020);
	assert_int_equal(log.recs[3].end_reason, FLOW_END_OF_FLOW);
	/* a closing flow is still subject to the active scan (reason 2) */
	p = cli(40030, SYN);
	feed_tcp(ft, &p, 200000, NULL);
	p = srv(40030, RST);
	feed_tcp(ft, &p, 200001, NULL);
	assert_int_equal(flowtab_expire_active(ft, 300000, 10), 1);
	assert_int_equal(log.recs[4].end_reason, FLOW_END_ACTIVE);
	expect_stats_tcp(ft, 5, 0, 1, 0, 0, 4, 0);
}

static void
test_tcp_end_flush_reasons(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	struct pkt_view p;
	static const uint8_t want[5] = { FLOW_END_FORCED, FLOW_END_OF_FLOW,
	    FLOW_END_FORCED, FLOW_END_OF_FLOW, FLOW_END_FORCED };
	unsigned i;

	(void)state;
	p = pv_v4(HOST_LO, 1, HOST_HI, 9, 17);		/* A: UDP */
	feed(ft, &p, 0, NULL);
	p = cli(2, SYN);				/* B: reset */
	feed_tcp(ft, &p, 1, NULL);
	p = srv(2, RST | ACK);
	feed_tcp(ft, &p, 2, NULL);
	p = pv_v4(HOST_LO, 3, HOST_HI, 9, 17);		/* C: UDP */
	feed(ft, &p, 3, NULL);
	p = cli(4, SYN);				/* D: FIN both ways */
	feed_tcp(ft, &p, 4, NULL);
	p = cli(4, FIN | ACK);
	feed_tcp(ft, &p, 5, NULL);
	p = srv(4, FIN | ACK);
	feed_tcp(ft, &p, 6, NULL);
	p = cli(5, SYN);				/* E: open TCP */
	feed_tcp(ft, &p, 7, NULL);
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(log.n, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(flow_src_port(&log.recs[i]), i + 1);
		assert_int_equal(log.recs[i].end_reason, want[i]);
	}
	expect_stats_tcp(ft, 5, 0, 0, 0, 3, 2, 0);
	/* both lists are empty again: the table still works */
	p = cli(2, SYN);
	feed_tcp(ft, &p, 10, NULL);
	p = srv(2, RST);
	feed_tcp(ft, &p, 11, NULL);
	assert_int_equal(flowtab_expire_idle(ft, 1011, 10), 1);
	expect_stats_tcp(ft, 6, 0, 0, 0, 3, 3, 0);
}

static void
test_tcp_end_full_table_evicts_closing(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(4, 10000, 100000, 1000, &log);
	struct pkt_view p;

	(void)state;
	p = pv_v4(HOST_LO, 1, HOST_HI, 9, 17);		/* A: LRU tail */
	feed(ft, &p, 0, NULL);
	p = cli(2, SYN);				/* B */
	feed_tcp(ft, &p, 1, NULL);
	p = cli(3, SYN);				/* X */
	feed_tcp(ft, &p, 2, NULL);
	p = srv(3, RST);				/* X closes first */
	feed_tcp(ft, &p, 3, NULL);
	p = pv_v4(HOST_LO, 4, HOST_HI, 9, 17);		/* C: table full */
	feed(ft, &p, 4, NULL);
	p = srv(2, RST);				/* then B */
	feed_tcp(ft, &p, 5, NULL);
	assert_int_equal(log.n, 0);
	/* D, E: the closing flows go, oldest closed first, not A */
	p = pv_v4(HOST_LO, 5, HOST_HI, 9, 17);
	feed(ft, &p, 6, NULL);
	assert_int_equal(log.n, 1);
	assert_int_equal(flow_src_port(&log.recs[0]), 3);
	assert_int_equal(log.recs[0].end_reason, FLOW_END_OF_FLOW);
	p = pv_v4(HOST_LO, 6, HOST_HI, 9, 17);
	feed(ft, &p, 7, NULL);
	assert_int_equal(log.n, 2);
	assert_int_equal(flow_src_port(&log.recs[1]), 2);
	assert_int_equal(log.recs[1].end_reason, FLOW_END_OF_FLOW);
	/* F: no closing flow left, the LRU tail A goes */
	p = pv_v4(HOST_LO, 7, HOST_HI, 9, 17);
	feed(ft, &p, 8, NULL);
	assert_int_equal(log.n, 3);
	assert_int_equal(flow_src_port(&log.recs[2]), 1);
	assert_int_equal(log.recs[2].end_reason, FLOW_END_LACK_OF_RESOURCES);
	expect_stats_tcp(ft, 7, 0, 0, 1, 0, 2, 4);
	assert_int_equal(flowtab_stats(ft)->peak_active, 4);
}

static void
test_create_rejects_zero_flows(void **state)
{
	struct flowtab_conf conf;
	char err[128] = "";

	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.sink = log_sink;
	assert_null(flowtab_create(&conf, err, sizeof(err)));
	assert_true(err[0] != '\0');
	flowtab_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_both_directions_one_flow, ft_teardown),
		cmocka_unit_test_teardown(test_src_is_first_packet_source, ft_teardown),
		cmocka_unit_test_teardown(test_same_ip_ordered_by_port, ft_teardown),
		cmocka_unit_test_teardown(test_same_endpoint_both_ends, ft_teardown),
		cmocka_unit_test_teardown(test_vlan_and_protocol_separate_flows, ft_teardown),
		cmocka_unit_test_teardown(test_tunnel_id_separates_flows, ft_teardown),
		cmocka_unit_test_teardown(test_icmp_echo_ids_one_flow, ft_teardown),
		cmocka_unit_test_teardown(test_macs_from_first_packet, ft_teardown),
		cmocka_unit_test_teardown(test_idle_expiry_on_arrival, ft_teardown),
		cmocka_unit_test_teardown(test_active_expiry_on_arrival, ft_teardown),
		cmocka_unit_test_teardown(test_idle_checked_before_active, ft_teardown),
		cmocka_unit_test_teardown(test_idle_timeout_zero_every_packet_a_flow, ft_teardown),
		cmocka_unit_test_teardown(test_new_flow_zeroed_including_ext, ft_teardown),
		cmocka_unit_test_teardown(test_expire_idle_lru_order_and_budget, ft_teardown),
		cmocka_unit_test_teardown(test_flush_creation_order, ft_teardown),
		cmocka_unit_test_teardown(test_full_table_evicts_lru, ft_teardown),
		cmocka_unit_test_teardown(test_peak_active, ft_teardown),
		cmocka_unit_test_teardown(test_expire_active_order_budget_stop, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_off_fin_fin_nothing, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_fin_both_ways_linger, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_rst_one_way, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_syn_starts_new_flow, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_linger_on_arrival, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_closing_order, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_flush_reasons, ft_teardown),
		cmocka_unit_test_teardown(test_tcp_end_full_table_evicts_closing, ft_teardown),
		cmocka_unit_test_teardown(test_create_rejects_zero_flows, ft_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
