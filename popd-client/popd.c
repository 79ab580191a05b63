/*
 * popd.c - popd-client: fetches mail from POP3 mailboxes into the queue.
 *
 * Contract: a single server on the daemon skeleton. Every wake-up (master.cf wakeup
 * column) it polls the mailboxes whose check interval has passed; a connection on
 * private/pop (from `faxpost receive`) polls now, reporting progress per message and a
 * summary per mailbox (ipc_proto.h, IPC_POP_*). Mailboxes and presets are re-read at
 * each poll, so edits need no restart. Passwords come from pop_password_maps, which
 * must not be world-readable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/daemon.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "fetch.h"
#include "mail/pop_mailbox.h"
#include "uidl.h"
#include "util/msg.h"

#define MAX_MAILBOXES 64

typedef struct popd {
	uidl_db *uidl;
	mailbox boxes[MAX_MAILBOXES];
	int nboxes;
	time_t last_poll[MAX_MAILBOXES];
	char names[MAX_MAILBOXES][64];	/* which mailbox a last_poll slot belongs to */
} popd;

static popd state;

static int popd_load(char *err, size_t errlen)
{
	state.nboxes = mailbox_load_conf(state.boxes, MAX_MAILBOXES, err, errlen);
	return state.nboxes < 0 ? -1 : 0;
}

static time_t *popd_last_poll(const char *name)
{
	for (int i = 0; i < MAX_MAILBOXES; i++)
		if (!strcmp(state.names[i], name))
			return &state.last_poll[i];
	for (int i = 0; i < MAX_MAILBOXES; i++)
		if (!state.names[i][0]) {
			str_copy(state.names[i], sizeof(state.names[i]), name);
			return &state.last_poll[i];
		}
	return &state.last_poll[0];
}

typedef struct client {
	int fd;
} client;

static void popd_progress(void *ctx, const mailbox *mb, const fetch_stats *st)
{
	client *c = ctx;
	ipc_msg *m;

	if (!c)
		return;
	m = ipc_new(IPC_POP_PROGRESS);
	ipc_put_str(m, "mailbox", mb->name);
	ipc_put_int(m, "listed", st->listed);
	ipc_put_int(m, "fetched", st->fetched);
	ipc_put_int(m, "skipped", st->skipped);
	ipc_put_int(m, "bytes", st->bytes);
	ipc_send(c->fd, m, 10000);
	ipc_free(m);
}

/* Poll one mailbox; returns 0 on success. Reports to the client when there is one. */
static int popd_poll(const mailbox *mb, client *c)
{
	char err[512] = "";
	fetch_stats st;
	char *pw = mailbox_password(mb->name, err, sizeof(err));
	int rc = -1;

	memset(&st, 0, sizeof(st));
	*popd_last_poll(mb->name) = time(NULL);
	if (pw) {
		rc = fetch_mailbox(mb, pw, state.uidl, conf_str("queue_directory"), &st,
				   popd_progress, c, err, sizeof(err));
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (rc < 0)
		msg_warn("pop %s: server=%s:%s: %s", mb->name, mb->server, mb->port, err);
	if (c) {
		ipc_msg *m = ipc_new(IPC_POP_REPLY);

		ipc_put_str(m, "mailbox", mb->name);
		ipc_put_int(m, "listed", st.listed);
		ipc_put_int(m, "fetched", st.fetched);
		ipc_put_int(m, "skipped", st.skipped);
		ipc_put_int(m, "deleted", st.deleted);
		ipc_put_int(m, "bytes", st.bytes);
		ipc_put_str(m, "status", rc == 0 ? "2.0.0" : "4.4.0");
		ipc_put_str(m, "reason", rc == 0 ? "ok" : err);
		ipc_send(c->fd, m, 10000);
		ipc_free(m);
	}
	return rc;
}

static void popd_wakeup(daemon_ctx *ctx)
{
	char err[512];
	time_t now = time(NULL);

	if (popd_load(err, sizeof(err)) < 0) {
		msg_warn("%s", err);
		return;
	}
	for (int i = 0; i < state.nboxes && !daemon_stopping; i++) {
		const mailbox *mb = &state.boxes[i];

		if (mb->interval > 0 && now - *popd_last_poll(mb->name) >= mb->interval)
			popd_poll(mb, NULL);
	}
}

static void popd_serve(daemon_ctx *ctx, int fd)
{
	char err[512];
	ipc_msg *req = ipc_recv(fd, 4096, 10000, err, sizeof(err));
	const char *want;
	client c = { fd };
	int polled = 0, failed = 0;
	ipc_msg *done;

	if (!req) {
		msg_warn("receive request: %s", err);
		return;
	}
	if (ipc_type(req) != IPC_POP_RECEIVE) {
		msg_warn("receive request: unexpected message type 0x%08x", ipc_type(req));
		ipc_free(req);
		return;
	}
	want = ipc_get_str(req, "mailbox");
	done = ipc_new(IPC_POP_DONE);
	if (popd_load(err, sizeof(err)) < 0) {
		ipc_put_str(done, "status", "4.3.5");
		ipc_put_str(done, "reason", err);
	} else {
		for (int i = 0; i < state.nboxes && !daemon_stopping; i++) {
			if (want && *want && strcmp(want, state.boxes[i].name) != 0)
				continue;
			polled++;
			if (popd_poll(&state.boxes[i], &c) < 0)
				failed++;
		}
		if (want && *want && polled == 0) {
			ipc_put_str(done, "status", "5.1.1");
			ipc_put_str(done, "reason", "no such mailbox");
		} else {
			ipc_put_str(done, "status", failed ? "4.4.0" : "2.0.0");
			ipc_put_str(done, "reason", polled ? (failed ? "some mailboxes failed" : "ok")
				    : "no mailboxes configured");
		}
	}
	ipc_put_int(done, "mailboxes", polled);
	ipc_send(fd, done, 10000);
	ipc_free(done);
	ipc_free(req);
}

static void popd_post_jail(daemon_ctx *ctx)
{
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/pop_uidl.db", conf_str("data_directory"));
	if (!(state.uidl = uidl_open(path, err, sizeof(err))))
		msg_fatal("cannot open the UIDL database: %s", err);
	/* a crash between recording a batch and publishing it left files in tmp/ */
	uidl_recover(state.uidl, conf_str("queue_directory"));
	if (popd_load(err, sizeof(err)) < 0)
		msg_warn("%s", err);
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.post_jail = popd_post_jail,
		.serve = popd_serve,
		.wakeup = popd_wakeup,
		.max_use = 0,
		.max_idle = 0,
	};

	return daemon_main(argc, argv, "popd-client", &ops);
}
