/*
 * log.c - stderr logging (syslog arrives with daemon mode).
 *
 *	log_warnx()
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static void
log_vprint(const char *fmt, va_list ap)
{
	fputs("streamprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(fmt, ap);
	va_end(ap);
}
