/*
 * cmd_send.c - `faxpost send [-f SENDER] [-s SUBJECT] [-m TEXT] -t ADDRESS... FILE...`:
 * queue documents as a MIME message, e.g. to FAX=+4930123456@faxgw.example (the fax
 * goes out through codecd and faxd) or to a local user or the print box.
 *
 * Contract: every FILE is read whole (at most message_size_limit in all) and attached
 * with a type from its extension; the message is committed to the queue (durable
 * before "queued as" is printed) with origin "local", and qmgr is woken. The sender
 * defaults to the invoking user at myorigin. Exit 0 queued, 1 failure, 2 usage.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "mail/addr.h"
#include "mail/config.h"
#include "mail/mime_build.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/msg.h"

#define SEND_MAX_RCPT 100

static int send_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost send [-f SENDER] [-s SUBJECT] [-m TEXT] -t ADDRESS"
		" [-t ADDRESS...] FILE...\n"
		"  Queue the files as one message (a fax: -t FAX=+NUMBER@FAX-DOMAIN).\n");
	return fp == stdout ? 0 : 2;
}

static int send_read_file(const char *path, buf *data, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	buf_reset(data);
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(data, chunk, n) < 0) {
			snprintf(err, errlen, "%s: larger than message_size_limit", path);
			fclose(fp);
			return -1;
		}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* "user" becomes "user@myorigin"; a path is checked as smtpd would check it. */
static int send_address(const char *in, char *out, size_t outlen)
{
	char text[600], why[256];
	addr_path ap;

	if (strchr(in, '@'))
		snprintf(text, sizeof(text), "<%s>", in);
	else
		snprintf(text, sizeof(text), "<%s@%s>", in, conf_str("myorigin"));
	if (addr_parse_path(text, &ap, why, sizeof(why)) < 0 || !ap.addr[0])
		return -1;
	return str_copy(out, outlen, ap.addr);
}

static int send_queue(const char *sender, char rcpt[][ADDR_MAX_PATH + 1], size_t nrcpt,
		      const buf *msg, char *qid, size_t qidlen, char *err, size_t errlen)
{
	const char *qdir = conf_str("queue_directory");
	struct timeval tv;
	qenvelope env;
	qwriter *w;
	int rc = 0;

	if (!(w = qw_create(qdir, err, errlen)))
		return -1;
	gettimeofday(&tv, NULL);
	qenv_init(&env);
	env.sender = (char *)sender;
	env.arrival_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	env.origin = (char *)"local";
	env.protocol = (char *)"LOCAL";
	for (size_t i = 0; i < nrcpt && rc == 0; i++)
		rc = qenv_add_rcpt(&env, rcpt[i], NULL, 0);
	if (rc == 0)
		rc = qw_envelope(w, &env);
	env.sender = env.origin = env.protocol = NULL;
	qenv_free(&env);
	if (rc == 0)
		rc = qw_content(w, msg->data, msg->len);
	if (rc < 0)
		snprintf(err, errlen, "queue file write error");
	else if (str_copy(qid, qidlen, qw_id(w)) < 0 || qw_commit(w, err, errlen) < 0)
		rc = -1;
	if (rc < 0)
		qw_abort(w);
	qw_free(w);
	if (rc == 0)
		queue_trigger(qdir, TRIGGER_NEW);
	return rc;
}

int cmd_send(int argc, char **argv)
{
	static char rcpt[SEND_MAX_RCPT][ADDR_MAX_PATH + 1];
	const char *to[SEND_MAX_RCPT], *subject = NULL, *text = NULL, *from = NULL;
	char sender[ADDR_MAX_PATH + 1], err[512], qid[QUEUE_ID_LEN + 1];
	long long limit = conf_size("message_size_limit");
	size_t nrcpt = 0;
	int i, opt_end = 0;
	buf msg, data;
	mime_msg m;

	for (i = 1; i < argc && argv[i][0] == '-' && !opt_end; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--help") || !strcmp(o, "-h"))
			return send_usage(stdout);
		if (!strcmp(o, "--")) {
			opt_end = 1;
			continue;
		}
		if (i + 1 >= argc || strlen(o) != 2)
			return send_usage(stderr);
		if (o[1] == 't') {
			if (nrcpt >= SEND_MAX_RCPT || send_address(argv[++i], rcpt[nrcpt],
								   sizeof(rcpt[0])) < 0) {
				fprintf(stderr, "faxpost send: bad or too many recipients: %s\n", argv[i]);
				return 2;
			}
			to[nrcpt] = rcpt[nrcpt];
			nrcpt++;
		} else if (o[1] == 'f')
			from = argv[++i];
		else if (o[1] == 's')
			subject = argv[++i];
		else if (o[1] == 'm')
			text = argv[++i];
		else
			return send_usage(stderr);
	}
	if (!nrcpt || (i >= argc && !text))
		return send_usage(stderr);
	if (!from) {
		struct passwd *pw = getpwuid(getuid());

		from = pw ? pw->pw_name : "nobody";
	}
	if (send_address(from, sender, sizeof(sender)) < 0) {
		fprintf(stderr, "faxpost send: bad sender address: %s\n", from);
		return 2;
	}
	if (!subject)
		subject = i < argc ? argv[i] : "message";
	buf_init(&msg, limit > 0 ? (size_t)limit : 0);
	buf_init(&data, limit > 0 ? (size_t)limit : 0);
	if (mime_begin(&m, &msg, sender, to, nrcpt, subject, conf_str("myhostname")) < 0 ||
	    (text && mime_add_text(&m, text) < 0)) {
		fprintf(stderr, "faxpost send: bad subject or text\n");
		goto fail;
	}
	for (; i < argc; i++) {
		if (send_read_file(argv[i], &data, err, sizeof(err)) < 0) {
			fprintf(stderr, "faxpost send: %s\n", err);
			goto fail;
		}
		if (mime_add_file(&m, mime_type_of(argv[i]), argv[i], data.data, data.len) < 0) {
			fprintf(stderr, "faxpost send: %s: message larger than message_size_limit"
				" or a bad file name\n", argv[i]);
			goto fail;
		}
	}
	if (mime_end(&m) < 0 || send_queue(sender, rcpt, nrcpt, &msg, qid, sizeof(qid), err,
					   sizeof(err)) < 0) {
		fprintf(stderr, "faxpost send: %s\n", err[0] ? err : "message too large");
		goto fail;
	}
	printf("faxpost send: queued as %s\n", qid);
	buf_free(&msg);
	buf_free(&data);
	return 0;
fail:
	buf_free(&msg);
	buf_free(&data);
	return 1;
}
