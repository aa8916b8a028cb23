/*
 * test_tcp_perf.c - the tcp_perf plugin's logic (plugins/tcp_perf.c),
 * driven through its callbacks with hand-made packets, no probe.
 *
 * Each case is a short TCP exchange whose classification follows from
 * Wireshark's rules as README.md ("tcp_perf") states them; the expected
 * counts and times are worked out by hand in the comments.  The same
 * rules are checked against tshark itself on real captures by the test
 * tcp_perf_tshark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <streamprobe/plugin.h>

extern const struct sp_plugin streamprobe_plugin;

enum { INITIAL_RTT, SERVER_RTT, CLIENT_RTT, S2D_RETX, D2S_RETX, S2D_ZWIN,
    D2S_ZWIN, NF };

/* A flow as the probe hands it over: zeroed state, value slots. */
struct tflow {
	struct sp_flow	 f;
	uint64_t	 state[64];
	uint8_t		 values[8 + NF * 8];
	uint32_t	 off[NF];
	uint32_t	 request;
	unsigned	 npkts;
	uint8_t		 a[16], b[16];
};

static void
tflow_init(struct tflow *t)
{
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->a[0] = 10, t->a[3] = 1;
	t->b[0] = 10, t->b[3] = 2;
	for (i = 0; i < NF; i++)
		t->off[i] = 8 + 8 * i;
	t->f.state = t->state;
	t->f.sp_values = t->values;
	t->f.sp_value_off = t->off;
	t->f.sp_request = &t->request;
	t->f.src_ip = t->a;
	t->f.dst_ip = t->b;
	t->f.src_port = 40000;
	t->f.dst_port = 80;
	t->f.ip_version = 4;
	t->f.protocol = 6;
}

/* One segment: dir 0 client -> server, 1 back; t in us. */
static void
seg(struct tflow *t, unsigned dir, uint64_t t_us, uint8_t flags,
    uint32_t seq, uint32_t ack, uint16_t len, uint16_t win)
{
	static const uint8_t data[1500];
	struct sp_pkt p;

	memset(&p, 0, sizeof(p));
	p.time_us = t_us;
	p.time_ms = t_us / 1000;
	p.direction = dir;
	p.ip_version = 4;
	p.protocol = 6;
	p.has_tcp = 1;
	p.src_ip = dir ? t->b : t->a;
	p.dst_ip = dir ? t->a : t->b;
	p.src_port = dir ? 80 : 40000;
	p.dst_port = dir ? 40000 : 80;
	p.tcp_flags = flags;
	p.tcp_header_len = 20;
	p.tcp_seq = seq;
	p.tcp_ack = ack;
	p.tcp_window = win;
	p.payload_size = len;
	p.payload_len = len;
	p.payload = len ? data : NULL;
	p.transport_size = (uint16_t)(20 + len);
	p.ip_size = (uint16_t)(40 + len);
	p.raw_size = (uint16_t)(54 + len);
	t->f.packets[dir]++;
	if (t->npkts++ == 0)
		streamprobe_plugin.on_init(NULL, &p, &t->f);
	else
		streamprobe_plugin.on_update(NULL, &p, &t->f);
}

static uint64_t
val(struct tflow *t, unsigned field)
{
	streamprobe_plugin.on_expire(NULL, &t->f);
	return sp_get_uint(&t->f, field);
}

#define S	SP_TCP_SYN
#define A	SP_TCP_ACK
#define SA	(SP_TCP_SYN | SP_TCP_ACK)
#define PA	(SP_TCP_PSH | SP_TCP_ACK)

/* Client ISN 1000, server ISN 5000: after the handshake the client's
 * next byte is 1001, the server's 5001.  Times from T0 = 1 s. */
#define T0	1000000u

static void
handshake(struct tflow *t)
{
	seg(t, 0, T0, S, 1000, 0, 0, 64240);
	seg(t, 1, T0 + 500, SA, 5000, 1001, 0, 65160);
	seg(t, 0, T0 + 800, A, 1001, 5001, 0, 502);
}

static void
test_abi(void **unused)
{
	(void)unused;
	assert_int_equal(streamprobe_plugin.abi.api_version,
	    SP_PLUGIN_API_VERSION);
	assert_int_equal(streamprobe_plugin.abi.pkt_size,
	    sizeof(struct sp_pkt));
	assert_int_equal(streamprobe_plugin.nfields, NF);
	assert_true(streamprobe_plugin.state_size <= sizeof(((struct tflow *)0)->state));
	assert_string_equal(streamprobe_plugin.fields[S2D_RETX].name,
	    "src2dst_retransmissions");
}

/* SYN at T0, SYN/ACK at +500 us, ACK at +800 us: server side 500, client
 * side 300, initial RTT 800 (the ACK minus the SYN). */
static void
test_handshake(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	handshake(&t);
	assert_int_equal(val(&t, SERVER_RTT), 500);
	assert_int_equal(val(&t, CLIENT_RTT), 300);
	assert_int_equal(val(&t, INITIAL_RTT), 800);
	assert_int_equal(val(&t, S2D_RETX), 0);
	assert_int_equal(val(&t, D2S_RETX), 0);
}

/* The SYN repeated 1 s later (no answer to the first): a retransmission
 * (a SYN below nextseq 1001), and the RTTs run from the second SYN, the
 * most recent one (Wireshark's ts_mru_syn). */
static void
test_syn_retransmitted(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	seg(&t, 0, T0, S, 1000, 0, 0, 64240);
	seg(&t, 0, T0 + 1000000, S, 1000, 0, 0, 64240);
	seg(&t, 1, T0 + 1000400, SA, 5000, 1001, 0, 65160);
	seg(&t, 0, T0 + 1000450, A, 1001, 5001, 0, 502);
	assert_int_equal(val(&t, S2D_RETX), 1);
	assert_int_equal(val(&t, SERVER_RTT), 400);
	assert_int_equal(val(&t, CLIENT_RTT), 50);
	assert_int_equal(val(&t, INITIAL_RTT), 450);
}

/* 100 bytes at 1001, then the same 100 bytes 300 ms later: not within
 * the out-of-order window (the initial RTT, 800 us), no duplicate acks,
 * not acked: a plain retransmission. */
static void
test_retransmission(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	handshake(&t);
	seg(&t, 0, T0 + 1000, PA, 1001, 5001, 100, 502);
	seg(&t, 0, T0 + 301000, PA, 1001, 5001, 100, 502);
	assert_int_equal(val(&t, S2D_RETX), 1);
	assert_int_equal(val(&t, D2S_RETX), 0);
}

/* 1101..1200 then 1001..1100 200 us later (< the 800 us initial RTT):
 * out-of-order, not a retransmission.  The same late by 2 ms: a
 * retransmission. */
static void
test_out_of_order(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	handshake(&t);
	seg(&t, 0, T0 + 1000, PA, 1101, 5001, 100, 502);
	seg(&t, 0, T0 + 1200, PA, 1001, 5001, 100, 502);
	assert_int_equal(val(&t, S2D_RETX), 0);

	tflow_init(&t);
	handshake(&t);
	seg(&t, 0, T0 + 1000, PA, 1101, 5001, 100, 502);
	seg(&t, 0, T0 + 3000, PA, 1001, 5001, 100, 502);
	assert_int_equal(val(&t, S2D_RETX), 1);
}

/*
 * Fast retransmission: the client sends 1001..1100 and 1101..1200; the
 * server acks 1001 three times (the first is no duplicate: its window
 * differs from the SYN/ACK's; the next two are duplicate acks 1 and 2);
 * the client resends 1001 5 ms after the last duplicate ack (< 20 ms):
 * fast retransmission, counted.
 * The server's acks carry window 1000, so none is a zero window.
 */
static void
test_fast_retransmission(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	handshake(&t);
	seg(&t, 0, T0 + 10000, PA, 1001, 5001, 100, 502);
	seg(&t, 0, T0 + 10100, PA, 1101, 5001, 100, 502);
	seg(&t, 1, T0 + 20000, A, 5001, 1001, 0, 1000);
	seg(&t, 1, T0 + 20100, A, 5001, 1001, 0, 1000);
	seg(&t, 1, T0 + 20200, A, 5001, 1001, 0, 1000);
	seg(&t, 0, T0 + 25200, PA, 1001, 5001, 100, 502);
	assert_int_equal(val(&t, S2D_RETX), 1);
	assert_int_equal(val(&t, D2S_ZWIN), 0);
}

/* Spurious: 1001..1100 sent, acked (ack 1101), sent again 1 s later:
 * its end 1101 <= the server's last ack. */
static void
test_spurious(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	handshake(&t);
	seg(&t, 0, T0 + 10000, PA, 1001, 5001, 100, 502);
	seg(&t, 1, T0 + 20000, A, 5001, 1101, 0, 1000);
	seg(&t, 0, T0 + 1010000, PA, 1001, 5001, 100, 502);
	assert_int_equal(val(&t, S2D_RETX), 1);
}

/*
 * Zero window: the server acks 1101 with window 0 (1 zero window from
 * dst), the client probes with 1 byte at its next sequence 1101 (a
 * zero-window probe: not a retransmission, does not advance), the server
 * answers the probe with the same ack and window 0 (a zero-window-probe
 * ack, still a zero-window advertisement: 2), then opens the window.
 * A RST with window 0 is not a zero window.
 */
static void
test_zero_window(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	handshake(&t);
	seg(&t, 0, T0 + 10000, PA, 1001, 5001, 100, 502);
	seg(&t, 1, T0 + 20000, A, 5001, 1101, 0, 0);
	seg(&t, 0, T0 + 220000, PA, 1101, 5001, 1, 502);
	seg(&t, 1, T0 + 230000, A, 5001, 1101, 0, 0);
	seg(&t, 0, T0 + 630000, PA, 1101, 5001, 1, 502);
	seg(&t, 1, T0 + 640000, A, 5001, 1101, 0, 2000);
	seg(&t, 0, T0 + 650000, PA, 1101, 5001, 100, 502);
	seg(&t, 1, T0 + 660000, SP_TCP_RST, 5001, 0, 0, 0);
	assert_int_equal(val(&t, D2S_ZWIN), 2);
	assert_int_equal(val(&t, S2D_ZWIN), 0);
	/* The second probe (1101 again, 1 byte, the window still 0) is a
	 * probe too; the data at 1101 after the window opened is new. */
	assert_int_equal(val(&t, S2D_RETX), 0);
	assert_int_equal(val(&t, D2S_RETX), 0);
}

/* Keep-alive: 0 or 1 byte at nextseq - 1: not a retransmission. */
static void
test_keepalive(void **unused)
{
	struct tflow t;

	(void)unused;
	tflow_init(&t);
	handshake(&t);
	seg(&t, 0, T0 + 10000, PA, 1001, 5001, 100, 502);
	seg(&t, 1, T0 + 20000, A, 5001, 1101, 0, 1000);
	seg(&t, 0, T0 + 60000000, A, 1100, 5001, 1, 502);
	seg(&t, 1, T0 + 60000100, A, 5001, 1101, 0, 1000);
	seg(&t, 0, T0 + 120000000, A, 1100, 5001, 0, 502);
	assert_int_equal(val(&t, S2D_RETX), 0);
}

/* A UDP flow, and a TCP packet without a whole header: ignored. */
static void
test_not_tcp(void **unused)
{
	struct tflow t;
	struct sp_pkt p;

	(void)unused;
	tflow_init(&t);
	memset(&p, 0, sizeof(p));
	p.protocol = 17;
	p.payload_size = 10;
	p.time_us = T0;
	streamprobe_plugin.on_init(NULL, &p, &t.f);
	p.protocol = 6;		/* truncated: has_tcp 0 */
	p.tcp_flags = S;
	streamprobe_plugin.on_update(NULL, &p, &t.f);
	assert_int_equal(val(&t, INITIAL_RTT), 0);
	assert_int_equal(val(&t, S2D_RETX), 0);
	assert_int_equal(val(&t, S2D_ZWIN), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_syn_retransmitted),
		cmocka_unit_test(test_retransmission),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_fast_retransmission),
		cmocka_unit_test(test_spurious),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_not_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
