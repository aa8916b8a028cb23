/*
 * wfile.c - output files written in whole units (see wfile.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wfile.h"

int
wfile_open(struct wfile *w, const char *path, int flags)
{
	struct stat st;

	if ((w->fd = open(path, flags | O_WRONLY | O_CREAT | O_CLOEXEC,
	    0666)) < 0)
		return -1;
	w->regular = fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode);
	w->off = w->regular ? lseek(w->fd, 0, SEEK_END) : 0;
	if (w->off < 0)
		w->off = 0;
	return 0;
}

void
wfile_use(struct wfile *w, int fd)
{
	w->fd = fd;
	w->regular = false;
	w->off = 0;
}

int
wfile_write(struct wfile *w, const void *buf, size_t len, size_t *done)
{
	const char *p = buf;
	ssize_t n;

	*done = 0;
	while (*done < len) {
		n = write(w->fd, p + *done, len - *done);
		if (n > 0) {
			*done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? errno : ENOSPC;	/* 0 bytes: nothing fits */
	}
	return 0;
}

void
wfile_commit(struct wfile *w, size_t len)
{
	w->off += (off_t)len;
}

void
wfile_cut(struct wfile *w, size_t keep)
{
	w->off += (off_t)keep;
	/* A failed cut leaves the tail: nothing more can be done. */
	if (w->regular && ftruncate(w->fd, w->off) == 0)
		(void)lseek(w->fd, w->off, SEEK_SET);
}

int
wfile_close(struct wfile *w)
{
	int rc = 0;

	if (w->fd >= 0 && w->fd != STDOUT_FILENO)
		rc = close(w->fd);
	w->fd = -1;
	return rc;
}
