/*
 * onramp.c - received faxes to queued MIME messages (see onramp.h).
 *
 * Contract: see onramp.h. The Content-Type is image/tiff with application=faxbw
 * (RFC 3965/3949); the part is named fax-<queueid>.tif. Nothing is lost: the caller
 * deletes its TIFF only after onramp_queue() returned 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/dict.h"
#include "mail/queue.h"
#include "onramp.h"
#include "util/msg.h"

static void digits_of(const char *in, char *out, size_t size, int plus)
{
	size_t o = 0;
	if (plus && size > 1)
		out[o++] = '+';
	for (; in && *in && o + 1 < size; in++)
		if (*in >= '0' && *in <= '9')
			out[o++] = *in;
	out[o] = '\0';
	if (plus && o == 1)
		out[0] = '\0';
}

static const char *table_path(char *path, size_t size)
{
	const char *t = conf_str("fax_routes");
	if (!*t)
		return NULL;
	if (*t == '/')
		snprintf(path, size, "%s", t);
	else
		snprintf(path, size, "%s/%s", config_directory(), t);
	return path;
}

int onramp_route(const onramp_fax *f, char *rcpt, size_t size, const char **how)
{
	char path[4096], key[80], d[64];
	dict *dt = NULL;
	if (table_path(path, sizeof(path))) {
		char err[256];
		dt = dict_open(path, 0, err, sizeof(err));
		if (!dt)
			msg_warn("fax_routes %s: %s", path, err);
	}
	const char *v = NULL;
	if (dt) {
		static const char *kinds[] = { "did", "sub", "tsi" };
		const char *vals[] = { f->did, f->subaddr, f->remote_id };
		for (int i = 0; i < 3 && !v; i++) {
			digits_of(vals[i], d, sizeof(d), i == 2);
			if (!d[0])
				continue;
			snprintf(key, sizeof(key), "%s:%s", kinds[i], d);
			if ((v = dict_lookup(dt, key)) != NULL)
				*how = kinds[i];
		}
		if (!v && (v = dict_lookup(dt, "default")) != NULL)
			*how = "default";
	}
	if (!v) {
		v = conf_str("fax_default_recipient");
		*how = "default";
	}
	int rc = (*v && str_copy(rcpt, size, v) == 0) ? 0 : -1;
	if (dt)
		dict_close(dt);
	return rc;
}

void onramp_sender(const char *remote_id, const char *caller_id, char *out, size_t size)
{
	char num[48], *domains[1] = { NULL };
	size_t n = conf_list("fax_domains", domains, 1);
	const char *dom = n > 0 ? domains[0] : "localhost";
	digits_of(remote_id, num, sizeof(num), 1);
	if (!num[0])
		digits_of(caller_id, num, sizeof(num), 1);
	if (num[0])
		snprintf(out, size, "FAX=%s@%s", num, dom);
	else
		snprintf(out, size, "FAX=unknown@%s", dom);
	conf_list_free(domains, n);
}

static int append_base64(buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		line[o++] = tab[(v >> 18) & 63];
		line[o++] = tab[(v >> 12) & 63];
		line[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		line[o++] = i + 2 < n ? tab[v & 63] : '=';
		if (o >= 76) {
			if (buf_append(out, line, o) < 0 || buf_append(out, "\r\n", 2) < 0)
				return -1;
			o = 0;
		}
	}
	if (o && (buf_append(out, line, o) < 0 || buf_append(out, "\r\n", 2) < 0))
		return -1;
	return 0;
}

static int read_file(const char *path, buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char chunk[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) < 0) {
			rc = -1;
			break;
		}
	if (n < 0)
		rc = -1;
	close(fd);
	return rc;
}

int onramp_message(const onramp_fax *f, const char *from, const char *rcpt, buf *out,
		   char *err, size_t errlen)
{
	buf tif;
	buf_init(&tif, 256u * 1024 * 1024);
	if (read_file(f->tiff_path, &tif) < 0) {
		snprintf(err, errlen, "read %s: %s", f->tiff_path, strerror(errno));
		buf_free(&tif);
		return -1;
	}
	char date[64], host[256] = "localhost", boundary[80];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	gethostname(host, sizeof(host) - 1);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	snprintf(boundary, sizeof(boundary), "=_faxpost_%lx_%lx_%ld", (long)tv.tv_sec,
		 (long)tv.tv_usec, (long)getpid());
	const char *remote = f->remote_id && *f->remote_id ? f->remote_id : "unknown";
	int rc = 0;
	rc |= buf_printf(out, "From: \"FAX %s\" <%s>\r\nTo: <%s>\r\n", remote, from, rcpt);
	rc |= buf_printf(out, "Subject: Fax from %s (%d page%s)\r\nDate: %s\r\n", remote,
			 f->pages, f->pages == 1 ? "" : "s", date);
	rc |= buf_printf(out, "Message-ID: <fax.%lx.%lx.%ld@%s>\r\nMIME-Version: 1.0\r\n",
			 (long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), host);
	rc |= buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary);
	rc |= buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	rc |= buf_printf(out, "A fax was received.\r\n\r\nRemote station: %s\r\n", remote);
	if (f->caller_id && *f->caller_id)
		rc |= buf_printf(out, "Caller ID: %s\r\n", f->caller_id);
	if (f->did && *f->did)
		rc |= buf_printf(out, "Dialled number (DID): %s\r\n", f->did);
	if (f->subaddr && *f->subaddr)
		rc |= buf_printf(out, "Subaddress: %s\r\n", f->subaddr);
	rc |= buf_printf(out, "Pages: %d\r\nSpeed: %d bit/s\r\nCoding: %s\r\nECM: %s\r\n"
			 "Bad rows: %d\r\nDuration: %.1f s\r\nLine: %s\r\n\r\n", f->pages, f->speed,
			 f->coding, f->ecm ? "yes" : "no", f->bad_rows, f->duration, f->device);
	rc |= buf_printf(out, "--%s\r\nContent-Type: image/tiff; application=faxbw\r\n"
			 "Content-Transfer-Encoding: base64\r\n"
			 "Content-Disposition: attachment; filename=\"fax.tif\"\r\n\r\n", boundary);
	if (rc == 0)
		rc = append_base64(out, (const unsigned char *)tif.data, tif.len);
	if (rc == 0)
		rc = buf_printf(out, "--%s--\r\n", boundary);
	buf_free(&tif);
	if (rc < 0)
		snprintf(err, errlen, "message too large");
	return rc < 0 ? -1 : 0;
}

int onramp_queue(const onramp_fax *f, char *queue_id, size_t idsize, char *rcpt,
		 size_t rsize, char *err, size_t errlen)
{
	char from[128];
	const char *how = "default";
	if (onramp_route(f, rcpt, rsize, &how) < 0) {
		snprintf(err, errlen, "no recipient: fax_routes has no match and "
			 "fax_default_recipient is empty");
		return -1;
	}
	onramp_sender(f->remote_id, f->caller_id, from, sizeof(from));
	buf msg;
	buf_init(&msg, 512u * 1024 * 1024);
	if (onramp_message(f, from, rcpt, &msg, err, errlen) < 0) {
		buf_free(&msg);
		return -1;
	}
	const char *qdir = conf_str("queue_directory");
	if (queue_init_dirs(qdir, err, errlen) < 0) {
		buf_free(&msg);
		return -1;
	}
	qwriter *w = qw_create(qdir, err, errlen);
	if (!w) {
		buf_free(&msg);
		return -1;
	}
	qenvelope env;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	qenv_init(&env);
	const char *esender = conf_str("fax_onramp_sender");
	char client[80];
	snprintf(client, sizeof(client), "fax[%s]", f->device);
	env.sender = (char *)(*esender ? esender : from);
	env.arrival_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	env.origin = (char *)"fax";
	env.client_name = client;
	env.protocol = (char *)"FAX";
	int rc = qenv_add_rcpt(&env, rcpt, NULL, DSN_NOTIFY_FAILURE);
	if (rc == 0)
		rc = qw_envelope(w, &env);
	env.sender = env.origin = env.client_name = env.protocol = NULL;
	qenv_free(&env);
	if (rc == 0)
		rc = qw_content(w, msg.data, msg.len);
	buf_free(&msg);
	if (rc == 0 && str_copy(queue_id, idsize, qw_id(w)) < 0)
		rc = -1;
	if (rc == 0 && qw_commit(w, err, errlen) < 0)
		rc = -1;
	else if (rc < 0)
		snprintf(err, errlen, "queue file write error");
	if (rc < 0)
		qw_abort(w);
	qw_free(w);
	if (rc == 0) {
		queue_trigger(qdir, TRIGGER_NEW);
		msg_info("%s: from=<%s>, to=<%s>, origin=fax, route=%s", queue_id, from, rcpt, how);
	}
	return rc;
}
