/*
 * master_files.c - the lock/pid file, the queue and data folders, mail_owner.
 *
 * Contract: one master per instance: data_directory/master.pid is held with an
 * exclusive fcntl() lock for master's lifetime and holds its pid; a second master
 * fails with "the faxpost mail system is already running (pid N)". At start master
 * creates queue_directory and its state folders, data_directory and the log file's
 * folder, owned by mail_owner when master runs as root (so unprivileged workers can
 * write there; queue_directory itself stays root's, as in Postfix).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/config.h"
#include "master.h"
#include "util/buf.h"
#include "util/msg.h"

static int lock_fd = -1;
static char pid_path[4096];

int master_owner_lookup(char *err, size_t errlen)
{
	const char *user = conf_str("mail_owner");
	struct passwd *pw;

	master.have_owner = 0;
	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "mail_owner %s: no such user", user);
		return -1;
	}
	master.owner_uid = pw->pw_uid;
	master.owner_gid = pw->pw_gid;
	master.have_owner = 1;
	return 0;
}

int master_lock(char *err, size_t errlen)
{
	struct flock fl;
	char pbuf[32];
	ssize_t n;

	if (snprintf(pid_path, sizeof(pid_path), "%s/master.pid",
		     conf_str("data_directory")) >= (int)sizeof(pid_path)) {
		snprintf(err, errlen, "data_directory too long");
		return -1;
	}
	lock_fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lock_fd < 0) {
		snprintf(err, errlen, "open %s: %s", pid_path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(lock_fd, F_SETLK, &fl) < 0) {
		n = pread(lock_fd, pbuf, sizeof(pbuf) - 1, 0);
		pbuf[n > 0 ? n : 0] = 0;
		pbuf[strcspn(pbuf, "\n")] = 0;
		snprintf(err, errlen, "the faxpost mail system is already running (pid %s)",
			 pbuf[0] ? pbuf : "?");
		close(lock_fd);
		lock_fd = -1;
		return -1;
	}
	return 0;
}

void master_write_pid(void)
{
	char pbuf[32];
	int n = snprintf(pbuf, sizeof(pbuf), "%ld\n", (long)getpid());

	if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, pbuf, (size_t)n, 0) != n)
		msg_fatal("write %s: %s", pid_path, strerror(errno));
}

void master_unlink_pid(void)
{
	if (pid_path[0])
		unlink(pid_path);
}

/* mkdir -p for one path; the folders it creates get mode. */
static int master_mkdirs(const char *path, mode_t mode, char *err, size_t errlen)
{
	char tmp[4096];

	if (str_copy(tmp, sizeof(tmp), path) < 0) {
		snprintf(err, errlen, "path too long: %.100s", path);
		return -1;
	}
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;

			*p = 0;
			if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "mkdir %s: %s", tmp, strerror(errno));
				return -1;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* A folder owned by mail_owner with exactly this mode. */
static int master_owned_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
	if (master_mkdirs(path, mode, err, errlen) < 0)
		return -1;
	if (master.have_owner && chown(path, master.owner_uid, master.owner_gid) < 0) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	if (chmod(path, mode) < 0) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int master_make_dirs(char *err, size_t errlen)
{
	static const char *const states[] = {
		"tmp", "incoming", "active", "deferred", "hold", "corrupt", "defer", "free",
		"private",
	};
	const char *q = conf_str("queue_directory");
	const char *log = conf_str("maillog_file");
	char path[4096];

	if (master_mkdirs(q, 0755, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", q, states[i]) >= (int)sizeof(path) ||
		    master_owned_dir(path, 0700, err, errlen) < 0)
			return -1;
	}
	/* public/: sockets anyone on the host may use (the qmgr trigger) */
	if (snprintf(path, sizeof(path), "%s/public", q) >= (int)sizeof(path) ||
	    master_owned_dir(path, 0755, err, errlen) < 0)
		return -1;
	if (master_owned_dir(conf_str("data_directory"), 0700, err, errlen) < 0)
		return -1;
	if (*log) {
		const char *slash = strrchr(log, '/');

		if (slash && slash != log) {
			if (str_ncopy(path, sizeof(path), log, (size_t)(slash - log)) < 0 ||
			    master_mkdirs(path, 0755, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}
