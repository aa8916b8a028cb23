/*
 * capture.h - packet sources: capture files read as one stream, or a live
 * interface.  The only module that includes libpcap.
 *
 * capture_dispatch() hands packets to a callback; the frame is borrowed
 * until the callback returns.  Opening validates everything up front
 * (every file readable and a capture, the filter compiles for each, the
 * interface exists) so that bad input fails before any packet is read.
 */
#ifndef STREAMPROBE_CAPTURE_H
#define STREAMPROBE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPTURE_EOF	(-2)	/* every file read to its end */
#define CAPTURE_ERROR	(-1)	/* read error; see capture_error() */

struct capture;

struct capture_conf {
	const char *const	*files;		/* offline, read in order */
	unsigned		 nfiles;
	const char		*iface;		/* live, when nfiles == 0 */
	const char		*bpf;		/* NULL: no filter */
	int			 snaplen;	/* live */
	bool			 promisc;	/* live */
	int			 buffer_size;	/* live, bytes; 0 = default */
	bool			 immediate;	/* live: no kernel batching */
	int			 timeout_ms;	/* live: longest wait for packets */
};

struct cap_pkt {
	int64_t		ts_sec;
	int64_t		ts_usec;	/* signed, as libpcap gives it */
	uint32_t	caplen;
	uint32_t	wirelen;
	int		dlt;
};

struct capture_stats {
	uint64_t	received;
	uint64_t	dropped;	/* by the kernel: buffer full */
	uint64_t	if_dropped;	/* by the interface/driver */
};

typedef void (*capture_cb)(void *arg, const struct cap_pkt *hdr,
    const uint8_t *frame);

struct capture *capture_open(const struct capture_conf *conf, char *errbuf,
    size_t errlen);
/* Up to max packets; returns the count (0 when a live interface stayed
 * quiet for timeout_ms), CAPTURE_EOF or CAPTURE_ERROR. */
int capture_dispatch(struct capture *cap, int max, capture_cb cb, void *arg);
/* Live: how long a quiet interface is polled before dispatch returns 0
 * (the caller's timers and wall-clock expiry run between reads). */
void capture_set_wait(struct capture *cap, int ms);
const char *capture_error(const struct capture *cap);
void capture_breakloop(struct capture *cap);	/* async-signal-safe */
bool capture_is_live(const struct capture *cap);
int capture_stats(struct capture *cap, struct capture_stats *st);
/* Files: bytes read so far and in all; -1 when unknown (live, pipes). */
int capture_progress(struct capture *cap, uint64_t *done, uint64_t *total);
void capture_close(struct capture *cap);

#endif
