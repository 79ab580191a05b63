/*
 * qmgr.c - the queue manager: start-up and the event loop.
 *
 * Contract: one process (master.cf maxproc 1). At start, active/ goes back to
 * incoming/ (queue_recover) and both incoming/ and deferred/ are scanned. Then it
 * waits on the public/qmgr trigger (datagram or stream socket, whichever master made)
 * and on the sockets of deliveries in flight; 'W' or any byte scans incoming/, 'F'
 * also retries all of deferred/ now, 'S' rescans both; deferred/ is also scanned every
 * queue_run_delay. qmgr never touches the network; delivery agents are reached over
 * UNIX sockets in private/ (see qmgr_deliver.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/daemon.h"
#include "mail/dict.h"
#include "mail/queue.h"
#include "mail/trigger.h"
#include "util/stream.h"
#include "util/msg.h"
#include "qmgr.h"

double qm_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

const char *qm_dict_lookup(void *ctx, const char *key)
{
	return ctx ? dict_lookup((dict *)ctx, key) : NULL;
}

static dict *qm_open_map(const char *param)
{
	const char *path = conf_str(param);
	char err[256];
	dict *d;

	if (path[0] == 0)
		return NULL;
	if ((d = dict_open(path, 0, err, sizeof err)) == NULL)
		msg_fatal("%s = %s: %s", param, path, err);
	return d;
}

static char **qm_list(const char *param, size_t *n)
{
	char **items = xcalloc(256, sizeof *items);

	*n = conf_list(param, items, 256);
	if (*n > 256)
		*n = 256;
	for (size_t i = 0; i < *n; i++)
		for (char *p = items[i]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return items;
}

static void qm_configure(qmgr *q)
{
	q->queue_dir = conf_str("queue_directory");
	q->min_backoff = conf_time("minimal_backoff_time");
	q->max_backoff = conf_time("maximal_backoff_time");
	q->queue_run_delay = conf_time("queue_run_delay");
	q->lifetime = conf_time("maximal_queue_lifetime");
	q->bounce_lifetime = conf_time("bounce_queue_lifetime");
	q->warn_time = conf_time("delay_warning_time");
	q->ipc_timeout = conf_time("ipc_timeout");
	q->retry_time = conf_time("transport_retry_time");
	q->rcpt_limit = (int)conf_int("default_destination_recipient_limit");
	if (q->rcpt_limit < 1)
		q->rcpt_limit = 1;
	q->active_limit = (size_t)(conf_int("qmgr_message_active_limit") > 0
				   ? conf_int("qmgr_message_active_limit") : 1);
	q->myhostname = conf_str("myhostname");
	q->error_notice = conf_str("error_notice_recipient");
	sched_init(&q->sch, (int)conf_int("qmgr_concurrency_limit"),
		   (int)conf_int("default_destination_concurrency_limit"));
	q->transport_map = qm_open_map("transport_maps");
	q->alias_map = qm_open_map("alias_maps");
	q->book_map = qm_open_map("address_book_maps");
	q->rcfg.local_domains = qm_list("mydestination", &q->rcfg.nlocal);
	q->rcfg.fax_domains = qm_list("fax_domains", &q->rcfg.nfax);
	q->rcfg.relayhost = conf_str("relayhost");
	q->rcfg.local_transport = conf_str("local_transport");
	q->rcfg.default_transport = conf_str("default_transport");
	q->rcfg.fax_transport = conf_str("fax_transport");
	q->rcfg.transport_lookup = q->transport_map ? qm_dict_lookup : NULL;
	q->rcfg.transport_ctx = q->transport_map;
}

/* Drain the trigger socket; duplicates merge into the scan flags. */
static void qm_trigger(qmgr *q, int fd)
{
	char what;

	for (int n = 0; n < 1024 && trigger_read(fd, &what) == 1; n++) {
		switch (what) {
		case TRIGGER_FLUSH:
			qm_dead_forget(q);	/* as postqueue -f: forget dead sites */
			q->flush_deferred = 1;
			q->scan_incoming = 1;
			break;
		case TRIGGER_SCAN:
			q->scan_deferred = 1;
			q->scan_incoming = 1;
			break;
		default:
			q->scan_incoming = 1;
		}
	}
}

static int qm_is_dgram(int fd)
{
	int type = 0;
	socklen_t len = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return 0;
	return type == SOCK_DGRAM;
}

/* master.cf "qmgr unix-dgram n ..." passes the socket; anything else (a stream socket
 * from an old master.cf, or -S for tests) makes qmgr bind public/qmgr itself. */
static int qm_trigger_fd(daemon_ctx *ctx, qmgr *q)
{
	char err[256];
	int fd;

	if (ctx->nlisten > 0 && qm_is_dgram(ctx->listen_fds[0])) {
		net_nonblock(ctx->listen_fds[0], 1);
		return ctx->listen_fds[0];
	}
	if ((fd = trigger_listen(q->queue_dir, err, sizeof err)) < 0)
		msg_fatal("trigger socket: %s", err);
	return fd;
}

static void qm_loop(daemon_ctx *ctx)
{
	qmgr *q = ctx->app;
	int tfd = qm_trigger_fd(ctx, q);
	struct pollfd *pfd = NULL;
	qm_job **pjob = NULL;
	size_t cap = 0;

	int moved = queue_recover(q->queue_dir, 3600);
	if (moved > 0)
		msg_info("recovered %d message%s from active/", moved, moved == 1 ? "" : "s");
	q->scan_incoming = 1;
	q->scan_deferred = 1;
	while (!daemon_stopping) {
		time_t now = time(NULL);

		if (q->scan_deferred || q->flush_deferred || now >= q->next_deferred_scan) {
			qm_scan_deferred(q, q->flush_deferred);
			q->scan_deferred = q->flush_deferred = 0;
			q->next_deferred_scan = now + (time_t)q->queue_run_delay;
		}
		if (q->scan_incoming) {
			q->scan_incoming = 0;
			qm_scan_incoming(q);
		}
		qm_dispatch(q);

		size_t need = q->ninflight + 1;
		if (need > cap) {
			cap = need * 2;
			pfd = xrealloc(pfd, cap * sizeof *pfd);
			pjob = xrealloc(pjob, cap * sizeof *pjob);
		}
		size_t n = 0;
		if (tfd >= 0) {
			pfd[n].fd = tfd;
			pfd[n].events = POLLIN;
			pjob[n++] = NULL;
		}
		for (qm_job *j = q->inflight; j; j = j->next) {
			pfd[n].fd = j->fd;
			pfd[n].events = POLLIN;
			pjob[n++] = j;
		}
		long long wait_ms = ((long long)q->next_deferred_scan - (long long)time(NULL)) * 1000;
		if (wait_ms > 1000)
			wait_ms = 1000;	/* timeouts of jobs are checked once a second */
		if (wait_ms < 0)
			wait_ms = 0;
		int rc = poll(pfd, n, (int)wait_ms);
		if (rc < 0 && errno != EINTR)
			msg_fatal("poll: %m");
		for (size_t i = 0; rc > 0 && i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (pjob[i] == NULL)
				qm_trigger(q, tfd);
			else
				qm_job_reply(q, pjob[i]);
		}
		qm_job_timeouts(q);
		/* Room freed in the active queue: look at incoming/ again. */
		if (q->nmsgs < q->active_limit && q->scan_incoming == 0 && q->incoming_more)
			q->scan_incoming = 1;
	}
	msg_info("stopping: %zu deliveries in flight are left to their agents", q->ninflight);
	if (q->transport_map)
		dict_close(q->transport_map);
	if (q->alias_map)
		dict_close(q->alias_map);
	if (q->book_map)
		dict_close(q->book_map);
	free(pfd);
	free(pjob);
}

static void qm_post_jail(daemon_ctx *ctx)
{
	static qmgr q;
	char err[256];

	memset(&q, 0, sizeof q);
	qm_configure(&q);
	if (queue_init_dirs(q.queue_dir, err, sizeof err) < 0)
		msg_fatal("queue %s: %s", q.queue_dir, err);
	ctx->app = &q;
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.post_jail = qm_post_jail,
		.loop = qm_loop,
	};

	return daemon_main(argc, argv, "qmgr", &ops);
}
