/*
 * print.c - print a document handed over as an fd (received faxes, print box).
 *
 * Contract: print_request() takes fd 0 (the document), "type" (image/tiff or
 * application/pdf), optional "title" and "queue_id", and prints with hw_print_backend:
 *   spool: copies the document into hw_print_spool as JOB.tif / JOB.pdf (written as
 *          .JOB.part, fsynced, renamed) with JOB.info beside it (title, type, queue
 *          ID, time): a reader never sees half a job. JOB = print-<time>-<pid>-<n>.
 *   cups:  libcups: a copy in data_directory, then cupsPrintFile() to hw_print_queue
 *          (the default destination when empty) on hw_cups_server (libcups default
 *          when empty); "job" is the CUPS job id.
 * Reply IPC_PRINT_REPLY "status" 2.0.0 + "job"; 4.3.0 printer or spool trouble;
 * 5.6.1 an unsupported type; 5.5.4 no document.
 */
#include <cups/cups.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hwd.h"
#include "mail/config.h"
#include "mail/ipc_proto.h"
#include "util/buf.h"
#include "util/msg.h"

static void print_reply(int fd, const char *status, const char *reason, const char *job)
{
	ipc_msg *r = ipc_new(IPC_PRINT_REPLY);

	ipc_put_str(r, "status", status);
	ipc_put_str(r, "reason", reason);
	if (job)
		ipc_put_str(r, "job", job);
	ipc_send(fd, r, 5000);
	ipc_free(r);
}

/* Copy src to a new file path (mode 0640), fsynced. */
static int copy_fd(int src, const char *path, char *err, size_t errlen)
{
	int dst = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	char tmp[65536];
	ssize_t n;

	if (dst < 0) {
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		return -1;
	}
	lseek(src, 0, SEEK_SET);
	while ((n = read(src, tmp, sizeof tmp)) > 0)
		if (write(dst, tmp, (size_t) n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(dst) < 0) {
		snprintf(err, errlen, "%.300s: write: %s", path, strerror(errno));
		close(dst);
		unlink(path);
		return -1;
	}
	close(dst);
	return 0;
}

static int print_spool(int doc, const char *ext, const char *title, const char *type,
		       const char *qid, char *job, size_t joblen, char *err, size_t errlen)
{
	static unsigned seq;
	const char *dir = conf_str("hw_print_spool");
	char part[PATH_MAX], final[PATH_MAX], info[PATH_MAX];
	FILE *fp;

	snprintf(job, joblen, "print-%lld-%d-%u", (long long) time(NULL), (int) getpid(), ++seq);
	if (snprintf(part, sizeof part, "%s/.%s.part", dir, job) >= (int) sizeof part
	    || snprintf(final, sizeof final, "%s/%s.%s", dir, job, ext) >= (int) sizeof final
	    || snprintf(info, sizeof info, "%s/%s.info", dir, job) >= (int) sizeof info) {
		snprintf(err, errlen, "hw_print_spool path too long");
		return -1;
	}
	/* The spool folder is ours: made on first use. */
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "hw_print_spool %.300s: %s", dir, strerror(errno));
		return -1;
	}
	if (copy_fd(doc, part, err, errlen) < 0)
		return -1;
	/* The .info first: a reader that sees the document sees its description too. */
	fp = fopen(info, "w");
	if (fp == NULL || fprintf(fp, "title=%s\ntype=%s\nqueue_id=%s\ntime=%lld\n", title, type,
				  qid, (long long) time(NULL)) < 0 || fclose(fp) != 0) {
		snprintf(err, errlen, "%.300s: %s", info, strerror(errno));
		unlink(part);
		return -1;
	}
	if (rename(part, final) < 0) {
		snprintf(err, errlen, "rename %.300s: %s", part, strerror(errno));
		unlink(part);
		unlink(info);
		return -1;
	}
	return 0;
}

static int print_cups(int doc, const char *ext, const char *title, char *job, size_t joblen,
		      char *err, size_t errlen)
{
	const char *queue = conf_str("hw_print_queue"), *server = conf_str("hw_cups_server");
	char tmp[PATH_MAX];
	cups_dest_t *dests = NULL, *dest;
	int ndests, id;

	if (server[0])
		cupsSetServer(server);
	ndests = cupsGetDests(&dests);
	dest = cupsGetDest(queue[0] ? queue : NULL, NULL, ndests, dests);
	if (dest == NULL) {
		snprintf(err, errlen, "CUPS: no printer %s (%s)", queue[0] ? queue : "(default)",
			 cupsLastErrorString());
		cupsFreeDests(ndests, dests);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s/hwd-print-%d.%s", conf_str("data_directory"), (int) getpid(), ext);
	unlink(tmp);
	if (copy_fd(doc, tmp, err, errlen) < 0) {
		cupsFreeDests(ndests, dests);
		return -1;
	}
	id = cupsPrintFile(dest->name, tmp, title, dest->num_options, dest->options);
	unlink(tmp);
	if (id <= 0) {
		snprintf(err, errlen, "CUPS %s: %s", dest->name, cupsLastErrorString());
		cupsFreeDests(ndests, dests);
		return -1;
	}
	snprintf(job, joblen, "%s-%d", dest->name, id);
	cupsFreeDests(ndests, dests);
	return 0;
}

/* The document on fd doc to the configured printer; 0, or -1 with err. */
int print_document(int doc, const char *type, const char *title, const char *qid, char *job,
		   size_t joblen, char *err, size_t errlen)
{
	const char *backend = conf_str("hw_print_backend");
	const char *ext;

	if (type && !strcmp(type, "image/tiff"))
		ext = "tif";
	else if (type && !strcmp(type, "application/pdf"))
		ext = "pdf";
	else if (type && !strcmp(type, "text/plain"))
		ext = "txt";
	else {
		snprintf(err, errlen, "unsupported document type %s", type ? type : "(none)");
		return -2;
	}
	if (title == NULL)
		title = "fax";
	if (!strcmp(backend, "spool"))
		return print_spool(doc, ext, title, type, qid ? qid : "-", job, joblen, err, errlen);
	if (!strcmp(backend, "cups"))
		return print_cups(doc, ext, title, job, joblen, err, errlen);
	snprintf(err, errlen, "hw_print_backend: unknown backend %s", backend);
	return -1;
}

void print_request(int fd, const ipc_msg *q)
{
	const char *type = ipc_get_str(q, "type"), *title = ipc_get_str(q, "title");
	const char *qid = ipc_get_str(q, "queue_id");
	char job[128] = "", err[512] = "";
	int doc = ipc_take_fd((ipc_msg *) q, 0), rc;

	if (doc < 0) {
		print_reply(fd, "5.5.4", "no document", NULL);
		return;
	}
	rc = print_document(doc, type, title, qid, job, sizeof job, err, sizeof err);
	close(doc);
	if (rc == -2) {
		print_reply(fd, "5.6.1", err, NULL);
		return;
	}
	if (rc < 0) {
		msg_warn("%s: print failed: %s", qid ? qid : "-", err);
		print_reply(fd, "4.3.0", err, NULL);
		return;
	}
	msg_info("%s: printed (%s) as %s via %s", qid ? qid : "-", title ? title : "fax", job,
		 conf_str("hw_print_backend"));
	print_reply(fd, "2.0.0", "printed", job);
}
