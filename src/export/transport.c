/*
 * transport.c - UDP, TCP and file transports for export messages.
 *
 *	transport_open()	resolve/open; UDP and TCP checks at start-up
 *	transport_resolve()	the name lookup alone (--check-config)
 *	transport_send()	one message (UDP batched, TCP queued, file written)
 *	transport_flush()	UDP: send the batch now
 *	transport_set_preamble(), transport_start()
 *	transport_mtu(), transport_is_stream()
 *	transport_stats(), transport_close()
 *	transport_finish(), transport_report(), transport_records_lost()
 *				an encoder's end of the transport, its summary
 *	tcp_thread_main()	TCP: connect, backoff, preamble, drain
 *
 * The TCP queue is a list of whole messages under one mutex: the lock is
 * taken per message, never per packet.
 *
 * UDP: messages are copied into a batch that one sendmmsg(2) sends (one
 * system call for up to UDP_BATCH datagrams, each still one message within
 * the MTU), when the batch is full and at every exporter tick (transport_
 * flush(): the export thread ticks every 1024 records and whenever its
 * rings run empty, and the idle flush of a partial message happens in a
 * tick too), and before closing.  The outcome of each datagram is what a
 * send(2) of its own would have had: sendmmsg() runs the same per-datagram
 * send in order and stops at the first that fails (that one is not sent:
 * counted as dropped, and the rest go in the next call), so the counters
 * stay exact per message and per record; they are updated when the batch
 * goes out, at most one tick after the message was made.  Once started
 * (transport_start()), a sender thread makes those system calls: the
 * export thread fills batches in a ring of UDP_RING_BATCHES and goes on
 * encoding while the kernel takes the last ones (half of the export
 * thread's time at 1 M flows went to sending).  A full ring makes the
 * export thread wait for the sender, which never blocks (MSG_DONTWAIT).
 */
#define _GNU_SOURCE	/* sendmmsg() */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "log.h"
#include "monotime.h"
#include "ring.h"
#include "transport.h"
#include "wake.h"
#include "wfile.h"

#define UDP_MTU			1420	/* as libfixbuf's UDP exporter */
#define STREAM_MTU		65496
#define TCP_QUEUE_DEFAULT	(16u << 20)
#define BACKOFF_MIN_MS		250
#define BACKOFF_MAX_MS		8000
#define CONNECT_TIMEOUT_MS	2000
#define SEND_TIMEOUT_MS		5000
#define UDP_RECOVERED_MS	10000	/* quiet this long before "sending again" */
#define UDP_BATCH		32	/* datagrams per sendmmsg() */
#define UDP_BATCH_BYTES		65536	/* their bytes: any one datagram fits */
/* Between the export and sender threads: 32 x 64 KiB, a sleeping sender
 * woken for 8 (a wake-up per 256 datagrams, not per 64). */
#define UDP_RING_BATCHES	32
#define UDP_WAKE_BATCHES	8
#define UDP_IDLE_MS		1000	/* sender: nothing queued, look again */

/* Datagrams waiting for one sendmmsg(2), their bytes back to back. */
struct udp_batch {
	unsigned	n;
	size_t		bytes;
	uint32_t	len[UDP_BATCH];
	uint32_t	records[UDP_BATCH];
	uint8_t		data[UDP_BATCH_BYTES];
};

struct qmsg {
	struct qmsg	*next;
	size_t		 len;
	uint32_t	 records;
	uint8_t		 data[];
};

/*
 * TCP: a message written to the socket whole, until the collector's host
 * acknowledges it (its end at or below the acknowledged offset).
 */
struct inflight {
	uint64_t	end;		/* stream offset after the message */
	uint32_t	len;
	uint32_t	records;
};

struct transport {
	struct transport_conf	 conf;
	char			 name[300];
	int			 fd;		/* UDP, TCP (thread-owned) */
	bool			 is_file;
	struct wfile		 file;
	bool			 file_dead;	/* a write failed: drop */
	struct addrinfo		*ai;		/* TCP: resolved collector */
	/* TCP thread and queue */
	pthread_t		 thread;
	bool			 thread_started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct qmsg		*head, *tail;
	size_t			 queued_bytes;
	bool			 stop;
	uint64_t		 stop_deadline_ms;
	uint8_t			*preamble;
	size_t			 preamble_len;
	bool			 down_logged;
	/* TCP thread only: the connection's stream and its unacknowledged
	 * messages, oldest first (a ring of cap entries) */
	uint64_t		 stream_written;
	struct inflight		*infl;
	size_t			 infl_head, infl_n, infl_cap;
	uint64_t		 last_fail_ms;
	/* UDP: datagrams made, not yet handed to the kernel: the batch being
	 * filled (own, or a ring slot once the sender runs) */
	struct udp_batch	*own;
	struct udp_batch	*cur;
	struct ring		*uring;		/* to the sender thread */
	struct wake		 usend;		/* the sender sleeps on it */
	struct wake		 uroom;		/* the export thread waits on it */
	_Atomic bool		 ustop;
	struct mmsghdr		 mm[UDP_BATCH];	/* the sending thread's */
	struct iovec		 iov[UDP_BATCH];
	/* counters */
	_Atomic uint64_t	 messages, octets, records;
	_Atomic uint64_t	 records_dropped, messages_dropped, connects;
	/* TCP backlog, published for the status line and statistics */
	_Atomic uint64_t	 q_bytes, q_records;	/* our queue */
	_Atomic uint64_t	 k_bytes, k_records;	/* written, not yet
						 * acknowledged */
};

static void
count_sent(struct transport *t, size_t len, uint32_t records)
{
	atomic_fetch_add(&t->messages, 1);
	atomic_fetch_add(&t->octets, len);
	atomic_fetch_add(&t->records, records);
}

static void
count_dropped(struct transport *t, uint32_t records)
{
	atomic_fetch_add(&t->messages_dropped, 1);
	atomic_fetch_add(&t->records_dropped, records);
}

/*
 * Files: one write(2) per message, so that the end of the last whole
 * message is known.  A message that does not go in whole is cut off again
 * (the file stays readable to its end), its records and every later one
 * are dropped and counted, and the cause is logged at once; a reopened
 * file (SIGHUP) is tried again.
 */
static void
file_send(struct transport *t, const uint8_t *msg, size_t len,
    uint32_t records)
{
	size_t done;
	int err;

	if (t->file_dead) {
		count_dropped(t, records);
		return;
	}
	if ((err = wfile_write(&t->file, msg, len, &done)) == 0) {
		wfile_commit(&t->file, len);
		count_sent(t, len, records);
		return;
	}
	wfile_cut(&t->file, 0);
	count_dropped(t, records);
	t->file_dead = true;
	log_warnx("%s: write failed (%s); the file ends with the last whole "
	    "message, later records are counted as dropped", t->name,
	    strerror(err));
}

/* Write everything, waiting at most timeout_ms for the socket each time;
 * *done (may be NULL) gets the bytes written, also on failure. */
static int
write_all(int fd, const uint8_t *p, size_t len, int timeout_ms, size_t *done)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	ssize_t n;

	if (done != NULL)
		*done = 0;
	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			if (done != NULL)
				*done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -1;
		if ((n = poll(&pfd, 1, timeout_ms)) <= 0) {
			if (n == 0)
				errno = ETIMEDOUT;	/* a hung collector */
			return -1;
		}
	}
	return 0;
}

/* Non-blocking connect bounded by CONNECT_TIMEOUT_MS; -1 with errno. */
static int
tcp_connect(struct transport *t)
{
	struct pollfd pfd;
	struct addrinfo *ai;
	socklen_t sl;
	int fd, err = ECONNREFUSED;

	for (ai = t->ai; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			return fd;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) == 1) {
				sl = sizeof(err);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) ==
				    0 && err == 0)
					return fd;
			} else {
				err = ETIMEDOUT;
			}
		} else {
			err = errno;
		}
		close(fd);
	}
	errno = err;
	return -1;
}

/* The collector never sends: readable means it closed or reset. */
static bool
peer_closed(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char c;

	if (poll(&pfd, 1, 0) <= 0)
		return false;
	if (pfd.revents & (POLLERR | POLLHUP))
		return true;
	return recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) <= 0;
}

/* Bytes written but not yet acknowledged by the collector's host (the
 * kernel's send queue); 0 when unknown. */
static uint64_t
kernel_outq(int fd)
{
	int n = 0;

	if (fd < 0 || ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0)
		return 0;
	return (uint64_t)n;
}

/* TCP thread: a message went into the socket whole. */
static void
infl_push(struct transport *t, size_t len, uint32_t records)
{
	struct inflight *n;
	size_t i, cap;

	t->stream_written += len;
	if (t->infl_n == t->infl_cap) {
		cap = t->infl_cap ? 2 * t->infl_cap : 256;
		if ((n = malloc(cap * sizeof(*n))) == NULL) {
			/* Cannot follow it: call it acknowledged. */
			count_sent(t, len, records);
			return;
		}
		for (i = 0; i < t->infl_n; i++)
			n[i] = t->infl[(t->infl_head + i) % t->infl_cap];
		free(t->infl);
		t->infl = n;
		t->infl_cap = cap;
		t->infl_head = 0;
	}
	t->infl[(t->infl_head + t->infl_n++) % t->infl_cap] =
	    (struct inflight){ t->stream_written, (uint32_t)len, records };
}

/*
 * Count as sent the messages the collector's host acknowledged (their end
 * at or below written - SIOCOUTQ); publish what the kernel still holds.
 * Returns the records of the others.
 */
static uint64_t
infl_update(struct transport *t)
{
	uint64_t outq = kernel_outq(t->fd), acked, recs = 0;
	size_t i;

	acked = t->stream_written > outq ? t->stream_written - outq : 0;
	while (t->infl_n > 0 && t->infl[t->infl_head].end <= acked) {
		count_sent(t, t->infl[t->infl_head].len,
		    t->infl[t->infl_head].records);
		t->infl_head = (t->infl_head + 1) % t->infl_cap;
		t->infl_n--;
	}
	for (i = 0; i < t->infl_n; i++)
		recs += t->infl[(t->infl_head + i) % t->infl_cap].records;
	atomic_store(&t->k_bytes, outq);
	atomic_store(&t->k_records, recs);
	return recs;
}

/*
 * The connection ends: the messages its kernel still holds unacknowledged
 * are lost with it (a reset makes sure they are never sent), counted.
 */
static uint64_t
tcp_close_conn(struct transport *t)
{
	struct linger lg = { 1, 0 };
	uint64_t lost = 0;

	if (t->fd < 0)
		return 0;
	lost = infl_update(t);
	if (t->infl_n > 0) {
		(void)setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		atomic_fetch_add(&t->messages_dropped, t->infl_n);
		atomic_fetch_add(&t->records_dropped, lost);
	}
	close(t->fd);
	t->fd = -1;
	t->infl_n = t->infl_head = 0;
	t->stream_written = 0;
	atomic_store(&t->k_bytes, 0);
	atomic_store(&t->k_records, 0);
	return lost;
}

static void
tcp_disconnect(struct transport *t, const char *why)
{
	uint64_t lost = tcp_close_conn(t);

	if (!t->down_logged) {
		log_warnx("%s: collector lost (%s); %llu records it had not "
		    "acknowledged are counted as dropped; queueing and retrying",
		    t->name, why, (unsigned long long)lost);
		t->down_logged = true;
	} else if (lost > 0) {
		log_warnx("%s: connection lost (%s); %llu records not "
		    "acknowledged are counted as dropped", t->name, why,
		    (unsigned long long)lost);
	}
}

/* Wait for a stop request or the timeout, with the lock held. */
static void
wait_locked(struct transport *t, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&t->cv, &t->mu, &ts);
}

/* Backoff, but never past the drain deadline once closing. */
static void
backoff_locked(struct transport *t, unsigned ms)
{
	uint64_t now = monotime_ms();

	if (t->stop)
		ms = now >= t->stop_deadline_ms ? 0 :
		    (unsigned)(t->stop_deadline_ms - now < ms ?
		    t->stop_deadline_ms - now : ms);
	if (ms > 0)
		wait_locked(t, ms);
}

static bool
must_quit_locked(struct transport *t)
{
	return t->stop && (t->head == NULL || monotime_ms() >= t->stop_deadline_ms);
}

static void *
tcp_thread_main(void *arg)
{
	struct transport *t = arg;
	unsigned backoff = BACKOFF_MIN_MS;
	uint8_t *pre;
	size_t pre_len;
	struct qmsg *m;
	size_t part;
	int fd, err;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		if (must_quit_locked(t))
			break;
		if (t->fd < 0) {
			pthread_mutex_unlock(&t->mu);
			fd = tcp_connect(t);
			pthread_mutex_lock(&t->mu);
			if (fd < 0) {
				if (!t->down_logged) {
					log_warnx("%s: cannot connect (%s); retrying",
					    t->name, strerror(errno));
					t->down_logged = true;
				}
				backoff_locked(t, backoff);
				backoff = backoff * 2 > BACKOFF_MAX_MS ?
				    BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			/* New connection: the templates go first. */
			pre_len = t->preamble_len;
			pre = pre_len ? malloc(pre_len) : NULL;
			if (pre != NULL)
				memcpy(pre, t->preamble, pre_len);
			pthread_mutex_unlock(&t->mu);
			if (pre_len != 0 && (pre == NULL ||
			    write_all(fd, pre, pre_len, SEND_TIMEOUT_MS, NULL) != 0)) {
				free(pre);
				close(fd);
				pthread_mutex_lock(&t->mu);
				backoff_locked(t, backoff);
				continue;
			}
			free(pre);
			pthread_mutex_lock(&t->mu);
			t->fd = fd;
			t->stream_written = pre_len;
			backoff = BACKOFF_MIN_MS;
			atomic_fetch_add(&t->connects, 1);
			if (t->down_logged) {
				log_warnx("%s: collector connected", t->name);
				t->down_logged = false;
			}
			continue;
		}
		if ((m = t->head) == NULL) {
			(void)infl_update(t);
			wait_locked(t, 200);
			continue;
		}
		pthread_mutex_unlock(&t->mu);
		/* A message is dequeued only once it is fully written. */
		if (peer_closed(t->fd)) {
			pthread_mutex_lock(&t->mu);
			tcp_disconnect(t, "closed by the collector");
			continue;
		}
		if (write_all(t->fd, m->data, m->len, SEND_TIMEOUT_MS,
		    &part) != 0) {
			err = errno;
			pthread_mutex_lock(&t->mu);
			/* Its bytes are in the stream (they hold no whole
			 * record); the message stays queued for the next
			 * connection. */
			t->stream_written += part;
			tcp_disconnect(t, err != 0 ? strerror(err) :
			    "no progress for 5 s");
			continue;
		}
		pthread_mutex_lock(&t->mu);
		t->head = m->next;
		if (t->head == NULL)
			t->tail = NULL;
		t->queued_bytes -= m->len;
		atomic_store(&t->q_bytes, t->queued_bytes);
		atomic_fetch_sub(&t->q_records, m->records);
		/* Sent once the collector's host acknowledges it. */
		infl_push(t, m->len, m->records);
		(void)infl_update(t);
		free(m);
	}
	/* Whatever could not be sent before the deadline is counted. */
	while ((m = t->head) != NULL) {
		t->head = m->next;
		count_dropped(t, m->records);
		free(m);
	}
	t->tail = NULL;
	t->queued_bytes = 0;
	atomic_store(&t->q_bytes, 0);
	atomic_store(&t->q_records, 0);
	pthread_mutex_unlock(&t->mu);
	/* What is written is delivered once acknowledged: wait for that
	 * within the deadline; the rest is counted (tcp_close_conn()). */
	while (t->fd >= 0 && infl_update(t) + t->infl_n > 0 &&
	    monotime_ms() < t->stop_deadline_ms && !peer_closed(t->fd))
		(void)poll(NULL, 0, 10);
	if (t->fd >= 0 && tcp_close_conn(t) > 0)
		log_warnx("%s: closing with records the collector had not "
		    "acknowledged; counted as dropped", t->name);
	free(t->infl);
	return NULL;
}

/* UDP: one datagram went out, or failed with err (0: not reported). */
static void
udp_outcome(struct transport *t, size_t len, uint32_t records, bool sent,
    int err)
{
	if (sent) {
		count_sent(t, len, records);
		/* ICMP errors come back for some datagrams only: call it
		 * recovered after a quiet period, not one success. */
		if (t->down_logged &&
		    monotime_ms() - t->last_fail_ms >= UDP_RECOVERED_MS) {
			log_warnx("%s: sending again", t->name);
			t->down_logged = false;
		}
		return;
	}
	count_dropped(t, records);
	t->last_fail_ms = monotime_ms();
	if (!t->down_logged) {
		log_warnx("%s: send failed (%s); records are counted as dropped "
		    "until it works again", t->name, err != 0 ? strerror(err) :
		    "a batched datagram refused; sendmmsg() does not say why");
		t->down_logged = true;
	}
}

/*
 * Send a batch: sendmmsg() returns how many datagrams went out before the
 * first that failed; a failure on the first is its errno, on a later one it
 * is not reported (the kernel keeps only the count), but it is a failure
 * all the same, so that datagram is dropped as a send() of its own would
 * have been, and the next call starts after it.
 */
static void
udp_send_batch(struct transport *t, const struct udp_batch *b)
{
	unsigned i = 0, j, n = b->n;
	size_t off = 0;
	int r;

	for (i = 0; i < n; i++) {
		t->iov[i].iov_base = (void *)(b->data + off);
		t->iov[i].iov_len = b->len[i];
		memset(&t->mm[i], 0, sizeof(t->mm[0]));
		t->mm[i].msg_hdr.msg_iov = &t->iov[i];
		t->mm[i].msg_hdr.msg_iovlen = 1;
		off += b->len[i];
	}
	i = 0;
	while (i < n) {
		r = sendmmsg(t->fd, t->mm + i, n - i, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			udp_outcome(t, b->len[i], b->records[i], false, errno);
			i++;
			continue;
		}
		for (j = i; j < i + (unsigned)r; j++)
			udp_outcome(t, b->len[j], b->records[j], true, 0);
		i += (unsigned)r;
		if (i < n) {
			udp_outcome(t, b->len[i], b->records[i], false, 0);
			i++;
		}
	}
}

/* The sender thread: batches in order until stopped and drained. */
static void *
udp_thread_main(void *arg)
{
	struct transport *t = arg;
	const struct udp_batch *b;
	struct sched_param sp = { .sched_priority = 0 };

	/* Batch policy (no privilege needed; best effort): woken by the
	 * export thread, the sender would otherwise preempt it on its own
	 * core, the other one idle (17 % of the export thread's switches). */
	(void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
	for (;;) {
		if ((b = ring_pop_begin(t->uring)) != NULL) {
			udp_send_batch(t, b);
			ring_pop_end(t->uring);
			wake_signal(&t->uroom);
			continue;
		}
		/* Stopped after its last batch was published: drained. */
		if (atomic_load_explicit(&t->ustop, memory_order_acquire) &&
		    ring_pending(t->uring) == 0)
			break;
		wake_prepare(&t->usend);
		if (ring_pending(t->uring) != 0 || atomic_load(&t->ustop)) {
			wake_cancel(&t->usend);
			continue;
		}
		wake_wait(&t->usend, UDP_IDLE_MS);
	}
	return NULL;
}

/* The batch being filled ends: sent now (no sender thread) or handed to
 * the sender, woken for a few batches at a time or at once (force). */
static void
udp_publish(struct transport *t, bool force)
{
	if (t->cur == NULL)
		return;
	if (t->uring == NULL) {
		udp_send_batch(t, t->cur);
		t->cur = NULL;		/* udp_batch_get() empties it */
		return;
	}
	ring_push_end(t->uring);
	t->cur = NULL;
	if (force || ring_filled(t->uring) >= UDP_WAKE_BATCHES)
		wake_signal(&t->usend);
}

/* An empty batch to fill; with the sender, waits for a free slot. */
static struct udp_batch *
udp_batch_get(struct transport *t)
{
	struct udp_batch *b;

	if (t->uring == NULL)
		b = t->own;
	else {
		while ((b = ring_push_begin(t->uring)) == NULL) {
			wake_signal(&t->usend);	/* a full ring never sleeps */
			wake_prepare(&t->uroom);
			if ((b = ring_push_begin(t->uring)) != NULL) {
				wake_cancel(&t->uroom);
				break;
			}
			wake_wait(&t->uroom, 10);
		}
	}
	b->n = 0;
	b->bytes = 0;
	return b;
}

static void
udp_queue(struct transport *t, const uint8_t *msg, size_t len,
    uint32_t records)
{
	struct udp_batch *b;

	if (t->cur != NULL && (t->cur->n == UDP_BATCH ||
	    t->cur->bytes + len > UDP_BATCH_BYTES))
		udp_publish(t, false);
	if (t->cur == NULL)
		t->cur = udp_batch_get(t);
	b = t->cur;
	memcpy(b->data + b->bytes, msg, len);
	b->len[b->n] = (uint32_t)len;
	b->records[b->n] = records;
	b->n++;
	b->bytes += len;
}

/* UDP: the sender thread and its ring; without them (start failed, or
 * never started) batches go out from the caller's thread. */
static int
udp_start(struct transport *t, char *errbuf, size_t errlen)
{
	int rc;

	udp_publish(t, true);		/* what was made before: sent now */
	t->usend.fd = t->uroom.fd = -1;
	if (wake_init(&t->usend) != 0 || wake_init(&t->uroom) != 0) {
		snprintf(errbuf, errlen, "cannot create an eventfd: %s",
		    strerror(errno));
		goto fail;
	}
	if ((t->uring = ring_create(UDP_RING_BATCHES,
	    sizeof(struct udp_batch))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	atomic_init(&t->ustop, false);
	if ((rc = pthread_create(&t->thread, NULL, udp_thread_main, t)) != 0) {
		snprintf(errbuf, errlen, "cannot start the UDP export thread: %s",
		    strerror(rc));
		goto fail;
	}
	t->thread_started = true;
	return 0;
fail:
	ring_destroy(t->uring);
	t->uring = NULL;
	wake_destroy(&t->usend);
	wake_destroy(&t->uroom);
	return -1;
}

/* UDP: everything made is sent, the sender thread joined. */
static void
udp_stop(struct transport *t)
{
	udp_publish(t, true);
	if (t->uring == NULL)
		return;
	atomic_store_explicit(&t->ustop, true, memory_order_release);
	wake_kick(&t->usend);
	pthread_join(t->thread, NULL);
	t->thread_started = false;
	ring_destroy(t->uring);
	t->uring = NULL;
	wake_destroy(&t->usend);
	wake_destroy(&t->uroom);
}

static int
resolve(const struct transport_conf *c, int socktype, struct addrinfo **out,
    char *errbuf, size_t errlen)
{
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	if ((rc = getaddrinfo(c->host, c->port, &hints, out)) != 0) {
		snprintf(errbuf, errlen, "cannot resolve collector %s port %s: %s",
		    c->host, c->port, gai_strerror(rc));
		return -1;
	}
	return 0;
}

int
transport_resolve(const struct transport_conf *conf, char *errbuf,
    size_t errlen)
{
	struct addrinfo *list;

	if (conf->kind == TRANSPORT_FILE)
		return 0;
	if (resolve(conf, conf->kind == TRANSPORT_TCP ? SOCK_STREAM :
	    SOCK_DGRAM, &list, errbuf, errlen) != 0)
		return -1;
	freeaddrinfo(list);
	return 0;
}

static int
open_udp(struct transport *t, char *errbuf, size_t errlen)
{
	struct addrinfo *ai, *list;
	int err = 0;

	if ((t->own = malloc(sizeof(*t->own))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	if (resolve(&t->conf, SOCK_DGRAM, &list, errbuf, errlen) != 0)
		return -1;
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		t->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (t->fd < 0) {
			err = errno;
			continue;
		}
		/* connect() makes an unroutable address fail now. */
		if (connect(t->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(t->fd);
		t->fd = -1;
	}
	freeaddrinfo(list);
	if (t->fd < 0) {
		snprintf(errbuf, errlen, "collector %s port %s unreachable: %s",
		    t->conf.host, t->conf.port, strerror(err));
		return -1;
	}
	return 0;
}

/* Route lookup only: a UDP connect() sends nothing. */
static int
route_check(const struct addrinfo *list)
{
	const struct addrinfo *ai;
	int fd, err = ENETUNREACH;

	for (ai = list; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			close(fd);
			return 0;
		}
		err = errno;
		close(fd);
	}
	errno = err;
	return -1;
}

static int
open_tcp(struct transport *t, char *errbuf, size_t errlen)
{
	int rc = 0;

	if (resolve(&t->conf, SOCK_STREAM, &t->ai, errbuf, errlen) != 0)
		return -1;
	/* A collector that is down is retried; an unroutable one is an error. */
	if (route_check(t->ai) != 0) {
		snprintf(errbuf, errlen, "collector %s port %s unreachable: %s",
		    t->conf.host, t->conf.port, strerror(errno));
		return -1;
	}
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	(void)rc;
	return 0;
}

int
transport_start(struct transport *t, char *errbuf, size_t errlen)
{
	int rc;

	if (t->conf.kind == TRANSPORT_UDP && t->uring == NULL)
		return udp_start(t, errbuf, errlen);
	if (t->conf.kind != TRANSPORT_TCP || t->thread_started)
		return 0;
	if ((rc = pthread_create(&t->thread, NULL, tcp_thread_main, t)) != 0) {
		snprintf(errbuf, errlen, "cannot start the TCP export thread: %s",
		    strerror(rc));
		return -1;
	}
	t->thread_started = true;
	return 0;
}

struct transport *
transport_open(const struct transport_conf *conf, char *errbuf, size_t errlen)
{
	struct transport *t;
	int rc = -1;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	t->conf = *conf;
	t->fd = -1;
	if (t->conf.queue_bytes == 0)
		t->conf.queue_bytes = TCP_QUEUE_DEFAULT;
	switch (conf->kind) {
	case TRANSPORT_UDP:
		snprintf(t->name, sizeof(t->name), "udp://%s:%s", conf->host,
		    conf->port);
		rc = open_udp(t, errbuf, errlen);
		break;
	case TRANSPORT_TCP:
		snprintf(t->name, sizeof(t->name), "tcp://%s:%s", conf->host,
		    conf->port);
		rc = open_tcp(t, errbuf, errlen);
		break;
	case TRANSPORT_FILE:
		snprintf(t->name, sizeof(t->name), "file://%s", conf->path);
		t->is_file = true;
		rc = 0;
		if (strcmp(conf->path, "-") == 0)
			wfile_use(&t->file, STDOUT_FILENO);
		else if ((rc = wfile_open(&t->file, conf->path, O_TRUNC)) != 0)
			snprintf(errbuf, errlen, "cannot open %s: %s", conf->path,
			    strerror(errno));
		break;
	}
	if (rc != 0) {
		if (t->fd >= 0)
			close(t->fd);
		if (t->ai != NULL)
			freeaddrinfo(t->ai);
		free(t->own);
		free(t);
		return NULL;
	}
	return t;
}

void
transport_send(struct transport *t, const uint8_t *msg, size_t len,
    uint32_t records)
{
	struct qmsg *m;

	switch (t->conf.kind) {
	case TRANSPORT_UDP:
		udp_queue(t, msg, len, records);
		return;
	case TRANSPORT_FILE:
		file_send(t, msg, len, records);
		return;
	case TRANSPORT_TCP:
		break;
	}
	pthread_mutex_lock(&t->mu);
	if (t->stop || t->queued_bytes + len > t->conf.queue_bytes ||
	    (m = malloc(sizeof(*m) + len)) == NULL) {
		pthread_mutex_unlock(&t->mu);
		count_dropped(t, records);
		return;
	}
	m->next = NULL;
	m->len = len;
	m->records = records;
	memcpy(m->data, msg, len);
	if (t->tail != NULL)
		t->tail->next = m;
	else
		t->head = m;
	t->tail = m;
	t->queued_bytes += len;
	atomic_store(&t->q_bytes, t->queued_bytes);
	atomic_fetch_add(&t->q_records, records);
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

void
transport_flush(struct transport *t)
{
	if (t != NULL && t->conf.kind == TRANSPORT_UDP)
		udp_publish(t, true);
}

int
transport_set_preamble(struct transport *t, const uint8_t *buf, size_t len)
{
	uint8_t *copy;

	if (t->conf.kind != TRANSPORT_TCP)
		return 0;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(copy, buf, len);
	pthread_mutex_lock(&t->mu);
	free(t->preamble);
	t->preamble = copy;
	t->preamble_len = len;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

/* Files only: continue in a new file of the same name (logrotate). */
int
transport_reopen(struct transport *t, char *errbuf, size_t errlen)
{
	struct wfile w;

	if (t->conf.kind != TRANSPORT_FILE || t->file.fd == STDOUT_FILENO)
		return 0;
	if (wfile_open(&w, t->conf.path, O_APPEND) != 0) {
		snprintf(errbuf, errlen, "cannot reopen %s: %s (still writing to "
		    "the old file)", t->conf.path, strerror(errno));
		return -1;
	}
	if (wfile_close(&t->file) != 0)
		snprintf(errbuf, errlen, "closing the old %s: %s", t->conf.path,
		    strerror(errno));
	t->file = w;
	if (t->file_dead)
		log_warnx("%s: writing again in the reopened file", t->name);
	t->file_dead = false;
	return 1;
}

size_t
transport_mtu(const struct transport *t)
{
	return t->conf.kind == TRANSPORT_UDP ? UDP_MTU : STREAM_MTU;
}

int
transport_is_stream(const struct transport *t)
{
	return t->conf.kind == TRANSPORT_TCP;
}

void
transport_stats(struct transport *t, struct transport_stats *out)
{
	out->messages = atomic_load(&t->messages);
	out->octets = atomic_load(&t->octets);
	out->records = atomic_load(&t->records);
	out->records_dropped = atomic_load(&t->records_dropped);
	out->messages_dropped = atomic_load(&t->messages_dropped);
	out->connects = atomic_load(&t->connects);
}

void
transport_backlog(struct transport *t, struct transport_backlog *out)
{
	out->queued_records = atomic_load(&t->q_records);
	out->queued_bytes = atomic_load(&t->q_bytes);
	out->kernel_records = atomic_load(&t->k_records);
	out->kernel_bytes = atomic_load(&t->k_bytes);
}

int
transport_close(struct transport *t, unsigned wait_ms,
    struct transport_stats *final, char *errbuf, size_t errlen)
{
	struct qmsg *m;
	int rc = 0;

	if (t == NULL)
		return 0;
	if (t->conf.kind == TRANSPORT_TCP && !t->thread_started) {
		/* never started: everything queued is dropped */
		while ((m = t->head) != NULL) {
			t->head = m->next;
			count_dropped(t, m->records);
			free(m);
		}
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
	}
	if (t->conf.kind == TRANSPORT_UDP)
		udp_stop(t);
	if (t->thread_started) {
		pthread_mutex_lock(&t->mu);
		t->stop = true;
		t->stop_deadline_ms = monotime_ms() + wait_ms;
		pthread_cond_broadcast(&t->cv);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->thread, NULL);
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
	}
	if (t->is_file) {
		if (t->file_dead) {
			if (errbuf != NULL)
				snprintf(errbuf, errlen, "%s: a write failed; the "
				    "file holds the messages before it", t->name);
			rc = -1;
		}
		if (wfile_close(&t->file) != 0 && rc == 0) {
			if (errbuf != NULL)
				snprintf(errbuf, errlen, "%s: %s", t->name,
				    strerror(errno));
			rc = -1;
		}
	}
	if (t->conf.kind == TRANSPORT_UDP && t->fd >= 0)
		close(t->fd);
	if (final != NULL)
		transport_stats(t, final);
	if (t->ai != NULL)
		freeaddrinfo(t->ai);
	free(t->preamble);
	free(t->own);
	free(t);
	return rc;
}

int
transport_finish(struct transport **tr, unsigned wait_ms,
    struct transport_stats *final, char *error, size_t errlen)
{
	char err[256] = "";
	int rc = 0;

	if (*tr == NULL)
		return 0;
	if (transport_close(*tr, wait_ms, final, err, sizeof(err)) != 0) {
		snprintf(error, errlen, "%s", err);
		rc = -1;
	}
	*tr = NULL;
	return rc;
}

void
transport_report(FILE *fp, const char *name, uint64_t flows,
    struct transport *tr, const struct transport_stats *final,
    uint64_t not_encodable, bool connections)
{
	struct transport_stats live;
	const struct transport_stats *ts = final;

	if (tr != NULL) {
		transport_stats(tr, &live);
		ts = &live;
	}
	fprintf(fp, "streamprobe: %s: %llu flows; %llu records in %llu messages "
	    "(%llu bytes) sent, %llu records dropped, %llu not encodable",
	    name, (unsigned long long)flows, (unsigned long long)ts->records,
	    (unsigned long long)ts->messages, (unsigned long long)ts->octets,
	    (unsigned long long)ts->records_dropped,
	    (unsigned long long)not_encodable);
	if (connections)
		fprintf(fp, ", %llu connections",
		    (unsigned long long)ts->connects);
	fputc('\n', fp);
}

uint64_t
transport_records_lost(struct transport *tr,
    const struct transport_stats *final)
{
	struct transport_stats ts;

	/* After transport_finish() the transport is gone: its last
	 * counters remain. */
	if (tr == NULL)
		return final->records_dropped;
	transport_stats(tr, &ts);
	return ts.records_dropped;
}
