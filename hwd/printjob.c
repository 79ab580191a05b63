/*
 * printjob.c - the print delivery agent: queued mail to the printer.
 *
 * Contract: master.cf runs hwd a second time as service "print" (`print unix - - n - 1
 * hwd`); that process owns no modem and serves IPC_DELIVER from qmgr (route mail to it
 * with transport_maps, e.g. `printer@example.com print:`). For each request it reads
 * the message, prints every image/tiff and application/pdf part (a message with none
 * prints its first text/plain part; one with nothing printable bounces with 5.6.1),
 * then marks every recipient delivered (2.0.0, action "delivered"). A printer or spool
 * error defers them all (4.3.0): nothing is lost, qmgr tries again. The parts are
 * decoded into data_directory/hwd-print-PID-N.part files, removed after printing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwd.h"
#include "mail/config.h"
#include "mail/deliver_req.h"
#include "mail/mimepart.h"
#include "util/buf.h"
#include "util/msg.h"

#define PRINT_MAX_MESSAGE (256u * 1024 * 1024)

typedef struct printjob {
	const char *qid;
	char subject[200];
	int printed, texts;
	const mime_part *first_text;
	char jobs[512];
	char err[512];
	int failed;		/* -1 temporary, -2 unsupported */
} printjob;

/* Decode part p into a temporary file and print it as type. */
static int print_part(printjob *j, const mime_part *p, const char *type)
{
	static unsigned seq;
	char path[PATH_MAX], job[128];
	buf data;
	int fd, rc;

	buf_init(&data, PRINT_MAX_MESSAGE);
	if (mime_decode(p, &data) < 0) {
		buf_free(&data);
		snprintf(j->err, sizeof j->err, "part too large");
		return -1;
	}
	snprintf(path, sizeof path, "%s/hwd-print-%d-%u.part", conf_str("data_directory"),
		 (int) getpid(), ++seq);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data.data, data.len) != (ssize_t) data.len) {
		snprintf(j->err, sizeof j->err, "temporary file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		buf_free(&data);
		return -1;
	}
	buf_free(&data);
	rc = print_document(fd, type, j->subject[0] ? j->subject : p->filename, j->qid, job,
			    sizeof job, j->err, sizeof j->err);
	close(fd);
	unlink(path);
	if (rc == 0) {
		size_t used = strlen(j->jobs);

		j->printed++;
		/* The job list is for the log; one that does not fit is left out. */
		if (used + strlen(job) + 2 < sizeof j->jobs)
			snprintf(j->jobs + used, sizeof j->jobs - used, "%s%s", used ? " " : "", job);
	}
	return rc;
}

static int on_part(const mime_part *p, void *ud)
{
	printjob *j = ud;

	if (!strcmp(p->type, "image/tiff") || !strcmp(p->type, "application/pdf")) {
		int rc = print_part(j, p, p->type);

		if (rc < 0) {
			j->failed = rc;
			return 1;
		}
	} else if (!strcmp(p->type, "text/plain") && j->texts++ == 0) {
		static mime_part first;

		first = *p;
		j->first_text = &first;
	}
	return 0;
}

static int read_message(deliver_req *req, buf *msg, char *err, size_t errlen)
{
	char tmp[65536];
	off_t off = 0;

	if (req->qf->content_len > (off_t) PRINT_MAX_MESSAGE) {
		snprintf(err, errlen, "message too large to print");
		return -1;
	}
	while (off < req->qf->content_len) {
		ssize_t n = qf_read_content(req->qf, off, tmp, sizeof tmp);

		if (n <= 0 || buf_append(msg, tmp, (size_t) n) < 0) {
			snprintf(err, errlen, "cannot read the queue file");
			return -1;
		}
		off += n;
	}
	return 0;
}

static void printjob_run(deliver_req *req)
{
	printjob j;
	buf msg;
	size_t hend;

	memset(&j, 0, sizeof j);
	j.qid = req->queue_id;
	buf_init(&msg, PRINT_MAX_MESSAGE + 1);
	if (read_message(req, &msg, j.err, sizeof j.err) < 0) {
		deliver_req_status_rest(req, "4.3.0", j.err);
		buf_free(&msg);
		return;
	}
	{
		const char *blank = memmem(msg.data, msg.len, "\r\n\r\n", 4);

		hend = blank ? (size_t) (blank - msg.data) + 2 : msg.len;
	}
	mime_header(msg.data, hend, "Subject", j.subject, sizeof j.subject);
	mime_walk(msg.data, msg.len, on_part, &j);
	if (!j.failed && j.printed == 0 && j.first_text)
		j.failed = print_part(&j, j.first_text, "text/plain") < 0 ? -1 : 0;
	buf_free(&msg);
	if (j.failed == -1) {
		msg_warn("%s: print deferred: %s", req->queue_id, j.err);
		deliver_req_status_rest(req, "4.3.0", j.err);
	} else if (j.failed == -2 || j.printed == 0) {
		deliver_req_status_rest(req, "5.6.1", j.failed ? j.err : "nothing printable in the message");
	} else {
		char reason[700];

		snprintf(reason, sizeof reason, "printed %d document%s (%s)", j.printed,
			 j.printed == 1 ? "" : "s", j.jobs);
		for (size_t i = 0; i < req->n; i++)
			msg_info("%s: to=<%s>, relay=%s, dsn=2.0.0, status=sent (%s)", req->queue_id,
				 req->rcpt[i].addr, conf_str("hw_print_backend"), reason);
		for (size_t i = 0; i < req->n; i++)
			deliver_req_status(req, i, "2.0.0", reason, "delivered");
	}
}

void printjob_serve(int fd)
{
	deliver_req req;
	char err[512];

	memset(&req, 0, sizeof req);
	if (deliver_req_read(fd, &req, err, sizeof err) < 0) {
		msg_warn("bad delivery request: %s", err);
		deliver_req_free(&req);
		return;
	}
	snprintf(req.relay, sizeof req.relay, "%s", conf_str("hw_print_backend"));
	printjob_run(&req);
	if (deliver_req_reply(fd, &req) < 0)
		msg_warn("%s: cannot send the reply to qmgr", req.queue_id);
	deliver_req_free(&req);
}
