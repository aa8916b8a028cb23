/*
 * ring.h - single-producer single-consumer ring of fixed-size records.
 *
 * The metering thread copies each finished flow into a slot; the export
 * thread reads it.  Push and pop never block or allocate: a full ring
 * returns NULL to the producer, which decides to wait (file input) or to
 * count a drop (live capture never stalls).
 */
#ifndef STREAMPROBE_RING_H
#define STREAMPROBE_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring;

struct ring *ring_create(uint32_t slots, size_t slot_size);
void ring_destroy(struct ring *r);

void *ring_push_begin(struct ring *r);		/* NULL when full */
uint32_t ring_room(struct ring *r);		/* producer: free slots */
void ring_push_end(struct ring *r);
const void *ring_pop_begin(struct ring *r);	/* NULL when empty */
void ring_pop_end(struct ring *r);
/* Slots filled, as the consumer (ring_pending()) or the producer
 * (ring_filled()) sees it: for wake-up hysteresis, exact or a little stale. */
uint32_t ring_pending(struct ring *r);
uint32_t ring_filled(const struct ring *r);
uint32_t ring_size(const struct ring *r);	/* slots */

#endif
