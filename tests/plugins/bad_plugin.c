/*
 * bad_plugin.c - one source, one bad plugin per BAD_* case (tests/plugins/
 * CMakeLists.txt builds bad_<case>.so with -DBAD_<CASE>): each breaks one
 * rule of streamprobe/plugin.h that the loader or the sanitizer build must
 * catch (tests/scripts/plugin_test.sh, plugin_asan_test.sh).
 */
#include <stdio.h>

#include <streamprobe/plugin.h>

#ifdef BAD_NOSYMBOL
/* A shared object, but no streamprobe_plugin symbol. */
__attribute__((visibility("default"))) int not_a_plugin = 1;
#else

struct state {
	uint64_t	n;
};

static const struct sp_field fields[] = {
#if defined(BAD_DUP_FIELD)
	{ .name = "twice", .type = SP_UINT64 },
	{ .name = "twice", .type = SP_UINT64 },
#elif defined(BAD_DUP_ACROSS)
	/* view_plugin.c has a field of this name. */
	{ .name = "first_ttl", .type = SP_UINT64 },
#elif defined(BAD_BUILTIN)
	{ .name = "bidirectional_packets", .type = SP_UINT64 },
#elif defined(BAD_FIELD_NAME)
	{ .name = "Bad-Name", .type = SP_UINT64 },
#elif defined(BAD_TYPE)
	{ .name = "what", .type = (enum sp_type)9 },
#elif defined(BAD_STRING_SIZE)
	{ .name = "text", .type = SP_STRING, .size = 300 },
#elif defined(BAD_DUP_ELEMENT)
	/* The same element as dup_element_b's field. */
	{ .name = "elem_a", .type = SP_UINT64, .ipfix_pen = 32473,
	  .ipfix_id = 3000 },
#elif defined(BAD_DUP_ELEMENT_B)
	{ .name = "elem_b", .type = SP_UINT64, .ipfix_pen = 32473,
	  .ipfix_id = 3000 },
#elif defined(BAD_TEMPLATE_ELEMENT)
	/* ENT:1001 is streamprobeExpirationId in templates/nfstream.tmpl. */
	{ .name = "clash", .type = SP_INT64, .ipfix_pen = 32473,
	  .ipfix_id = 1001 },
#else
	{ .name = "bad_count", .type = SP_UINT64 },
#endif
};

static int
init(const struct sp_args *args, void **instance, char *err, size_t errlen)
{
	(void)args;
	(void)instance;
#ifdef BAD_INIT
	snprintf(err, errlen, "model file /nonexistent/weights.txt: cannot "
	    "open");
	return -1;
#else
	(void)err;
	(void)errlen;
	return 0;
#endif
}

static void
on_init(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	struct state *st = flow->state;

	(void)instance;
	(void)pkt;
	st->n = 1;
#ifdef BAD_EXPIRE_TWICE
	sp_expire(flow);
	sp_expire(flow);
#endif
#ifdef BAD_OVERFLOW
	/* One byte past the declared state. */
	((volatile uint8_t *)flow->state)[sizeof(struct state)] = 1;
#endif
}

static void
on_update(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	struct state *st = flow->state;

	(void)instance;
	(void)pkt;
	st->n++;
}

static void
on_expire(void *instance, struct sp_flow *flow)
{
	const struct state *st = flow->state;

	(void)instance;
	sp_set_uint(flow, 0, st->n);
}

SP_PLUGIN = {
#if defined(BAD_VERSION)
	.abi = { 2, sizeof(struct sp_plugin), sizeof(struct sp_field),
	    sizeof(struct sp_pkt), sizeof(struct sp_flow),
	    sizeof(struct sp_args) },
#elif defined(BAD_SIZES)
	.abi = { SP_PLUGIN_API_VERSION, sizeof(struct sp_plugin),
	    sizeof(struct sp_field), sizeof(struct sp_pkt) + 8,
	    sizeof(struct sp_flow), sizeof(struct sp_args) },
#else
	.abi = SP_PLUGIN_ABI,
#endif
#if defined(BAD_DUP_ELEMENT_B)
	.name = "dup_element_b",
#elif defined(BAD_DUP_ACROSS)
	.name = "dup_across",
#else
	.name = "bad_plugin",
#endif
	.version = "0",
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
#if defined(BAD_STATE_SIZE)
	.state_size = 5000,
#else
	.state_size = sizeof(struct state),
#endif
#if defined(BAD_STATE_ALIGN)
	.state_align = 3,
#else
	.state_align = _Alignof(struct state),
#endif
	.init = init,
	.on_init = on_init,
	.on_update = on_update,
	.on_expire = on_expire,
};
#endif
