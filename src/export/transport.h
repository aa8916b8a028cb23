/*
 * transport.h - moves finished export messages to a collector or a file.
 *
 * Encoders (IPFIX via libfixbuf, NetFlow v9) produce whole messages;
 * a transport sends them and counts what it sent and what it could not.
 *  - UDP: sent in batches (one sendmmsg(2) for up to 32 datagrams, each
 *    one message), when a batch is full and at every transport_flush(),
 *    by a sender thread once transport_start() ran (before: from the
 *    caller's thread); a datagram whose send fails is dropped (counted),
 *    as a send(2) of its own would have been.
 *  - TCP: its own thread behind a bounded queue, so a slow or absent
 *    collector never blocks the caller.  Connects without blocking, retries
 *    with backoff, and sends the preamble (templates) first on every new
 *    connection.  Messages that do not fit in the queue, or are still
 *    queued when the transport closes, are dropped and counted.
 *  - file: written in order, one write(2) a message; on a failed write the
 *    file is cut back to the end of the last whole message (it stays
 *    readable), the cause is logged at once, and that message and every
 *    later one are dropped and counted (until a reopen).
 * Counters are safe to read from any thread.
 */
#ifndef STREAMPROBE_TRANSPORT_H
#define STREAMPROBE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum transport_kind {
	TRANSPORT_UDP,
	TRANSPORT_TCP,
	TRANSPORT_FILE
};

struct transport_conf {
	enum transport_kind	 kind;
	const char		*host;		/* UDP, TCP */
	const char		*port;
	const char		*path;		/* file; "-" for stdout */
	size_t			 queue_bytes;	/* TCP; 0 = default */
};

struct transport_stats {
	uint64_t	messages;	/* handed to the network or file */
	uint64_t	octets;
	uint64_t	records;
	uint64_t	records_dropped;
	uint64_t	messages_dropped;
	uint64_t	connects;	/* TCP connections made */
};

struct transport;

struct transport *transport_open(const struct transport_conf *conf,
    char *errbuf, size_t errlen);
/* UDP, TCP: does the collector's host name resolve?  Nothing is opened
 * (--check-config); files always pass.  -1 with transport_open's message. */
int transport_resolve(const struct transport_conf *conf, char *errbuf,
    size_t errlen);
/* Send (or queue) one message holding `records` data records. */
void transport_send(struct transport *t, const uint8_t *msg, size_t len,
    uint32_t records);
/* UDP: send the messages batched so far now (the encoders call it at every
 * tick: a message waits at most one tick); no-op for the others.  Counters
 * include a batched message only once it is sent or dropped. */
void transport_flush(struct transport *t);
/* TCP: bytes sent first on each new connection (the templates). */
int transport_set_preamble(struct transport *t, const uint8_t *buf,
    size_t len);
/* Start sending (TCP: the connection thread; UDP: the sender thread);
 * call after the preamble. */
int transport_start(struct transport *t, char *errbuf, size_t errlen);
/* Files: reopen by name, appending (SIGHUP, logrotate).  Returns 1 when a
 * new file was opened (the encoder then writes its templates again), 0 for
 * transports that need nothing, -1 (old file kept) on failure. */
int transport_reopen(struct transport *t, char *errbuf, size_t errlen);
/* Largest message the transport accepts (UDP: one datagram). */
size_t transport_mtu(const struct transport *t);
int transport_is_stream(const struct transport *t);
void transport_stats(struct transport *t, struct transport_stats *out);
/*
 * TCP backlog (any thread): records and bytes in our queue, and written to
 * the socket but not yet acknowledged by the collector's host (SIOCOUTQ,
 * as of the sending thread's last look).  0 for other transports.
 */
struct transport_backlog {
	uint64_t	queued_records, queued_bytes;
	uint64_t	kernel_records, kernel_bytes;
};
void transport_backlog(struct transport *t, struct transport_backlog *out);
/*
 * Flush and close; TCP waits at most wait_ms for its queue to drain, and
 * what is still queued then is dropped and counted.  *final (may be NULL)
 * receives the counters as they stand after that.
 */
int transport_close(struct transport *t, unsigned wait_ms,
    struct transport_stats *final, char *errbuf, size_t errlen);

/*
 * An encoder's end of its transport: close *tr, keeping its final counters
 * in *final and a failure text in error; *tr is NULL afterwards.
 */
int transport_finish(struct transport **tr, unsigned wait_ms,
    struct transport_stats *final, char *error, size_t errlen);
/* The summary line of a binary exporter (stderr at the end of a run):
 * live counters while tr is open, the final ones once it is finished. */
void transport_report(FILE *fp, const char *name, uint64_t flows,
    struct transport *tr, const struct transport_stats *final,
    uint64_t not_encodable, bool connections);
/* Records accepted but not delivered (any thread): tr's live counter, or
 * final's once tr is finished (NULL). */
uint64_t transport_records_lost(struct transport *tr,
    const struct transport_stats *final);

#endif
