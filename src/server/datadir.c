/*
 * datadir: creating and locking the node's data directory (see datadir.h).
 *
 * Happy path: mkdir -p, open `.lock` (created 0644), flock(LOCK_EX | LOCK_NB), then replace its
 * text with our pid.
 *
 * Failure modes handled:
 *   - Another live node holds the lock: report its pid as read from the file. The holder writes
 *     the pid just after locking, so a reader may find the file empty for an instant; the message
 *     then says the pid is unknown rather than guessing.
 *   - A path component that is a file, or no permission: report the path and strerror.
 *
 * Invariants:
 *   1. lock_fd >= 0 exactly when the lock is held.
 *   2. The lock file is never deleted: deleting it while another process waits on the old inode
 *      would let two holders exist.
 */
#include "server/datadir.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

/* Creates `path` and its missing parents. Returns 0 or an err_from_errno code with `errmsg`. */
static int mkdir_parents(const char *path, char *errmsg)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof buf) {
		errmsg_printf(errmsg, "%s: path is empty or too long", path);
		return SLUICE_EINVAL;
	}
	memcpy(buf, path, len + 1);
	/* Each prefix ending before a '/' and then the whole path; skip a leading '/'. */
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];

		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
			int saved_errno = errno;

			errmsg_printf(errmsg, "cannot create directory %s: %s", buf,
				      strerror(saved_errno));
			return err_from_errno(saved_errno);
		}
		buf[i] = saved;
	}

	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		errmsg_printf(errmsg, "%s: not a directory", path);
		return SLUICE_EIO;
	}
	return 0;
}

/* Reads the holder's pid from the lock file into `out` (a short text), "unknown" if empty. */
static void read_holder(int fd, char *out, size_t size)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof text - 1, 0);
	long pid;
	char *end;

	snprintf(out, size, "unknown");
	if (n <= 0)
		return;
	text[n] = '\0';
	pid = strtol(text, &end, 10);
	if (end != text && pid > 0)
		snprintf(out, size, "%ld", pid);
}

int datadir_open(struct datadir *d, const char *path, char *errmsg)
{
	char lock_path[PATH_MAX];
	char pid_text[32];
	int fd;
	int rc;

	d->path = path;
	d->lock_fd = -1;
	rc = mkdir_parents(path, errmsg);
	if (rc != 0)
		return rc;
	if (snprintf(lock_path, sizeof lock_path, "%s/%s", path, DATADIR_LOCK_NAME) >=
	    (int)sizeof lock_path) {
		errmsg_printf(errmsg, "%s: path too long", path);
		return SLUICE_EINVAL;
	}
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int saved_errno = errno;

		errmsg_printf(errmsg, "%s: %s", lock_path, strerror(saved_errno));
		return err_from_errno(saved_errno);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int saved_errno = errno;

		if (saved_errno == EWOULDBLOCK) {
			char holder[32];

			read_holder(fd, holder, sizeof holder);
			errmsg_printf(errmsg,
				      "data directory %s is in use by another sluice-server "
				      "(pid %s, lock file %s)",
				      path, holder, lock_path);
			rc = SLUICE_EBUSY;
		} else {
			errmsg_printf(errmsg, "%s: cannot lock: %s", lock_path,
				      strerror(saved_errno));
			rc = err_from_errno(saved_errno);
		}
		goto err_after_open;
	}

	int len = snprintf(pid_text, sizeof pid_text, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid_text, (size_t)len, 0) != len) {
		int saved_errno = errno;

		errmsg_printf(errmsg, "%s: cannot write pid: %s", lock_path, strerror(saved_errno));
		rc = err_from_errno(saved_errno);
		goto err_after_open;
	}
	d->lock_fd = fd;
	return 0;

err_after_open:
	close(fd); /* also releases the lock if we took it */
	return rc;
}

void datadir_close(struct datadir *d)
{
	if (d == NULL || d->lock_fd < 0)
		return;
	close(d->lock_fd);
	d->lock_fd = -1;
}
