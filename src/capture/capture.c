/*
 * capture.c - libpcap sources.
 *
 *	capture_open()		validate and open files or an interface
 *	capture_dispatch()	packets to a callback; files chained as one stream
 *	capture_set_wait(), capture_error(), capture_breakloop(),
 *	capture_is_live()
 *	capture_stats(), capture_progress(), capture_close()
 */
#define _DEFAULT_SOURCE	/* libpcap needs the BSD u_char types */
#include <pcap/pcap.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"

struct capture {
	struct capture_conf	 conf;
	pcap_t			*p;
	unsigned		 next_file;	/* index of the file after p */
	int			 dlt;
	int			 fd;		/* live: pollable descriptor */
	int			 wait_ms;	/* live: poll() timeout */
	uint64_t		 total_bytes;	/* files: sum of their sizes */
	uint64_t		 done_bytes;	/* files: sizes of those read */
	char			*fbuf;		/* files: stdio's buffer */
	capture_cb		 cb;
	void			*cb_arg;
	volatile sig_atomic_t	 stop;
	char			 error[PCAP_ERRBUF_SIZE + 256];
};

/* NFStream compiles filters optimised, with netmask 255.255.255.0. */
static int
set_filter(pcap_t *p, const char *bpf, const char *what, char *errbuf,
    size_t errlen)
{
	struct bpf_program prog;

	if (bpf == NULL)
		return 0;
	if (pcap_compile(p, &prog, bpf, 1, 0xffffff00) != 0) {
		snprintf(errbuf, errlen, "bad BPF filter \"%s\" for %s: %s", bpf,
		    what, pcap_geterr(p));
		return -1;
	}
	if (pcap_setfilter(p, &prog) != 0) {
		snprintf(errbuf, errlen, "cannot apply BPF filter to %s: %s",
		    what, pcap_geterr(p));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}

static uint64_t
file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

/* stdio's buffer for a capture file: its default (st_blksize, 4 KiB) costs
 * a read() system call every 4 KiB, 378 k of them for 1.5 GB. */
#define FILE_BUFFER_BYTES	(1024 * 1024)

/* buf: FILE_BUFFER_BYTES for stdio, to outlive the pcap_t; NULL: stdio's
 * default (a file only checked, not read). */
static pcap_t *
open_file(const char *path, const char *bpf, char *buf, char *errbuf,
    size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(errbuf, errlen, "cannot read capture file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	/* Before the first read (libpcap reads the file header at once).
	 * glibc ignores the size unless the buffer is given. */
	if (buf != NULL)
		(void)setvbuf(fp, buf, _IOFBF, FILE_BUFFER_BYTES);
	/* libpcap reads a file with two fread()s a packet, and stdio locks
	 * the stream for each once the process has threads: 15 % of the
	 * reader's time.  Only the thread that reads uses the stream
	 * (capture_dispatch(), capture_progress()), so it needs no lock. */
	(void)__fsetlocking(fp, FSETLOCKING_BYCALLER);
	perr[0] = '\0';
	if ((p = pcap_fopen_offline(fp, perr)) == NULL) {
		fclose(fp);
		snprintf(errbuf, errlen, "cannot read capture file %s: %s", path,
		    perr);
		return NULL;
	}
	if (set_filter(p, bpf, path, errbuf, errlen) != 0) {
		pcap_close(p);
		return NULL;
	}
	return p;
}

static pcap_t *
open_live(const struct capture_conf *c, char *errbuf, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int rc;

	perr[0] = '\0';
	if ((p = pcap_create(c->iface, perr)) == NULL) {
		snprintf(errbuf, errlen, "cannot open interface %s: %s", c->iface,
		    perr);
		return NULL;
	}
	if (pcap_set_snaplen(p, c->snaplen) != 0 ||
	    pcap_set_promisc(p, c->promisc ? 1 : 0) != 0 ||
	    pcap_set_timeout(p, c->timeout_ms) != 0 ||
	    (c->immediate && pcap_set_immediate_mode(p, 1) != 0) ||
	    (c->buffer_size > 0 && pcap_set_buffer_size(p, c->buffer_size) != 0)) {
		snprintf(errbuf, errlen, "cannot configure interface %s",
		    c->iface);
		pcap_close(p);
		return NULL;
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(errbuf, errlen, "unknown interface %s: %s",
			    c->iface, pcap_geterr(p));
		else if (rc == PCAP_ERROR_PERM_DENIED)
			snprintf(errbuf, errlen, "no permission to capture on %s "
			    "(run as root or grant CAP_NET_RAW): %s", c->iface,
			    pcap_geterr(p));
		else
			snprintf(errbuf, errlen, "cannot capture on %s: %s (%s)",
			    c->iface, pcap_statustostr(rc), pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	if (set_filter(p, c->bpf, c->iface, errbuf, errlen) != 0) {
		pcap_close(p);
		return NULL;
	}
	/*
	 * Non-blocking reads plus our own poll(): the read timeout alone may
	 * never fire without traffic (TPACKET_V3), and the probe must wake up
	 * to expire flows on the wall clock and to notice signals.
	 */
	if (pcap_setnonblock(p, 1, perr) != 0 ||
	    pcap_get_selectable_fd(p) < 0) {
		snprintf(errbuf, errlen, "cannot poll interface %s: %s", c->iface,
		    perr);
		pcap_close(p);
		return NULL;
	}
	return p;
}

struct capture *
capture_open(const struct capture_conf *conf, char *errbuf, size_t errlen)
{
	struct capture *cap;
	pcap_t *p;
	unsigned i;

	if ((cap = calloc(1, sizeof(*cap))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	cap->conf = *conf;
	cap->wait_ms = conf->timeout_ms;
	if (conf->nfiles == 0) {
		if ((cap->p = open_live(conf, errbuf, errlen)) == NULL) {
			free(cap);
			return NULL;
		}
		cap->dlt = pcap_datalink(cap->p);
		cap->fd = pcap_get_selectable_fd(cap->p);
		return cap;
	}
	/* Check every file before reading any, so bad input fails early. */
	for (i = 0; i < conf->nfiles; i++) {
		cap->total_bytes += file_size(conf->files[i]);
		if (i == 0)
			continue;
		if ((p = open_file(conf->files[i], conf->bpf, NULL, errbuf,
		    errlen)) == NULL) {
			free(cap);
			return NULL;
		}
		pcap_close(p);
	}
	if ((cap->fbuf = malloc(FILE_BUFFER_BYTES)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		free(cap);
		return NULL;
	}
	if ((cap->p = open_file(conf->files[0], conf->bpf, cap->fbuf, errbuf,
	    errlen)) == NULL) {
		free(cap->fbuf);
		free(cap);
		return NULL;
	}
	cap->dlt = pcap_datalink(cap->p);
	cap->next_file = 1;
	return cap;
}

static void
on_pcap_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *cap = (struct capture *)(void *)user;
	struct cap_pkt hdr;

	hdr.ts_sec = (int64_t)h->ts.tv_sec;
	hdr.ts_usec = (int64_t)h->ts.tv_usec;
	hdr.caplen = h->caplen;
	hdr.wirelen = h->len;
	hdr.dlt = cap->dlt;
	cap->cb(cap->cb_arg, &hdr, bytes);
}

int
capture_dispatch(struct capture *cap, int max, capture_cb cb, void *arg)
{
	int n;

	cap->cb = cb;
	cap->cb_arg = arg;
	for (;;) {
		if (cap->p == NULL)
			return CAPTURE_EOF;
		if (cap->stop)
			return 0;
		n = pcap_dispatch(cap->p, max, on_pcap_packet, (u_char *)cap);
		if (n == 0 && cap->conf.nfiles == 0) {
			struct pollfd pfd = { cap->fd, POLLIN, 0 };

			if (poll(&pfd, 1, cap->wait_ms) < 0 &&
			    errno != EINTR) {
				snprintf(cap->error, sizeof(cap->error), "%s: poll: %s",
				    cap->conf.iface, strerror(errno));
				return CAPTURE_ERROR;
			}
			if (cap->stop)
				return 0;
			n = pcap_dispatch(cap->p, max, on_pcap_packet,
			    (u_char *)cap);
		}
		if (n == PCAP_ERROR_BREAK)
			return 0;
		if (n == PCAP_ERROR) {
			snprintf(cap->error, sizeof(cap->error), "%s: %s",
			    cap->conf.nfiles ? cap->conf.files[cap->next_file - 1] :
			    cap->conf.iface, pcap_geterr(cap->p));
			return CAPTURE_ERROR;
		}
		if (n > 0 || cap->conf.nfiles == 0)
			return n;
		/* End of this file: continue with the next one. */
		cap->done_bytes += file_size(cap->conf.files[cap->next_file - 1]);
		pcap_close(cap->p);
		cap->p = NULL;
		if (cap->next_file >= cap->conf.nfiles)
			return CAPTURE_EOF;
		if ((cap->p = open_file(cap->conf.files[cap->next_file],
		    cap->conf.bpf, cap->fbuf, cap->error, sizeof(cap->error))) == NULL)
			return CAPTURE_ERROR;
		cap->dlt = pcap_datalink(cap->p);
		cap->next_file++;
	}
}

const char *
capture_error(const struct capture *cap)
{
	return cap->error;
}

void
capture_set_wait(struct capture *cap, int ms)
{
	cap->wait_ms = ms;
}

void
capture_breakloop(struct capture *cap)
{
	cap->stop = 1;
	if (cap->p != NULL)
		pcap_breakloop(cap->p);
}

bool
capture_is_live(const struct capture *cap)
{
	return cap->conf.nfiles == 0;
}

int
capture_stats(struct capture *cap, struct capture_stats *st)
{
	struct pcap_stat ps;

	memset(st, 0, sizeof(*st));
	if (cap->conf.nfiles != 0 || cap->p == NULL)
		return -1;
	if (pcap_stats(cap->p, &ps) != 0)
		return -1;
	st->received = ps.ps_recv;
	st->dropped = ps.ps_drop;
	st->if_dropped = ps.ps_ifdrop;
	return 0;
}

int
capture_progress(struct capture *cap, uint64_t *done, uint64_t *total)
{
	FILE *fp;
	off_t pos;

	if (cap->conf.nfiles == 0 || cap->total_bytes == 0)
		return -1;
	*total = cap->total_bytes;
	*done = cap->done_bytes;
	if (cap->p != NULL && (fp = pcap_file(cap->p)) != NULL &&
	    (pos = ftello(fp)) > 0)
		*done += (uint64_t)pos;
	if (*done > *total)
		*done = *total;
	return 0;
}

void
capture_close(struct capture *cap)
{
	if (cap == NULL)
		return;
	if (cap->p != NULL)
		pcap_close(cap->p);
	free(cap->fbuf);		/* after the fclose() in pcap_close() */
	free(cap);
}
