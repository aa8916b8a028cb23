/*
 * log.h - messages for people: "streamprobe: ..." on stderr, or syslog
 * (facility daemon) once the probe runs in the background.
 */
#ifndef STREAMPROBE_LOG_H
#define STREAMPROBE_LOG_H

#include <stdbool.h>

/* From now on, send messages to syslog instead of stderr. */
void log_to_syslog(const char *ident);
bool log_is_syslog(void);
/* SIGHUP: reconnect to syslog (after logrotate restarts it). */
void log_reopen(void);

void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
