/*
 * fuzz_pop3.c - libFuzzer harness for the POP3 client (lib/mail/pop3.h) against a
 * scripted server.
 *
 * FUZZ_LIBS: mail util
 * FUZZ_LDLIBS: -lpthread
 *
 * pop3_open() connects with net_connect() itself, so the harness runs a loopback
 * listener in-process (127.0.0.1, port chosen by the kernel, one server thread; no
 * change to lib/). Input: byte 0 holds options (bit 0: APOP instead of USER/PASS;
 * bits 1-2: the RETR size cap 64 KiB, 1 KiB, 100 bytes or 10 bytes; bit 3: DELE the
 * fetched messages and QUIT; bits 4 and 6 both: STLS asked for (one input in four:
 * each costs a TLS context); bit 5: plaintext login not allowed), the rest is everything the "server" says (greeting, CAPA, USER/PASS or
 * APOP replies, STAT, LIST, UIDL, RETR, DELE, QUIT replies) sent at once, whatever
 * the client asks, then the server half-closes. The client runs pop3_open (tls none
 * and allow_plaintext_auth unless bits 4-5 say otherwise), pop3_list, pop3_retr of the
 * first 8 safe messages, and DELE/QUIT or pop3_close. Oracles besides the
 * sanitizers: listed numbers are 1..count, UIDLs of safe messages pass
 * pop3_uidl_valid, a fetched message never exceeds the cap, its bytes hold no NUL and
 * every CR/LF is part of a CRLF.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_util.h"
#include "mail/pop3.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const uint8_t *data;	/* the script for the next connection */
	size_t size;
	int pending;		/* a script waits for its connection */
	int done;		/* the server finished with it */
	int lfd;
	char port[16];
} srv = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, -1, "" };

static void *fuzz_server(void *arg)
{
	char sink[4096];

	(void)arg;
	for (;;) {
		int fd = accept(srv.lfd, NULL, NULL);
		size_t off = 0;
		ssize_t n;

		if (fd < 0)
			continue;
		pthread_mutex_lock(&srv.lock);
		while (!srv.pending)
			pthread_cond_wait(&srv.cond, &srv.lock);
		pthread_mutex_unlock(&srv.lock);
		while (off < srv.size && (n = send(fd, srv.data + off, srv.size - off,
						   MSG_NOSIGNAL)) > 0)
			off += (size_t)n;
		shutdown(fd, SHUT_WR);
		while (recv(fd, sink, sizeof(sink), 0) > 0)
			;	/* the client's commands, until it closes */
		close(fd);
		pthread_mutex_lock(&srv.lock);
		srv.pending = 0;
		srv.done = 1;
		pthread_cond_signal(&srv.cond);
		pthread_mutex_unlock(&srv.lock);
	}
	return NULL;
}

static void fuzz_server_start(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	pthread_t t;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || bind(srv.lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0
	    || listen(srv.lfd, 16) < 0
	    || getsockname(srv.lfd, (struct sockaddr *)&sin, &sl) < 0)
		abort();
	snprintf(srv.port, sizeof(srv.port), "%u", (unsigned)ntohs(sin.sin_port));
	if (pthread_create(&t, NULL, fuzz_server, NULL) != 0)
		abort();
	pthread_detach(t);
}

typedef struct fuzz_msg {
	long long bytes;
	int last;		/* previous byte, for the CRLF check */
} fuzz_msg;

/* With FUZZ_POP3_TRACE set, fetched bytes go to stderr (for writing seeds). */
static int fuzz_sink(void *ctx, const char *d, size_t len)
{
	static int trace = -1;
	fuzz_msg *m = ctx;

	if (trace < 0)
		trace = getenv("FUZZ_POP3_TRACE") != NULL;
	if (trace)
		fprintf(stderr, "[%.*s]\n", (int)len, d);

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)d[i];
		if (c == 0 || (c == '\n' && m->last != '\r') || (m->last == '\r' && c != '\n'))
			__builtin_trap();
		m->last = c;
	}
	m->bytes += (long long)len;
	return 0;
}

static void fuzz_session(pop3 *p, int opts)
{
	static const long long caps[4] = { 65536, 1024, 100, 10 };
	char err[512];
	pop3_msg *msgs = NULL;
	size_t n = 0;
	int fetched = 0;

	if (pop3_list(p, &msgs, &n, err, sizeof(err)) != 0) {
		if (getenv("FUZZ_POP3_TRACE"))
			fprintf(stderr, "list: %s\n", err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].num < 1 || (size_t)msgs[i].num > n)
			__builtin_trap();
		if (!msgs[i].unsafe && msgs[i].uidl[0]
		    && !pop3_uidl_valid(msgs[i].uidl, strlen(msgs[i].uidl)))
			__builtin_trap();
	}
	for (size_t i = 0; i < n && fetched < 8; i++) {
		fuzz_msg m = { 0, 0 };
		long long cap = caps[(opts >> 1) & 3];

		if (msgs[i].unsafe)
			continue;
		fetched++;
		if (pop3_retr(p, msgs[i].num, cap, fuzz_sink, &m, err, sizeof(err)) != 0) {
			if (getenv("FUZZ_POP3_TRACE"))
				fprintf(stderr, "retr: %s\n", err);
			break;
		}
		if (m.bytes > cap || (m.bytes && m.last != '\n'))
			__builtin_trap();
		if ((opts & 8) && pop3_dele(p, msgs[i].num, err, sizeof(err)) != 0)
			break;
	}
	free(msgs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pop3_opts o = { .host = "127.0.0.1", .tls = POP3_TLS_NONE, .verify = "none",
			.user = "fuzz", .password = "secret", .allow_plaintext_auth = 1,
			.timeout_ms = 5000 };
	char err[512];
	pop3 *p;

	if (size < 1 || size > 65536)
		return 0;
	fuzz_quiet("fuzz_pop3");
	if (srv.lfd < 0)
		fuzz_server_start();
	o.port = srv.port;
	o.apop = data[0] & 1;
	if ((data[0] & 0x50) == 0x50)
		o.tls = POP3_TLS_STLS;	/* the handshake meets the script: it fails, after the
					 * injection check on bytes behind "+OK" */
	o.allow_plaintext_auth = !(data[0] & 32);
	pthread_mutex_lock(&srv.lock);
	srv.data = data + 1;
	srv.size = size - 1;
	srv.pending = 1;
	srv.done = 0;
	pthread_cond_signal(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
	if ((p = pop3_open(&o, err, sizeof(err))) != NULL) {
		fuzz_session(p, data[0]);
		if (data[0] & 8)
			(void)pop3_quit(p, err, sizeof(err));
		pop3_close(p);
	} else if (memchr(err, 0, sizeof(err)) == NULL) {
		__builtin_trap();
	} else if (getenv("FUZZ_POP3_TRACE")) {
		fprintf(stderr, "open: %s\n", err);
	}
	pthread_mutex_lock(&srv.lock);
	while (!srv.done)
		pthread_cond_wait(&srv.cond, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	return 0;
}
