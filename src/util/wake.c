/*
 * wake.c - eventfd wake-ups (see wake.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "wake.h"

int
wake_init(struct wake *w)
{
	atomic_init(&w->waiting, 0);
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return w->fd < 0 ? -1 : 0;
}

void
wake_destroy(struct wake *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void
wake_wait(struct wake *w, int timeout_ms)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	uint64_t v;

	(void)poll(&pfd, 1, timeout_ms);	/* EINTR: just wake early */
	atomic_store_explicit(&w->waiting, 0, memory_order_relaxed);
	/* Reset the counter (nonblocking: EAGAIN when nothing was sent). */
	while (read(w->fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

void
wake_kick(struct wake *w)
{
	uint64_t one = 1;
	int saved = errno;	/* signal handlers call this */

	/* EAGAIN (counter full) still leaves it readable: nothing lost. */
	while (write(w->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	errno = saved;
}
