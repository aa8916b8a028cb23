/*
 * test_transport.c - UDP batching in the transport (src/export/
 * transport.c): messages wait in a batch of 32 until it is full or
 * transport_flush() (or close), reach a real socket on 127.0.0.1 whole and
 * in order, and every message is counted exactly once, sent or dropped,
 * also when the port is closed and the kernel refuses some of them.
 * Expected counts follow from the batch size (32) and the messages sent.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "transport.h"

#define MSGS	100

static int
bound_socket(char *port, size_t len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, rcvbuf = 1 << 20;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(port, len, "%u", ntohs(sa.sin_port));
	return fd;
}

static struct transport *
open_udp(const char *port)
{
	struct transport_conf c;
	struct transport *t;
	char err[256];

	memset(&c, 0, sizeof(c));
	c.kind = TRANSPORT_UDP;
	c.host = "127.0.0.1";
	c.port = port;
	t = transport_open(&c, err, sizeof(err));
	if (t == NULL)
		print_error("%s\n", err);
	assert_non_null(t);
	return t;
}

/* Message i: 100 + 13 i bytes, each byte i; i % 5 + 1 records. */
static void
send_msg(struct transport *t, unsigned i)
{
	uint8_t buf[2000];
	size_t len = 100 + 13 * (size_t)i % 1300;

	memset(buf, (int)(i & 0xff), len);
	transport_send(t, buf, len, i % 5 + 1);
}

/* Messages first .. first + n - 1; their records. */
static uint64_t
send_msgs(struct transport *t, unsigned first, unsigned n)
{
	uint64_t records = 0;
	unsigned i;

	for (i = first; i < first + n; i++) {
		send_msg(t, i);
		records += i % 5 + 1;
	}
	return records;
}

/* Each of messages 0 .. n - 1 arrived as one datagram, whole and in
 * order (waiting up to 5 s for each). */
static void
expect_msgs(int fd, unsigned n)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	uint8_t buf[2000];
	unsigned i;
	ssize_t len;

	for (i = 0; i < n; i++) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		assert_int_equal(len, 100 + 13 * (size_t)i % 1300);
		assert_int_equal(buf[0], i & 0xff);
		assert_int_equal(buf[len - 1], i & 0xff);
	}
}

static void
test_udp_batches_in_order(void **state)
{
	struct transport_stats ts;
	struct transport *t;
	uint64_t records;
	uint8_t buf[2000];
	char port[16];
	int fd;

	(void)state;
	fd = bound_socket(port, sizeof(port));
	t = open_udp(port);
	records = send_msgs(t, 0, MSGS);
	/* Three full batches went out on their own; 4 messages wait. */
	transport_stats(t, &ts);
	assert_int_equal(ts.messages, 96);
	transport_flush(t);
	transport_stats(t, &ts);
	assert_int_equal(ts.messages, MSGS);
	assert_int_equal(ts.records, records);
	assert_int_equal(ts.messages_dropped, 0);
	assert_int_equal(ts.records_dropped, 0);
	expect_msgs(fd, MSGS);
	assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	/* Closing sends what is batched. */
	send_msg(t, 7);
	assert_int_equal(transport_close(t, 0, &ts, NULL, 0), 0);
	assert_int_equal(ts.messages, MSGS + 1);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
	    100 + 13 * 7);
	close(fd);
}

/*
 * A closed port: loopback answers ICMP port unreachable and later sends
 * fail with ECONNREFUSED, inside a batch too.  Whatever the split, every
 * message and record is counted once, and some are dropped.
 */
static void
test_udp_refused_counted_once(void **state)
{
	struct transport_stats ts;
	struct transport *t;
	uint64_t records = 0;
	char port[16];
	unsigned i;
	int fd;

	(void)state;
	fd = bound_socket(port, sizeof(port));
	t = open_udp(port);
	close(fd);
	for (i = 0; i < MSGS; i++) {
		send_msg(t, i);
		records += i % 5 + 1;
		if (i % 10 == 9)
			transport_flush(t);
	}
	assert_int_equal(transport_close(t, 0, &ts, NULL, 0), 0);
	assert_int_equal(ts.messages + ts.messages_dropped, MSGS);
	assert_int_equal(ts.records + ts.records_dropped, records);
	assert_true(ts.messages_dropped > 0);
}

/*
 * Started (transport_start()): a sender thread sends the batches.  The
 * datagrams arrive whole and in order; counters are exact once closed;
 * 20 000 messages (over 600 batches, the ring holds 32) make the export
 * side wait for room and go on, none dropped.
 */
static void
test_udp_sender_thread(void **state)
{
	struct transport_stats ts;
	struct transport *t;
	uint64_t records;
	char port[16], err[256];
	int fd;

	(void)state;
	fd = bound_socket(port, sizeof(port));
	t = open_udp(port);
	assert_int_equal(transport_start(t, err, sizeof(err)), 0);
	records = send_msgs(t, 0, MSGS);
	transport_flush(t);
	expect_msgs(fd, MSGS);
	records += send_msgs(t, 0, 20000);
	assert_int_equal(transport_close(t, 0, &ts, NULL, 0), 0);
	assert_int_equal(ts.messages, MSGS + 20000);
	assert_int_equal(ts.records, records);
	assert_int_equal(ts.messages_dropped, 0);
	assert_int_equal(ts.records_dropped, 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_batches_in_order),
		cmocka_unit_test(test_udp_refused_counted_once),
		cmocka_unit_test(test_udp_sender_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
