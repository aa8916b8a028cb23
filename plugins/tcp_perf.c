/*
 * tcp_perf.c - TCP performance per flow, as Wireshark's TCP analysis
 * reports it: the handshake round trips, retransmitted segments and
 * zero-window advertisements per direction.  A field NFStream lacks
 * (nProbe exports the like).
 *
 *	udps.initial_rtt_us		SYN -> first pure ACK (tshark's
 *					tcp.analysis.initial_rtt)
 *	udps.server_rtt_us		SYN -> SYN/ACK (probe <-> server)
 *	udps.client_rtt_us		SYN/ACK -> that ACK (probe <-> client)
 *	udps.src2dst_retransmissions	segments flagged retransmission, fast
 *	udps.dst2src_retransmissions	retransmission or spurious
 *					retransmission, by their sender
 *	udps.src2dst_zero_windows	tcp.analysis.zero_window, by the
 *	udps.dst2src_zero_windows	segment's sender (its receive window)
 *
 * The segment classification is Wireshark 4.0's
 * tcp_analyze_sequence_number() (epan/dissectors/packet-tcp.c; Debian 12
 * ships tshark 4.0.17), reduced to the state those three answers depend
 * on: per direction the highest next sequence number and its time, the
 * last ack number and its time, the last raw window, the duplicate-ack
 * run and whether the last segment was a keep-alive or a zero-window
 * probe.  Wireshark's list of unacknowledged segments, which decides only
 * other flags (RTO, acked-lost, bytes in flight), is not kept: the state
 * is 120 bytes, fixed, and a packet costs a few compares.  Where the
 * answer can differ from tshark's, README.md ("tcp_perf") says so.
 *
 * Times are in microseconds (struct sp_pkt's time_us); Wireshark works in
 * nanoseconds, which is the same thing for the usual microsecond captures.
 */
#include <stdint.h>
#include <string.h>

#include <streamprobe/plugin.h>

enum {
	F_INITIAL_RTT,
	F_SERVER_RTT,
	F_CLIENT_RTT,
	F_SRC2DST_RETX,
	F_DST2SRC_RETX,
	F_SRC2DST_ZWIN,
	F_DST2SRC_ZWIN,
	F_COUNT
};

static const struct sp_field tcp_perf_fields[F_COUNT] = {
	[F_INITIAL_RTT] = { .name = "initial_rtt_us", .type = SP_UINT64,
	    .description = "TCP handshake round trip at the probe, us: first "
	    "pure SYN to first pure ACK (tshark tcp.analysis.initial_rtt); "
	    "0 if not seen" },
	[F_SERVER_RTT] = { .name = "server_rtt_us", .type = SP_UINT64,
	    .description = "probe-server round trip, us: SYN to the first "
	    "SYN/ACK; 0 if not seen" },
	[F_CLIENT_RTT] = { .name = "client_rtt_us", .type = SP_UINT64,
	    .description = "probe-client round trip, us: SYN/ACK to the ACK "
	    "that completes the handshake; 0 if not seen" },
	[F_SRC2DST_RETX] = { .name = "src2dst_retransmissions",
	    .type = SP_UINT64,
	    .description = "src-to-dst segments tshark flags retransmission, "
	    "fast or spurious retransmission" },
	[F_DST2SRC_RETX] = { .name = "dst2src_retransmissions",
	    .type = SP_UINT64,
	    .description = "dst-to-src segments tshark flags retransmission, "
	    "fast or spurious retransmission" },
	[F_SRC2DST_ZWIN] = { .name = "src2dst_zero_windows",
	    .type = SP_UINT64,
	    .description = "src-to-dst segments advertising a zero window "
	    "(tshark tcp.analysis.zero_window)" },
	[F_DST2SRC_ZWIN] = { .name = "dst2src_zero_windows",
	    .type = SP_UINT64,
	    .description = "dst-to-src segments advertising a zero window "
	    "(tshark tcp.analysis.zero_window)" },
};

/* Wireshark's thresholds: a fast retransmission follows the duplicate
 * acks within 20 ms; out-of-order within the initial RTT, 3 ms when no
 * RTT is known. */
#define FAST_RETX_US		20000u
#define OOO_DEFAULT_US		3000u

/* dir.flags */
#define D_SEEN		0x01u	/* window holds a segment's window */
#define D_KEEPALIVE	0x02u	/* the last segment was a keep-alive */
#define D_ZWP		0x04u	/* ... a zero-window probe */

/* One direction: Wireshark's tcp_flow_t fields that decide the flags we
 * count.  nextseq 0 means unknown, as there. */
struct dir {
	uint64_t	nextseq_us;	/* when nextseq last moved */
	uint64_t	lastack_us;	/* time of the last segment */
	uint32_t	nextseq;
	uint32_t	lastack;	/* its ack field, ACK flag or not */
	uint32_t	dupacks;
	uint32_t	retx;
	uint32_t	zwin;
	uint16_t	window;		/* raw, unscaled, as Wireshark compares */
	uint8_t		flags;
	uint8_t		pad;
};

struct tcp_perf {
	struct dir	d[2];		/* SP_SRC_TO_DST, SP_DST_TO_SRC */
	uint64_t	syn_us;		/* the most recent pure SYN */
	uint64_t	synack_us;	/* the most recent SYN/ACK */
	uint64_t	initial_rtt;	/* 0: not yet (Wireshark's ts_first_rtt) */
	uint64_t	server_rtt;
	uint64_t	client_rtt;
};

#define LT_SEQ(a, b)	((int32_t)((a) - (b)) < 0)
#define GT_SEQ(a, b)	((int32_t)((b) - (a)) < 0)
#define LE_SEQ(a, b)	((int32_t)((a) - (b)) <= 0)

#define TH_SFR		(SP_TCP_SYN | SP_TCP_FIN | SP_TCP_RST)

/* Wireshark starts a direction's window at G_MAXUINT32: no segment's. */
static uint32_t
dir_window(const struct dir *d)
{
	return (d->flags & D_SEEN) ? d->window : UINT32_MAX;
}

static uint64_t
pkt_us(const struct sp_pkt *p)
{
	/* A probe that does not fill time_us: the ms clock. */
	return p->time_us ? p->time_us : p->time_ms * 1000u;
}

/*
 * Is this segment a retransmission (plain, fast or spurious)?  The
 * "RETRANSMISSION/FAST RETRANSMISSION/OUT-OF-ORDER" block of Wireshark
 * 4.0.17, in its order: keep-alive (no), spurious, fast retransmission,
 * out-of-order (no), then any segment that does not advance the
 * sequence.
 */
static int
is_retransmission(const struct tcp_perf *st, const struct dir *fwd,
    const struct dir *rev, uint32_t seq, uint32_t seglen, uint8_t flags,
    int keepalive, uint64_t now)
{
	uint64_t ooo;
	uint32_t end;
	int not_adv;

	if (seglen == 0 && (flags & (SP_TCP_SYN | SP_TCP_FIN)) == 0)
		return 0;
	if (keepalive)
		return 0;
	not_adv = fwd->nextseq != 0 && LT_SEQ(seq, fwd->nextseq);
	/* More than one byte just below nextseq: new data after a probe. */
	if (seglen > 1 && fwd->nextseq - 1 == seq)
		not_adv = 0;
	/* Data the receiver has acked already: spurious retransmission,
	 * tested first (tshark 4.0.17 flags such a segment spurious even
	 * when it would pass for out-of-order). */
	if (seglen > 0 && rev->lastack != 0 &&
	    LE_SEQ(seq + seglen, rev->lastack))
		return 1;
	/* Unsigned differences: a clock going back is "long ago", as
	 * Wireshark's guint64 t. */
	if (not_adv && rev->dupacks >= 2 && rev->lastack == seq &&
	    now - rev->lastack_us < FAST_RETX_US)
		return 1;		/* fast retransmission */
	/* Out-of-order: soon after the highest segment, and not one that
	 * ends exactly there (a repeat of the last SYN, FIN or data). */
	ooo = st->initial_rtt ? st->initial_rtt : OOO_DEFAULT_US;
	end = seq + seglen + ((flags & (SP_TCP_SYN | SP_TCP_FIN)) ? 1 : 0);
	if (not_adv && now - fwd->nextseq_us < ooo && fwd->nextseq != end)
		return 0;
	return not_adv;			/* retransmission */
}

/* One segment: Wireshark's tcp_analyze_sequence_number(), the parts that
 * decide the flags we count and the state they read. */
static void
tcp_perf_segment(struct tcp_perf *st, const struct sp_pkt *p, uint64_t now)
{
	struct dir *fwd = &st->d[p->direction & 1];
	struct dir *rev = &st->d[(p->direction & 1) ^ 1];
	uint32_t seq = p->tcp_seq, ack = p->tcp_ack, seglen = p->payload_size;
	uint32_t window = p->tcp_window, nextseq;
	uint8_t flags = p->tcp_flags, last = 0;
	int keepalive = 0;

	/* Zero-window probe: skips the zero-window, keep-alive and
	 * duplicate-ack checks and never advances nextseq. */
	if (seglen == 1 && seq == fwd->nextseq && dir_window(rev) == 0) {
		last = D_ZWP;
		goto finished_fwd;
	}
	if (window == 0 && (flags & TH_SFR) == 0)
		fwd->zwin++;
	if (seglen <= 1 && seq == fwd->nextseq - 1 && (flags & TH_SFR) == 0) {
		keepalive = 1;
		last = D_KEEPALIVE;
	}
	/* The same ack, window and sequence again, no data: a duplicate ack
	 * (fast retransmission's trigger), unless it answers a keep-alive.
	 * A window of 0 never makes one (nor does a probe's ack, which has
	 * it). */
	if (seglen == 0 && window != 0 && window == dir_window(fwd) &&
	    seq == fwd->nextseq && ack == fwd->lastack &&
	    (flags & TH_SFR) == 0 && (rev->flags & D_KEEPALIVE) == 0)
		fwd->dupacks++;
finished_fwd:
	if (ack != fwd->lastack)
		fwd->dupacks = 0;

	if (is_retransmission(st, fwd, rev, seq, seglen, flags, keepalive,
	    now))
		fwd->retx++;

	/* SYN and FIN take a sequence number.  (Wireshark adds it only
	 * while it holds fewer than 10000 unacknowledged segments.) */
	nextseq = seq + seglen;
	if (flags & (SP_TCP_SYN | SP_TCP_FIN))
		nextseq++;
	if ((GT_SEQ(nextseq, fwd->nextseq) || fwd->nextseq == 0) &&
	    last != D_ZWP) {
		fwd->nextseq = nextseq;
		fwd->nextseq_us = now;
	}
	fwd->window = (uint16_t)window;
	fwd->lastack = ack;
	fwd->lastack_us = now;
	fwd->flags = (uint8_t)(D_SEEN | last);
}

/* The handshake times, as Wireshark's ts_mru_syn and ts_first_rtt (set
 * after the segment's analysis, so the ACK's own out-of-order test still
 * uses the old threshold). */
static void
tcp_perf_handshake(struct tcp_perf *st, const struct sp_pkt *p, uint64_t now)
{
	uint8_t sa = p->tcp_flags & (SP_TCP_SYN | SP_TCP_ACK);

	if (sa == SP_TCP_SYN) {
		st->syn_us = now;
	} else if (sa == (SP_TCP_SYN | SP_TCP_ACK)) {
		if (st->syn_us != 0 && st->server_rtt == 0 && now > st->syn_us)
			st->server_rtt = now - st->syn_us;
		st->synack_us = now;
	} else if (sa == SP_TCP_ACK && st->syn_us != 0 &&
	    st->initial_rtt == 0) {
		/* Wireshark's test: the first pure ACK, either way, after a
		 * SYN; 0 stays "not yet" (an RTT of 0 waits for the next). */
		st->initial_rtt = now > st->syn_us ? now - st->syn_us : 0;
		if (st->initial_rtt != 0 && st->synack_us != 0 &&
		    now > st->synack_us)
			st->client_rtt = now - st->synack_us;
	}
}

static void
tcp_perf_packet(void *instance, const struct sp_pkt *p, struct sp_flow *f)
{
	struct tcp_perf *st = f->state;
	uint64_t now;

	(void)instance;
	/* Wireshark analyses only a whole TCP header whose data offset is
	 * sane (>= 20 bytes, within the segment). */
	if (p->protocol != 6 || !p->has_tcp || p->tcp_header_len < 20 ||
	    p->transport_size < p->tcp_header_len)
		return;
	now = pkt_us(p);
	tcp_perf_segment(st, p, now);
	tcp_perf_handshake(st, p, now);
}

static void
tcp_perf_expire(void *instance, struct sp_flow *f)
{
	const struct tcp_perf *st = f->state;

	(void)instance;
	sp_set_uint(f, F_INITIAL_RTT, st->initial_rtt);
	sp_set_uint(f, F_SERVER_RTT, st->server_rtt);
	sp_set_uint(f, F_CLIENT_RTT, st->client_rtt);
	sp_set_uint(f, F_SRC2DST_RETX, st->d[SP_SRC_TO_DST].retx);
	sp_set_uint(f, F_DST2SRC_RETX, st->d[SP_DST_TO_SRC].retx);
	sp_set_uint(f, F_SRC2DST_ZWIN, st->d[SP_SRC_TO_DST].zwin);
	sp_set_uint(f, F_DST2SRC_ZWIN, st->d[SP_DST_TO_SRC].zwin);
}

SP_PLUGIN = {
	.abi = SP_PLUGIN_ABI,
	.name = "tcp_perf",
	.version = "1.0",
	.fields = tcp_perf_fields,
	.nfields = F_COUNT,
	.state_size = sizeof(struct tcp_perf),
	.state_align = 8,
	.on_init = tcp_perf_packet,
	.on_update = tcp_perf_packet,
	.on_expire = tcp_perf_expire,
};
