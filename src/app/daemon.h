/*
 * daemon.h - running as a service: background, pid file, dropping root.
 *
 * daemon_start() forks before any thread exists.  The parent stays attached
 * to the terminal and waits until the child calls daemon_ready(): start-up
 * errors are still printed there and become the parent's exit status, so
 * `streamprobe -D ...` fails visibly when the interface or a collector is
 * wrong, as a service manager expects of a forking daemon.
 */
#ifndef STREAMPROBE_DAEMON_H
#define STREAMPROBE_DAEMON_H

#include <stddef.h>

/* Returns 0 in the child; the parent never returns.  -1 on failure. */
int daemon_start(char *errbuf, size_t errlen);
/* Child: report start-up status to the parent; on 0 detach from the
 * terminal (new session, cwd /, standard streams to /dev/null). */
void daemon_ready(int status);

int daemon_write_pidfile(const char *path, char *errbuf, size_t errlen);
void daemon_remove_pidfile(const char *path);

/* Does the account exist?  (--check-config and start-up.) */
int daemon_check_user(const char *user, char *errbuf, size_t errlen);
/* Become user (groups too); a pid file written before is handed over so
 * it can be removed at exit. */
int daemon_drop_privileges(const char *user, char *errbuf, size_t errlen);

#endif
