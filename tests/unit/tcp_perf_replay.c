/*
 * tcp_perf_replay.c - tcp_perf's classification against tshark's, packet
 * by packet (a development check, run by tests/scripts/tcp_perf_replay.sh;
 * not a CTest test: all the shared captures take minutes).
 *
 * Reads tshark's per-packet fields on standard input, one TCP segment a
 * line, tab-separated:
 *	tcp.stream frame.time_epoch src(ip or ipv6) tcp.srcport tcp.flags
 *	tcp.seq_raw tcp.ack_raw tcp.window_size_value tcp.len tcp.hdr_len
 *	retransmission fast_retransmission spurious_retransmission
 *	zero_window initial_rtt
 * feeds each to the plugin as one flow per tshark stream (the src is the
 * stream's first sender), and prints every segment where the plugin's
 * counters moved differently from tshark's flags, and every initial RTT
 * tshark shows that differs from the plugin's by more than 1 us.  Exit 1
 * if any.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <streamprobe/plugin.h>

extern const struct sp_plugin streamprobe_plugin;

#define NFIELDS		15
#define MAX_STREAMS	1000000

struct stream {
	uint64_t	state[64];
	uint8_t		values[8 * 8];
	uint32_t	off[8];
	uint32_t	request;
	uint64_t	npkts;
	char		src[64];
	unsigned	sport;
	struct sp_flow	f;
};

static struct stream **streams;

static uint64_t
epoch_us(const char *s)
{
	const char *d = strchr(s, '.');
	uint64_t us = strtoull(s, NULL, 10) * 1000000u, frac = 0;
	int i;

	/* The first 6 digits: libpcap's microseconds, as the probe. */
	for (i = 0; i < 6; i++) {
		frac *= 10;
		if (d != NULL && d[1] >= '0' && d[1] <= '9')
			frac += (uint64_t)(*++d - '0');
	}
	return us + frac;
}

static uint64_t
counters(struct stream *s, unsigned first)
{
	streamprobe_plugin.on_expire(NULL, &s->f);
	return sp_get_uint(&s->f, first) + sp_get_uint(&s->f, first + 1);
}

int
main(void)
{
	char line[4096], *fld[NFIELDS], *p;
	unsigned long npkts = 0, bad = 0;
	unsigned n, i;

	if ((streams = calloc(MAX_STREAMS, sizeof(*streams))) == NULL)
		return 2;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct stream *s;
		struct sp_pkt k;
		uint64_t r0, z0, r1, z1, irtt;
		unsigned long sid;
		int tr, tz;

		line[strcspn(line, "\n")] = '\0';
		for (n = 0, p = line; n < NFIELDS && p != NULL; n++) {
			fld[n] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (n < NFIELDS || fld[0][0] == '\0' || fld[5][0] == '\0')
			continue;
		if ((sid = strtoul(fld[0], NULL, 10)) >= MAX_STREAMS)
			continue;
		if ((s = streams[sid]) == NULL) {
			if ((s = streams[sid] = calloc(1, sizeof(*s))) == NULL)
				return 2;
			for (i = 0; i < 8; i++)
				s->off[i] = 8 * i;
			s->f.state = s->state;
			s->f.sp_values = s->values;
			s->f.sp_value_off = s->off;
			s->f.sp_request = &s->request;
			snprintf(s->src, sizeof(s->src), "%s", fld[2]);
			s->sport = (unsigned)atoi(fld[3]);
		}
		memset(&k, 0, sizeof(k));
		k.time_us = epoch_us(fld[1]);
		k.time_ms = k.time_us / 1000;
		k.direction = !(strcmp(fld[2], s->src) == 0 &&
		    (unsigned)atoi(fld[3]) == s->sport);
		k.protocol = 6;
		k.has_tcp = 1;
		k.tcp_flags = (uint8_t)strtoul(fld[4], NULL, 16);
		k.tcp_seq = (uint32_t)strtoul(fld[5], NULL, 10);
		k.tcp_ack = (uint32_t)strtoul(fld[6], NULL, 10);
		k.tcp_window = (uint16_t)atoi(fld[7]);
		k.payload_size = (uint16_t)atoi(fld[8]);
		k.tcp_header_len = (uint8_t)atoi(fld[9]);
		k.transport_size = (uint16_t)(k.payload_size +
		    k.tcp_header_len);
		r0 = counters(s, 3);
		z0 = counters(s, 5);
		if (s->npkts++ == 0)
			streamprobe_plugin.on_init(NULL, &k, &s->f);
		else
			streamprobe_plugin.on_update(NULL, &k, &s->f);
		r1 = counters(s, 3);
		z1 = counters(s, 5);
		npkts++;
		tr = fld[10][0] || fld[11][0] || fld[12][0];
		tz = fld[13][0] != '\0';
		if (tr != (r1 != r0) || tz != (z1 != z0)) {
			bad++;
			printf("stream %lu at %s: tshark retransmission %d zero "
			    "window %d, plugin %d %d\n", sid, fld[1], tr, tz,
			    r1 != r0, z1 != z0);
		}
		irtt = sp_get_uint(&s->f, 0);
		if (fld[14][0] != '\0') {
			uint64_t t = (uint64_t)(atof(fld[14]) * 1e6 + 0.5);

			if (t > irtt + 1 || irtt > t + 1) {
				bad++;
				printf("stream %lu at %s: tshark initial_rtt "
				    "%s, plugin %llu us\n", sid, fld[1],
				    fld[14], (unsigned long long)irtt);
			}
		}
	}
	printf("%lu segments, %lu differences\n", npkts, bad);
	return bad != 0;
}
