/*
 * dpi.c - nDPI 4.2 behind NFStream's call sequence.
 *
 *	dpi_create/destroy()	detection module, name tables, flow-state pool
 *	dpi_packet()		feed one packet of a flow
 *	dpi_flow_end()		give up if needed, freeze the result, free state
 *	dpi_flow_release()	free a frozen result's strings
 *	dpi_result()		names and strings for the outputs
 *	dpi_get_stats(), dpi_version(), dpi_ext_size()
 *	dpi_ext_register()	DPI as a flow extension (hooks)
 *
 * nDPI keeps protocol metadata in a union (protos): each field is read only
 * for the protocol that owns it, in NFStream's order (DHCP, HTTP, SSH, the
 * TLS family).  Strings from the wire are bounded as NFStream bounds them
 * and escaped (fmt_sanitize) before they leave this module.
 */
#define _DEFAULT_SOURCE	/* nDPI needs the BSD u_char types */
#include <ndpi_api.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "decode.h"
#include "dpi.h"
#include "flowext.h"
#include "fmt.h"

/* nDPI flow structs come from SLAB_BYTES slabs, SLAB_BYTES-aligned. */
#define SLAB_BYTES	((size_t)1 << 20)
/* glibc's malloc chunk header, beyond malloc_usable_size(). */
#define ALLOC_OVERHEAD	sizeof(size_t)
#define NAME_MAX_LEN	31
#define CATEGORY_LEN	24		/* NFStream copies 24 bytes */
#define APP_NAME_LEN	39		/* NFStream's 40-byte buffer */

/* NFStream's string bounds (its fixed buffers, NUL included). */
#define SERVER_NAME_MAX	79
#define DHCP_FP_MAX	47
#define HASH_MAX	32
#define USER_AGENT_MAX	255
#define CONTENT_TYPE_MAX 63

enum dpi_state {
	DPI_IDLE = 0,
	DPI_DETECTING,
	DPI_DONE
};

/* Per-flow state, in the flow's ext area. */
struct dpi_flow {
	struct ndpi_flow_struct	*nf;		/* while detecting */
	char			*strings;	/* frozen result, see string block */
	uint16_t		 master;
	uint16_t		 app;
	uint16_t		 category;
	uint8_t			 state;
	uint8_t			 guessed;
	uint8_t			 confidence;	/* nDPI 4.2 enum */
};

/* String block: DPI_STRINGS 16-bit lengths, then the bytes back to back. */
struct string_block_head {
	uint16_t	len[DPI_STRINGS];
};

struct pool_item {
	struct pool_item	*next;
};

/*
 * A slab: this header, then items, handed out from its free list, else
 * bumped from the never-used rest (untouched pages stay uncommitted).
 * New items come from the partial list (slabs other than the current
 * one with a freed item: holes are reused), else from the current slab,
 * else from a new one.  A slab whose items are all free is unmapped at
 * once (the current one is kept), so the memory a flood took goes back
 * to the system as its flows end.
 *
 * While flows are losing DPI to the memory budget (a shed in the last
 * per_slab allocations), holes are not reused: the budget takes states
 * oldest first, so the old slabs empty whole and are unmapped, while new
 * states fill the current slab.  Reusing holes there would scatter new
 * states over the slabs being emptied and keep them mapped (measured on
 * a 2 M-packet SYN flood: peak RSS 16 % of the budget over it with
 * reuse, 1.3 MiB without).
 */
struct slab {
	struct slab		*prev, *next;	/* every mapped slab */
	struct slab		*pprev, *pnext;	/* partial list */
	struct pool_item	*free;
	uint32_t		 live;
	uint32_t		 bump;		/* items ever handed out */
	uint32_t		 on_partial;
};

#define SLAB_HEAD	((sizeof(struct slab) + 63) & ~(size_t)63)

struct dpi {
	struct ndpi_detection_module_struct	*mod;
	unsigned				 n_dissections;
	size_t					 item_size;
	uint32_t				 per_slab;
	struct slab				*slabs;	/* all mapped */
	struct slab				*partial;
	struct slab				*cur;	/* bumped from */
	uint64_t				 allocs;
	uint64_t				 shed_at;	/* allocs then */
	size_t					 nslabs;	/* mapped */
	size_t					 items_used;
	size_t					 strings_held;	/* by cached flows */
	_Atomic int64_t				 heap;	/* nDPI's allocations, its
							 * bound threads' (see below) */
	int64_t					 heap_base;	/* nDPI's, at start */
	size_t					 module_bytes;	/* its module's */
	struct dpi_mem_peak			 peak;
	uint64_t				 flow_heap_freed;
	uint64_t				 flows_freed;
	char					(*proto_names)[NAME_MAX_LEN + 1];
	unsigned				 nprotos;
	char					 cat_names[NDPI_PROTOCOL_NUM_CATEGORIES][CATEGORY_LEN + 1];
	struct dpi_stats			 stats;
};

/*
 * nDPI's own allocations (members of its flow struct, the detection
 * module's caches), counted live through nDPI's allocation wrappers:
 * usable size plus the allocator's chunk header.  nDPI's wrappers are
 * process-wide but each meter thread has its own detection module, so
 * the count goes to the struct dpi bound to the allocating thread
 * (dpi_bind_thread(); dpi_create() binds its thread while it builds the
 * module): each meter's budget sees its own nDPI memory only.  An
 * allocation on a thread with no dpi bound goes to unbound_heap.
 */
static _Atomic int64_t unbound_heap;
static _Thread_local struct dpi *heap_owner;

static inline _Atomic int64_t *
heap_counter(void)
{
	return heap_owner != NULL ? &heap_owner->heap : &unbound_heap;
}

/* nDPI's allocations since d was created, never below 0 (signed: a free
 * of memory nDPI got before the wrappers must not wrap). */
static size_t
heap_since(const struct dpi *d)
{
	int64_t h = atomic_load_explicit(&d->heap, memory_order_relaxed) -
	    d->heap_base;

	return h > 0 ? (size_t)h : 0;
}

static void *
heap_malloc(size_t n)
{
	void *p = malloc(n);

	if (p != NULL)
		atomic_fetch_add_explicit(heap_counter(), (int64_t)
		    (malloc_usable_size(p) + ALLOC_OVERHEAD),
		    memory_order_relaxed);
	return p;
}

static void
heap_free(void *p)
{
	if (p == NULL)
		return;
	atomic_fetch_sub_explicit(heap_counter(), (int64_t)
	    (malloc_usable_size(p) + ALLOC_OVERHEAD), memory_order_relaxed);
	free(p);
}

void
dpi_bind_thread(struct dpi *d)
{
	heap_owner = d;
}

size_t
dpi_ext_size(void)
{
	return sizeof(struct dpi_flow);
}

const char *
dpi_version(void)
{
	return ndpi_revision();
}

static void
copy_name(char *dst, size_t max, const char *src)
{
	size_t n = src ? strnlen(src, max) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

struct dpi *
dpi_create(const struct dpi_conf *conf, char *errbuf, size_t errlen)
{
	NDPI_PROTOCOL_BITMASK all;
	struct dpi *d, *prev;
	unsigned i;

	if (ndpi_detection_get_sizeof_ndpi_flow_struct() !=
	    sizeof(struct ndpi_flow_struct)) {
		snprintf(errbuf, errlen, "nDPI headers and library disagree on the "
		    "flow structure size (%u vs %zu): rebuild against the installed "
		    "libndpi", ndpi_detection_get_sizeof_ndpi_flow_struct(),
		    sizeof(struct ndpi_flow_struct));
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	d->n_dissections = conf->n_dissections;
	d->item_size = (sizeof(struct ndpi_flow_struct) + 15) & ~(size_t)15;
	d->per_slab = (uint32_t)((SLAB_BYTES - SLAB_HEAD) / d->item_size);
	set_ndpi_malloc(heap_malloc);
	set_ndpi_free(heap_free);
	set_ndpi_flow_malloc(heap_malloc);
	set_ndpi_flow_free(heap_free);
	prev = heap_owner;
	heap_owner = d;		/* the module's allocations are d's */
	d->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (d->mod != NULL) {
		NDPI_BITMASK_SET_ALL(all);
		ndpi_set_protocol_detection_bitmask2(d->mod, &all);
		ndpi_finalize_initialization(d->mod);
	}
	heap_owner = prev;
	if (d->mod == NULL) {
		snprintf(errbuf, errlen, "cannot initialise nDPI");
		free(d);
		return NULL;
	}
	d->heap_base = atomic_load_explicit(&d->heap, memory_order_relaxed);
	d->module_bytes = d->heap_base > 0 ? (size_t)d->heap_base : 0;

	/* Copy the names once: outputs read them from another thread. */
	d->nprotos = ndpi_get_num_supported_protocols(d->mod);
	if ((d->proto_names = calloc(d->nprotos + 1, sizeof(*d->proto_names))) ==
	    NULL) {
		snprintf(errbuf, errlen, "out of memory");
		dpi_destroy(d);
		return NULL;
	}
	for (i = 0; i < d->nprotos; i++)
		copy_name(d->proto_names[i], NAME_MAX_LEN,
		    ndpi_get_proto_name(d->mod, (u_int16_t)i));
	for (i = 0; i < NDPI_PROTOCOL_NUM_CATEGORIES; i++)
		copy_name(d->cat_names[i], CATEGORY_LEN,
		    ndpi_category_get_name(d->mod, (ndpi_protocol_category_t)i));
	return d;
}

void
dpi_destroy(struct dpi *d)
{
	if (d == NULL)
		return;
	if (heap_owner == d)
		heap_owner = NULL;
	if (d->mod != NULL)
		ndpi_exit_detection_module(d->mod);
	while (d->slabs != NULL) {
		struct slab *sl = d->slabs;

		d->slabs = sl->next;
		munmap(sl, SLAB_BYTES);
	}
	free(d->proto_names);
	free(d);
}

static void
slab_partial_push(struct dpi *d, struct slab *sl)
{
	sl->pprev = NULL;
	sl->pnext = d->partial;
	if (d->partial != NULL)
		d->partial->pprev = sl;
	d->partial = sl;
	sl->on_partial = 1;
}

static void
slab_partial_unlink(struct dpi *d, struct slab *sl)
{
	if (sl->pprev != NULL)
		sl->pprev->pnext = sl->pnext;
	else
		d->partial = sl->pnext;
	if (sl->pnext != NULL)
		sl->pnext->pprev = sl->pprev;
	sl->on_partial = 0;
}

/* A new slab, SLAB_BYTES-aligned so an item finds its slab by masking. */
static struct slab *
slab_map(struct dpi *d)
{
	struct slab *sl;
	uint8_t *p, *base;
	size_t lead;

	p = mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	base = (uint8_t *)(((uintptr_t)p + SLAB_BYTES - 1) &
	    ~(uintptr_t)(SLAB_BYTES - 1));
	lead = (size_t)(base - p);
	if (lead != 0)
		munmap(p, lead);
	munmap(base + SLAB_BYTES, SLAB_BYTES - lead);
	sl = (struct slab *)(void *)base;
	memset(sl, 0, sizeof(*sl));
	sl->next = d->slabs;
	if (d->slabs != NULL)
		d->slabs->prev = sl;
	d->slabs = sl;
	d->nslabs++;
	return sl;
}

static void
slab_unmap(struct dpi *d, struct slab *sl)
{
	if (sl->on_partial)
		slab_partial_unlink(d, sl);
	if (sl->prev != NULL)
		sl->prev->next = sl->next;
	else
		d->slabs = sl->next;
	if (sl->next != NULL)
		sl->next->prev = sl->prev;
	munmap(sl, SLAB_BYTES);
	d->nslabs--;
}

static bool
slab_has_room(const struct dpi *d, const struct slab *sl)
{
	return sl->free != NULL || sl->bump < d->per_slab;
}

/* nDPI flow structs come from slabs and go back to their slab. */
static struct ndpi_flow_struct *
pool_get(struct dpi *d)
{
	struct pool_item *it;
	struct slab *sl = d->partial;

	if (sl == NULL || (d->shed_at != 0 &&
	    d->allocs - d->shed_at < d->per_slab)) {
		sl = d->cur;
		if (sl == NULL || !slab_has_room(d, sl)) {
			if ((sl = slab_map(d)) == NULL)
				return NULL;
			d->cur = sl;
		}
	}
	if ((it = sl->free) != NULL) {
		sl->free = it->next;
		if (sl->free == NULL && sl->on_partial)
			slab_partial_unlink(d, sl);
	} else
		it = (struct pool_item *)(void *)((uint8_t *)sl + SLAB_HEAD +
		    (size_t)sl->bump++ * d->item_size);
	sl->live++;
	d->items_used++;
	d->allocs++;
	memset(it, 0, sizeof(struct ndpi_flow_struct));
	return (struct ndpi_flow_struct *)(void *)it;
}

static void
pool_put(struct dpi *d, struct ndpi_flow_struct *nf)
{
	struct pool_item *it = (struct pool_item *)(void *)nf;
	struct slab *sl = (struct slab *)(((uintptr_t)nf) &
	    ~(uintptr_t)(SLAB_BYTES - 1));
	int64_t freed;

	freed = atomic_load_explicit(heap_counter(), memory_order_relaxed);
	ndpi_free_flow_data(nf);	/* members nDPI allocated itself */
	freed -= atomic_load_explicit(heap_counter(), memory_order_relaxed);
	if (freed > 0)
		d->flow_heap_freed += (uint64_t)freed;
	d->flows_freed++;
	it->next = sl->free;
	sl->free = it;
	sl->live--;
	d->items_used--;
	if (sl == d->cur)
		return;
	if (sl->live == 0)
		slab_unmap(d, sl);
	else if (!sl->on_partial)
		slab_partial_push(d, sl);
}

static void
set_protocol(struct dpi_flow *df, ndpi_protocol p)
{
	df->master = p.master_protocol;
	df->app = p.app_protocol;
	df->category = (uint16_t)p.category;
}

static int
is_proto(const struct dpi_flow *df, uint16_t id)
{
	return df->master == id || df->app == id;
}

static size_t
bounded_len(const char *s, size_t max)
{
	return s != NULL ? strnlen(s, max) : 0;
}

/*
 * Copy the strings NFStream reports, for the protocol that owns them, into
 * one allocation.  A failed allocation keeps ids and names, drops strings.
 */
static void
freeze_strings(struct dpi *d, struct dpi_flow *df)
{
	const struct ndpi_flow_struct *nf = df->nf;
	const char *src[DPI_STRINGS] = { NULL };
	size_t max[DPI_STRINGS] = { 0 }, total = 0, n;
	char tmp[DPI_STRINGS][4 * USER_AGENT_MAX + 1];
	struct string_block_head head;
	int i;

	src[DPI_SERVER_NAME] = nf->host_server_name;
	max[DPI_SERVER_NAME] = SERVER_NAME_MAX;
	if (is_proto(df, NDPI_PROTOCOL_DHCP)) {
		src[DPI_CLIENT_FP] = nf->protos.dhcp.fingerprint;
		max[DPI_CLIENT_FP] = DHCP_FP_MAX;
	} else if (is_proto(df, NDPI_PROTOCOL_HTTP)) {
		src[DPI_CONTENT_TYPE] = nf->http.content_type;
		max[DPI_CONTENT_TYPE] = CONTENT_TYPE_MAX;
		src[DPI_USER_AGENT] = nf->http.user_agent;
		max[DPI_USER_AGENT] = USER_AGENT_MAX;
	} else if (is_proto(df, NDPI_PROTOCOL_SSH)) {
		src[DPI_CLIENT_FP] = nf->protos.ssh.hassh_client;
		src[DPI_SERVER_FP] = nf->protos.ssh.hassh_server;
		max[DPI_CLIENT_FP] = max[DPI_SERVER_FP] = HASH_MAX;
	} else if (is_proto(df, NDPI_PROTOCOL_TLS) ||
	    is_proto(df, NDPI_PROTOCOL_DTLS) ||
	    is_proto(df, NDPI_PROTOCOL_MAIL_SMTPS) ||
	    is_proto(df, NDPI_PROTOCOL_MAIL_IMAPS) ||
	    is_proto(df, NDPI_PROTOCOL_MAIL_POPS) ||
	    is_proto(df, NDPI_PROTOCOL_QUIC)) {
		src[DPI_USER_AGENT] = nf->http.user_agent;	/* QUIC UAID */
		max[DPI_USER_AGENT] = USER_AGENT_MAX;
		src[DPI_CLIENT_FP] = nf->protos.tls_quic.ja3_client;
		src[DPI_SERVER_FP] = nf->protos.tls_quic.ja3_server;
		max[DPI_CLIENT_FP] = max[DPI_SERVER_FP] = HASH_MAX;
	}
	for (i = 0; i < DPI_STRINGS; i++) {
		n = bounded_len(src[i], max[i]);
		head.len[i] = (uint16_t)fmt_sanitize(tmp[i], sizeof(tmp[i]),
		    src[i], n);
		total += head.len[i];
	}
	df->strings = NULL;
	if (total == 0)
		return;
	if ((df->strings = malloc(sizeof(head) + total)) == NULL) {
		d->stats.alloc_failures++;
		return;
	}
	d->strings_held += malloc_usable_size(df->strings) + ALLOC_OVERHEAD;
	memcpy(df->strings, &head, sizeof(head));
	for (i = 0, n = sizeof(head); i < DPI_STRINGS; i++) {
		memcpy(df->strings + n, tmp[i], head.len[i]);
		n += head.len[i];
	}
	d->stats.string_bytes += sizeof(head) + total;
}

/* The result is final: keep ids, confidence and strings; free nDPI state. */
static void
finish(struct dpi *d, struct dpi_flow *df)
{
	df->confidence = (uint8_t)df->nf->confidence;
	freeze_strings(d, df);
	pool_put(d, df->nf);
	df->nf = NULL;
	df->state = DPI_DONE;
	if (df->app == NDPI_PROTOCOL_UNKNOWN && df->master == NDPI_PROTOCOL_UNKNOWN)
		d->stats.flows_unknown++;
	else if (df->guessed)
		d->stats.flows_guessed++;
	else
		d->stats.flows_detected++;
}

static void
give_up(struct dpi *d, struct dpi_flow *df)
{
	u_int8_t guessed = 0;

	set_protocol(df, ndpi_detection_giveup(d->mod, df->nf, 1, &guessed));
	df->guessed = guessed;
}

static void
dissect(struct dpi *d, struct dpi_flow *df, const uint8_t *l3, uint16_t len,
    uint64_t now_ms)
{
	set_protocol(df, ndpi_detection_process_packet(d->mod, df->nf, l3, len,
	    now_ms));
	d->stats.packets_dissected++;
}

void
dpi_packet(struct dpi *d, void *state, uint64_t k, const uint8_t *l3,
    uint16_t l3_len, uint64_t now_ms)
{
	struct dpi_flow *df = state;

	if (df->state == DPI_DONE)
		return;
	if (df->state == DPI_IDLE) {
		if ((df->nf = pool_get(d)) == NULL) {
			d->stats.alloc_failures++;
			df->state = DPI_DONE;	/* reported as Unknown */
			return;
		}
		df->state = DPI_DETECTING;
		dissect(d, df, l3, l3_len, now_ms);
		if (df->app == NDPI_PROTOCOL_UNKNOWN && d->n_dissections == 1) {
			give_up(d, df);
			finish(d, df);
		}
		return;
	}
	/* Known and nothing more to extract: done without this packet. */
	if (df->app != NDPI_PROTOCOL_UNKNOWN &&
	    !ndpi_extra_dissection_possible(d->mod, df->nf)) {
		finish(d, df);
		return;
	}
	dissect(d, df, l3, l3_len, now_ms);
	/* NFStream compares for equality: with 1 dissection, a known
	 * protocol keeps its extra dissection going. */
	if (k == d->n_dissections) {
		if (df->app == NDPI_PROTOCOL_UNKNOWN)
			give_up(d, df);
		finish(d, df);
	}
}

void
dpi_flow_end(struct dpi *d, void *state)
{
	struct dpi_flow *df = state;

	if (df->state == DPI_DETECTING) {
		if (df->app == NDPI_PROTOCOL_UNKNOWN)
			give_up(d, df);
		finish(d, df);
	}
	/* The string block leaves the flow table with the record. */
	if (df->strings != NULL)
		d->strings_held -= malloc_usable_size(df->strings) +
		    ALLOC_OVERHEAD;
}

/*
 * Memory budget reached: an undecided flow stops detection now, exactly
 * as if it ended here (give up with guessing, result frozen, nDPI state
 * freed); its later packets are not dissected.
 */
bool
dpi_flow_shed(struct dpi *d, void *state)
{
	struct dpi_flow *df = state;

	if (df->state != DPI_DETECTING)
		return false;
	if (df->app == NDPI_PROTOCOL_UNKNOWN)
		give_up(d, df);
	finish(d, df);
	d->stats.flows_shed++;
	d->shed_at = d->allocs;
	return true;
}

size_t
dpi_mem_bytes(struct dpi *d)
{
	size_t heap = heap_since(d), n;

	n = d->items_used * d->item_size + d->strings_held + heap;
	if (n > d->peak.total) {
		d->peak.total = n;
		d->peak.flows_detecting = d->items_used;
		d->peak.heap = heap;
		d->peak.strings = d->strings_held;
	}
	return n;
}

void
dpi_mem_info(const struct dpi *d, struct dpi_mem *out)
{
	out->flow_struct = d->item_size;
	out->flows_detecting = d->items_used;
	out->heap = heap_since(d);
	out->strings = d->strings_held;
	out->module = d->module_bytes;
	out->slabs = d->nslabs * SLAB_BYTES;
	out->peak = d->peak;
	out->flow_heap_avg = d->flows_freed ? (size_t)(d->flow_heap_freed /
	    d->flows_freed) : 0;
}

size_t
dpi_flow_struct_bytes(void)
{
	return (sizeof(struct ndpi_flow_struct) + 15) & ~(size_t)15;
}

void
dpi_flow_release(void *state)
{
	struct dpi_flow *df = state;

	free(df->strings);
	df->strings = NULL;
}

/* nDPI 4.2's confidence in NFStream's (nDPI 4.7) numbering. */
static int
confidence_nfstream(uint8_t c)
{
	switch (c) {
	case NDPI_CONFIDENCE_DPI_CACHE:
		return 5;
	case NDPI_CONFIDENCE_DPI:
		return 6;
	default:
		return c;	/* 0 unknown, 1 by port, 2 by IP (4.2 only) */
	}
}

static const char *
proto_name(const struct dpi *d, uint16_t id)
{
	return d->proto_names[id < d->nprotos ? id : NDPI_PROTOCOL_UNKNOWN];
}

/* Append s to an application name of off bytes (truncated as snprintf
 * would at APP_NAME_LEN); the new length. */
static size_t
name_append(char *name, size_t off, const char *s)
{
	size_t n = strlen(s);

	if (n > APP_NAME_LEN - off)
		n = APP_NAME_LEN - off;
	memcpy(name + off, s, n);
	name[off + n] = '\0';
	return off + n;
}

void
dpi_result(const struct dpi *d, const void *state, struct dpi_result *out)
{
	const struct dpi_flow *df = state;
	struct string_block_head head;
	size_t off;
	int i;

	memset(out, 0, sizeof(*out));
	out->master_id = df->master;
	out->app_id = df->app;
	/* ndpi_protocol2name(): "Master.App", or the one that is known.
	 * Concatenated by hand: snprintf() cost 0.3 us a flow, once per
	 * exported flow on the export thread. */
	if (df->master != NDPI_PROTOCOL_UNKNOWN && df->master != df->app) {
		off = name_append(out->app_name, 0, proto_name(d, df->master));
		if (df->app != NDPI_PROTOCOL_UNKNOWN) {
			off = name_append(out->app_name, off, ".");
			(void)name_append(out->app_name, off,
			    proto_name(d, df->app));
		}
	} else
		(void)name_append(out->app_name, 0, proto_name(d, df->app));
	out->category_name = d->cat_names[df->category <
	    NDPI_PROTOCOL_NUM_CATEGORIES ? df->category : 0];
	out->guessed = df->guessed;
	out->confidence = confidence_nfstream(df->confidence);
	if (df->strings == NULL)
		return;
	memcpy(&head, df->strings, sizeof(head));
	for (i = 0, off = sizeof(head); i < DPI_STRINGS; i++) {
		out->str[i].s = df->strings + off;
		out->str[i].len = head.len[i];
		off += head.len[i];
	}
}

void
dpi_get_stats(const struct dpi *d, struct dpi_stats *out)
{
	*out = d->stats;
}

unsigned
dpi_protocol_count(const struct dpi *d)
{
	return d->nprotos;
}

const char *
dpi_protocol_name(const struct dpi *d, unsigned id)
{
	return proto_name(d, (uint16_t)id);
}

static void
ext_packet(void *arg, void *state, const struct flowext_pkt *pk)
{
	dpi_packet(arg, state, pk->k, pk->pv->l3, pk->pv->l3_len, pk->now_ms);
}

static void
ext_flow_end(void *arg, void *state)
{
	dpi_flow_end(arg, state);
}

static bool
ext_shed(void *arg, void *state)
{
	return dpi_flow_shed(arg, state);
}

static size_t
ext_mem_bytes(void *arg)
{
	return dpi_mem_bytes(arg);
}

static void
ext_fill(void *arg, const void *state, void *scratch)
{
	dpi_result(arg, state, scratch);
}

static void
ext_release(void *arg, void *state)
{
	(void)arg;
	dpi_flow_release(state);
}

int
dpi_ext_register(struct dpi *d, struct flowext *x, char *errbuf,
    size_t errlen)
{
	struct flowext_client c;

	memset(&c, 0, sizeof(c));
	c.name = "dpi";
	c.size = dpi_ext_size();
	c.align = 8;
	c.fill_size = sizeof(struct dpi_result);
	c.hooks.packet = ext_packet;
	c.hooks.flow_end = ext_flow_end;
	c.hooks.fill = ext_fill;
	c.hooks.release = ext_release;
	c.hooks.shed = ext_shed;
	c.hooks.mem_bytes = ext_mem_bytes;
	c.mem_per_flow = dpi_flow_struct_bytes() + DPI_HEAP_PER_FLOW;
	c.arg = d;
	if ((x->dpi_id = flowext_register(x, &c, errbuf, errlen)) < 0)
		return -1;
	return 0;
}
