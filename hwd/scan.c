/*
 * scan.c - `faxpost scan --to ADDRESS`: scan pages and queue them as a mail message.
 *
 * Contract: scan_request() reads the recipients ("to", or "to_count" + "to.N") and
 * "sender" (default hw_scan_sender), takes the pages from the backend hw_scan_backend:
 *   sane:   libsane device hw_scan_device (first listed when empty), bilevel at
 *           hw_scan_resolution (mode Lineart, or Gray with depth 1), A4 area; one page
 *           from a flatbed, every page from a feeder until it is empty;
 *   folder: every *.tif / *.tiff in hw_scan_folder, in name order, all their pages;
 *           the files are removed only after the message is committed.
 * Pages are made 1728 pels wide (scanpage.c) and queued as one MIME message (a short
 * text part and an image/tiff part, MMR) with origin "scan". Reply IPC_SCAN_REPLY:
 * 2.0.0 + "queue_id" + "pages"; 4.3.0 scanner trouble or no pages; 5.1.3 bad address.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <sane/sane.h>
#include <sane/saneopts.h>
#include <tiffio.h>

#include "hwd.h"
#include "mail/config.h"
#include "mail/ipc_proto.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/msg.h"

#define SCAN_MAX_PAGES	100
#define SCAN_MAX_RCPT	32
#define SCAN_MAX_FILES	100

typedef struct scan_job {
	scan_page page[SCAN_MAX_PAGES];
	size_t npages;
	char *files[SCAN_MAX_FILES];	/* folder backend: remove after commit */
	size_t nfiles;
	char device[128];
} scan_job;

static void job_free(scan_job *j)
{
	for (size_t i = 0; i < j->npages; i++)
		scanpage_free(&j->page[i]);
	for (size_t i = 0; i < j->nfiles; i++)
		free(j->files[i]);
	memset(j, 0, sizeof *j);
}

/* --- SANE -------------------------------------------------------------------------- */

static int sane_find_option(SANE_Handle h, const char *name, const SANE_Option_Descriptor **d)
{
	for (SANE_Int i = 1;; i++) {
		const SANE_Option_Descriptor *o = sane_get_option_descriptor(h, i);

		if (o == NULL)
			return -1;
		if (o->name && !strcmp(o->name, name)) {
			*d = o;
			return i;
		}
	}
}

static int sane_set_string(SANE_Handle h, const char *name, const char *value)
{
	const SANE_Option_Descriptor *d;
	int i = sane_find_option(h, name, &d);
	char v[128];

	if (i < 0 || d->type != SANE_TYPE_STRING || str_copy(v, sizeof v, value) < 0)
		return -1;
	return sane_control_option(h, i, SANE_ACTION_SET_VALUE, v, NULL) == SANE_STATUS_GOOD ? 0 : -1;
}

/* Set a numeric option; value in the option's unit (dpi, mm). Fixed or int. */
static int sane_set_number(SANE_Handle h, const char *name, double value)
{
	const SANE_Option_Descriptor *d;
	int i = sane_find_option(h, name, &d);
	SANE_Word w;

	if (i < 0)
		return -1;
	if (d->type == SANE_TYPE_FIXED)
		w = SANE_FIX(value);
	else if (d->type == SANE_TYPE_INT)
		w = (SANE_Word) value;
	else
		return -1;
	if (d->constraint_type == SANE_CONSTRAINT_RANGE) {
		const SANE_Range *r = d->constraint.range;

		if (w > r->max)
			w = r->max;
		if (w < r->min)
			w = r->min;
	}
	return sane_control_option(h, i, SANE_ACTION_SET_VALUE, &w, NULL) == SANE_STATUS_GOOD ? 0 : -1;
}

static int sane_setup(SANE_Handle h, int dpi)
{
	if (sane_set_string(h, SANE_NAME_SCAN_MODE, SANE_VALUE_SCAN_MODE_LINEART) < 0) {
		if (sane_set_string(h, SANE_NAME_SCAN_MODE, SANE_VALUE_SCAN_MODE_GRAY) < 0)
			return -1;
		sane_set_number(h, SANE_NAME_BIT_DEPTH, 1);
	}
	sane_set_number(h, SANE_NAME_SCAN_RESOLUTION, dpi);
	sane_set_number(h, SANE_NAME_SCAN_TL_X, 0);
	sane_set_number(h, SANE_NAME_SCAN_TL_Y, 0);
	sane_set_number(h, SANE_NAME_SCAN_BR_X, 215.0);	/* A4; cut to the scanner's size */
	sane_set_number(h, SANE_NAME_SCAN_BR_Y, 297.0);
	sane_set_string(h, "test-picture", "Grid");	/* the test backend: a real pattern */
	return 0;
}

/* One page: sane_start .. sane_read until EOF. 1 = got a page, 0 = no more, -1 error. */
static int sane_page(SANE_Handle h, scan_page *p, int dpi, char *err, size_t errlen)
{
	SANE_Parameters par;
	SANE_Status st = sane_start(h);
	unsigned char *row;
	size_t have = 0;

	if (st == SANE_STATUS_NO_DOCS)
		return 0;
	if (st != SANE_STATUS_GOOD) {
		snprintf(err, errlen, "sane_start: %s", sane_strstatus(st));
		return -1;
	}
	if (sane_get_parameters(h, &par) != SANE_STATUS_GOOD || par.depth != 1
	    || par.format != SANE_FRAME_GRAY || par.bytes_per_line <= 0
	    || par.bytes_per_line > 4096) {
		sane_cancel(h);
		snprintf(err, errlen, "the scanner does not give bilevel gray data");
		return -1;
	}
	row = xmalloc((size_t) par.bytes_per_line);
	p->xres = p->yres = dpi;
	for (;;) {
		SANE_Int got = 0;

		st = sane_read(h, row + have, (SANE_Int) ((size_t) par.bytes_per_line - have), &got);
		if (st == SANE_STATUS_EOF)
			break;
		if (st != SANE_STATUS_GOOD) {
			snprintf(err, errlen, "sane_read: %s", sane_strstatus(st));
			free(row);
			sane_cancel(h);
			return -1;
		}
		have += (size_t) got;
		if (have == (size_t) par.bytes_per_line) {
			if (scanpage_add_row(p, row, (size_t) par.pixels_per_line) < 0) {
				snprintf(err, errlen, "page too long");
				free(row);
				sane_cancel(h);
				return -1;
			}
			have = 0;
		}
	}
	free(row);
	return p->rows > 0;
}

static int scan_sane(scan_job *j, char *err, size_t errlen)
{
	const char *dev = conf_str("hw_scan_device");
	int dpi = (int) conf_int("hw_scan_resolution");
	SANE_Int version;
	SANE_Handle h;
	SANE_Status st;
	int rc = 0, feeder;

	if (sane_init(&version, NULL) != SANE_STATUS_GOOD) {
		snprintf(err, errlen, "sane_init failed");
		return -1;
	}
	if (dev[0] == 0) {
		const SANE_Device **list;

		if (sane_get_devices(&list, SANE_TRUE) != SANE_STATUS_GOOD || list[0] == NULL) {
			snprintf(err, errlen, "no scanner found");
			sane_exit();
			return -1;
		}
		dev = list[0]->name;
	}
	str_copy(j->device, sizeof j->device, dev);
	if ((st = sane_open(j->device, &h)) != SANE_STATUS_GOOD) {
		snprintf(err, errlen, "cannot open scanner %s: %s", j->device, sane_strstatus(st));
		sane_exit();
		return -1;
	}
	if (sane_setup(h, dpi) < 0) {
		snprintf(err, errlen, "scanner %s has no bilevel mode", j->device);
		rc = -1;
	}
	{
		const SANE_Option_Descriptor *d;
		char src[64] = "";
		int i = sane_find_option(h, SANE_NAME_SCAN_SOURCE, &d);

		if (i >= 0 && d->type == SANE_TYPE_STRING && d->size <= (SANE_Int) sizeof src)
			sane_control_option(h, i, SANE_ACTION_GET_VALUE, src, NULL);
		feeder = strstr(src, "eeder") != NULL || strstr(src, "ADF") != NULL;
	}
	while (rc == 0 && j->npages < SCAN_MAX_PAGES) {
		int got = sane_page(h, &j->page[j->npages], dpi, err, errlen);

		if (got < 0)
			rc = -1;
		else if (got > 0)
			j->npages++;
		if (got <= 0 || !feeder)
			break;
	}
	sane_cancel(h);
	sane_close(h);
	sane_exit();
	if (rc == 0 && j->npages == 0) {
		snprintf(err, errlen, "no document in the scanner");
		rc = -1;
	}
	return rc;
}

/* --- folder ------------------------------------------------------------------------ */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int tiff_pages(scan_job *j, const char *path, char *err, size_t errlen)
{
	TIFF *t = TIFFOpen(path, "r");

	if (t == NULL) {
		snprintf(err, errlen, "cannot read %.300s", path);
		return -1;
	}
	do {
		uint32_t w = 0, h = 0;
		uint16_t bps = 1, photo = PHOTOMETRIC_MINISWHITE;
		float xr = 200, yr = 200;
		scan_page *p;
		unsigned char *row;

		if (j->npages == SCAN_MAX_PAGES)
			break;
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
		TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
		TIFFGetFieldDefaulted(t, TIFFTAG_PHOTOMETRIC, &photo);
		TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr);
		TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr);
		if (bps != 1 || w == 0 || w > 8192 || h == 0) {
			TIFFClose(t);
			snprintf(err, errlen, "%.300s: not a bilevel page", path);
			return -1;
		}
		p = &j->page[j->npages++];
		p->xres = (int) xr;
		p->yres = (int) yr;
		row = xmalloc(TIFFScanlineSize(t) > 0 ? (size_t) TIFFScanlineSize(t) : 1);
		for (uint32_t r = 0; r < h; r++) {
			if (TIFFReadScanline(t, row, r, 0) < 0)
				break;
			if (photo == PHOTOMETRIC_MINISBLACK)
				for (tmsize_t k = 0; k < TIFFScanlineSize(t); k++)
					row[k] = (unsigned char) ~row[k];
			if (scanpage_add_row(p, row, w) < 0)
				break;
		}
		free(row);
	} while (TIFFReadDirectory(t));
	TIFFClose(t);
	return 0;
}

static int scan_folder(scan_job *j, char *err, size_t errlen)
{
	const char *dir = conf_str("hw_scan_folder");
	DIR *d = opendir(dir);
	struct dirent *e;

	str_copy(j->device, sizeof j->device, "folder");
	if (d == NULL) {
		snprintf(err, errlen, "scan folder %.300s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL && j->nfiles < SCAN_MAX_FILES) {
		size_t len = strlen(e->d_name);
		char path[PATH_MAX];

		if (e->d_name[0] == '.' || !((len > 4 && !strcmp(e->d_name + len - 4, ".tif"))
					     || (len > 5 && !strcmp(e->d_name + len - 5, ".tiff"))))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int) sizeof path)
			continue;
		j->files[j->nfiles++] = xstrdup(path);
	}
	closedir(d);
	qsort(j->files, j->nfiles, sizeof j->files[0], name_cmp);
	for (size_t i = 0; i < j->nfiles; i++)
		if (tiff_pages(j, j->files[i], err, errlen) < 0)
			return -1;
	if (j->npages == 0) {
		snprintf(err, errlen, "no pages in the scan folder %.300s", dir);
		return -1;
	}
	return 0;
}

/* --- the message ------------------------------------------------------------------- */

static void base64(buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned) p[i] << 16 | (i + 1 < n ? (unsigned) p[i + 1] << 8 : 0)
			     | (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63],
			      i + 1 < n ? tab[v >> 6 & 63] : '=', i + 2 < n ? tab[v & 63] : '=' };

		buf_append(out, q, 4);
		if ((col += 4) == 76) {
			buf_append_str(out, "\r\n");
			col = 0;
		}
	}
	if (col)
		buf_append_str(out, "\r\n");
}

static int read_file(const char *path, buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char tmp[65536];
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, tmp, sizeof tmp)) > 0)
		if (buf_append(out, tmp, (size_t) n) < 0) {
			close(fd);
			return -1;
		}
	close(fd);
	return n < 0 ? -1 : 0;
}

static int build_message(buf *m, const char *id, const char *sender, char **rcpt, size_t nrcpt,
			 const scan_job *j, const buf *tiff)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(m, "From: <%s>\r\nTo: ", sender);
	for (size_t i = 0; i < nrcpt; i++)
		buf_printf(m, "%s<%s>", i ? ", " : "", rcpt[i]);
	buf_printf(m, "\r\nSubject: Scanned document (%zu page%s)\r\nDate: %s\r\n"
		   "Message-ID: <%s.scan@%s>\r\nMIME-Version: 1.0\r\n"
		   "Content-Type: multipart/mixed; boundary=\"=_scan_%s\"\r\n\r\n"
		   "--=_scan_%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
		   "Scanned with %s: %zu page%s, %d pels wide, %dx%d dpi.\r\n\r\n"
		   "--=_scan_%s\r\nContent-Type: image/tiff; application=faxbw\r\n"
		   "Content-Transfer-Encoding: base64\r\n"
		   "Content-Disposition: attachment; filename=\"scan.tif\"\r\n\r\n",
		   j->npages, j->npages == 1 ? "" : "s", date, id, conf_str("myhostname"), id, id,
		   j->device, j->npages, j->npages == 1 ? "" : "s", FAX_WIDTH, j->page[0].xres,
		   j->page[0].yres, id);
	base64(m, (const unsigned char *) tiff->data, tiff->len);
	return buf_printf(m, "--=_scan_%s--\r\n", id);
}

static int enqueue(scan_job *j, const char *sender, char **rcpt, size_t nrcpt, char *qid,
		   size_t qidlen, char *err, size_t errlen)
{
	const char *qdir = conf_str("queue_directory");
	char tmp[PATH_MAX];
	buf tiff, msg;
	qenvelope env;
	struct timeval tv;
	qwriter *w;
	int fd, rc = 0;

	snprintf(tmp, sizeof tmp, "%s/hwd-scan-XXXXXX", conf_str("data_directory"));
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "temporary file %.300s: %s", tmp, strerror(errno));
		return -1;
	}
	close(fd);
	buf_init(&tiff, 256u * 1024 * 1024);
	buf_init(&msg, 512u * 1024 * 1024);
	if (scanpage_write_tiff(tmp, j->page, j->npages, err, errlen) < 0
	    || read_file(tmp, &tiff) < 0) {
		unlink(tmp);
		buf_free(&tiff);
		buf_free(&msg);
		if (!err[0])
			snprintf(err, errlen, "cannot read back the scanned pages");
		return -1;
	}
	unlink(tmp);
	if ((w = qw_create(qdir, err, errlen)) == NULL) {
		buf_free(&tiff);
		buf_free(&msg);
		return -1;
	}
	gettimeofday(&tv, NULL);
	qenv_init(&env);
	env.sender = (char *) sender;
	env.arrival_us = (int64_t) tv.tv_sec * 1000000 + tv.tv_usec;
	env.origin = (char *) "scan";
	env.client_name = j->device;
	env.protocol = (char *) "SCAN";
	for (size_t i = 0; i < nrcpt && rc == 0; i++)
		rc = qenv_add_rcpt(&env, rcpt[i], NULL, 0);
	if (rc == 0)
		rc = qw_envelope(w, &env);
	env.sender = env.origin = env.client_name = env.protocol = NULL;
	qenv_free(&env);
	if (rc == 0 && build_message(&msg, qw_id(w), sender, rcpt, nrcpt, j, &tiff) < 0)
		rc = -1;
	if (rc == 0)
		rc = qw_content(w, msg.data, msg.len);
	if (rc == 0 && str_copy(qid, qidlen, qw_id(w)) < 0)
		rc = -1;
	if (rc == 0 && qw_commit(w, err, errlen) < 0)
		rc = -1;
	else if (rc < 0)
		snprintf(err, errlen, "queue file write error");
	if (rc < 0)
		qw_abort(w);
	qw_free(w);
	buf_free(&tiff);
	buf_free(&msg);
	if (rc == 0)
		queue_trigger(qdir, TRIGGER_NEW);
	return rc;
}

static void scan_reply(int fd, const char *status, const char *reason, const char *qid, size_t pages)
{
	ipc_msg *r = ipc_new(IPC_SCAN_REPLY);

	ipc_put_str(r, "status", status);
	ipc_put_str(r, "reason", reason);
	if (qid)
		ipc_put_str(r, "queue_id", qid);
	ipc_put_int(r, "pages", (int64_t) pages);
	ipc_send(fd, r, 5000);
	ipc_free(r);
}

static int address_ok(const char *a)
{
	const char *at = strchr(a, '@');

	if (at == NULL || at == a || at[1] == 0 || strlen(a) > 254)
		return 0;
	for (; *a; a++)
		if ((unsigned char) *a <= ' ' || strchr("<>()\",;\\", *a))
			return 0;
	return 1;
}

void scan_request(int fd, const ipc_msg *q)
{
	char *rcpt[SCAN_MAX_RCPT];
	size_t nrcpt = 0;
	int64_t count = 0;
	const char *sender = ipc_get_str(q, "sender"), *one = ipc_get_str(q, "to");
	const char *backend = conf_str("hw_scan_backend");
	char err[512] = "", qid[QUEUE_ID_LEN + 1];
	static scan_job job;
	int rc;

	if (one)
		rcpt[nrcpt++] = (char *) one;
	ipc_get_int(q, "to_count", &count);
	for (int64_t i = 0; i < count && nrcpt < SCAN_MAX_RCPT; i++) {
		char key[24];
		const char *a;

		snprintf(key, sizeof key, "to.%lld", (long long) i);
		if ((a = ipc_get_str(q, key)) != NULL)
			rcpt[nrcpt++] = (char *) a;
	}
	if (nrcpt == 0) {
		scan_reply(fd, "5.5.4", "no recipient", NULL, 0);
		return;
	}
	for (size_t i = 0; i < nrcpt; i++)
		if (!address_ok(rcpt[i])) {
			snprintf(err, sizeof err, "bad recipient address: %s", rcpt[i]);
			scan_reply(fd, "5.1.3", err, NULL, 0);
			return;
		}
	if (sender == NULL || !address_ok(sender))
		sender = conf_str("hw_scan_sender");
	if (!strcmp(backend, "sane"))
		rc = scan_sane(&job, err, sizeof err);
	else if (!strcmp(backend, "folder"))
		rc = scan_folder(&job, err, sizeof err);
	else {
		snprintf(err, sizeof err, "hw_scan_backend: unknown backend %s", backend);
		rc = -1;
	}
	if (rc == 0)
		rc = enqueue(&job, sender, rcpt, nrcpt, qid, sizeof qid, err, sizeof err);
	if (rc < 0) {
		msg_warn("scan for <%s>: %s", rcpt[0], err);
		scan_reply(fd, "4.3.0", err, NULL, 0);
		job_free(&job);
		return;
	}
	/* Committed: only now may the folder backend's source files go. */
	for (size_t i = 0; i < job.nfiles; i++)
		if (unlink(job.files[i]) < 0)
			msg_warn("cannot remove scanned file %s: %s", job.files[i], strerror(errno));
	msg_info("%s: from=<%s>, to=<%s>%s, origin=scan, device=%s, pages=%zu", qid, sender,
		 rcpt[0], nrcpt > 1 ? " (and more)" : "", job.device, job.npages);
	scan_reply(fd, "2.0.0", "queued", qid, job.npages);
	job_free(&job);
}
