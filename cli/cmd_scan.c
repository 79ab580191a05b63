/*
 * cmd_scan.c - `faxpost scan --to ADDRESS [--to ADDRESS]... [--from SENDER]`.
 *
 * Contract: asks hwd (private/hwd, IPC_SCAN_REQUEST) to scan a document with the
 * configured scanner backend and queue it as a mail message to the addresses; prints
 * "queued as QUEUEID (N pages)" on success. Exit 0 when queued, 1 when hwd is not
 * reachable or the scan failed (its reason is printed), 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"

#define SCAN_MAX_TO 32

static int scan_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost scan --to ADDRESS [--to ADDRESS]... [--from SENDER]\n"
		"  Scan a document (hw_scan_backend) and mail it to ADDRESS; a FAX=+number@domain\n"
		"  address sends it as a fax.\n");
	return fp == stdout ? 0 : 2;
}

static int scan_ask(const char **to, int nto, const char *from)
{
	char path[4096], err[256], key[16];
	const char *status, *reason, *qid;
	int64_t pages = 0;
	ipc_msg *req, *rep;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/private/hwd", conf_str("queue_directory"));
	if ((fd = ipc_connect(path, 5000)) < 0) {
		fprintf(stderr, "faxpost scan: cannot reach hwd (%s): is the mail system running,"
			" with an hwd service in master.cf?\n", path);
		return 1;
	}
	req = ipc_new(IPC_SCAN_REQUEST);
	ipc_put_int(req, "to_count", nto);
	for (int i = 0; i < nto; i++) {
		snprintf(key, sizeof(key), "to.%d", i);
		ipc_put_str(req, key, to[i]);
	}
	if (from)
		ipc_put_str(req, "sender", from);
	rc = ipc_send(fd, req, 5000);
	ipc_free(req);
	/* A scan takes a while: a flatbed A4 page at 200 dpi, or a feeder of pages. */
	rep = rc < 0 ? NULL : ipc_recv(fd, 65536, 10 * 60 * 1000, err, sizeof(err));
	close(fd);
	if (rep == NULL) {
		fprintf(stderr, "faxpost scan: no answer from hwd\n");
		return 1;
	}
	status = ipc_get_str(rep, "status");
	reason = ipc_get_str(rep, "reason");
	qid = ipc_get_str(rep, "queue_id");
	ipc_get_int(rep, "pages", &pages);
	if (status && status[0] == '2' && qid) {
		printf("queued as %s (%lld page%s)\n", qid, (long long)pages, pages == 1 ? "" : "s");
		rc = 0;
	} else {
		fprintf(stderr, "faxpost scan: %s %s\n", status ? status : "?", reason ? reason : "");
		rc = 1;
	}
	ipc_free(rep);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	const char *to[SCAN_MAX_TO], *from = NULL;
	int nto = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return scan_usage(stdout);
		if (!strcmp(argv[i], "--to") && i + 1 < argc && nto < SCAN_MAX_TO)
			to[nto++] = argv[++i];
		else if (!strcmp(argv[i], "--from") && i + 1 < argc)
			from = argv[++i];
		else
			return scan_usage(stderr);
	}
	if (nto == 0)
		return scan_usage(stderr);
	return scan_ask(to, nto, from);
}
