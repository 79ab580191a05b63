/*
 * hwd.c - the hardware daemon: owns the modem lines, the scanner and the printer.
 *
 * Contract (event server on private/hwd; `hwd -c DIR -S PATH` stand-alone):
 *  - Opens every hw_modem_lines entry (DEVICE=NUMBER) with its UUCP lock and the
 *    init commands; a line that fails is retried every 60 s.
 *  - IPC_LINE_REQUEST "op"=dial "number"=+E.164 [ "line"=DEVICE|NUMBER ]: picks an idle
 *    line, applies the dial rules and replies IPC_LINE_REPLY "status"=2.0.0, "line",
 *    "number" (the line's own number), "dial" (the digits to send after ATD) with the
 *    tty as fd 0. The requester dials. The connection is the lease: when it closes (or
 *    "op"=hangup arrives on it) hwd drops DTR, sends ATH0 and re-initialises the line.
 *    No idle line: 4.3.2; a number the rules cannot dial: 5.1.3.
 *  - "op"=wait [ "timeout"=SECONDS ]: the reply comes when a call has been answered:
 *    "status"=2.0.0 "line" "number" "caller_id" "caller_name" "did" "answered"=1, fd
 *    0 = the tty, after ATA; the connection is again the lease. Timeout: 4.4.1.
 *  - Idle lines are watched: RING lines counted (caller ID lines before them noted);
 *    after hw_answer_rings rings hwd sends ATA and hands the call to a waiting
 *    requester, else to private/hw_receive_service as IPC_LINE_REQUEST "op"=receive
 *    (same attributes, fd 0 = the tty); that connection is the lease. Nobody to take
 *    the call: it is not answered (the caller hears ringing, as with no fax machine).
 *  - "op"=status: "lines"=N, "line.I"="DEVICE NUMBER STATE".
 *  - IPC_SCAN_REQUEST (in a child process) and IPC_PRINT_REQUEST: see scan.c, print.c.
 *  - Run as a master.cf service whose name starts with "print", hwd is instead the
 *    print delivery agent for qmgr (IPC_DELIVER; printjob.c) and opens no modem.
 * One request per connection, except the leases.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dialrules.h"
#include "hwd.h"
#include "mail/config.h"
#include "mail/daemon.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "mail/queue.h"
#include "modem.h"
#include "util/buf.h"
#include "util/msg.h"

#define HWD_MAX_LINES	16
#define HWD_MAX_WAITERS	8
#define HWD_MAX_PENDING	16	/* accepted connections whose request has not come */
#define RING_GONE_SECS	10	/* no RING for this long: the caller gave up */
#define PENDING_SECS	10	/* a connection must send its request within this */

static modem lines[HWD_MAX_LINES];
static size_t nlines;
static modem_conf mcf;
static dialrules rules;
static struct waiter { int fd; time_t until; } waiters[HWD_MAX_WAITERS];
static struct pending { int fd; time_t since; } pending[HWD_MAX_PENDING];

static void conf_copy(char *dst, size_t size, const char *name)
{
	if (str_copy(dst, size, conf_str(name)) < 0)
		msg_fatal("parameter %s: value too long", name);
}

static void hwd_conf(void)
{
	char *items[HWD_MAX_LINES + 1], *rl[DIALRULES_MAX_RULES + 1], err[256];
	const char *flow = conf_str("hw_modem_flow_control");
	size_t n;

	mcf.speed = (int) conf_int("hw_modem_speed");
	mcf.flow = !strcmp(flow, "rtscts") ? 1 : !strcmp(flow, "xonxoff") ? 2 : 0;
	if (mcf.flow == 0 && strcmp(flow, "none"))
		msg_fatal("hw_modem_flow_control: want rtscts, xonxoff or none, not \"%s\"", flow);
	conf_copy(mcf.lock_dir, sizeof mcf.lock_dir, "hw_modem_lock_directory");
	conf_copy(mcf.reset_cmd, sizeof mcf.reset_cmd, "hw_modem_reset_cmd");
	conf_copy(mcf.init_cmd, sizeof mcf.init_cmd, "hw_modem_init_cmd");
	conf_copy(mcf.cid_cmd, sizeof mcf.cid_cmd, "hw_modem_caller_id_cmd");
	conf_copy(mcf.class_cmd, sizeof mcf.class_cmd, "hw_modem_class_cmd");
	mcf.timeout_ms = (int) conf_time("hw_modem_command_timeout") * 1000;

	dialrules_init(&rules);
	if (dialrules_set(&rules, conf_str("hw_dial_prefix"), conf_str("hw_country_code"),
			  conf_str("hw_area_code"), conf_str("hw_international_prefix"),
			  conf_str("hw_national_prefix"), conf_bool("hw_local_without_area_code"),
			  err, sizeof err) < 0)
		msg_fatal("%s", err);
	n = conf_list("hw_dial_rules", rl, DIALRULES_MAX_RULES + 1);
	if (n > DIALRULES_MAX_RULES)
		msg_fatal("hw_dial_rules: more than %d rules", DIALRULES_MAX_RULES);
	for (size_t i = 0; i < n; i++)
		if (dialrules_add(&rules, rl[i], err, sizeof err) < 0)
			msg_fatal("hw_dial_rules: %s", err);
	conf_list_free(rl, n);

	n = conf_list("hw_modem_lines", items, HWD_MAX_LINES + 1);
	if (n > HWD_MAX_LINES)
		msg_fatal("hw_modem_lines: more than %d lines", HWD_MAX_LINES);
	for (size_t i = 0; i < n; i++) {
		modem *m = &lines[nlines++];
		char *eq = strchr(items[i], '=');
		const char *base;

		if (eq)
			*eq++ = 0;
		if (str_copy(m->dev, sizeof m->dev, items[i]) < 0
		    || str_copy(m->number, sizeof m->number, eq ? eq : "") < 0)
			msg_fatal("hw_modem_lines: item too long: %s", items[i]);
		base = strrchr(m->dev, '/');
		str_copy(m->name, sizeof m->name, base ? base + 1 : m->dev);
		m->fd = -1;
		m->lease = -1;
		m->state = MODEM_CLOSED;
	}
	conf_list_free(items, n);
}

static void line_try_open(modem *m)
{
	char err[256];

	if (modem_open(m, &mcf, err, sizeof err) < 0) {
		msg_warn("%s: cannot use the modem: %s; retrying in 60s", m->dev, err);
		m->retry_at = time(NULL) + 60;
		return;
	}
	msg_info("%s: modem ready (%s, number %s)", m->name, m->dev, m->number[0] ? m->number : "-");
}

/* The lease ended: hang up and make the line idle again. */
static void line_release(modem *m, const char *why)
{
	char err[256];

	if (m->lease >= 0)
		close(m->lease);
	m->lease = -1;
	msg_info("%s: line released (%s); hanging up", m->name, why);
	if (modem_hangup(m, &mcf, err, sizeof err) < 0) {
		msg_warn("%s: reset after the call failed: %s; reopening", m->name, err);
		modem_close(m);
		m->retry_at = time(NULL);
		return;
	}
	m->state = MODEM_IDLE;
}

static modem *line_find(const char *which)
{
	for (size_t i = 0; i < nlines; i++) {
		modem *m = &lines[i];

		if (m->state != MODEM_IDLE)
			continue;
		if (which == NULL || !strcmp(which, m->dev) || !strcmp(which, m->name)
		    || !strcmp(which, m->number))
			return m;
	}
	return NULL;
}

static void reply_status(int fd, const char *status, const char *reason)
{
	ipc_msg *r = ipc_new(IPC_LINE_REPLY);

	ipc_put_str(r, "status", status);
	ipc_put_str(r, "reason", reason);
	if (ipc_send(fd, r, 5000) < 0)
		msg_warn("cannot send the reply: %s", strerror(errno));
	ipc_free(r);
}

/* Put the call attributes of m into msg (dial replies, answered calls). */
static void put_line(ipc_msg *r, const modem *m)
{
	ipc_put_str(r, "line", m->dev);
	ipc_put_str(r, "number", m->number);
}

static void put_call(ipc_msg *r, const modem *m)
{
	put_line(r, m);
	ipc_put_str(r, "caller_id", m->caller_id);
	ipc_put_str(r, "caller_name", m->caller_name);
	ipc_put_str(r, "did", m->did);
	ipc_put_int(r, "answered", 1);
	ipc_put_fd(r, m->fd);
}

/* op=dial: returns 1 when fd became a lease (keep it open). */
static int op_dial(int fd, const ipc_msg *q)
{
	const char *number = ipc_get_str(q, "number");
	char dial[64], err[256];
	modem *m;
	ipc_msg *r;

	if (number == NULL) {
		reply_status(fd, "5.5.4", "dial: no number");
		return 0;
	}
	if (dialrules_apply(&rules, number, dial, sizeof dial, err, sizeof err) < 0) {
		reply_status(fd, "5.1.3", err);
		return 0;
	}
	m = line_find(ipc_get_str(q, "line"));
	if (m == NULL) {
		reply_status(fd, "4.3.2", "no idle modem line");
		return 0;
	}
	r = ipc_new(IPC_LINE_REPLY);
	ipc_put_str(r, "status", "2.0.0");
	ipc_put_str(r, "reason", "line reserved");
	put_line(r, m);
	ipc_put_str(r, "dial", dial);
	ipc_put_fd(r, m->fd);
	if (ipc_send(fd, r, 5000) < 0) {
		msg_warn("%s: cannot hand the line over: %s", m->name, strerror(errno));
		ipc_free(r);
		return 0;
	}
	ipc_free(r);
	m->state = MODEM_LEASED;
	m->lease = fd;
	msg_info("%s: line leased to dial %s as %s", m->name, number, dial);
	return 1;
}

static int op_wait(int fd, const ipc_msg *q)
{
	int64_t secs = 0;

	ipc_get_int(q, "timeout", &secs);
	for (int i = 0; i < HWD_MAX_WAITERS; i++)
		if (waiters[i].fd < 0) {
			waiters[i].fd = fd;
			waiters[i].until = secs > 0 ? time(NULL) + secs : 0;
			return 1;
		}
	reply_status(fd, "4.3.2", "too many waiting receivers");
	return 0;
}

static void op_status(int fd)
{
	static const char *names[] = { "closed", "idle", "ringing", "leased" };
	ipc_msg *r = ipc_new(IPC_LINE_REPLY);
	char key[32], val[PATH_MAX + 64];

	ipc_put_str(r, "status", "2.0.0");
	ipc_put_str(r, "reason", "ok");
	ipc_put_int(r, "lines", (int64_t) nlines);
	for (size_t i = 0; i < nlines; i++) {
		snprintf(key, sizeof key, "line.%zu", i);
		snprintf(val, sizeof val, "%s %s %s", lines[i].dev,
			 lines[i].number[0] ? lines[i].number : "-", names[lines[i].state]);
		ipc_put_str(r, key, val);
	}
	ipc_send(fd, r, 5000);
	ipc_free(r);
}

/* A scan takes seconds (a flatbed A4 page) to minutes (a feeder): it runs in a child
 * so that RINGs and line requests are served meanwhile. The child answers on fd and
 * exits; housekeeping() reaps it. */
static void scan_fork(int fd, const ipc_msg *q)
{
	pid_t pid = fork();

	if (pid < 0) {
		msg_warn("fork: %s; scanning in the main loop", strerror(errno));
		scan_request(fd, q);
		return;
	}
	if (pid == 0) {
		/* The child must not hold the lines: a modem hung up by the parent must see
		 * its descriptor closed (DTR) when the parent closes it. */
		for (size_t i = 0; i < nlines; i++)
			if (lines[i].fd >= 0)
				close(lines[i].fd);
		scan_request(fd, q);
		_exit(0);
	}
}

/* One request on a new connection; returns 1 if the connection is kept. */
static int hwd_request(int fd)
{
	char err[256];
	ipc_msg *q = ipc_recv(fd, IPC_DEFAULT_MAX, 2000, err, sizeof err);
	const char *op;
	int keep = 0;

	if (q == NULL) {
		if (err[0])
			msg_warn("bad request: %s", err);
		return 0;
	}
	if (ipc_type(q) == IPC_SCAN_REQUEST) {
		scan_fork(fd, q);
	} else if (ipc_type(q) == IPC_PRINT_REQUEST) {
		print_request(fd, q);
	} else if (ipc_type(q) != IPC_LINE_REQUEST || (op = ipc_get_str(q, "op")) == NULL) {
		msg_warn("unexpected request type %08x", (unsigned) ipc_type(q));
		reply_status(fd, "5.5.1", "unknown request");
	} else if (!strcmp(op, "dial")) {
		keep = op_dial(fd, q);
	} else if (!strcmp(op, "wait")) {
		keep = op_wait(fd, q);
	} else if (!strcmp(op, "status")) {
		op_status(fd);
	} else {
		reply_status(fd, "5.5.1", "unknown op");
	}
	ipc_free(q);
	return keep;
}

/* Hand an answered call to a waiter or to the receive service. */
static void hand_over(modem *m)
{
	char path[PATH_MAX];
	ipc_msg *r;
	int fd;

	for (int i = 0; i < HWD_MAX_WAITERS; i++) {
		if (waiters[i].fd < 0)
			continue;
		r = ipc_new(IPC_LINE_REPLY);
		ipc_put_str(r, "status", "2.0.0");
		ipc_put_str(r, "reason", "call answered");
		put_call(r, m);
		fd = waiters[i].fd;
		waiters[i].fd = -1;
		if (ipc_send(fd, r, 5000) == 0) {
			ipc_free(r);
			m->lease = fd;
			m->state = MODEM_LEASED;
			msg_info("%s: call handed to a waiting receiver", m->name);
			return;
		}
		ipc_free(r);
		close(fd);
	}
	snprintf(path, sizeof path, "%s/private/%s", conf_str("queue_directory"),
		 conf_str("hw_receive_service"));
	fd = ipc_connect(path, 5000);
	if (fd >= 0) {
		r = ipc_new(IPC_LINE_REQUEST);
		ipc_put_str(r, "op", "receive");
		put_call(r, m);
		if (ipc_send(fd, r, 5000) == 0) {
			ipc_free(r);
			m->lease = fd;
			m->state = MODEM_LEASED;
			msg_info("%s: call handed to %s", m->name, path);
			return;
		}
		ipc_free(r);
		close(fd);
	}
	msg_warn("%s: nobody takes the call (%s: %s); hanging up", m->name, path, strerror(errno));
	line_release(m, "no receiver");
}

static void line_answer(modem *m)
{
	msg_info("%s: incoming call from %s (%s) to %s, answering after %d ring(s)", m->name,
		 m->caller_id[0] ? m->caller_id : "unknown",
		 m->caller_name[0] ? m->caller_name : "-", m->did[0] ? m->did : "-", m->rings);
	if (write(m->fd, "ATA\r", 4) != 4) {
		msg_warn("%s: cannot answer: %s", m->name, strerror(errno));
		return;
	}
	m->state = MODEM_LEASED;	/* from now on the receiver reads the line */
	hand_over(m);
}

static int someone_to_answer(void)
{
	for (int i = 0; i < HWD_MAX_WAITERS; i++)
		if (waiters[i].fd >= 0)
			return 1;
	return conf_str("hw_receive_service")[0] != 0;
}

/* Unsolicited lines on an idle modem: RING and caller ID. */
static void line_watch(modem *m)
{
	char in[256];
	ssize_t r;
	long long want = conf_int("hw_answer_rings");

	while ((r = read(m->fd, in, sizeof in)) > 0) {
		size_t off = 0;

		while (off < (size_t) r && m->state != MODEM_LEASED) {
			int got;
			at_result ar;
			char key[8], val[64];

			off += at_reader_feed(&m->rd, in + off, (size_t) r - off, &got);
			if (!got)
				continue;
			ar = at_classify(m->rd.line);
			if (ar == AT_CALLINFO
			    && at_callinfo(m->rd.line, key, sizeof key, val, sizeof val) == 0) {
				if (!strcmp(key, "NMBR"))
					str_copy(m->caller_id, sizeof m->caller_id, val);
				else if (!strcmp(key, "NAME"))
					str_copy(m->caller_name, sizeof m->caller_name, val);
				else if (!strcmp(key, "NDID") || !strcmp(key, "DDI"))
					str_copy(m->did, sizeof m->did, val);
			} else if (ar == AT_RING) {
				m->rings++;
				m->last_ring = time(NULL);
				m->state = MODEM_RINGING;
				if (want > 0 && m->rings >= want && someone_to_answer())
					line_answer(m);
			}
		}
	}
	/* EOF or an I/O error: the device went away (USB modem unplugged, vmodem gone).
	 * Close it and try again later, rather than spin on a dead descriptor. */
	if (m->state != MODEM_LEASED && (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))) {
		msg_warn("%s: modem lost (%s); retrying in 60s", m->name, r == 0 ? "EOF" : strerror(errno));
		modem_close(m);
		m->retry_at = time(NULL) + 60;
	}
}

static void housekeeping(void)
{
	time_t now = time(NULL);
	int status;

	while (waitpid(-1, &status, WNOHANG) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			msg_warn("a scan process failed (status 0x%x)", (unsigned) status);

	for (size_t i = 0; i < nlines; i++) {
		modem *m = &lines[i];

		if (m->state == MODEM_CLOSED && now >= m->retry_at)
			line_try_open(m);
		if (m->state == MODEM_RINGING && now - m->last_ring > RING_GONE_SECS) {
			msg_info("%s: caller %s gave up after %d ring(s)", m->name,
				 m->caller_id[0] ? m->caller_id : "unknown", m->rings);
			modem_forget_call(m);
			m->state = MODEM_IDLE;
		}
	}
	for (int i = 0; i < HWD_MAX_PENDING; i++)
		if (pending[i].fd >= 0 && now - pending[i].since > PENDING_SECS) {
			close(pending[i].fd);
			pending[i].fd = -1;
		}
	for (int i = 0; i < HWD_MAX_WAITERS; i++)
		if (waiters[i].fd >= 0 && waiters[i].until && now >= waiters[i].until) {
			reply_status(waiters[i].fd, "4.4.1", "no call within the timeout");
			close(waiters[i].fd);
			waiters[i].fd = -1;
		}
}

/* A lease or waiter connection became readable: EOF, or a hangup request. */
static void lease_event(modem *m)
{
	char err[256];
	ipc_msg *q = ipc_recv(m->lease, IPC_DEFAULT_MAX, 1000, err, sizeof err);
	const char *op = q ? ipc_get_str(q, "op") : NULL;

	const char *st = q ? ipc_get_str(q, "status") : NULL;

	if (op && !strcmp(op, "hangup"))
		reply_status(m->lease, "2.0.0", "hung up");
	else if (st)
		msg_info("%s: the call is over: %s %s", m->name, st,
			 ipc_get_str(q, "reason") ? ipc_get_str(q, "reason") : "");
	line_release(m, op ? "hangup requested" : st ? "call over"
		     : "requester closed the connection");
	ipc_free(q);
}

/* A new connection waits here until its request has arrived, so that a client that
 * connects and says nothing never holds up the loop (RINGs are time-critical). */
static void pending_add(int fd)
{
	for (int i = 0; i < HWD_MAX_PENDING; i++)
		if (pending[i].fd < 0) {
			pending[i].fd = fd;
			pending[i].since = time(NULL);
			return;
		}
	msg_warn("too many connections waiting for their request; dropping one");
	close(fd);
}

/* One readable descriptor of the loop. The state may have changed since poll() (a
 * line leased or a waiter used by an earlier event of the same round): the event is
 * handled only when the descriptor is still the one that was polled. */
static void dispatch(const struct pollfd *p, int what)
{
	if (what == -1) {
		int fd = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			pending_add(fd);
	} else if (what <= -100) {
		int i = -100 - what, fd = pending[i].fd;

		if (fd != p->fd)
			return;
		pending[i].fd = -1;
		if (!hwd_request(fd))
			close(fd);
	} else if (what <= -2) {
		int i = -2 - what;		/* a waiter went away */

		if (waiters[i].fd != p->fd)
			return;
		close(waiters[i].fd);
		waiters[i].fd = -1;
	} else {
		modem *m = &lines[what];

		if (m->state == MODEM_LEASED && m->lease == p->fd)
			lease_event(m);
		else if ((m->state == MODEM_IDLE || m->state == MODEM_RINGING) && m->fd == p->fd)
			line_watch(m);
	}
}

/* hwd as the print delivery agent (master.cf service "print..."): no modems. */
static void print_agent_loop(daemon_ctx *ctx)
{
	struct pollfd pf[DAEMON_MAX_LISTEN];

	msg_info("print delivery agent (%s backend)", conf_str("hw_print_backend"));
	while (!daemon_stopping) {
		for (int i = 0; i < ctx->nlisten; i++)
			pf[i] = (struct pollfd) { .fd = ctx->listen_fds[i], .events = POLLIN };
		if (poll(pf, (nfds_t) ctx->nlisten, 1000) <= 0)
			continue;
		for (int i = 0; i < ctx->nlisten; i++) {
			int fd;

			if (!(pf[i].revents & POLLIN))
				continue;
			if ((fd = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
				continue;
			printjob_serve(fd);
			close(fd);
		}
	}
}

static void hwd_loop(daemon_ctx *ctx)
{
	if (ctx->service && strncmp(ctx->service, "print", 5) == 0) {
		print_agent_loop(ctx);
		return;
	}

	struct pollfd pf[DAEMON_MAX_LISTEN + HWD_MAX_LINES + HWD_MAX_WAITERS + HWD_MAX_PENDING];
	/* what: >= 0 line index; -1 listen; -2-i waiter i; -100-i pending connection i */
	int what[sizeof pf / sizeof pf[0]];

	for (int i = 0; i < HWD_MAX_WAITERS; i++)
		waiters[i].fd = -1;
	for (int i = 0; i < HWD_MAX_PENDING; i++)
		pending[i].fd = -1;
	for (size_t i = 0; i < nlines; i++)
		line_try_open(&lines[i]);
	while (!daemon_stopping) {
		int n = 0;

		for (int i = 0; i < ctx->nlisten; i++) {
			pf[n] = (struct pollfd) { .fd = ctx->listen_fds[i], .events = POLLIN };
			what[n++] = -1;
		}
		for (size_t i = 0; i < nlines; i++) {
			modem *m = &lines[i];

			if (m->state == MODEM_IDLE || m->state == MODEM_RINGING)
				pf[n] = (struct pollfd) { .fd = m->fd, .events = POLLIN };
			else if (m->state == MODEM_LEASED && m->lease >= 0)
				pf[n] = (struct pollfd) { .fd = m->lease, .events = POLLIN };
			else
				continue;
			what[n++] = (int) i;
		}
		for (int i = 0; i < HWD_MAX_WAITERS; i++)
			if (waiters[i].fd >= 0) {
				pf[n] = (struct pollfd) { .fd = waiters[i].fd, .events = POLLIN };
				what[n++] = -2 - i;
			}
		for (int i = 0; i < HWD_MAX_PENDING; i++)
			if (pending[i].fd >= 0) {
				pf[n] = (struct pollfd) { .fd = pending[i].fd, .events = POLLIN };
				what[n++] = -100 - i;
			}
		if (poll(pf, (nfds_t) n, 1000) > 0)
			for (int k = 0; k < n; k++)
				if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
					dispatch(&pf[k], what[k]);
		housekeeping();
	}
	for (size_t i = 0; i < nlines; i++)
		if (lines[i].state != MODEM_CLOSED) {
			if (lines[i].state == MODEM_LEASED)
				line_release(&lines[i], "hwd stopping");
			modem_close(&lines[i]);
		}
}

static void hwd_pre_jail(daemon_ctx *ctx)
{
	char err[256];

	(void) ctx;
	hwd_conf();
	/* Scans are queued: make sure the folders exist (stand-alone runs too). */
	if (queue_init_dirs(conf_str("queue_directory"), err, sizeof err) < 0)
		msg_fatal("%s", err);
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = { .pre_jail = hwd_pre_jail, .loop = hwd_loop };

	return daemon_main(argc, argv, "hwd", &ops);
}
