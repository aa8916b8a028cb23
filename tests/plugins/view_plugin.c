/*
 * view_plugin.c - a test plugin that reports what the probe shows it
 * (tests/scripts/plugin_test.sh compares each with tshark or the probe's own
 * columns): the first packet's TTL and TCP sequence number, the captured
 * payload bytes, the first payload byte, the mean raw size from the flow
 * view, its arguments as a string; a volatile field; with the argument
 * expire_at=N, an early expiry at the flow's N-th packet; with announce=1,
 * a line on stderr from each init() and cleanup() (one instance per meter).
 */
#include <stdio.h>
#include <stdlib.h>

#include <streamprobe/plugin.h>

enum { F_TTL, F_SEQ, F_PAYLOAD, F_FIRST_BYTE, F_MEAN_RAW, F_ARGS, F_SEEN };

static const struct sp_field fields[] = {
	[F_TTL] = { .name = "first_ttl", .type = SP_UINT64 },
	[F_SEQ] = { .name = "first_tcp_seq", .type = SP_UINT64 },
	[F_PAYLOAD] = { .name = "payload_bytes", .type = SP_UINT64,
	    .v9_id = 40001 },
	[F_FIRST_BYTE] = { .name = "first_payload_byte", .type = SP_INT64 },
	[F_MEAN_RAW] = { .name = "mean_raw_size", .type = SP_DOUBLE },
	[F_ARGS] = { .name = "args", .type = SP_STRING, .size = 32 },
	[F_SEEN] = { .name = "seen", .type = SP_UINT64, .is_volatile = 1 },
};

struct inst {
	uint64_t	expire_at;	/* 0: never */
	char		args[64];
	int		announce;	/* announce=1: init and cleanup say so */
	unsigned	no;
};

/* Instances made so far: init() runs on the main thread, one at a time. */
static unsigned ninstances;

struct state {
	uint8_t		have_byte;
};

static int
init(const struct sp_args *a, void **instance, char *err, size_t errlen)
{
	struct inst *in;
	const char *v;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((v = sp_arg(a, "expire_at")) != NULL)
		in->expire_at = strtoull(v, NULL, 10);
	in->no = ++ninstances;
	if ((v = sp_arg(a, "announce")) != NULL && strcmp(v, "1") == 0) {
		in->announce = 1;
		fprintf(stderr, "view: init %u\n", in->no);
	}
	v = sp_arg(a, "tag");
	snprintf(in->args, sizeof(in->args), "%s|%s", a->arg,
	    v != NULL ? v : "");
	*instance = in;
	return 0;
}

static void
on_packet(struct inst *in, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	struct state *st = flow->state;

	sp_set_uint(flow, F_PAYLOAD, sp_get_uint(flow, F_PAYLOAD) +
	    pkt->payload_len);
	sp_set_uint(flow, F_SEEN, sp_get_uint(flow, F_SEEN) + 1);
	if (!st->have_byte && pkt->payload_len > 0) {
		st->have_byte = 1;
		sp_set_int(flow, F_FIRST_BYTE, pkt->payload[0]);
	}
	if (in->expire_at != 0 &&
	    flow->packets[0] + flow->packets[1] == in->expire_at)
		sp_expire(flow);
}

static void
on_init(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	struct inst *in = instance;

	sp_set_uint(flow, F_TTL, pkt->ttl);
	sp_set_uint(flow, F_SEQ, pkt->has_tcp ? pkt->tcp_seq : 0);
	sp_set_int(flow, F_FIRST_BYTE, -1);
	sp_set_string(flow, F_ARGS, in->args, strlen(in->args));
	on_packet(in, pkt, flow);
}

static void
on_update(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	on_packet(instance, pkt, flow);
}

static void
on_expire(void *instance, struct sp_flow *flow)
{
	uint64_t n = flow->packets[0] + flow->packets[1];

	(void)instance;
	sp_set_double(flow, F_MEAN_RAW, n ? (double)(flow->bytes[0] +
	    flow->bytes[1]) / (double)n : 0);
}

static void
cleanup(void *instance)
{
	struct inst *in = instance;

	if (in->announce)
		fprintf(stderr, "view: cleanup %u\n", in->no);
	free(in);
}

SP_PLUGIN = {
	.abi = SP_PLUGIN_ABI,
	.name = "view",
	.version = "1",
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.state_size = sizeof(struct state),
	.state_align = 1,
	.init = init,
	.on_init = on_init,
	.on_update = on_update,
	.on_expire = on_expire,
	.cleanup = cleanup,
};
