/*
 * wfile.h - an output file written with write(2) in whole units (rows,
 * messages), so that after a failed write the file can be cut back to the
 * end of the last whole unit and stays readable.  No buffering of its own:
 * the caller hands it whole buffers.
 */
#ifndef STREAMPROBE_WFILE_H
#define STREAMPROBE_WFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct wfile {
	int	fd;
	bool	regular;	/* a regular file: can be cut back */
	off_t	off;		/* the end of the last whole unit */
};

/* Open path for writing (flags: O_TRUNC or O_APPEND), created 0666 less
 * the umask; -1 with errno. */
int wfile_open(struct wfile *w, const char *path, int flags);
/* An already open descriptor (standard output): never cut back. */
void wfile_use(struct wfile *w, int fd);
/* Write all len bytes.  0; or the errno of the failure (ENOSPC when the
 * kernel took nothing) with *done bytes written. */
int wfile_write(struct wfile *w, const void *buf, size_t len, size_t *done);
/* After wfile_write() returned 0: its len bytes are whole units. */
void wfile_commit(struct wfile *w, size_t len);
/* After a failure: keep the first `keep` bytes of the failed write (whole
 * units) and cut the rest off a regular file. */
void wfile_cut(struct wfile *w, size_t keep);
/* Close (not standard output); -1 with errno. */
int wfile_close(struct wfile *w);

#endif
