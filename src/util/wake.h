/*
 * wake.h - one sleeping consumer woken by producers: the export stage
 * sleeps on it until a meter pushes a flow, a request arrives or its next
 * timer is due, instead of polling the rings.
 *
 * The consumer announces that it is about to sleep (wake_prepare()),
 * checks its queues once more, then sleeps (wake_wait()).  A producer
 * calls wake_signal() after publishing work: it costs a fence and a load
 * unless the consumer is asleep, so it may be called for every flow.  The
 * fences on both sides (store the flag, then read the queue; publish the
 * queue, then read the flag) make a lost wakeup impossible.  Linux eventfd.
 */
#ifndef STREAMPROBE_WAKE_H
#define STREAMPROBE_WAKE_H

#include <stdatomic.h>

struct wake {
	int		fd;		/* eventfd */
	_Atomic int	waiting;	/* the consumer may be asleep */
};

int wake_init(struct wake *w);		/* -1 with errno */
void wake_destroy(struct wake *w);

/* Consumer: about to sleep; check the queues after this. */
static inline void
wake_prepare(struct wake *w)
{
	atomic_store_explicit(&w->waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
}

/* Consumer: work was found after wake_prepare(); do not sleep. */
static inline void
wake_cancel(struct wake *w)
{
	atomic_store_explicit(&w->waiting, 0, memory_order_relaxed);
}

/* Consumer: sleep until signalled or timeout_ms passed (-1: no limit). */
void wake_wait(struct wake *w, int timeout_ms);

/* Unconditional wake-up; async-signal-safe (a write(2)). */
void wake_kick(struct wake *w);

/* Producer, after publishing work: wake the consumer if it sleeps. */
static inline void
wake_signal(struct wake *w)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&w->waiting, memory_order_relaxed) &&
	    atomic_exchange_explicit(&w->waiting, 0, memory_order_relaxed))
		wake_kick(w);
}

#endif
