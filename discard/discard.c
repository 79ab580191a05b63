/*
 * discard.c - the discard delivery agent: accepts every recipient and drops the mail.
 *
 * Contract: as Postfix's discard(8). One IPC_DELIVER per connection
 * (lib/mail/deliver_req.h); every recipient is marked done in the queue file and
 * reported 2.0.0 with the next-hop text as the reason ("discard:spam" in the transport
 * table logs "status=sent (spam)"), relay=none. Nothing is read from the message.
 * What it is for: transport table entries that throw mail away on purpose, and
 * benchmarks that measure everything but the final delivery (bench/smtp-accept).
 */
#include <stdio.h>

#include "mail/daemon.h"
#include "mail/deliver_req.h"
#include "util/msg.h"

static void discard_serve(daemon_ctx *ctx, int fd)
{
	deliver_req req;
	char err[512];

	(void)ctx;
	if (deliver_req_read(fd, &req, err, sizeof err) < 0) {
		msg_warn("bad delivery request: %s", err);
		deliver_req_free(&req);
		return;
	}
	snprintf(req.relay, sizeof req.relay, "none");
	for (size_t i = 0; i < req.n; i++)
		deliver_req_status(&req, i, "2.0.0",
				   req.nexthop && req.nexthop[0] ? req.nexthop : "discarded",
				   "delivered");
	if (deliver_req_reply(fd, &req) < 0)
		msg_warn("%s: cannot send the reply to qmgr: %m", req.queue_id);
	deliver_req_free(&req);
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.serve = discard_serve,
		.max_use = -1,		/* max_use, max_idle from main.cf */
		.max_idle = -1,
	};

	return daemon_main(argc, argv, "discard", &ops);
}
