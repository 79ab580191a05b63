/*
 * faxd.c - the fax daemon: offramp calls for qmgr, onramp reception, and CLI test modes.
 *
 * Contract:
 *  - Daemon (started by master, single server on private/fax): one IPC_DELIVER per
 *    connection (nexthop = the number to dial, rcpt.N = FAX= addresses). faxd takes
 *    the first image/tiff part of the queued message (a TIFF the sender attached, or a
 *    scan), else has codecd render its text, PDF and image parts (faxconv.c), leases a line from hwd (IPC_LINE_REQUEST op=dial; hwd applies
 *    the dial rules) or, when fax_modem_devices is set, opens a free one of those itself
 *    (flock; digits of the number dialled as they are), makes the call, resumes at the
 *    first page not yet
 *    confirmed by an earlier try (data_directory/fax_resume/ID.N, which also counts
 *    failed sessions: fax_max_tries of them bounce with 5.4.0), and replies per
 *    recipient: 2.0.0, 4.4.1 busy / no answer, 4.4.2 session failure, 5.x.x for good;
 *    the reason text carries the retry class and the pages confirmed; conneg.N carries
 *    the remote's capabilities from its DIS.
 *  - Onramp: hwd answers a call and hands the line over (IPC_LINE_REQUEST op=receive,
 *    fd 0 = the tty, caller_id, did); faxd receives the fax into
 *    data_directory/fax_incoming/ and queues it as mail (onramp.c), then replies
 *    IPC_LINE_REPLY "status"/"reason" and closes (hwd hangs up).
 *  - CLI test modes (no master, no qmgr):
 *      faxd -c DIR [-v] --send DEVICE NUMBER FILE.tif [--no-ecm] [--first-page N]
 *           [--sub SUBADDR] [--id QUEUEID] [--rcpt FAX=...]
 *      faxd -c DIR [-v] --receive DEVICE OUT.tif [--queue] [--no-ecm] [--timeout S]
 *    print one summary line on stdout and exit 0 (sent/received), 3 busy, 4 no answer,
 *    5 protocol failure, 6 local/modem problem, 7 bounced (incompatible), 2 usage.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "faxcall.h"
#include "faxcap.h"
#include "faxconv.h"
#include "mail/addr.h"
#include "mail/config.h"
#include "mail/daemon.h"
#include "mail/deliver_req.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "mail/queue.h"
#include "util/msg.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int open_modem(const char *dev)
{
	int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		errno = EBUSY;
		return -1;
	}
	return fd;
}

static int exit_code(const faxcall_out *o)
{
	if (!strcmp(o->status, "sent") || !strcmp(o->status, "received"))
		return 0;
	if (!strcmp(o->retry, "busy"))
		return 3;
	if (!strcmp(o->retry, "no-answer"))
		return 4;
	if (!strcmp(o->retry, "protocol"))
		return 5;
	if (!strcmp(o->status, "bounced"))
		return 7;
	return 6;
}

static void print_summary(const faxcall_out *o)
{
	printf("status=%s dsn=%s class=%s pages=%d/%d speed=%d coding=%s ecm=%s remote=\"%s\" "
	       "duration=%.1f page_time=%.1f retrains=%d ppr=%d queued=%s rcpt=%s reason=\"%s\"\n",
	       o->status, o->dsn, *o->retry ? o->retry : "-", o->r.pages_done, o->r.pages_total,
	       o->r.bps, o->r.bps ? t30_coding_name(o->r.coding) : "-", o->r.ecm ? "yes" : "no",
	       o->r.remote_id, o->duration, o->page_secs, o->r.retrains, o->r.ppr,
	       o->onramp_id[0] ? o->onramp_id : "-", o->onramp_rcpt[0] ? o->onramp_rcpt : "-",
	       o->reason);
	fflush(stdout);
}

static void cli_trace(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "faxd: %s\n", line);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: faxd -c DIR [-v] --send DEVICE NUMBER FILE.tif [--no-ecm] [--first-page N]\n"
		"                 [--sub SUBADDR] [--id ID] [--rcpt ADDRESS]\n"
		"       faxd -c DIR [-v] --receive DEVICE OUT.tif [--queue] [--no-ecm] [--timeout S]\n"
		"       faxd -c DIR -S /path/socket    (stand-alone daemon)\n");
	exit(2);
}

static int cli_main(int argc, char **argv)
{
	const char *confdir = NULL, *mode = NULL, *dev = NULL, *a1 = NULL, *a2 = NULL;
	const char *sub = NULL, *id = "-", *rcpt = NULL;
	int ecm = -1, first = 0, queue_it = 0, timeout_s = 120, verbose = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-c") && i + 1 < argc)
			confdir = argv[++i];
		else if (!strcmp(a, "-v"))
			verbose++;
		else if (!strcmp(a, "--send") && i + 3 < argc) {
			mode = "send";
			dev = argv[++i];
			a1 = argv[++i];
			a2 = argv[++i];
		} else if (!strcmp(a, "--receive") && i + 2 < argc) {
			mode = "receive";
			dev = argv[++i];
			a1 = argv[++i];
		} else if (!strcmp(a, "--no-ecm"))
			ecm = 0;
		else if (!strcmp(a, "--ecm"))
			ecm = 1;
		else if (!strcmp(a, "--queue"))
			queue_it = 1;
		else if (!strcmp(a, "--first-page") && i + 1 < argc)
			first = atoi(argv[++i]);
		else if (!strcmp(a, "--timeout") && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
		else if (!strcmp(a, "--sub") && i + 1 < argc)
			sub = argv[++i];
		else if (!strcmp(a, "--id") && i + 1 < argc)
			id = argv[++i];
		else if (!strcmp(a, "--rcpt") && i + 1 < argc)
			rcpt = argv[++i];
		else
			usage();
	}
	if (!confdir || !mode)
		usage();
	char err[512];
	if (config_load(confdir, err, sizeof(err)) < 0) {
		fprintf(stderr, "faxd: %s\n", err);
		return 6;
	}
	const char *log = conf_str("maillog_file");
	msg_open("faxd", (*log ? MSG_TO_FILE : 0) | MSG_TO_STDERR, *log ? log : NULL,
		 conf_str("syslog_facility"));
	msg_set_verbose(verbose);
	int fd = open_modem(dev);
	if (fd < 0) {
		fprintf(stderr, "faxd: %s: %s\n", dev, strerror(errno));
		return 6;
	}
	faxcall_req q;
	memset(&q, 0, sizeof(q));
	q.id = id;
	q.device = base_name(dev);
	q.ecm = ecm;
	q.trace = verbose ? cli_trace : NULL;
	faxcall_out o;
	if (!strcmp(mode, "send")) {
		faxdoc_tx *doc = faxdoc_tx_open(a2, err, sizeof(err));
		if (!doc) {
			fprintf(stderr, "faxd: %s: %s\n", a2, err);
			close(fd);
			return 7;
		}
		q.number = a1;
		q.capkey = a1;
		q.rcpt = rcpt;
		q.subaddr = sub;
		q.first_page = first;
		faxcall_send(fd, doc, &q, &o);
		faxdoc_tx_close(doc);
	} else {
		q.out_tiff = a1;
		q.queue_it = queue_it;
		q.rings = (int)conf_int("fax_answer_rings");
		q.answer_timeout_ms = timeout_s * 1000;
		faxcall_receive(fd, &q, &o);
	}
	close(fd);
	print_summary(&o);
	return exit_code(&o);
}

/* ------------------------------------------------------------ daemon mode --- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* The first image/tiff part of a MIME message, base64-decoded into fd. 0 or -1. */
static int extract_tiff(const char *msgp, size_t len, int fd)
{
	size_t pos = 0;
	int in_headers = 1, is_tiff = 0, is_b64 = 0, in_body = 0;
	unsigned acc = 0;
	int nbits = 0;
	uint8_t out[4096];
	size_t no = 0;
	int found = 0;
	while (pos < len) {
		const char *line = msgp + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl ? 1 : 0);
		size_t tl = ll;
		if (tl && line[tl - 1] == '\r')
			tl--;
		if (in_body) {
			if (tl >= 2 && line[0] == '-' && line[1] == '-')
				break;
			for (size_t i = 0; i < tl; i++) {
				int v = b64val((unsigned char)line[i]);
				if (v < 0)
					continue;
				acc = (acc << 6) | (unsigned)v;
				nbits += 6;
				if (nbits >= 8) {
					nbits -= 8;
					out[no++] = (uint8_t)(acc >> nbits);
					if (no == sizeof(out)) {
						if (write(fd, out, no) != (ssize_t)no)
							return -1;
						no = 0;
					}
				}
			}
			found = 1;
			continue;
		}
		if (tl >= 2 && line[0] == '-' && line[1] == '-') {	/* a boundary */
			in_headers = 1;
			is_tiff = is_b64 = 0;
			continue;
		}
		if (!in_headers)
			continue;
		if (tl == 0) {
			in_headers = 0;
			if (is_tiff && is_b64)
				in_body = 1;
			continue;
		}
		if (tl > 13 && !strncasecmp(line, "Content-Type:", 13)) {
			const char *v = line + 13;
			while (*v == ' ' || *v == '\t')
				v++;
			is_tiff = !strncasecmp(v, "image/tiff", 10);
		}
		if (tl > 26 && !strncasecmp(line, "Content-Transfer-Encoding:", 26))
			is_b64 = memmem(line, tl, "base64", 6) || memmem(line, tl, "BASE64", 6);
	}
	if (no && write(fd, out, no) != (ssize_t)no)
		return -1;
	return found ? 0 : -1;
}

/* What codecd renders mail into when the message has no TIFF: TIFF-F, fine, A4 or
 * letter, MMR; faxdoc re-codes each page for the receiver's DIS at call time. */
#define FAX_DOCUMENT_TARGET "(& (image-file-structure=[TIFF-minimal,TIFF-limited]) " \
	"(MRC-mode=0) (color=Binary) (image-coding=[MH,MR,MMR]) (dpi=204) " \
	"(dpi-xyratio=[204/98,204/196]) (paper-size=[A4,letter]))"

static faxdoc_tx *message_document(deliver_req *req, char *status, size_t statuslen,
				   char *err, size_t errlen)
{
	qfile *qf = req->qf;
	size_t len = (size_t)qf->content_len;
	char *msgp = xmalloc(len + 1);
	if (qf_read_content(qf, 0, msgp, len) != (ssize_t)len) {
		free(msgp);
		snprintf(err, errlen, "cannot read the queue file");
		return NULL;
	}
	int fd = memfd_create("faxdoc", 0);
	faxdoc_tx *doc = NULL;
	snprintf(status, statuslen, "5.6.1");
	if (fd >= 0 && extract_tiff(msgp, len, fd) == 0) {
		lseek(fd, 0, SEEK_SET);
		doc = faxdoc_tx_fdopen(fd, err, errlen);
	} else if (fd >= 0 && ftruncate(fd, 0) == 0 &&
		   faxconv_document(msgp, len, fd, FAX_DOCUMENT_TARGET, status, statuslen,
				    err, errlen) == 0) {
		/* text, PDF or images: rendered by codecd */
		lseek(fd, 0, SEEK_SET);
		doc = faxdoc_tx_fdopen(fd, err, errlen);
		if (!doc)
			snprintf(status, statuslen, "5.6.1");
	} else if (fd < 0) {
		snprintf(status, statuslen, "4.3.0");
		snprintf(err, errlen, "cannot buffer the document: %s", strerror(errno));
	}
	if (!doc && fd >= 0)
		close(fd);
	free(msgp);
	return doc;
}

static void resume_path(char *p, size_t n, const char *id, size_t index)
{
	snprintf(p, n, "%s/fax_resume/%s.%zu", conf_str("data_directory"), id, index);
}

/* The resume file: "PAGE TRIES" (first unconfirmed page, failed sessions so far). */
static int resume_get(const char *id, size_t index, int *tries)
{
	char p[4096];
	resume_path(p, sizeof(p), id, index);
	FILE *f = fopen(p, "r");
	int page = 0;
	*tries = 0;
	if (f) {
		if (fscanf(f, "%d %d", &page, tries) < 1 || page < 0)
			page = 0;
		if (*tries < 0)
			*tries = 0;
		fclose(f);
	}
	return page;
}

static void resume_set(const char *id, size_t index, int page, int tries)
{
	char p[4096], dir[4096];
	snprintf(dir, sizeof(dir), "%s/fax_resume", conf_str("data_directory"));
	mkdir(dir, 0700);
	resume_path(p, sizeof(p), id, index);
	if (page <= 0 && tries <= 0) {
		unlink(p);
		return;
	}
	FILE *f = fopen(p, "w");
	if (f) {
		fprintf(f, "%d %d\n", page, tries);
		fclose(f);
	}
}

static int take_modem(char *name, size_t size)
{
	char *devs[16];
	size_t n = conf_list("fax_modem_devices", devs, 16);
	int fd = -1;
	for (size_t i = 0; i < n && i < 16 && fd < 0; i++) {
		fd = open_modem(devs[i]);
		if (fd >= 0)
			str_copy(name, size, devs[i]);
	}
	conf_list_free(devs, n < 16 ? n : 16);
	return fd;
}

/* Lease a line from hwd for number: returns the tty (and the lease connection in
 * *lease, the digits to dial in dial), or -1 with status/err for the DSN. */
static int hwd_dial(const char *number, char *dial, size_t dsize, char *line, size_t lsize,
		    int *lease, char *status, size_t ssize, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/private/hwd", conf_str("queue_directory"));
	str_copy(status, ssize, "4.3.2");
	int s = ipc_connect(path, 5000);
	if (s < 0) {
		snprintf(err, errlen, "no modem: hwd not reachable and fax_modem_devices empty");
		return -1;
	}
	ipc_msg *q = ipc_new(IPC_LINE_REQUEST);
	ipc_put_str(q, "op", "dial");
	ipc_put_str(q, "number", number);
	int rc = ipc_send(s, q, 5000);
	ipc_free(q);
	ipc_msg *r = rc == 0 ? ipc_recv(s, IPC_DEFAULT_MAX, 30000, err, errlen) : NULL;
	const char *st = r ? ipc_get_str(r, "status") : NULL;
	if (!r || !st || st[0] != '2') {
		if (st) {
			str_copy(status, ssize, st);
			snprintf(err, errlen, "hwd: %s", ipc_get_str(r, "reason") ?
				 ipc_get_str(r, "reason") : "no line");
		} else if (!r) {
			snprintf(err, errlen, "hwd did not answer the dial request");
		}
		ipc_free(r);
		close(s);
		return -1;
	}
	int tty = ipc_take_fd(r, 0);
	const char *d = ipc_get_str(r, "dial"), *l = ipc_get_str(r, "line");
	str_copy(dial, dsize, d ? d : number);
	str_copy(line, lsize, l ? l : "hwd");
	ipc_free(r);
	if (tty < 0) {
		snprintf(err, errlen, "hwd sent no line");
		close(s);
		return -1;
	}
	*lease = s;
	return tty;
}

/* Without hwd: the digits of the number (dial rules live in hwd). */
static void plain_digits(const char *number, char *out, size_t size)
{
	size_t o = 0;
	for (const char *p = number; *p && o + 1 < size; p++)
		if ((*p >= '0' && *p <= '9') || *p == '*' || *p == '#' || *p == ',')
			out[o++] = *p;
	out[o] = '\0';
}

static void fax_deliver_one(deliver_req *req, size_t i, faxdoc_tx *doc)
{
	deliver_rcpt *r = &req->rcpt[i];
	fax_addr fa;
	memset(&fa, 0, sizeof(fa));
	if (fax_addr_parse(r->addr, &fa) != 1) {
		deliver_req_status(req, i, "5.1.3", "bad fax number in FAX= address", NULL);
		return;
	}
	char dev[4096], dial[96], status[16], err[300];
	const char *number = req->nexthop && *req->nexthop ? req->nexthop : fa.number;
	int lease = -1, fd;
	char *devs[1] = { NULL };
	size_t ndev = conf_list("fax_modem_devices", devs, 1);
	conf_list_free(devs, ndev);
	if (ndev > 0) {
		fd = take_modem(dev, sizeof(dev));
		if (fd < 0) {
			deliver_req_status(req, i, "4.3.2", "no fax modem free (fax_modem_devices)",
					   NULL);
			return;
		}
		plain_digits(number, dial, sizeof(dial));
	} else {
		fd = hwd_dial(number, dial, sizeof(dial), dev, sizeof(dev), &lease, status,
			      sizeof(status), err, sizeof(err));
		if (fd < 0) {
			msg_info("%s: to=<%s>, relay=none, dsn=%s, status=deferred (%s)",
				 req->queue_id, r->addr, status, err);
			deliver_req_status(req, i, status, err, NULL);
			return;
		}
	}
	faxcall_req q;
	memset(&q, 0, sizeof(q));
	q.id = req->queue_id;
	q.rcpt = r->addr;
	q.number = dial;
	q.capkey = fa.number;
	q.subaddr = fa.subaddr[0] ? fa.subaddr : NULL;
	q.device = base_name(dev);
	q.arrival = req->arrival_us / 1e6;
	int tries = 0;
	q.first_page = resume_get(req->queue_id, r->index, &tries);
	q.ecm = -1;
	faxcall_out o;
	faxcall_send(fd, doc, &q, &o);
	close(fd);
	if (lease >= 0)
		close(lease);	/* hwd hangs up and resets the line */
	snprintf(req->relay, sizeof(req->relay), "fax[%s]", q.device);
	char reason[512];
	snprintf(reason, sizeof(reason), "%s (pages %d/%d, class %s, retry after %ds, remote \"%s\")",
		 o.reason, o.r.pages_done, o.r.pages_total, *o.retry ? o.retry : "none",
		 o.retry_after, o.r.remote_id);
	if (o.dsn[0] == '4' && !strcmp(o.retry, "protocol") &&
	    ++tries >= conf_int("fax_max_tries")) {
		/* sessions with a fax machine keep failing: give up (as HylaFAX's MaxTries) */
		str_copy(o.dsn, sizeof(o.dsn), "5.4.0");
		snprintf(reason, sizeof(reason), "%s (pages %d/%d, %d failed fax sessions, "
			 "remote \"%s\")", o.reason, o.r.pages_done, o.r.pages_total, tries,
			 o.r.remote_id);
		msg_info("%s: to=<%s>, relay=fax[%s], pages=%d/%d, dsn=5.4.0, status=bounced "
			 "(%d failed fax sessions)", req->queue_id, r->addr, q.device,
			 o.r.pages_done, o.r.pages_total, tries);
	}
	if (o.dsn[0] == '4')
		resume_set(req->queue_id, r->index, o.r.pages_done, tries);
	else
		resume_set(req->queue_id, r->index, 0, 0);
	if (o.r.have_remote_dis) {
		char expr[512];
		faxcap_expression(&o.r.remote, expr, sizeof(expr));
		free(r->conneg);
		r->conneg = xstrdup(expr);
	}
	deliver_req_status(req, i, o.dsn, reason, o.dsn[0] == '2' ? "delivered" : NULL);
}

/* hwd answered a call and hands us the line (IPC_LINE_REQUEST op=receive). */
static void fax_receive_call(int fd, ipc_msg *m)
{
	const char *op = ipc_get_str(m, "op");
	int tty = ipc_take_fd(m, 0);
	ipc_msg *rep = ipc_new(IPC_LINE_REPLY);
	if (!op || strcmp(op, "receive") != 0 || tty < 0) {
		msg_warn("line request without op=receive and a line");
		ipc_put_str(rep, "status", "5.5.4");
		ipc_put_str(rep, "reason", "faxd takes op=receive with a line only");
	} else {
		char dir[4096], out[4200];
		snprintf(dir, sizeof(dir), "%s/fax_incoming", conf_str("data_directory"));
		mkdir(dir, 0700);
		snprintf(out, sizeof(out), "%s/rx.%ld.%ld.tif", dir, (long)time(NULL), (long)getpid());
		const char *line = ipc_get_str(m, "line");
		faxcall_req q;
		memset(&q, 0, sizeof(q));
		q.id = "-";
		q.device = base_name(line ? line : "hwd");
		q.ecm = -1;
		q.out_tiff = out;
		q.queue_it = 1;
		q.answered = 1;
		q.caller_id = ipc_get_str(m, "caller_id");
		q.did = ipc_get_str(m, "did");
		faxcall_out o;
		faxcall_receive(tty, &q, &o);
		close(tty);
		ipc_put_str(rep, "status", o.dsn[0] ? o.dsn : "4.4.2");
		ipc_put_str(rep, "reason", o.reason);
	}
	ipc_send(fd, rep, 5000);
	ipc_free(rep);
}

static void fax_serve(daemon_ctx *ctx, int fd)
{
	(void)ctx;
	deliver_req req;
	char err[512];
	memset(&req, 0, sizeof(req));
	if (deliver_req_read(fd, &req, err, sizeof(err)) < 0) {
		if (req.msg && ipc_type(req.msg) == IPC_LINE_REQUEST) {
			ipc_msg *m = req.msg;
			req.msg = NULL;
			deliver_req_free(&req);
			fax_receive_call(fd, m);
			ipc_free(m);
			return;
		}
		msg_warn("bad request: %s", err);
		deliver_req_free(&req);
		return;
	}
	char status[16];
	faxdoc_tx *doc = message_document(&req, status, sizeof(status), err, sizeof(err));
	for (size_t i = 0; i < req.n; i++) {
		if (!doc) {
			msg_info("%s: to=<%s>, relay=none, dsn=%s, status=%s (%s)", req.queue_id,
				 req.rcpt[i].addr, status, status[0] == '4' ? "deferred" : "bounced", err);
			deliver_req_status(&req, i, status, err, NULL);
			continue;
		}
		fax_deliver_one(&req, i, doc);
	}
	faxdoc_tx_close(doc);
	if (deliver_req_reply(fd, &req) < 0)
		msg_warn("%s: cannot send the reply to qmgr", req.queue_id);
	deliver_req_free(&req);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--send") || !strcmp(argv[i], "--receive") ||
		    !strcmp(argv[i], "--help"))
			return cli_main(argc, argv);
	static const daemon_ops ops = { .serve = fax_serve, .max_use = -1, .max_idle = -1 };
	return daemon_main(argc, argv, "faxd", &ops);
}
