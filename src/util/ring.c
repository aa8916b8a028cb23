/*
 * ring.c - SPSC ring with C11 acquire/release indices.
 *
 *	ring_create/destroy()
 *	ring_push_begin/end()	producer side
 *	ring_pop_begin/end()	consumer side
 *
 * head and tail count records forever (64-bit: no wrap in practice); each
 * side caches the other's index to touch the shared cache line only when
 * the cached value says full/empty.
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "ring.h"

struct ring {
	alignas(64) _Atomic uint64_t	head;	/* written by the producer */
	uint64_t			tail_cache;
	alignas(64) _Atomic uint64_t	tail;	/* written by the consumer */
	uint64_t			head_cache;
	alignas(64) uint8_t		*slots;
	size_t				slot_size;
	uint64_t			mask;
};

struct ring *
ring_create(uint32_t slots, size_t slot_size)
{
	struct ring *r;
	uint64_t n = 1;

	while (n < slots)
		n <<= 1;
	if ((r = aligned_alloc(64, (sizeof(*r) + 63) & ~(size_t)63)) == NULL)
		return NULL;
	r->slot_size = (slot_size + 7) & ~(size_t)7;
	if ((r->slots = malloc(n * r->slot_size)) == NULL) {
		free(r);
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->tail_cache = r->head_cache = 0;
	r->mask = n - 1;
	return r;
}

void
ring_destroy(struct ring *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

void *
ring_push_begin(struct ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (h - r->tail_cache > r->mask) {
		r->tail_cache = atomic_load_explicit(&r->tail,
		    memory_order_acquire);
		if (h - r->tail_cache > r->mask)
			return NULL;
	}
	return r->slots + (h & r->mask) * r->slot_size;
}

uint32_t
ring_room(struct ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	return (uint32_t)(r->mask + 1 - (h - r->tail_cache));
}

void
ring_push_end(struct ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

const void *
ring_pop_begin(struct ring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (t == r->head_cache) {
		r->head_cache = atomic_load_explicit(&r->head,
		    memory_order_acquire);
		if (t == r->head_cache)
			return NULL;
	}
	return r->slots + (t & r->mask) * r->slot_size;
}

void
ring_pop_end(struct ring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

uint32_t
ring_pending(struct ring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
	return (uint32_t)(r->head_cache - t);
}

uint32_t
ring_size(const struct ring *r)
{
	return (uint32_t)(r->mask + 1);
}

uint32_t
ring_filled(const struct ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	return (uint32_t)(h - atomic_load_explicit(&r->tail,
	    memory_order_acquire));
}
