/*
 * datadir: a node's data directory (log.dirs), created if missing and held with an exclusive lock
 * for as long as the node runs, so two nodes can never write the same partitions.
 *
 * The lock is flock(2) on `<dir>/.lock`, which also holds the holder's pid as text ("1234\n") so
 * that the second node's error names who is in the way. The kernel drops the lock when the holder
 * exits, however it exits (kill -9 included), so a stale lock file never blocks a restart.
 */
#ifndef SLUICE_SERVER_DATADIR_H
#define SLUICE_SERVER_DATADIR_H

#define DATADIR_LOCK_NAME ".lock"

struct datadir {
	const char *path; /* borrowed from the caller's configuration */
	int lock_fd;      /* -1 when not held */
};

/* Creates `path` (and its missing parents, mode 0755) and takes the lock. Returns 0 with `d`
 * holding the lock, or:
 *   SLUICE_EBUSY  another process holds it; `errmsg` names the directory and the holder's pid;
 *   SLUICE_EIO (or the err_from_errno code) the directory or lock file cannot be made.
 * `path` must stay valid until datadir_close(). */
int datadir_open(struct datadir *d, const char *path, char *errmsg);

/* Releases the lock. Accepts a datadir that is not open. */
void datadir_close(struct datadir *d);

#endif
