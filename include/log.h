/*
 * log.h - messages for people: "streamprobe: ..." on stderr.
 */
#ifndef STREAMPROBE_LOG_H
#define STREAMPROBE_LOG_H

void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
