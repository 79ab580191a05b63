/*
 * smtpd_server.c - the event loop of smtpd: sessions, TLS, timeouts, commits.
 *
 * Contract: one thread runs an epoll loop (level-triggered) over the listen sockets,
 * every client socket, the commit eventfd and master's status pipe. Sockets are
 * non-blocking; OpenSSL runs non-blocking (STARTTLS and implicit TLS). A session
 * reads only while its engine wants input, so a session waiting for its commit, a
 * paused session (AUTH failure delay) or one with much unsent output costs no CPU.
 * Deadlines: smtpd_timeout per command line (a trickling client is cut off even if
 * bytes keep coming), smtpd_starttls_timeout per handshake, none while a commit runs.
 * Limits: smtpd_connection_limit sessions per process (421 4.3.2), and
 * smtpd_client_connection_count_limit per client address (421 4.7.0; mynetworks
 * exempt). On SIGTERM/SIGHUP or when master closes the status pipe: stop accepting,
 * let running commits finish and answer, send 421 to the other sessions, exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mail/queue.h"
#include "mail/queue_crash.h"
#include "smtpd.h"
#include "smtpd_auth.h"
#include "smtpd_peer.h"
#include "smtpd_commit.h"
#include "smtpd_spare.h"
#include "util/msg.h"

#define READ_CHUNK (64 * 1024)
#define OUT_HIGH (256 * 1024)		/* stop reading while this much output waits */
#define IP_BUCKETS 1024

enum { TAG_LISTEN = 1, TAG_COMMIT, TAG_STATUS };

/* A thread works for this session: it must not be freed, read or timed out. */
#define conn_busy(c) ((c)->commit_wait || (c)->auth_wait || (c)->peer_wait)

typedef struct ipcount {
	char addr[64];
	int n;
	struct ipcount *next;
} ipcount;

typedef struct conn {
	smtpd_sess s;
	int fd;
	SSL *ssl;
	int hs;			/* TLS handshake running: 1 STARTTLS, 2 implicit */
	int hs_want;		/* EPOLLIN / EPOLLOUT the handshake waits for */
	int want_tls;		/* STARTTLS answered: handshake once out is sent */
	int ssl_rw;		/* SSL_read wants to write / SSL_write wants to read */
	int closing;		/* flush out, then close */
	int eof;		/* the client closed its side */
	int commit_wait;
	int auth_wait;		/* a password check runs on an auth thread */
	int peer_wait;		/* the client's name is being looked up (no banner yet) */
	int paused;
	int greeting;		/* smtpd_greet_wait: the 220 is not out yet */
	int detached;		/* out of epoll: closed while its commit runs */
	long long pause_until;
	long long deadline;
	unsigned long progress;
	unsigned events;	/* registered epoll events */
	ipcount *ipc;
	commit_job job;
	auth_job ajob;
	peer_job pjob;
	struct conn *prev, *next;
} conn;

static struct {
	int epfd;
	int commit_fd;
	int auth_fd;
	int peer_fd;
	int status_fd;
	int nlisten;
	int listen_fds[DAEMON_MAX_LISTEN];
	conn *conns;
	int nconns;
	int npaused;
	ipcount *ip[IP_BUCKETS];
	char tag_listen[DAEMON_MAX_LISTEN], tag_commit, tag_status, tag_auth, tag_peer;
	char rbuf[READ_CHUNK];
} sv;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- per-client counts ------------------------------------------------------------ */

static unsigned ip_hash(const char *a)
{
	unsigned h = 5381;

	while (*a)
		h = h * 33 + (unsigned char)*a++;
	return h % IP_BUCKETS;
}

static ipcount *ip_get(const char *addr, int create)
{
	unsigned h = ip_hash(addr);
	ipcount *p;

	for (p = sv.ip[h]; p; p = p->next)
		if (strcmp(p->addr, addr) == 0)
			return p;
	if (!create)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	str_copy(p->addr, sizeof(p->addr), addr);
	p->next = sv.ip[h];
	sv.ip[h] = p;
	return p;
}

static void ip_put(ipcount *p)
{
	unsigned h;
	ipcount **pp;

	if (!p || --p->n > 0)
		return;
	h = ip_hash(p->addr);
	for (pp = &sv.ip[h]; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			free(p);
			return;
		}
}

/* --- epoll interest ------------------------------------------------------------- */

static int conn_may_read(const conn *c)
{
	return !conn_busy(c) && !c->paused && !c->closing && !c->want_tls && !c->eof &&
	       c->s.out.len < OUT_HIGH;
}

static void conn_interest(conn *c)
{
	unsigned ev = 0;
	struct epoll_event e;

	if (c->detached)
		return;
	if (c->hs) {
		ev = (unsigned)c->hs_want;
	} else {
		if (conn_may_read(c) || c->ssl_rw == SSL_ERROR_WANT_READ)
			ev |= EPOLLIN;
		if ((c->s.out.len > 0 && !c->paused) || c->ssl_rw == SSL_ERROR_WANT_WRITE)
			ev |= EPOLLOUT;
	}
	if (ev == c->events)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(sv.epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
		msg_fatal("epoll_ctl MOD: %m");
	c->events = ev;
}

/* --- closing ------------------------------------------------------------------ */

static void conn_free(conn *c)
{
	buf counts;

	buf_init(&counts, 0);
	smtpd_proto_counts(&c->s, &counts);
	msg_info("disconnect from %s %s", c->s.client, buf_str(&counts));
	buf_free(&counts);
	if (c->ssl) {
		SSL_shutdown(c->ssl);	/* best effort close_notify; non-blocking */
		SSL_free(c->ssl);
	}
	if (!c->detached)
		epoll_ctl(sv.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	/* Unread input at close() makes the kernel send a reset, which can destroy our
	 * last reply (554, 421) before the client reads it: take what is there first. */
	for (int i = 0; i < 16 && recv(c->fd, sv.rbuf, sizeof(sv.rbuf), MSG_DONTWAIT) > 0; i++)
		;
	close(c->fd);
	ip_put(c->ipc);
	if (c->paused)
		sv.npaused--;
	if (c->prev)
		c->prev->next = c->next;
	else
		sv.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sv.nconns--;
	smtpd_sess_free(&c->s);
	free(c);
}

/* Close now, or as soon as a running commit has been answered. */
static void conn_close(conn *c)
{
	c->closing = 1;
	if (!conn_busy(c)) {
		conn_free(c);
		return;
	}
	/* a hung-up socket would report EPOLLHUP until the thread is done */
	epoll_ctl(sv.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->detached = 1;
}

/* --- I/O ----------------------------------------------------------------------- */

/* > 0 bytes, 0 EOF, -1 would block, -2 error */
static ssize_t io_read(conn *c, char *p, size_t n)
{
	ssize_t r;
	int e;

	if (!c->ssl) {
		r = read(c->fd, p, n);
		if (r >= 0)
			return r;
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
	}
	ERR_clear_error();
	r = SSL_read(c->ssl, p, (int)(n > 65536 ? 65536 : n));
	if (r > 0) {
		if (c->ssl_rw == SSL_ERROR_WANT_WRITE)
			c->ssl_rw = 0;
		return r;
	}
	e = SSL_get_error(c->ssl, (int)r);
	if (e == SSL_ERROR_WANT_READ)
		return -1;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->ssl_rw = SSL_ERROR_WANT_WRITE;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
		return 0;
	return -2;
}

static ssize_t io_write(conn *c, const char *p, size_t n)
{
	ssize_t r;
	int e;

	if (!c->ssl) {
		r = send(c->fd, p, n, MSG_NOSIGNAL);
		if (r >= 0)
			return r;
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
	}
	ERR_clear_error();
	r = SSL_write(c->ssl, p, (int)(n > 65536 ? 65536 : n));
	if (r > 0) {
		if (c->ssl_rw == SSL_ERROR_WANT_READ)
			c->ssl_rw = 0;
		return r;
	}
	e = SSL_get_error(c->ssl, (int)r);
	if (e == SSL_ERROR_WANT_WRITE)
		return -1;
	if (e == SSL_ERROR_WANT_READ) {
		c->ssl_rw = SSL_ERROR_WANT_READ;
		return -1;
	}
	return -2;
}

/* Send what the engine wrote. -1 when the connection broke. */
static int conn_flush(conn *c)
{
	while (c->s.out.len > 0) {
		ssize_t r = io_write(c, c->s.out.data, c->s.out.len);

		if (r == -1)
			return 0;
		if (r < 0) {
			buf_reset(&c->s.out);
			return -1;
		}
		buf_consume(&c->s.out, (size_t)r);
	}
	return 0;
}

/* Read what is there (up to a fair share). Sets c->eof at end of input. */
static int conn_read(conn *c)
{
	size_t total = 0;

	/* Read no more than the engine can hold; level-triggered epoll brings us back. */
	while (conn_may_read(c) && c->s.in.len < READ_CHUNK && total < 4 * READ_CHUNK) {
		size_t room = SMTPD_IN_LIMIT - c->s.in.len;
		ssize_t r = io_read(c, sv.rbuf, room < sizeof(sv.rbuf) ? room : sizeof(sv.rbuf));

		if (r == -1)
			break;
		if (r == 0) {
			c->eof = 1;
			break;
		}
		if (r < 0)
			return -1;
		if (smtpd_proto_feed(&c->s, sv.rbuf, (size_t)r) < 0) {
			/* cannot happen with a bounded engine; die rather than limp */
			msg_warn("%s: input buffer full", c->s.client);
			return -1;
		}
		total += (size_t)r;
	}
	return 0;
}

/* --- TLS ----------------------------------------------------------------------- */

static void conn_drive(conn *c);
static void greet(conn *c);
static void conn_welcome(conn *c);

static void tls_done(conn *c)
{
	char info[128];
	int implicit = c->hs == 2;

	snprintf(info, sizeof(info), "%s with cipher %s", SSL_get_version(c->ssl),
		 SSL_get_cipher_name(c->ssl));
	msg_info("Anonymous TLS connection established from %s: %s", c->s.client, info);
	c->hs = 0;
	c->deadline = now_ms() + smtpd_g.timeout_ms;
	if (implicit) {
		c->s.tls = 1;
		str_copy(c->s.tls_info, sizeof(c->s.tls_info), info);
		smtpd_proto_greet(&c->s);
	} else {
		smtpd_proto_tls_started(&c->s, info);
	}
}

static void tls_step(conn *c)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		tls_done(c);
		conn_drive(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->hs_want = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		conn_interest(c);
		return;
	}
	{
		char why[256];
		unsigned long code = ERR_get_error();

		if (code)
			ERR_error_string_n(code, why, sizeof(why));
		else
			str_copy(why, sizeof(why), e == SSL_ERROR_SYSCALL ? "connection closed" : "error");
		msg_info("SSL_accept error from %s: %s", c->s.client, why);
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->hs = 0;
	conn_close(c);
}

static void tls_start(conn *c, int implicit)
{
	c->ssl = SSL_new((SSL_CTX *)smtpd_g.tls_ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		msg_fatal("SSL_new: out of memory");
	SSL_set_accept_state(c->ssl);
	c->hs = implicit ? 2 : 1;
	c->want_tls = 0;
	c->deadline = now_ms() + smtpd_g.tls_timeout_ms;
	tls_step(c);
}

/* --- the session driver -------------------------------------------------------- */

static void conn_act(conn *c, int act)
{
	switch (act) {
	case SMTPD_ACT_COMMIT:
		c->commit_wait = 1;
		c->job.w = c->s.msg;
		c->job.owner = c;
		smtpd_proto_take_content(&c->s, &c->job.tail);
		commit_submit(&c->job);
		break;
	case SMTPD_ACT_STARTTLS:
		c->want_tls = 1;
		break;
	case SMTPD_ACT_PAUSE:
		c->paused = 1;
		sv.npaused++;
		c->pause_until = now_ms() + c->s.pause_ms;
		break;
	case SMTPD_ACT_CLOSE:
		c->closing = 1;
		break;
	case SMTPD_ACT_AUTH:	/* the hook has submitted c->ajob */
		c->auth_wait = 1;
		break;
	}
}

/* Run the engine as far as it goes, send its replies, and set the epoll interest.
 * May free c. */
static void conn_drive(conn *c)
{
	if (c->hs)
		return;
	/* Stopping: a message being received may finish (and be committed); every
	 * other session gets 421 at its next step. */
	if (daemon_stopping && !conn_busy(c) && !c->closing && !smtpd_proto_in_data(&c->s)) {
		smtpd_proto_shutdown(&c->s);
		c->closing = 1;
	}
	if (!conn_busy(c) && !c->paused && !c->closing && !c->want_tls) {
		conn_act(c, smtpd_proto_run(&c->s));
		if (c->s.progress != c->progress) {
			c->progress = c->s.progress;
			c->deadline = now_ms() + smtpd_g.timeout_ms;
		}
	}
	if (!c->paused && conn_flush(c) < 0) {
		conn_close(c);
		return;
	}
	if (c->closing && c->s.out.len == 0 && !conn_busy(c)) {
		conn_free(c);
		return;
	}
	if (c->want_tls && c->s.out.len == 0) {
		tls_start(c, 0);
		return;
	}
	if (c->eof && !conn_busy(c) && !c->closing) {
		if (c->s.in.len == 0 || !conn_may_read(c)) {
			msg_info("lost connection after %s from %s", smtpd_proto_stage(&c->s),
				 c->s.client);
			conn_free(c);
			return;
		}
	}
	conn_interest(c);
}

static void conn_event(conn *c, unsigned ev)
{
	if (c->hs) {
		tls_step(c);
		return;
	}
	if ((ev & (EPOLLERR | EPOLLHUP)) && !(ev & EPOLLIN)) {
		if (!conn_busy(c)) {
			msg_info("lost connection after %s from %s", smtpd_proto_stage(&c->s),
				 c->s.client);
		}
		conn_close(c);
		return;
	}
	/* SSL_read that wanted to write: retry it now that the socket takes data */
	if (c->ssl_rw == SSL_ERROR_WANT_WRITE && (ev & EPOLLOUT)) {
		c->ssl_rw = 0;
		ev |= EPOLLIN;
	}
	if (((ev & EPOLLOUT) || c->ssl_rw) && !c->paused) {
		if (c->ssl_rw == SSL_ERROR_WANT_READ)
			c->ssl_rw = 0;
		if (conn_flush(c) < 0) {
			conn_close(c);
			return;
		}
	}
	if ((ev & EPOLLIN) && conn_read(c) < 0) {
		msg_info("lost connection after %s from %s", smtpd_proto_stage(&c->s), c->s.client);
		conn_close(c);
		return;
	}
	conn_drive(c);
}

/* --- accepting ------------------------------------------------------------------ */

static void refuse(int fd, const char *text)
{
	ssize_t r = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)r;
	close(fd);
}

static void accept_one(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[64], line[512];
	const char *a = addr;
	int fd, trusted;
	ipcount *ipc;
	conn *c;
	struct epoll_event e;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			msg_warn("accept: %m");
		return;
	}
	if (getnameinfo((struct sockaddr *)&ss, sl, addr, sizeof(addr), NULL, 0,
			NI_NUMERICHOST) != 0)
		str_copy(addr, sizeof(addr), "unknown");
	if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr, '.'))
		a = addr + 7;
	if (sv.nconns >= smtpd_g.conn_limit) {
		msg_warn("too many connections (%d): refusing %s", sv.nconns, a);
		snprintf(line, sizeof(line), "421 4.3.2 %s Error: too many connections\r\n",
			 smtpd_g.conf.myhostname);
		refuse(fd, line);
		return;
	}
	trusted = smtpd_nets_match(&smtpd_g.mynetworks, a);
	ipc = ip_get(a, 1);
	if (!trusted && smtpd_g.client_limit > 0 && ipc->n >= smtpd_g.client_limit) {
		msg_warn("too many connections from unknown[%s]", a);
		snprintf(line, sizeof(line), "421 4.7.0 %s Error: too many connections from %s\r\n",
			 smtpd_g.conf.myhostname, a);
		ipc->n++;
		ip_put(ipc);
		refuse(fd, line);
		return;
	}
	ipc->n++;
	c = xcalloc(1, sizeof(*c));
	smtpd_sess_init(&c->s, &smtpd_g.conf, &smtpd_g.hooks, "unknown", a, trusted);
	c->s.app = c;
	c->fd = fd;
	c->ipc = ipc;
	c->deadline = now_ms() + smtpd_g.timeout_ms;
	c->next = sv.conns;
	if (sv.conns)
		sv.conns->prev = c;
	sv.conns = c;
	sv.nconns++;
	memset(&e, 0, sizeof(e));
	e.data.ptr = c;
	if (epoll_ctl(sv.epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		msg_fatal("epoll_ctl ADD: %m");
	if (smtpd_g.peername_lookup) {	/* welcomed when the name is known */
		c->peer_wait = 1;
		c->pjob.owner = c;
		c->pjob.server = smtpd_g.dns_server;
		str_copy(c->pjob.addr, sizeof(c->pjob.addr), a);
		peer_submit(&c->pjob);
		return;
	}
	conn_welcome(c);
}

/* The session starts: logged, then TLS (implicit), a delayed or an immediate 220. */
static void conn_welcome(conn *c)
{
	msg_info("connect from %s", c->s.client);
	if (smtpd_g.wrappermode) {
		tls_start(c, 1);
		return;
	}
	if (smtpd_g.greet_wait_ms > 0) {	/* greet later (timers) */
		c->greeting = 1;
		c->paused = 1;
		sv.npaused++;
		c->pause_until = now_ms() + smtpd_g.greet_wait_ms;
		conn_interest(c);
		return;
	}
	greet(c);
	conn_drive(c);
}

/* Client names found by the lookup threads. */
static void peers_done(void)
{
	peer_job *j = peer_collect(), *next;

	for (; j; j = next) {
		conn *c = j->owner;

		next = peer_next(j);
		c->peer_wait = 0;
		if (j->why[0])
			msg_warn("%s", j->why);
		smtpd_sess_set_name(&c->s, j->name);
		if (c->closing) {	/* the client hung up while we looked */
			msg_info("connect from %s", c->s.client);
			msg_info("lost connection after CONNECT from %s", c->s.client);
			conn_free(c);
			continue;
		}
		c->deadline = now_ms() + smtpd_g.timeout_ms;
		conn_welcome(c);
	}
}

static void accept_all(int lfd)
{
	int i;

	for (i = 0; i < 64 && !daemon_stopping; i++) {
		int before = sv.nconns;

		accept_one(lfd);
		if (sv.nconns == before && errno == EAGAIN)
			break;
		errno = 0;
	}
}

/* --- commits, timers -------------------------------------------------------------- */

static void commits_done(void)
{
	commit_job *j = commit_collect(), *next;
	int any = 0;

	for (; j; j = next) {
		conn *c = j->owner;

		next = j->next;
		if (!j->ok)
			msg_warn("%s: queue file commit failed: %m", c->s.queue_id);
		if (!j->published)
			qw_abort(j->w);
		qw_free(j->w);
		c->s.msg = NULL;
		any |= j->ok;
		c->commit_wait = 0;
		if (j->ok)	/* durability tests: a kill -9 between the commit and the 250 */
			queue_crashpoint("smtpd_before_250");
		smtpd_proto_commit_done(&c->s, j->ok);
		if (c->closing || c->eof)
			c->closing = 1;
		conn_drive(c);
	}
	if (any)
		queue_trigger(smtpd_g.queue_dir, TRIGGER_NEW);
}

/* Password checks done by the auth threads. */
static void auths_done(void)
{
	auth_job *j = auth_collect(), *next;

	for (; j; j = next) {
		conn *c = j->owner;

		next = auth_next(j);
		c->auth_wait = 0;
		if (c->closing) {	/* the client left meanwhile */
			conn_free(c);
			continue;
		}
		conn_act(c, smtpd_proto_auth_done(&c->s, j->result));
		conn_drive(c);
	}
}

/* The auth_check hook's asynchronous half (smtpd.c looks the hash up). */
void smtpd_server_auth_submit(smtpd_sess *s, const char *pass, const char *hash)
{
	conn *c = s->app;

	c->ajob.owner = c;
	c->ajob.pass = xstrdup(pass);
	c->ajob.hash = hash ? xstrdup(hash) : NULL;
	auth_submit(&c->ajob);
}

/* The banner, unless the client spoke first (pregreet: a spam bot or a broken
 * pipelining client); then 554 and close, as Postfix's postscreen does. */
static void greet(conn *c)
{
	char b;

	c->greeting = 0;
	if (smtpd_g.conf.forbid_unauth_pipelining &&
	    recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
		smtpd_proto_pregreet(&c->s);
		c->closing = 1;
		return;
	}
	smtpd_proto_greet(&c->s);
}

static void timers(long long now)
{
	conn *c, *next;

	for (c = sv.conns; c; c = next) {
		next = c->next;
		if (c->paused && now >= c->pause_until) {
			c->paused = 0;
			sv.npaused--;
			if (c->greeting && c->closing)
				c->greeting = 0;	/* stopping: the 421 is all it gets */
			else if (c->greeting)
				greet(c);
			conn_drive(c);
			continue;
		}
		if (conn_busy(c) || now < c->deadline)
			continue;
		if (c->closing) {	/* the client does not take its last reply */
			conn_free(c);
			continue;
		}
		if (c->hs) {
			msg_info("timeout during TLS handshake from %s", c->s.client);
			conn_close(c);
			continue;
		}
		smtpd_proto_timeout(&c->s);
		c->closing = 1;
		c->deadline = now + 5000;	/* the 421 gets a few seconds to go out */
		conn_drive(c);
	}
}

/* --- the loop ----------------------------------------------------------------- */

static void loop_add(int fd, void *tag, unsigned ev)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = tag;
	if (epoll_ctl(sv.epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		msg_fatal("epoll_ctl ADD %d: %m", fd);
}

static void loop_setup(daemon_ctx *ctx)
{
	struct stat st;
	int i;

	sv.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sv.epfd < 0)
		msg_fatal("epoll_create1: %m");
	sv.nlisten = ctx->nlisten;
	for (i = 0; i < ctx->nlisten; i++) {
		int fd = ctx->listen_fds[i];

		sv.listen_fds[i] = fd;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);	/* shared with siblings */
		/* EPOLLEXCLUSIVE: a new connection wakes one sibling, not all of them */
		loop_add(fd, &sv.tag_listen[i], EPOLLIN | EPOLLEXCLUSIVE);
	}
	sv.commit_fd = commit_start(smtpd_g.queue_dir, smtpd_g.commit_threads);
	spare_start(smtpd_g.queue_dir, 8);
	loop_add(sv.commit_fd, &sv.tag_commit, EPOLLIN);
	if (smtpd_g.conf.sasl_enable) {
		sv.auth_fd = auth_start(2);
		loop_add(sv.auth_fd, &sv.tag_auth, EPOLLIN);
	}
	if (smtpd_g.peername_lookup) {	/* a slow DNS server holds a thread each */
		sv.peer_fd = peer_start(4);
		loop_add(sv.peer_fd, &sv.tag_peer, EPOLLIN);
	}
	/* Master's status pipe: POLLERR when master closes its end. Stand-alone there is
	 * none (fd 3 is then whatever, e.g. the log file: only a FIFO counts). */
	sv.status_fd = -1;
	if (fstat(DAEMON_STATUS_FD, &st) == 0 && S_ISFIFO(st.st_mode)) {
		sv.status_fd = DAEMON_STATUS_FD;
		loop_add(sv.status_fd, &sv.tag_status, 0);
	}
}

static void loop_stop_accepting(void)
{
	int i;

	for (i = 0; i < sv.nlisten; i++)
		epoll_ctl(sv.epfd, EPOLL_CTL_DEL, sv.listen_fds[i], NULL);
	sv.nlisten = 0;
	if (sv.status_fd >= 0)
		epoll_ctl(sv.epfd, EPOLL_CTL_DEL, sv.status_fd, NULL);
	sv.status_fd = -1;
}

/* Stopping: sessions not waiting for a commit get 421 and go. */
static void loop_shutdown_sessions(void)
{
	conn *c, *next;

	for (c = sv.conns; c; c = next) {
		next = c->next;
		if (conn_busy(c) || c->closing || smtpd_proto_in_data(&c->s))
			continue;
		if (c->hs) {
			conn_close(c);
			continue;
		}
		smtpd_proto_shutdown(&c->s);
		c->closing = 1;
		conn_drive(c);
	}
}

static void loop_dispatch(struct epoll_event *e)
{
	char *tag = e->data.ptr;
	int i;

	if (tag == &sv.tag_commit) {
		commits_done();
		return;
	}
	if (tag == &sv.tag_auth) {
		auths_done();
		return;
	}
	if (tag == &sv.tag_peer) {
		peers_done();
		return;
	}
	if (tag == &sv.tag_status) {
		daemon_stopping = 1;
		return;
	}
	for (i = 0; i < DAEMON_MAX_LISTEN; i++)
		if (tag == &sv.tag_listen[i]) {
			if (!daemon_stopping)
				accept_all(sv.listen_fds[i]);
			return;
		}
	conn_event((conn *)e->data.ptr, e->events);
}

void smtpd_server_loop(daemon_ctx *ctx)
{
	struct epoll_event ev[256];
	long long last_timers = now_ms(), stop_deadline = 0;

	loop_setup(ctx);
	for (;;) {
		long long now;
		int n, i, timeout = sv.npaused ? 50 : 1000;

		if (daemon_stopping && !stop_deadline) {
			loop_stop_accepting();
			loop_shutdown_sessions();
			stop_deadline = now_ms() + 10000;
		}
		if (stop_deadline && (sv.nconns == 0 || now_ms() > stop_deadline))
			break;
		n = epoll_wait(sv.epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), timeout);
		if (n < 0 && errno != EINTR)
			msg_fatal("epoll_wait: %m");
		for (i = 0; i < n; i++)
			loop_dispatch(&ev[i]);
		now = now_ms();
		if (now - last_timers >= 1000 || sv.npaused) {
			timers(now);
			last_timers = now;
		}
	}
	if (commit_pending())
		msg_warn("exiting with %d commits unanswered", commit_pending());
	spare_drain();
}
