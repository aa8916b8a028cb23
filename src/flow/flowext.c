/*
 * flowext.c - the flow-extension registry: layout and hook dispatch.
 *
 *	flowext_init(), flowext_register(), flowext_freeze()	start-up
 *	flowext_flow_end(), flowext_fill(), flowext_release()	per flow
 *	flowext_destroy()
 *
 * The per-packet dispatch is flowext_packet() in the header: one call
 * through a pointer per client with a packet hook, the same number of
 * calls as the direct ones it replaced (the clients live in other
 * translation units, so those were never inlined either).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowext.h"

void
flowext_init(struct flowext *x)
{
	memset(x, 0, sizeof(*x));
	x->dpi_id = -1;
	x->rec_size = sizeof(struct flow);
}

int
flowext_register(struct flowext *x, const struct flowext_client *c,
    char *errbuf, size_t errlen)
{
	const struct flowext_hooks *h = &c->hooks;
	const char *name = c->name != NULL ? c->name : "?";
	bool state_hooks = h->first_packet || h->packet || h->flow_end ||
	    h->fill || h->release || h->shed;

	if (x->frozen) {
		snprintf(errbuf, errlen, "flow extension %s: registered after "
		    "start-up (the layout is frozen)", name);
		return -1;
	}
	if (x->n == FLOWEXT_MAX_CLIENTS) {
		snprintf(errbuf, errlen, "flow extension %s: more than %d "
		    "extensions", name, FLOWEXT_MAX_CLIENTS);
		return -1;
	}
	if (!state_hooks) {
		snprintf(errbuf, errlen, "flow extension %s: no hook", name);
		return -1;
	}
	if (c->size == 0 && (h->first_packet || h->packet || h->flow_end ||
	    h->release || h->shed)) {
		snprintf(errbuf, errlen, "flow extension %s: hooks on per-flow "
		    "state but no state (size 0)", name);
		return -1;
	}
	if (c->align == 0 || (c->align & (c->align - 1)) != 0 ||
	    c->align > FLOWEXT_MAX_ALIGN) {
		snprintf(errbuf, errlen, "flow extension %s: alignment %zu (want "
		    "a power of two up to %d)", name, c->align,
		    FLOWEXT_MAX_ALIGN);
		return -1;
	}
	if ((c->fill_size != 0) != (h->fill != NULL)) {
		snprintf(errbuf, errlen, "flow extension %s: a fill hook needs a "
		    "scratch size, and a scratch size a fill hook", name);
		return -1;
	}
	x->c[x->n] = *c;
	/* Registration order is layout order: each at its own alignment. */
	x->off[x->n] = (x->size + c->align - 1) & ~(c->align - 1);
	x->size = x->off[x->n] + c->size;
	return (int)x->n++;
}

/* A client with a first-packet hook only: nothing on later packets. */
static void
no_packet(void *arg, void *state, const struct flowext_pkt *pk)
{
	(void)arg;
	(void)state;
	(void)pk;
}

int
flowext_freeze(struct flowext *x, char *errbuf, size_t errlen)
{
	const struct flowext_client *c;
	unsigned i;

	if (x->frozen)
		return 0;
	for (i = 0; i < x->n; i++) {
		c = &x->c[i];
		if (c->fill_size != 0 &&
		    (x->scratch[i] = calloc(1, c->fill_size)) == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
		if (c->hooks.first_packet == NULL && c->hooks.packet == NULL)
			continue;
		x->pkt[x->npkt].first = c->hooks.first_packet;
		x->pkt[x->npkt].packet = c->hooks.packet != NULL ?
		    c->hooks.packet : no_packet;
		x->pkt[x->npkt].arg = c->arg;
		x->pkt[x->npkt].off = x->off[i];
		x->any_first |= c->hooks.first_packet != NULL;
		x->npkt++;
	}
	x->size = (x->size + 7) & ~(size_t)7;
	x->rec_size = sizeof(struct flow) + x->size;
	x->frozen = true;
	return 0;
}

void
flowext_flow_end(const struct flowext *x, const struct flow *f)
{
	unsigned i;

	for (i = 0; i < x->n; i++)
		if (x->c[i].hooks.flow_end != NULL)
			x->c[i].hooks.flow_end(x->c[i].arg,
			    flowext_state(x, (int)i, f));
}

void
flowext_fill(const struct flowext *x, const struct flow *f)
{
	unsigned i;

	for (i = 0; i < x->n; i++)
		if (x->c[i].hooks.fill != NULL)
			x->c[i].hooks.fill(x->c[i].arg,
			    flowext_state(x, (int)i, f), x->scratch[i]);
}

void
flowext_release(const struct flowext *x, const struct flow *f)
{
	unsigned i;

	for (i = 0; i < x->n; i++)
		if (x->c[i].hooks.release != NULL)
			x->c[i].hooks.release(x->c[i].arg,
			    flowext_state(x, (int)i, f));
}

bool
flowext_shed(const struct flowext *x, const struct flow *f)
{
	bool any = false;
	unsigned i;

	for (i = 0; i < x->n; i++)
		if (x->c[i].hooks.shed != NULL)
			any |= x->c[i].hooks.shed(x->c[i].arg,
			    flowext_state(x, (int)i, f));
	return any;
}

size_t
flowext_mem_bytes(const struct flowext *x)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < x->n; i++)
		if (x->c[i].hooks.mem_bytes != NULL)
			n += x->c[i].hooks.mem_bytes(x->c[i].arg);
	return n;
}

size_t
flowext_mem_per_flow(const struct flowext *x)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < x->n; i++)
		n += x->c[i].mem_per_flow;
	return n;
}

void
flowext_destroy(struct flowext *x)
{
	unsigned i;

	for (i = 0; i < x->n; i++) {
		free(x->scratch[i]);
		x->scratch[i] = NULL;
	}
}
