/*
 * flowext.h - the flow-extension registry: per-flow state that clients
 * (features, DPI, later plugins) keep after each flow record, and the
 * hooks through which the meter and the export stage drive them.
 *
 * Start-up (one thread): flowext_init(), then each client calls
 * flowext_register() with its size, alignment and hooks and gets an id
 * (its state lies at flowext_offset() in flow_ext()), then
 * flowext_freeze() fixes the layout (size, rec_size) and builds the
 * dispatch tables.  Registering after the freeze, an alignment that is not
 * a power of two up to FLOWEXT_MAX_ALIGN, state hooks with size 0, or a
 * client with no hook at all is refused with a message.
 *
 * Hooks and their threads, in registration order (flowfeat, then DPI,
 * then later clients):
 *	first_packet, packet	metering thread, for each packet of the flow
 *				(packet 1: first_packet if set, else packet).
 *				Ordering rule: every client's hook runs before
 *				flow_account() for the same packet, so all read
 *				the flow's counters as they were before it;
 *				pk->k is this packet's number (1-based, both
 *				directions).  No allocation, no blocking.
 *	flow_end		metering thread, when the flow expires, before
 *				the record is copied to the export ring: make
 *				the state final.
 *	fill			export thread, once per exported flow, before
 *				the columns are read: derive what the client's
 *				columns show into its scratch (fill_size bytes,
 *				flowext_scratch(); one export thread).
 *	release			whoever holds the record last, once: the export
 *				thread after export, or the metering thread when
 *				the record is dropped.
 *	shed, mem_bytes		metering thread, the memory budget (meter.c):
 *				mem_bytes is what the client holds outside the
 *				records now (a running count, O(1)); shed gives
 *				up a cached flow's state early, as at its end.
 *
 * Threads: extension state crosses from the meter to the export stage by
 * copy (memcpy of flow + extensions into the ring).  It must be plain
 * data: any pointer in it is owned by the record from flow_end on and
 * freed by release, exactly once (as DPI's string block), never shared
 * with the meter's later flows.  The flow table zeroes the state when a
 * flow is created.
 */
#ifndef STREAMPROBE_FLOWEXT_H
#define STREAMPROBE_FLOWEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "flowfeat.h"

struct pkt_view;

#define FLOWEXT_MAX_CLIENTS	32
#define FLOWEXT_MAX_ALIGN	8	/* flow_ext() is 8-byte aligned */

/* One packet, as the hooks see it (read-only). */
struct flowext_pkt {
	const struct flow	*f;		/* counters before this packet */
	const struct pkt_view	*pv;		/* decoded headers, payload */
	enum flow_dir		 dir;
	uint64_t		 now_ms;	/* the meter's clock */
	uint64_t		 k;		/* packet number, from 1 */
	uint16_t		 size;		/* under the accounting mode */
};

typedef void (*flowext_pkt_fn)(void *arg, void *state,
    const struct flowext_pkt *pk);

struct flowext_hooks {
	flowext_pkt_fn	first_packet;
	flowext_pkt_fn	packet;
	void		(*flow_end)(void *arg, void *state);
	void		(*fill)(void *arg, const void *state, void *scratch);
	void		(*release)(void *arg, void *state);
	/* Memory budget (metering thread): shed releases what the state
	 * holds outside the record now (true if it held something);
	 * mem_bytes is what the client holds for cached flows, O(1). */
	bool		(*shed)(void *arg, void *state);
	size_t		(*mem_bytes)(void *arg);
};

struct flowext_client {
	const char		*name;		/* for messages */
	size_t			 size;		/* per-flow state, bytes */
	size_t			 align;		/* power of two <= 8 */
	size_t			 fill_size;	/* export-thread scratch */
	size_t			 mem_per_flow;	/* typical bytes held outside
						 * the record (default budget) */
	struct flowext_hooks	 hooks;
	void			*arg;		/* the hooks' first argument */
};

struct flowext_slot {
	flowext_pkt_fn	 first, packet;
	void		*arg;
	size_t		 off;
};

struct flowext {
	struct flowext_client	 c[FLOWEXT_MAX_CLIENTS];
	size_t			 off[FLOWEXT_MAX_CLIENTS];
	void			*scratch[FLOWEXT_MAX_CLIENTS];
	unsigned		 n;
	bool			 frozen;
	size_t			 size;		/* every extension's bytes */
	size_t			 rec_size;	/* flow record + extensions */
	/* Per-packet dispatch: clients with a packet hook, in order. */
	struct flowext_slot	 pkt[FLOWEXT_MAX_CLIENTS];
	unsigned		 npkt;
	bool			 any_first;
	/* The built-in clients, as the export stage's flow view names them
	 * (struct flow_view's feat and l7). */
	struct flowfeat_conf	 feat;
	int			 dpi_id;	/* -1: no DPI */
};

void flowext_init(struct flowext *x);
/* The client's id, or -1 with a message in errbuf. */
int flowext_register(struct flowext *x, const struct flowext_client *c,
    char *errbuf, size_t errlen);
int flowext_freeze(struct flowext *x, char *errbuf, size_t errlen);
void flowext_destroy(struct flowext *x);

static inline size_t
flowext_offset(const struct flowext *x, int id)
{
	return x->off[id];
}

static inline void *
flowext_state(const struct flowext *x, int id, const struct flow *f)
{
	return (uint8_t *)flow_ext((struct flow *)f) + x->off[id];
}

static inline void *
flowext_scratch(const struct flowext *x, int id)
{
	return x->scratch[id];
}

/* Metering thread, before flow_account() (see the ordering rule). */
static inline void
flowext_packet(const struct flowext *x, struct flow *f,
    const struct flowext_pkt *pk)
{
	const struct flowext_slot *s = x->pkt, *end = s + x->npkt;
	uint8_t *ext = flow_ext(f);

	if (x->any_first && pk->k == 1) {
		for (; s < end; s++)
			(s->first ? s->first : s->packet)(s->arg, ext + s->off,
			    pk);
		return;
	}
	for (; s < end; s++)
		s->packet(s->arg, ext + s->off, pk);
}

void flowext_flow_end(const struct flowext *x, const struct flow *f);
/* Export thread: every client's fill into its scratch. */
void flowext_fill(const struct flowext *x, const struct flow *f);
void flowext_release(const struct flowext *x, const struct flow *f);
/* Memory budget: every client's shed hook; true if any released state. */
bool flowext_shed(const struct flowext *x, const struct flow *f);
/* Bytes the clients hold outside the records (sum of mem_bytes). */
size_t flowext_mem_bytes(const struct flowext *x);
/* Sum of the clients' mem_per_flow. */
size_t flowext_mem_per_flow(const struct flowext *x);

#endif
