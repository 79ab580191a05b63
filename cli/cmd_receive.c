/*
 * cmd_receive.c - `faxpost receive [-q] [MAILBOX]`: fetch POP3 mail now.
 *
 * Contract: asks popd-client (private/pop) to poll the named mailbox, or all; shows
 * progress (messages and bytes) while it runs and a summary per mailbox. Exit 0 when
 * every mailbox was polled, 1 when one failed or the mail system is not running,
 * 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "util/msg.h"

static int receive_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost receive [-q] [MAILBOX]\n"
		"  Fetch mail from the POP3 mailboxes (all, or MAILBOX) now.\n"
		"  -q  no progress, only the summary\n");
	return fp == stdout ? 0 : 2;
}

static long long attr_int(const ipc_msg *m, const char *name)
{
	int64_t v = 0;

	ipc_get_int(m, name, &v);
	return (long long)v;
}

static const char *attr_str(const ipc_msg *m, const char *name)
{
	const char *s = ipc_get_str(m, name);

	return s ? s : "";
}

static void receive_progress(const ipc_msg *m, int tty)
{
	long long done = attr_int(m, "fetched") + attr_int(m, "skipped");

	if (tty)
		fprintf(stdout, "\r%s: %lld/%lld messages, %lld bytes   ", attr_str(m, "mailbox"),
			done, attr_int(m, "listed"), attr_int(m, "bytes"));
	else if (done % 100 == 0)
		fprintf(stdout, "%s: %lld/%lld messages, %lld bytes\n", attr_str(m, "mailbox"),
			done, attr_int(m, "listed"), attr_int(m, "bytes"));
	fflush(stdout);
}

static void receive_summary(const ipc_msg *m, int tty)
{
	if (tty)
		fputc('\n', stdout);
	printf("%s: %lld fetched, %lld skipped, %lld deleted, %lld bytes (%s %s)\n",
	       attr_str(m, "mailbox"), attr_int(m, "fetched"), attr_int(m, "skipped"),
	       attr_int(m, "deleted"), attr_int(m, "bytes"), attr_str(m, "status"),
	       attr_str(m, "reason"));
}

int cmd_receive(int argc, char **argv)
{
	char path[4096], err[256];
	const char *mailbox = NULL;
	int quiet = 0, tty = isatty(1), fd, rc = 1;
	ipc_msg *req, *m;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return receive_usage(stdout);
		if (!strcmp(argv[i], "-q"))
			quiet = 1;
		else if (argv[i][0] == '-' || mailbox)
			return receive_usage(stderr);
		else
			mailbox = argv[i];
	}
	snprintf(path, sizeof(path), "%s/private/pop", conf_str("queue_directory"));
	if ((fd = ipc_connect(path, 5000)) < 0) {
		fprintf(stderr, "faxpost receive: cannot reach popd-client (%s): is the mail system"
			" running, with a pop service in master.cf?\n", path);
		return 1;
	}
	req = ipc_new(IPC_POP_RECEIVE);
	if (mailbox)
		ipc_put_str(req, "mailbox", mailbox);
	if (ipc_send(fd, req, 5000) < 0) {
		fprintf(stderr, "faxpost receive: request failed\n");
		ipc_free(req);
		close(fd);
		return 1;
	}
	ipc_free(req);
	while ((m = ipc_recv(fd, 65536, 30 * 60 * 1000, err, sizeof(err))) != NULL) {
		uint32_t type = ipc_type(m);

		if (type == IPC_POP_PROGRESS && !quiet)
			receive_progress(m, tty);
		else if (type == IPC_POP_REPLY)
			receive_summary(m, tty && !quiet);
		else if (type == IPC_POP_DONE) {
			rc = strncmp(attr_str(m, "status"), "2.", 2) == 0 ? 0 : 1;
			if (rc)
				fprintf(stderr, "faxpost receive: %s\n", attr_str(m, "reason"));
			else if (attr_int(m, "mailboxes") == 0)
				printf("no mailboxes configured\n");
			ipc_free(m);
			close(fd);
			return rc;
		}
		ipc_free(m);
	}
	fprintf(stderr, "faxpost receive: lost popd-client: %s\n", err);
	close(fd);
	return 1;
}
