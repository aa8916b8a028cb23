/*
 * log.c - stderr in the foreground, syslog in the background.
 *
 *	log_to_syslog(), log_is_syslog(), log_reopen()
 *	log_warnx(), log_info()
 *
 * Both are safe to call from any thread (stdio and syslog lock per call).
 * Never called per packet.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static _Atomic bool use_syslog;
static const char *syslog_ident = "streamprobe";

void
log_to_syslog(const char *ident)
{
	syslog_ident = ident;
	openlog(syslog_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&use_syslog, true);
}

bool
log_is_syslog(void)
{
	return atomic_load(&use_syslog);
}

void
log_reopen(void)
{
	if (!atomic_load(&use_syslog))
		return;
	closelog();
	openlog(syslog_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Checked like printf: the callers' formats are literals. */
static void log_vprint(int, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
log_vprint(int prio, const char *fmt, va_list ap)
{
	if (atomic_load(&use_syslog)) {
		vsyslog(prio, fmt, ap);
		return;
	}
	flockfile(stderr);
	fputs("streamprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_INFO, fmt, ap);
	va_end(ap);
}
