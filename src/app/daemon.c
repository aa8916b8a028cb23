/*
 * daemon.c - background start with a readiness pipe, pid file, privileges.
 *
 *	daemon_start(), daemon_ready()
 *	daemon_write_pidfile(), daemon_remove_pidfile()
 *	daemon_check_user(), daemon_drop_privileges()
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

static int ready_fd = -1;	/* child: write end of the readiness pipe */
static int pidfile_fd = -1;	/* held open and locked while we run */

int
daemon_start(char *errbuf, size_t errlen)
{
	int fds[2], wstatus;
	unsigned char status;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) != 0) {
		snprintf(errbuf, errlen, "cannot create a pipe: %s",
		    strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(errbuf, errlen, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		do
			n = read(fds[0], &status, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(status);
		/* The child died before it was ready: pass its status on. */
		if (waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus) &&
		    WEXITSTATUS(wstatus) != 0)
			_exit(WEXITSTATUS(wstatus));
		_exit(1);
	}
	close(fds[0]);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	ready_fd = fds[1];
	if (setsid() < 0) {
		snprintf(errbuf, errlen, "cannot start a session: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
daemon_ready(int status)
{
	unsigned char b = (unsigned char)status;
	int fd;

	if (ready_fd < 0)
		return;
	if (status == 0) {
		/* Detach first: the parent's exit ends the terminal session. */
		if (chdir("/") != 0)
			(void)0;
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
	}
	while (write(ready_fd, &b, 1) < 0 && errno == EINTR)
		;
	close(ready_fd);
	ready_fd = -1;
}

int
daemon_write_pidfile(const char *path, char *errbuf, size_t errlen)
{
	char buf[32], old[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot open pid file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	/* A lock held for our lifetime: a second probe on the same pid file
	 * is refused instead of overwriting the first one's pid. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = read(fd, old, sizeof(old) - 1);
		old[n > 0 ? n : 0] = '\0';
		old[strcspn(old, "\n")] = '\0';
		snprintf(errbuf, errlen, "pid file %s is locked: streamprobe "
		    "already runs (pid %s)", path, old);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n) {
		snprintf(errbuf, errlen, "cannot write pid file %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	pidfile_fd = fd;
	return 0;
}

void
daemon_remove_pidfile(const char *path)
{
	if (pidfile_fd < 0)
		return;
	/* May fail after dropping root: the directory is not ours. */
	(void)unlink(path);
	close(pidfile_fd);
	pidfile_fd = -1;
}

int
daemon_check_user(const char *user, char *errbuf, size_t errlen)
{
	errno = 0;
	if (getpwnam(user) == NULL) {
		snprintf(errbuf, errlen, "--user: no such user \"%s\"", user);
		return -1;
	}
	return 0;
}

int
daemon_drop_privileges(const char *user, char *errbuf, size_t errlen)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL) {
		snprintf(errbuf, errlen, "--user: no such user \"%s\"", user);
		return -1;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;
	if (geteuid() != 0) {
		snprintf(errbuf, errlen, "--user %s: only root can change user",
		    user);
		return -1;
	}
	if (pidfile_fd >= 0 && fchown(pidfile_fd, pw->pw_uid, pw->pw_gid) != 0)
		(void)0;	/* harmless: only its removal may then fail */
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		snprintf(errbuf, errlen, "cannot become user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	/* Paranoia: root must be gone for good. */
	if (setuid(0) == 0) {
		snprintf(errbuf, errlen, "cannot drop root for %s", user);
		return -1;
	}
	return 0;
}
