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
 * ports, flush and eviction of closing flows); the memory budget's
 * shedding cursor and eviction, and the trim that compacts the table.
 * Packets are accounted with
 * flow_account() after the lookup, as meter_packet() does.
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

/* feed(), and the packet must have gone in direction want. */
static struct flow *
feed_dir(struct flowtab *ft, const struct pkt_view *pv, uint64_t t,
    enum flow_dir want)
{
	enum flow_dir dir;
	struct flow *f = feed(ft, pv, t, &dir);

	assert_int_equal(dir, want);
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

/* A UDP packet HOST_LO:sport to HOST_HI:9; the order tests tell by sport. */
static struct flow *
feed_udp(struct flowtab *ft, uint16_t sport, uint64_t t)
{
	struct pkt_view pv = pv_v4(HOST_LO, sport, HOST_HI, 9, 17);

	return feed(ft, &pv, t, NULL);
}

/* n UDP flows, src ports 1..n, started step ms apart from 0. */
static void
feed_udp_flows(struct flowtab *ft, uint16_t n, uint64_t step)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		feed_udp(ft, (uint16_t)(i + 1), step * i);
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

/* Three packets that differ in one key field each started a flow. */
static void
expect_distinct(const struct flow *a, const struct flow *b,
    const struct flow *c)
{
	assert_ptr_not_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_ptr_not_equal(b, c);
}

/* Packets of a flow: source to destination, then the replies. */
static void
expect_packets(const struct flow *f, uint64_t fwd, uint64_t rev)
{
	assert_int_equal(f->packets[FLOW_DIR_SRC2DST], fwd);
	assert_int_equal(f->packets[FLOW_DIR_DST2SRC], rev);
}

/* Why a sink record ended, and which flow it was (by source port). */
static void
expect_end(const struct flow *rec, enum flow_end_reason reason,
    uint16_t src_port)
{
	assert_int_equal(rec->end_reason, reason);
	assert_int_equal(flow_src_port(rec), src_port);
}

/* A sink record in full: expect_end(), its packets and time span. */
static void
expect_record(const struct flow *rec, enum flow_end_reason reason,
    uint16_t src_port, uint64_t pkts_fwd, uint64_t pkts_rev,
    uint64_t first_ms, uint64_t last_ms)
{
	expect_end(rec, reason, src_port);
	expect_packets(rec, pkts_fwd, pkts_rev);
	assert_int_equal(flow_first_ms(rec), first_ms);
	assert_int_equal(flow_last_ms(rec), last_ms);
}

/*
 * f was just started by the packet fed at t from src_port, which went in
 * direction dir (as feed() reported it): src to dst, its only packet.
 */
static void
expect_new_flow(const struct flow *f, enum flow_dir dir, uint16_t src_port,
    uint64_t t)
{
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	assert_int_equal(flow_src_port(f), src_port);
	expect_packets(f, 1, 0);
	assert_int_equal(flow_first_ms(f), t);
}

/* ---- keys and direction ------------------------------------------------ */

static void
test_both_directions_one_flow(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view a2b, b2a;
	struct flow *f;

	(void)state;
	/* First packet from the higher address: it is still the source. */
	a2b = pv_v4(HOST_HI, 40000, HOST_LO, 80, 6);
	b2a = pv_reply(&a2b);
	f = feed_dir(ft, &a2b, 1, FLOW_DIR_SRC2DST);
	assert_int_equal(f->src_end, 1);	/* canonical: 10.0.0.1 first */
	assert_memory_equal(flow_src_addr(f), HOST_HI, 4);
	assert_int_equal(flow_src_port(f), 40000);
	assert_ptr_equal(feed_dir(ft, &b2a, 2, FLOW_DIR_DST2SRC), f);
	assert_ptr_equal(feed_dir(ft, &a2b, 3, FLOW_DIR_SRC2DST), f);
	expect_packets(f, 2, 1);
	assert_int_equal(f->bytes[0], 2 * PKT_BYTES);
	assert_int_equal(f->first_ms[0], 1);
	assert_int_equal(f->first_ms[1], 2);
	assert_int_equal(flow_last_ms(f), 3);

	/* First packet from the lower address: src_end 0, same rules. */
	a2b = pv_v4(HOST_LO, 5000, HOST_HI, 53, 17);
	b2a = pv_reply(&a2b);
	f = feed_dir(ft, &a2b, 4, FLOW_DIR_SRC2DST);
	assert_int_equal(f->src_end, 0);
	assert_memory_equal(flow_src_addr(f), HOST_LO, 4);
	assert_ptr_equal(feed_dir(ft, &b2a, 5, FLOW_DIR_DST2SRC), f);
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
	struct flow *f;

	(void)state;
	p = pv_v4(HOST_LO, 5000, HOST_LO, 80, 6);
	r = pv_reply(&p);
	f = feed_dir(ft, &p, 0, FLOW_DIR_SRC2DST);
	assert_int_equal(f->key.port[0], 80);	/* lower port first */
	assert_int_equal(f->key.port[1], 5000);
	assert_int_equal(f->src_end, 1);
	assert_ptr_equal(feed_dir(ft, &r, 1, FLOW_DIR_DST2SRC), f);
	assert_ptr_equal(feed_dir(ft, &p, 2, FLOW_DIR_SRC2DST), f);
	expect_stats(ft, 1, 0, 0, 0, 0, 1);
}

static void
test_same_endpoint_both_ends(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 10000, &log);
	struct pkt_view p;
	struct flow *f;
	int i;

	(void)state;
	p = pv_v4(HOST_LO, 53, HOST_LO, 53, 17);
	f = feed_dir(ft, &p, 0, FLOW_DIR_SRC2DST);
	for (i = 1; i < 4; i++)
		assert_ptr_equal(feed_dir(ft, &p, (uint64_t)i,
		    FLOW_DIR_SRC2DST), f);
	expect_packets(f, 4, 0);
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

	(void)state;
	base = pv_v4(HOST_LO, 1234, HOST_HI, 80, 17);
	vlan = base;
	vlan.vlan_id = 10;
	tcp = base;
	tcp.protocol = 6;
	fb = feed(ft, &base, 0, NULL);
	fv = feed(ft, &vlan, 1, NULL);
	ft_tcp = feed(ft, &tcp, 2, NULL);
	expect_distinct(fb, fv, ft_tcp);
	/* each key still finds its own flow, replies included */
	vlan_reply = pv_reply(&vlan);
	assert_ptr_equal(feed_dir(ft, &vlan_reply, 3, FLOW_DIR_DST2SRC), fv);
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
	expect_distinct(fp, fg, fz);
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

	(void)state;
	decode_icmp_echo(HOST_LO, HOST_HI, 8, 0x1111, &req);	/* request */
	decode_icmp_echo(HOST_HI, HOST_LO, 0, 0x1111, &rep);	/* reply */
	decode_icmp_echo(HOST_LO, HOST_HI, 8, 0x2222, &req2);	/* new id */
	f = feed_dir(ft, &req, 0, FLOW_DIR_SRC2DST);
	assert_ptr_equal(feed_dir(ft, &rep, 1, FLOW_DIR_DST2SRC), f);
	assert_ptr_equal(feed_dir(ft, &req2, 2, FLOW_DIR_SRC2DST), f);
	assert_int_equal(f->key.port[0], 0);
	assert_int_equal(f->key.port[1], 0);
	expect_packets(f, 2, 1);
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
	expect_record(&log.recs[0], FLOW_END_IDLE, 1000, 2, 1, 0, 149);
	/* the new flow's source is this packet's source */
	expect_new_flow(f, dir, 2000, 249);
	assert_memory_equal(flow_src_addr(f), HOST_HI, 4);
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
	enum flow_dir dir;
	size_t i;

	(void)state;
	p = pv_v4(HOST_LO, 1000, HOST_HI, 2000, 6);
	first = feed(ft, &p, times[0], NULL);
	for (i = 1; i < sizeof(times) / sizeof(times[0]); i++)
		assert_ptr_equal(feed(ft, &p, times[i], NULL), first);
	assert_int_equal(log.n, 0);
	/* 300 - 299 < idle, 300 - 0 >= active */
	f = feed(ft, &p, 300, &dir);
	assert_int_equal(log.n, 1);
	expect_record(&log.recs[0], FLOW_END_ACTIVE, 1000, 5, 0, 0, 299);
	expect_new_flow(f, dir, 1000, 300);
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
	expect_end(&log.recs[0], FLOW_END_IDLE, 1000);
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
	for (i = 0; i < log.n; i++)
		expect_packets(&log.recs[i], 1, 0);
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

	(void)state;
	/* flows A..D (src ports 1..4) created at 0, 10, 20, 30 */
	feed_udp_flows(ft, 4, 10);
	feed_udp(ft, 1, 40);			/* A is now most recent */
	/* LRU tail first: B (10), C (20) idle at 125; D (30) is not */
	assert_int_equal(flowtab_expire_idle(ft, 125, 10), 2);
	assert_int_equal(log.n, 2);
	expect_end(&log.recs[0], FLOW_END_IDLE, 2);
	expect_end(&log.recs[1], FLOW_END_IDLE, 3);
	assert_int_equal(flowtab_expire_idle(ft, 125, 10), 0);
	/* budget: one at a time, then none, then the rest */
	assert_int_equal(flowtab_expire_idle(ft, 1000, 1), 1);
	expect_end(&log.recs[2], FLOW_END_IDLE, 4);
	assert_int_equal(flowtab_expire_idle(ft, 1000, 0), 0);
	assert_int_equal(log.n, 3);
	assert_int_equal(flowtab_expire_idle(ft, 1000, 5), 1);
	expect_end(&log.recs[3], FLOW_END_IDLE, 1);
	expect_packets(&log.recs[3], 2, 0);
	assert_int_equal(flowtab_expire_idle(ft, 5000, 5), 0);	/* empty */
	expect_stats(ft, 4, 4, 0, 0, 0, 0);
}

static void
test_flush_creation_order(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 1000, 1000000, &log);
	uint16_t i;

	(void)state;
	feed_udp_flows(ft, 3, 10);		/* A, B, C at 0, 10, 20 */
	feed_udp(ft, 3, 30);			/* LRU is now A, C... */
	feed_udp(ft, 1, 40);			/* ...and then C, A */
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(log.n, 3);
	for (i = 0; i < 3; i++)
		expect_end(&log.recs[i], FLOW_END_FORCED, (uint16_t)(i + 1));
	expect_stats(ft, 3, 0, 0, 0, 3, 0);
	/* The table is usable again: the flush emptied the index and the
	 * lists at once, so flow B is a new flow, and the LRU and creation
	 * lists hold only the new ones. */
	feed_udp(ft, 2, 50);
	expect_stats(ft, 4, 0, 0, 0, 3, 1);
	feed_udp(ft, 1, 60);
	expect_stats(ft, 5, 0, 0, 0, 3, 2);
	assert_int_equal(flowtab_expire_idle(ft, 1055, 5), 1);	/* B */
	expect_end(&log.recs[3], FLOW_END_IDLE, 2);
	flowtab_flush(ft, FLOW_END_IDLE);
	assert_int_equal(log.n, 5);
	expect_end(&log.recs[4], FLOW_END_IDLE, 1);
	expect_stats(ft, 5, 2, 0, 0, 3, 0);
}

static void
test_full_table_evicts_lru(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(2, 0, 1000, 1000000, &log);
	struct flow *fa;

	(void)state;
	/* A, B, C: src ports 1, 2, 3 */
	fa = feed_udp(ft, 1, 0);
	feed_udp(ft, 2, 1);
	assert_ptr_equal(feed_udp(ft, 1, 2), fa);	/* B is now LRU */
	feed_udp(ft, 3, 3);
	assert_int_equal(log.n, 1);
	expect_end(&log.recs[0], FLOW_END_LACK_OF_RESOURCES, 2);
	expect_stats(ft, 3, 0, 0, 1, 0, 2);
	/* A survived with its counters */
	fa = feed_udp(ft, 1, 4);
	assert_int_equal(fa->packets[0], 3);
	/* B again: C is LRU now */
	feed_udp(ft, 2, 5);
	assert_int_equal(log.n, 2);
	expect_end(&log.recs[1], FLOW_END_LACK_OF_RESOURCES, 3);
	expect_stats(ft, 4, 0, 0, 2, 0, 2);
	assert_int_equal(flowtab_stats(ft)->peak_active, 2);
}

static void
test_peak_active(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 100, 1000000, &log);

	(void)state;
	feed_udp_flows(ft, 5, 1);
	assert_int_equal(flowtab_expire_idle(ft, 1000, 100), 5);
	feed_udp(ft, 77, 1000);
	expect_stats(ft, 6, 5, 0, 0, 0, 1);
	assert_int_equal(flowtab_stats(ft)->peak_active, 5);
}

/* ---- live active-timeout scan ------------------------------------------ */

static void
test_expire_active_order_budget_stop(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 500, 1000, &log);

	(void)state;
	/* A (port 1) at 0, B at 100, C at 200 */
	feed_udp(ft, 1, 0);
	feed_udp(ft, 2, 100);
	feed_udp(ft, 3, 200);
	feed_udp(ft, 1, 300);			/* A: 2 packets, first 0 */
	feed_udp(ft, 4, 850);			/* D */
	/* C: 900 - 200 >= idle, ends on arrival; C' joins the FIFO last */
	feed_udp(ft, 3, 900);
	assert_int_equal(log.n, 1);
	expect_end(&log.recs[0], FLOW_END_IDLE, 3);
	/* FIFO: A (first 0), B (100), D (850), C' (900) */
	assert_int_equal(flowtab_expire_active(ft, 999, 10), 0);
	assert_int_equal(log.n, 1);
	/* A and B are due at 1100 (1100, 1000); D (250) is not: stop there */
	assert_int_equal(flowtab_expire_active(ft, 1100, 10), 2);
	assert_int_equal(log.n, 3);
	expect_record(&log.recs[1], FLOW_END_ACTIVE, 1, 2, 0, 0, 300);
	expect_end(&log.recs[2], FLOW_END_ACTIVE, 2);
	/* at 1900 D (1050) and C' (1000) are both due: the budget counts */
	assert_int_equal(flowtab_expire_active(ft, 1900, 0), 0);
	assert_int_equal(flowtab_expire_active(ft, 1900, 1), 1);
	assert_int_equal(log.n, 4);
	expect_end(&log.recs[3], FLOW_END_ACTIVE, 4);
	assert_int_equal(flowtab_expire_active(ft, 1900, 5), 1);
	assert_int_equal(log.n, 5);
	expect_record(&log.recs[4], FLOW_END_ACTIVE, 3, 1, 0, 900, 900);
	assert_int_equal(flowtab_expire_active(ft, 10000, 5), 0); /* empty */
	expect_stats(ft, 5, 1, 4, 0, 0, 0);
	/* a clock behind the packet stamps never makes a flow due */
	feed_udp(ft, 5, 20000);
	assert_int_equal(flowtab_expire_active(ft, 19990, 5), 0);
	assert_int_equal(flowtab_expire_idle(ft, 19990, 5), 0);
	expect_stats(ft, 6, 1, 4, 0, 0, 1);
}

/* ---- TCP end detection ------------------------------------------------- */

/*
 * Feed a segment with flags at t, as feed_tcp(): from the client
 * HOST_LO:cport to the server HOST_HI:80, or the server's reply.
 */
static struct flow *
feed_cli(struct flowtab *ft, uint16_t cport, uint8_t flags, uint64_t t,
    enum flow_dir *dir_out)
{
	struct pkt_view pv;

	decode_tcp(HOST_LO, cport, HOST_HI, 80, flags, &pv);
	return feed_tcp(ft, &pv, t, dir_out);
}

static struct flow *
feed_srv(struct flowtab *ft, uint16_t cport, uint8_t flags, uint64_t t,
    enum flow_dir *dir_out)
{
	struct pkt_view pv;

	decode_tcp(HOST_HI, 80, HOST_LO, cport, flags, &pv);
	return feed_tcp(ft, &pv, t, dir_out);
}

/* SYN, SYN-ACK, ACK at t, t + 1, t + 2: one flow, which it returns. */
static struct flow *
tcp_handshake(struct flowtab *ft, uint16_t cport, uint64_t t)
{
	struct flow *f = feed_cli(ft, cport, SYN, t, NULL);

	assert_ptr_equal(feed_srv(ft, cport, SYN | ACK, t + 1, NULL), f);
	assert_ptr_equal(feed_cli(ft, cport, ACK, t + 2, NULL), f);
	return f;
}

/* The client's FIN, the server's FIN, the last ACK at t..t + 2, all in f. */
static void
tcp_fin_exchange(struct flowtab *ft, const struct flow *f, uint16_t cport,
    uint64_t t)
{
	assert_ptr_equal(feed_cli(ft, cport, FIN | ACK, t, NULL), f);
	assert_ptr_equal(feed_srv(ft, cport, FIN | ACK, t + 1, NULL), f);
	assert_ptr_equal(feed_cli(ft, cport, ACK, t + 2, NULL), f);
}

static void
test_tcp_end_off_fin_fin_nothing(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(16, 0, 10000, 100000, &log);
	struct flow *f;

	(void)state;
	f = tcp_handshake(ft, 40000, 0);
	tcp_fin_exchange(ft, f, 40000, 3);
	assert_int_equal(f->tcp_flags[0], SYN | ACK | FIN);
	assert_int_equal(f->tcp_flags[1], SYN | ACK | FIN);
	/* no linger: only the idle timeout (10 s) ends it */
	assert_int_equal(flowtab_expire_idle(ft, 5000, 10), 0);
	/* and a new SYN is just another packet of the same flow */
	assert_ptr_equal(feed_cli(ft, 40000, SYN, 5001, NULL), f);
	expect_packets(f, 5, 2);
	assert_int_equal(log.n, 0);
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(log.n, 1);
	expect_end(&log.recs[0], FLOW_END_FORCED, 40000);
	expect_stats_tcp(ft, 1, 0, 0, 0, 1, 0, 0);
}

static void
test_tcp_end_fin_both_ways_linger(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 0, &log);
	struct flow *f;
	enum flow_dir dir;

	(void)state;
	f = tcp_handshake(ft, 40000, 0);
	feed_udp(ft, 7, 5);			/* an unrelated UDP flow */
	/* FIN one way only: not closing, the 1 s linger does not apply */
	assert_ptr_equal(feed_cli(ft, 40000, FIN | ACK, 10, NULL), f);
	assert_int_equal(flowtab_expire_idle(ft, 1500, 10), 0);
	/* the server's FIN: closing, last packet 20 */
	assert_ptr_equal(feed_srv(ft, 40000, FIN | ACK, 20, NULL), f);
	/* the final ACK still belongs to it: last packet 30 */
	assert_ptr_equal(feed_cli(ft, 40000, ACK, 30, &dir), f);
	assert_int_equal(dir, FLOW_DIR_SRC2DST);
	/* client: SYN, ACK, FIN, ACK; server: SYN-ACK, FIN */
	expect_packets(f, 4, 2);
	/* 1029 - 30 = 999 < 1000 (default linger) */
	assert_int_equal(flowtab_expire_idle(ft, 1029, 10), 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(flowtab_expire_idle(ft, 1030, 10), 1);
	assert_int_equal(log.n, 1);
	expect_record(&log.recs[0], FLOW_END_OF_FLOW, 40000, 4, 2, 0, 30);
	/* the UDP flow (last 5, idle 10 s) is untouched */
	expect_stats_tcp(ft, 2, 0, 0, 0, 0, 1, 1);
}

static void
test_tcp_end_rst_one_way(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 300, 100000, 1000, &log);
	struct flow *f;

	(void)state;
	f = feed_cli(ft, 40001, SYN, 0, NULL);
	/* refused */
	assert_ptr_equal(feed_srv(ft, 40001, RST | ACK, 1, NULL), f);
	assert_ptr_equal(feed_cli(ft, 40001, ACK, 2, NULL), f);
	assert_int_equal(f->packets[0], 2);
	/* idle (300) is below the linger: closing flows go at 300, reason 3 */
	assert_int_equal(flowtab_expire_idle(ft, 301, 10), 0);	/* 299 */
	assert_int_equal(flowtab_expire_idle(ft, 302, 10), 1);
	assert_int_equal(log.n, 1);
	expect_record(&log.recs[0], FLOW_END_OF_FLOW, 40001, 2, 1, 0, 2);
	assert_int_equal(log.recs[0].tcp_flags[1], RST | ACK);
	expect_stats_tcp(ft, 1, 0, 0, 0, 0, 1, 0);
}

static void
test_tcp_end_syn_starts_new_flow(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	struct flow *f, *g;
	enum flow_dir dir;

	(void)state;
	f = tcp_handshake(ft, 40002, 0);
	tcp_fin_exchange(ft, f, 40002, 3);
	/* a SYN with ACK is no new connection: still the closing flow */
	assert_ptr_equal(feed_srv(ft, 40002, SYN | ACK, 50, NULL), f);
	assert_int_equal(log.n, 0);
	/* the client's new SYN on the same ports ends the old flow first */
	g = feed_cli(ft, 40002, SYN, 100, &dir);
	assert_int_equal(log.n, 1);
	/* client: SYN, ACK, FIN, ACK; server: SYN-ACK, FIN, SYN-ACK */
	expect_record(&log.recs[0], FLOW_END_OF_FLOW, 40002, 4, 3, 0, 50);
	assert_int_equal(log.recs[0].tcp_flags[0], SYN | ACK | FIN);
	expect_new_flow(g, dir, 40002, 100);
	assert_int_equal(g->tcp_flags[0], SYN);
	/* the new flow is an ordinary one: its SYN-ACK joins it */
	assert_ptr_equal(feed_srv(ft, 40002, SYN | ACK, 101, &dir), g);
	assert_int_equal(dir, FLOW_DIR_DST2SRC);
	assert_int_equal(flowtab_expire_idle(ft, 5000, 10), 0);
	expect_stats_tcp(ft, 2, 0, 0, 0, 0, 1, 1);
}

static void
test_tcp_end_linger_on_arrival(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	struct flow *f;
	enum flow_dir dir;

	(void)state;
	f = feed_cli(ft, 40003, FIN | ACK, 1, NULL);
	feed_srv(ft, 40003, FIN | ACK, 2, NULL);		/* closing */
	/* 1001 - 2 = 999 < linger: still the closing flow */
	assert_ptr_equal(feed_cli(ft, 40003, ACK, 1001, NULL), f);
	assert_int_equal(log.n, 0);
	/* 2001 - 1001 = linger, no scan ran: it ends on arrival */
	f = feed_cli(ft, 40003, ACK, 2001, &dir);
	assert_int_equal(log.n, 1);
	expect_record(&log.recs[0], FLOW_END_OF_FLOW, 40003, 2, 1, 1, 1001);
	expect_new_flow(f, dir, 40003, 2001);
	expect_stats_tcp(ft, 2, 0, 0, 0, 0, 1, 1);
}

static void
test_tcp_end_closing_order(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	struct flow *x;

	(void)state;
	/* X (40010) closes at 10, Y (40011) at 20 */
	x = feed_cli(ft, 40010, SYN, 0, NULL);
	feed_cli(ft, 40011, SYN, 1, NULL);
	feed_srv(ft, 40010, RST, 10, NULL);
	feed_srv(ft, 40011, RST, 20, NULL);
	/* X's last packet at 30: it goes behind Y */
	assert_ptr_equal(feed_cli(ft, 40010, ACK, 30, NULL), x);
	assert_int_equal(flowtab_expire_idle(ft, 1025, 10), 1);	/* Y: 1005 */
	assert_int_equal(log.n, 1);
	expect_end(&log.recs[0], FLOW_END_OF_FLOW, 40011);
	assert_int_equal(flowtab_expire_idle(ft, 1030, 10), 1);	/* X */
	expect_end(&log.recs[1], FLOW_END_OF_FLOW, 40010);
	/* checking an already closing flow moves it to the tail, closing */
	x = feed_cli(ft, 40020, SYN, 2000, NULL);
	feed_cli(ft, 40021, SYN, 2000, NULL);
	feed_srv(ft, 40020, RST, 2001, NULL);
	feed_srv(ft, 40021, RST, 2001, NULL);
	flowtab_tcp_check_end(ft, x);
	/* both due at 3001 (linger from 2001): Y first, X still closing */
	assert_int_equal(flowtab_expire_idle(ft, 3001, 1), 1);
	expect_end(&log.recs[2], FLOW_END_OF_FLOW, 40021);
	assert_int_equal(flowtab_expire_idle(ft, 3001, 1), 1);
	expect_end(&log.recs[3], FLOW_END_OF_FLOW, 40020);
	/* a closing flow is still subject to the active scan (reason 2) */
	feed_cli(ft, 40030, SYN, 200000, NULL);
	feed_srv(ft, 40030, RST, 200001, NULL);
	assert_int_equal(flowtab_expire_active(ft, 300000, 10), 1);
	expect_end(&log.recs[4], FLOW_END_ACTIVE, 40030);
	expect_stats_tcp(ft, 5, 0, 1, 0, 0, 4, 0);
}

static void
test_tcp_end_flush_reasons(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(16, 10000, 100000, 1000, &log);
	static const uint8_t want[5] = { FLOW_END_FORCED, FLOW_END_OF_FLOW,
	    FLOW_END_FORCED, FLOW_END_OF_FLOW, FLOW_END_FORCED };
	unsigned i;

	(void)state;
	feed_udp(ft, 1, 0);				/* A: UDP */
	feed_cli(ft, 2, SYN, 1, NULL);			/* B: reset */
	feed_srv(ft, 2, RST | ACK, 2, NULL);
	feed_udp(ft, 3, 3);				/* C: UDP */
	feed_cli(ft, 4, SYN, 4, NULL);			/* D: FIN both ways */
	feed_cli(ft, 4, FIN | ACK, 5, NULL);
	feed_srv(ft, 4, FIN | ACK, 6, NULL);
	feed_cli(ft, 5, SYN, 7, NULL);			/* E: open TCP */
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(log.n, 5);
	for (i = 0; i < 5; i++)
		expect_end(&log.recs[i], want[i], (uint16_t)(i + 1));
	expect_stats_tcp(ft, 5, 0, 0, 0, 3, 2, 0);
	/* both lists are empty again: the table still works */
	feed_cli(ft, 2, SYN, 10, NULL);
	feed_srv(ft, 2, RST, 11, NULL);
	assert_int_equal(flowtab_expire_idle(ft, 1011, 10), 1);
	expect_stats_tcp(ft, 6, 0, 0, 0, 3, 3, 0);
}

static void
test_tcp_end_full_table_evicts_closing(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new_tcp(4, 10000, 100000, 1000, &log);

	(void)state;
	feed_udp(ft, 1, 0);				/* A: LRU tail */
	feed_cli(ft, 2, SYN, 1, NULL);			/* B */
	feed_cli(ft, 3, SYN, 2, NULL);			/* X */
	feed_srv(ft, 3, RST, 3, NULL);			/* X closes first */
	feed_udp(ft, 4, 4);				/* C: table full */
	feed_srv(ft, 2, RST, 5, NULL);			/* then B */
	assert_int_equal(log.n, 0);
	/* D, E: the closing flows go, oldest closed first, not A */
	feed_udp(ft, 5, 6);
	assert_int_equal(log.n, 1);
	expect_end(&log.recs[0], FLOW_END_OF_FLOW, 3);
	feed_udp(ft, 6, 7);
	assert_int_equal(log.n, 2);
	expect_end(&log.recs[1], FLOW_END_OF_FLOW, 2);
	/* F: no closing flow left, the LRU tail A goes */
	feed_udp(ft, 7, 8);
	assert_int_equal(log.n, 3);
	expect_end(&log.recs[2], FLOW_END_LACK_OF_RESOURCES, 1);
	expect_stats_tcp(ft, 7, 0, 0, 1, 0, 2, 4);
	assert_int_equal(flowtab_stats(ft)->peak_active, 4);
}

/*
 * The shedding cursor visits each cached flow once, oldest created first,
 * flows created later included; flowtab_evict() ends the LRU flow with
 * reason 5, counted apart from a full table's evictions.
 */
static void
test_shed_cursor_and_evict(void **state)
{
	struct sink_log log;
	struct flowtab *ft = ft_new(8, 0, 1000, 1000000, &log);
	struct flow *f1, *f2, *f3, *f4;

	(void)state;
	f1 = feed_udp(ft, 1, 0);
	f2 = feed_udp(ft, 2, 1);
	f3 = feed_udp(ft, 3, 2);
	assert_ptr_equal(flowtab_shed_next(ft), f1);
	assert_ptr_equal(flowtab_shed_next(ft), f2);
	assert_ptr_equal(flowtab_shed_next(ft), f3);
	assert_null(flowtab_shed_next(ft));
	assert_null(flowtab_shed_next(ft));
	f4 = feed_udp(ft, 4, 3);
	assert_ptr_equal(flowtab_shed_next(ft), f4);
	assert_null(flowtab_shed_next(ft));
	/* f1 touched: f2 is the LRU one */
	feed_udp(ft, 1, 4);
	assert_true(flowtab_evict(ft));
	assert_int_equal(log.n, 1);
	expect_end(&log.recs[0], FLOW_END_LACK_OF_RESOURCES, 2);
	assert_int_equal(flowtab_stats(ft)->evicted_memory, 1);
	assert_int_equal(flowtab_stats(ft)->evicted, 0);
	assert_int_equal(flowtab_stats(ft)->active, 3);
	/* The cursor's flow ends: the cursor moves on to the next one. */
	feed_udp(ft, 5, 5);
	feed_udp(ft, 6, 6);
	assert_int_equal(flow_src_port(flowtab_shed_next(ft)), 5);
	flowtab_flush(ft, FLOW_END_FORCED);	/* 1, 3, 4, 5, 6 */
	assert_int_equal(log.n, 6);
	assert_null(flowtab_shed_next(ft));
	assert_false(flowtab_evict(ft));
	f1 = feed_udp(ft, 7, 7);
	assert_ptr_equal(flowtab_shed_next(ft), f1);
	assert_int_equal(flowtab_mem_bytes(ft), flowtab_index_bytes(ft) +
	    flowtab_entry_bytes(ft));
}

static void
count_sink(struct flow *f, void *arg)
{
	(void)f;
	(*(unsigned *)arg)++;
}

/*
 * After most flows expired, the trim moves the survivors into the lowest
 * entries and gives the rest back: they keep their counters, are found by
 * their packets, expire in LRU and creation order, and the shedding
 * cursor still points at its flow.
 */
static void
test_trim_compacts(void **state)
{
	struct flowtab_conf conf;
	struct flowtab *ft;
	unsigned ended = 0, i;
	char err[128];
	struct flow *f;

	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.max_flows = 4096;
	conf.idle_timeout_ms = 1000;
	conf.active_timeout_ms = 1000000;
	conf.sink = count_sink;
	conf.sink_arg = &ended;
	ft = cur_ft = flowtab_create(&conf, err, sizeof(err));
	assert_non_null(ft);
	/* 3000 flows at t = 0; every 100th (ports 100, 200, ...) again at
	 * t = 900, so only those survive the idle scan at t = 1500. */
	for (i = 1; i <= 3000; i++)
		feed_udp(ft, (uint16_t)i, 0);
	for (i = 100; i <= 3000; i += 100)
		feed_udp(ft, (uint16_t)i, 900);
	assert_int_equal(flowtab_expire_idle(ft, 1500, 10000), 2970);
	assert_int_equal(flowtab_stats(ft)->active, 30);
	/* Port 100 was visited; the cursor points at 200's entry. */
	assert_int_equal(flow_src_port(flowtab_shed_next(ft)), 100);
	assert_true(flowtab_slack_bytes(ft) > 0);
	assert_true(flowtab_trim(ft) > 0);
	assert_int_equal(flowtab_slack_bytes(ft), 0);
	assert_int_equal(flowtab_stats(ft)->active, 30);
	for (i = 100; i <= 3000; i += 100) {
		f = feed_udp(ft, (uint16_t)i, 1000 + i / 100);
		assert_int_equal(flow_src_port(f), i);
		assert_int_equal(f->packets[0], 3);
	}
	assert_int_equal(flowtab_stats(ft)->created, 3000);
	assert_int_equal(flow_src_port(flowtab_shed_next(ft)), 200);
	/* A new flow takes a fresh entry; everything ends in order. */
	feed_udp(ft, 4000, 1100);
	assert_int_equal(flowtab_expire_idle(ft, 2040, 10000), 30);
	flowtab_flush(ft, FLOW_END_FORCED);
	assert_int_equal(ended, 3001);
	assert_int_equal(flowtab_stats(ft)->active, 0);
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
		cmocka_unit_test_teardown(test_shed_cursor_and_evict, ft_teardown),
		cmocka_unit_test_teardown(test_trim_compacts, ft_teardown),
		cmocka_unit_test_teardown(test_create_rejects_zero_flows, ft_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
