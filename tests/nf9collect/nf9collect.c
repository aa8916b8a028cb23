/*
 * nf9collect - a small NetFlow v9 collector built on libfixbuf, for tests.
 *
 *	nf9collect PORT SECONDS OUT.tsv
 *
 * Listens on 127.0.0.1:PORT (UDP) with an fbListener whose collector runs
 * libfixbuf's NetFlow v9 translator, for SECONDS or until SIGTERM/SIGINT,
 * and writes every data record of every template to OUT.tsv, one a line:
 *
 *	TID <tab> name=value <tab> name=value ...
 *
 * in template order: numbers and dateTime* in decimal, IPv4/IPv6 addresses
 * as text, MAC addresses as aa:bb:cc:dd:ee:ff, floats with %.17g, anything
 * else (strings, octet arrays, numbers longer than 8 bytes) as lowercase hex
 * of every byte in wire order, NUL padding included.  A name used twice in
 * one template gets "#2", "#3".  libfixbuf's translation shows through: v9
 * ids above 346 become ciscoNetflowGeneric (9999), options scopes become
 * messageScope (263), OUT_BYTES/OUT_PKTS are postOctet/postPacketDeltaCount.
 *
 * stderr: "nf9collect: listening on 127.0.0.1:PORT at EPOCH" once bound,
 * libfixbuf's errors and warnings (the translator's sequence mismatches,
 * record count discrepancies), and at the end "nf9collect: M messages,
 * R records, E errors, W warnings, ..., first record at EPOCH|-".
 * Exit 0, or 2 on bad usage or when the socket cannot be opened.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <fixbuf/public.h>

#define HOST_LE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

static volatile sig_atomic_t stop;
static unsigned long n_warn, n_seq, n_count;

static void
on_signal(int sig)
{
	if (sig != SIGALRM)	/* SIGALRM (200 ms timer) only breaks reads */
		stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
log_handler(const gchar *domain, GLogLevelFlags level, const gchar *msg,
    gpointer data)
{
	(void)domain;
	(void)data;
	if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
	    G_LOG_LEVEL_WARNING)))
		return;
	n_warn++;
	n_seq += strstr(msg, "sequence number mismatch") != NULL;
	n_count += strstr(msg, "Record Count Discrepancy") != NULL;
	fprintf(stderr, "nf9collect: warning: %s\n", msg);
}

static void
print_hex(FILE *fp, const uint8_t *p, size_t len)
{
	while (len-- > 0)
		fprintf(fp, "%02x", *p++);
}

static bool
is_number(uint8_t type)
{
	switch (type) {
	case FB_UINT_8: case FB_UINT_16: case FB_UINT_32: case FB_UINT_64:
	case FB_INT_8: case FB_INT_16: case FB_INT_32: case FB_INT_64:
	case FB_FLOAT_32: case FB_FLOAT_64: case FB_BOOL: case FB_DT_SEC:
	case FB_DT_MILSEC: case FB_IP4_ADDR:
		return true;
	default:
		return false;
	}
}

static void
print_value(FILE *fp, const fbInfoElement_t *ie, const uint8_t *p,
    unsigned len)
{
	char buf[INET6_ADDRSTRLEN];
	bool host = (ie->flags & FB_IE_F_ENDIAN) != 0;
	uint64_t u = 0;
	unsigned i;

	if (!is_number(ie->type) || len > 8) {
		if (ie->type == FB_IP6_ADDR && len == 16)
			fputs(inet_ntop(AF_INET6, p, buf, sizeof(buf)), fp);
		else if (ie->type == FB_MAC_ADDR && len == 6)
			for (i = 0; i < 6; i++)
				fprintf(fp, "%s%02x", i ? ":" : "", p[i]);
		else if (host && HOST_LE)	/* swapped whole: wire order back */
			for (i = len; i > 0; i--)
				fprintf(fp, "%02x", p[i - 1]);
		else
			print_hex(fp, p, len);
		return;
	}
	for (i = 0; i < len; i++)	/* host order, or as on the wire */
		u |= (uint64_t)p[i] << (8 * (host && HOST_LE ? i : len - 1 - i));
	switch (ie->type) {
	case FB_IP4_ADDR:
		fprintf(fp, "%u.%u.%u.%u", (unsigned)(u >> 24) & 255,
		    (unsigned)(u >> 16) & 255, (unsigned)(u >> 8) & 255,
		    (unsigned)u & 255);
		break;
	case FB_INT_8: case FB_INT_16: case FB_INT_32: case FB_INT_64:
		if (len < 8 && (u >> (8 * len - 1)) & 1)
			u |= ~(uint64_t)0 << (8 * len);	/* sign-extend */
		fprintf(fp, "%lld", (long long)u);
		break;
	case FB_FLOAT_64:
	case FB_FLOAT_32: {
		double d;
		float f;
		uint32_t w = (uint32_t)u;

		memcpy(&f, &w, 4);
		if (len == 8)
			memcpy(&d, &u, 8);
		else
			d = f;
		fprintf(fp, "%.17g", d);
		break;
	}
	default:
		fprintf(fp, "%llu", (unsigned long long)u);
	}
}

/* One record: template id, then every element as name=value. */
static void
print_record(FILE *fp, uint16_t tid, fbTemplate_t *tmpl, const uint8_t *rec,
    size_t reclen)
{
	uint32_t i, j, n = fbTemplateCountElements(tmpl);
	const fbInfoElement_t *ie, *other;
	const char *name, *oname;
	unsigned dup;
	size_t off = 0;

	fprintf(fp, "%u", tid);
	for (i = 0; i < n; i++) {
		ie = fbTemplateGetIndexedIE(tmpl, i);
		name = ie->ref.canon ? ie->ref.canon->ref.name : "?";
		for (dup = 1, j = 0; j < i; j++) {
			other = fbTemplateGetIndexedIE(tmpl, j);
			oname = other->ref.canon ? other->ref.canon->ref.name : "?";
			if (strcmp(name, oname) == 0)
				dup++;
		}
		fprintf(fp, dup > 1 ? "\t%s#%u=" : "\t%s=", name, dup);
		if (ie->len == FB_IE_VARLEN) {
			fbVarfield_t vf;

			if (off + sizeof(vf) > reclen)
				break;
			memcpy(&vf, rec + off, sizeof(vf));
			print_hex(fp, vf.buf, vf.len);
			off += sizeof(vf);
			continue;
		}
		if (off + ie->len > reclen)
			break;
		print_value(fp, ie, rec + off, ie->len);
		off += ie->len;
	}
	fputc('\n', fp);
}

/*
 * A 4 MB receive buffer on the listener's socket: a probe reading a file
 * sends its datagrams in a burst that the default buffer (208 KB) cannot
 * hold while this process writes its TSV.  libfixbuf has no call for it,
 * so the socket is found by its port.
 */
static void
grow_rcvbuf(const char *port)
{
	struct sockaddr_in sin;
	socklen_t sl;
	int fd, size = 4 << 20;

	for (fd = 3; fd < 256; fd++) {
		sl = sizeof(sin);
		if (getsockname(fd, (struct sockaddr *)&sin, &sl) == 0 &&
		    sin.sin_family == AF_INET &&
		    ntohs(sin.sin_port) == (uint16_t)atoi(port))
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
			    sizeof(size));
	}
}

int
main(int argc, char **argv)
{
	static uint8_t rec[65536];
	fbConnSpec_t spec = FB_CONNSPEC_INIT;
	struct sigaction sa;
	struct itimerval it;
	fbInfoModel_t *model;
	fbSession_t *session, *s;
	fbListener_t *listener;
	fbCollector_t *collector = NULL;
	fBuf_t *fbuf = NULL;
	fbTemplate_t *tmpl;
	GError *err = NULL;
	FILE *out;
	uint16_t tid;
	size_t len;
	double deadline, first = 0;
	unsigned long n_msg = 0, n_rec = 0, n_err = 0;
	char *end;
	long secs;

	if (argc != 4 || (secs = strtol(argv[2], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "usage: nf9collect PORT SECONDS OUT.tsv\n");
		return 2;
	}
	if ((out = fopen(argv[3], "w")) == NULL) {
		fprintf(stderr, "nf9collect: %s: %s\n", argv[3], strerror(errno));
		return 2;
	}
	g_log_set_default_handler(log_handler, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: reads return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	model = fbInfoModelAlloc();
	session = fbSessionAlloc(model);
	spec.transport = FB_UDP;
	spec.host = (char *)"127.0.0.1";
	spec.svc = argv[1];
	if ((listener = fbListenerAlloc(&spec, session, NULL, NULL, &err)) ==
	    NULL || !fbListenerGetCollector(listener, &collector, &err) ||
	    !fbCollectorSetNetflowV9Translator(collector, &err)) {
		fprintf(stderr, "nf9collect: 127.0.0.1:%s: %s\n", argv[1],
		    err ? err->message : "?");
		return 2;
	}
	grow_rcvbuf(argv[1]);
	fprintf(stderr, "nf9collect: listening on 127.0.0.1:%s at %.6f\n",
	    argv[1], now_s());
	deadline = now_s() + (double)secs;
	it.it_interval.tv_sec = it.it_value.tv_sec = 0;
	it.it_interval.tv_usec = it.it_value.tv_usec = 200000;
	setitimer(ITIMER_REAL, &it, NULL);

	while (!stop && now_s() < deadline) {
		if (fbuf == NULL) {
			if ((fbuf = fbListenerWait(listener, &err)) == NULL) {
				g_clear_error(&err);	/* EINTR: check the clock */
				continue;
			}
			fBufSetAutomaticMode(fbuf, FALSE);
		}
		tmpl = fBufNextCollectionTemplate(fbuf, &tid, &err);
		if (tmpl != NULL) {
			s = fBufGetSession(fbuf);
			/* read the record exactly as it came: internal = external */
			if (fbSessionGetTemplate(s, TRUE, tid, NULL) != tmpl &&
			    !fbSessionAddTemplate(s, TRUE, tid, tmpl, &err))
				goto failed;
			if (!fBufSetInternalTemplate(fbuf, tid, &err))
				goto failed;
			len = sizeof(rec);
			if (!fBufNext(fbuf, rec, &len, &err))
				goto failed;
			if (first == 0)
				first = now_s();
			print_record(out, tid, tmpl, rec, len);
			n_rec++;
			continue;
		}
failed:
		if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
			n_msg++;
			fflush(out);
		} else if (!g_error_matches(err, FB_ERROR_DOMAIN,
		    FB_ERROR_NLREAD)) {
			n_err++;
			fprintf(stderr, "nf9collect: error: %s\n",
			    err ? err->message : "?");
		}
		g_clear_error(&err);
		fbuf = NULL;	/* next message: back to fbListenerWait() */
	}
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	fclose(out);
	fprintf(stderr, "nf9collect: %lu messages, %lu records, %lu errors, "
	    "%lu warnings, %lu sequence warnings, %lu count discrepancies, "
	    "first record at ", n_msg, n_rec, n_err, n_warn, n_seq, n_count);
	if (first > 0)
		fprintf(stderr, "%.6f\n", first);
	else
		fprintf(stderr, "-\n");
	fbListenerFree(listener);
	fbSessionFree(session);
	fbInfoModelFree(model);
	return 0;
}
