/*
 * local.c - the local delivery agent: Maildir mailboxes for the local domains.
 *
 * Contract: one IPC_DELIVER per connection (lib/mail/deliver_req.h). Each recipient
 * user[+ext]@domain is looked up in local_mailbox_maps ("user@domain", then "user";
 * when that table is not set every user exists, at local_mailbox_base/USER/Maildir/).
 * Unknown user: 5.1.1. Delivery is the Maildir protocol: write tmp/UNIQUE, fsync,
 * rename into new/, fsync new/ - only then 2.0.0 and the done mark in the queue file.
 * Lines are stored with LF ends (Maildir convention, what Dovecot expects); a
 * Return-Path and a Delivered-To header go first. Disk full or quota: 4.3.1
 * (deferred, never bounced); other I/O errors 4.3.0.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/daemon.h"
#include "mail/deliver_req.h"
#include "mail/dict.h"
#include "util/buf.h"
#include "util/msg.h"

static dict *local_map;
static const char *local_base;
static const char *local_delim;
static char local_host[256];

static int local_mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	if (str_copy(tmp, sizeof tmp, path) < 0)
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* The Maildir folder of addr (without a trailing slash), or a 5.1.1 / 5.1.3 reason. */
static int local_mailbox(const char *addr, char *out, size_t outlen, char *why, size_t whylen)
{
	char user[256], full[600];
	const char *at = strrchr(addr, '@');
	size_t ul = at ? (size_t)(at - addr) : strlen(addr);
	const char *v = NULL;

	if (ul == 0 || ul >= sizeof user) {
		snprintf(why, whylen, "bad local part");
		return -1;
	}
	for (size_t i = 0; i < ul; i++)
		user[i] = (char)tolower((unsigned char)addr[i]);
	user[ul] = 0;
	if (local_delim[0]) {		/* user+ext -> user */
		char *d = strchr(user, local_delim[0]);
		if (d && d != user)
			*d = 0;
	}
	if (user[0] == '.' || strchr(user, '/')) {
		snprintf(why, whylen, "bad local part");
		return -1;
	}
	if (local_map) {
		snprintf(full, sizeof full, "%s%s", user, at ? at : "");
		v = dict_lookup(local_map, full);
		if (v == NULL)
			v = dict_lookup(local_map, user);
		if (v == NULL) {
			snprintf(why, whylen, "User unknown in local mailbox table");
			return -2;
		}
	}
	int n;
	if (v == NULL)
		n = snprintf(out, outlen, "%s/%s/Maildir", local_base, user);
	else if (v[0] == '/')
		n = snprintf(out, outlen, "%s", v);
	else
		n = snprintf(out, outlen, "%s/%s", local_base, v);
	if (n < 0 || (size_t)n >= outlen || strstr(out, "/../")) {
		snprintf(why, whylen, "bad mailbox path");
		return -1;
	}
	while (n > 1 && out[n - 1] == '/')
		out[--n] = 0;
	return 0;
}

static int local_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy the content with CRLF -> LF, in chunks. */
static int local_copy(deliver_req *req, int fd)
{
	char in[65536], out[65536];
	int cr = 0;	/* previous chunk ended in CR */

	for (off_t off = 0; off < req->qf->content_len; ) {
		ssize_t n = qf_read_content(req->qf, off, in, sizeof in);
		size_t o = 0;
		if (n <= 0) {
			errno = EIO;
			return -1;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (cr && in[i] != '\n')
				out[o++] = '\r';
			cr = 0;
			if (in[i] == '\r') {
				cr = 1;
				continue;
			}
			out[o++] = in[i];
			if (o >= sizeof out - 1) {
				if (local_write_all(fd, out, o) < 0)
					return -1;
				o = 0;
			}
		}
		if (local_write_all(fd, out, o) < 0)
			return -1;
		off += n;
	}
	return cr ? local_write_all(fd, "\r", 1) : 0;
}

static int local_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Returns 0, or -1 with errno set. */
static int local_maildir_put(deliver_req *req, const char *box, const char *rcpt)
{
	static unsigned counter;
	char tmp[PATH_MAX], dst[PATH_MAX], dir[PATH_MAX], name[400];
	struct timeval tv;
	buf head;
	int fd, rc = -1;

	for (const char *sub = "tmp\0new\0cur\0"; *sub; sub += 4) {
		if (snprintf(dir, sizeof dir, "%s/%s", box, sub) >= (int)sizeof dir
		    || local_mkdirs(dir) < 0)
			return -1;
	}
	gettimeofday(&tv, NULL);
	snprintf(name, sizeof name, "%lld.M%ldP%dQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
		 (int)getpid(), ++counter, local_host);
	if (snprintf(tmp, sizeof tmp, "%s/tmp/%s", box, name) >= (int)sizeof tmp
	    || snprintf(dst, sizeof dst, "%s/new/%s", box, name) >= (int)sizeof dst
	    || snprintf(dir, sizeof dir, "%s/new", box) >= (int)sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return -1;
	buf_init(&head, 4096);
	buf_printf(&head, "Return-Path: <%s>\nDelivered-To: %s\n", req->sender, rcpt);
	if (local_write_all(fd, head.data, head.len) == 0 && local_copy(req, fd) == 0
	    && fsync(fd) == 0) {
		if (close(fd) == 0 && rename(tmp, dst) == 0 && local_sync_dir(dir) == 0)
			rc = 0;
		fd = -1;
	}
	int saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	buf_free(&head);
	errno = saved;
	return rc;
}

static void local_one(deliver_req *req, size_t i)
{
	char box[PATH_MAX], why[256], reason[PATH_MAX + 64];
	const char *rcpt = req->rcpt[i].addr;
	int rc = local_mailbox(rcpt, box, sizeof box, why, sizeof why);

	if (rc == -2) {
		deliver_req_status(req, i, "5.1.1", why, NULL);
		return;
	}
	if (rc < 0) {
		deliver_req_status(req, i, "5.1.3", why, NULL);
		return;
	}
	if (local_maildir_put(req, box, rcpt) < 0) {
		int e = errno;
		snprintf(reason, sizeof reason, "cannot write maildir %s: %s", box, strerror(e));
		deliver_req_status(req, i, (e == ENOSPC || e == EDQUOT) ? "4.3.1" : "4.3.0",
				   reason, NULL);
		return;
	}
	snprintf(reason, sizeof reason, "delivered to maildir");
	deliver_req_status(req, i, "2.0.0", reason, "delivered");
}

static void local_serve(daemon_ctx *ctx, int fd)
{
	deliver_req req;
	char err[512];

	if (deliver_req_read(fd, &req, err, sizeof err) < 0) {
		msg_warn("bad delivery request: %s", err);
		deliver_req_free(&req);
		return;
	}
	snprintf(req.relay, sizeof req.relay, "local");	/* as Postfix logs it */
	for (size_t i = 0; i < req.n; i++)
		local_one(&req, i);
	if (deliver_req_reply(fd, &req) < 0)
		msg_warn("%s: cannot send the reply to qmgr: %m", req.queue_id);
	deliver_req_free(&req);
}

static void local_close_map(void)
{
	if (local_map)
		dict_close(local_map);
	local_map = NULL;
}

static void local_post_jail(daemon_ctx *ctx)
{
	const char *maps = conf_str("local_mailbox_maps");
	char err[256];

	local_base = conf_str("local_mailbox_base");
	local_delim = conf_str("local_recipient_delimiter");
	if (maps[0] && (local_map = dict_open(maps, 0, err, sizeof err)) == NULL)
		msg_fatal("local_mailbox_maps = %s: %s", maps, err);
	atexit(local_close_map);	/* Berkeley DB frees its buffers only on close */
	if (gethostname(local_host, sizeof local_host) < 0 || local_host[0] == 0)
		snprintf(local_host, sizeof local_host, "localhost");
	local_host[sizeof local_host - 1] = 0;
	for (char *p = local_host; *p; p++)	/* Maildir: '/' and ':' are special */
		if (*p == '/' || *p == ':')
			*p = '_';
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.post_jail = local_post_jail,
		.serve = local_serve,
		.max_use = -1,		/* max_use, max_idle from main.cf */
		.max_idle = -1,
	};

	return daemon_main(argc, argv, "local", &ops);
}
