/*
 * test_stream.c - unit tests for lib/util/stream.c, tls.c, net.c.
 *
 * Line reading (CRLF, bare LF, over-long lines and recovery, EOF mid-line), timeouts,
 * pipes, buffered writes; a real TLS round trip between two processes over a
 * socketpair and over loopback TCP with a certificate made here with the OpenSSL
 * library (verify none / may / verify with host name check, a wrong name refused),
 * the STARTTLS injection defence (pipelined plaintext discarded), net_connect /
 * net_listen / net_listen_unix / net_peer_name on 127.0.0.1 and ::1.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "util/buf.h"
#include "util/msg.h"
#include "util/stream.h"
#include "util/stream_tls.h"

static char tmpdir[256], certpath[300], keypath[300];

static void sock_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void put(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* ---- plain streams ------------------------------------------------------------ */

START_TEST(test_getline)
{
	int sv[2], bare;
	stream *s;
	buf line;

	sock_pair(sv);
	s = stream_open(sv[0], 2000);
	buf_init(&line, 0);
	put(sv[1], "HELO a\r\nbare lf\n\r\nmid\rcr\r\r\n");
	ck_assert_int_eq(stream_getline(s, &line, 100, &bare), 6);
	ck_assert_str_eq(buf_str(&line), "HELO a");
	ck_assert_int_eq(bare, 0);
	ck_assert_int_eq(stream_getline(s, &line, 100, &bare), 7);
	ck_assert_str_eq(buf_str(&line), "bare lf");
	ck_assert_int_eq(bare, 1);
	ck_assert_int_eq(stream_getline(s, &line, 100, &bare), 0);
	ck_assert_int_eq(bare, 0);
	ck_assert_int_eq(stream_getline(s, &line, 100, NULL), 7);	/* one CR stripped */
	ck_assert_str_eq(buf_str(&line), "mid\rcr\r");
	put(sv[1], "partial");
	close(sv[1]);
	ck_assert_int_eq(stream_getline(s, &line, 100, &bare), STREAM_EOF);
	ck_assert_str_eq(buf_str(&line), "partial");
	ck_assert_int_eq(stream_getline(s, &line, 100, &bare), STREAM_EOF);
	buf_free(&line);
	stream_close(s);
}
END_TEST

/* An over-long line is cut at max, the rest dropped up to LF, and reading goes on. */
START_TEST(test_getline_toolong)
{
	int sv[2], bare, i;
	stream *s;
	buf line;
	char big[100001];

	sock_pair(sv);
	s = stream_open(sv[0], 5000);
	buf_init(&line, 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	if (fork() == 0) {
		/* writer: more than the socket buffer, so the reader must drain as it goes */
		close(sv[0]);
		put(sv[1], "12345\r\n");	/* exactly max */
		put(sv[1], "123456\r\n");	/* max + 1 */
		put(sv[1], big);
		put(sv[1], "\r\nnext\r\n");
		put(sv[1], "1234\r\r\n");	/* max + CR, then CRLF */
		_exit(0);
	}
	close(sv[1]);
	ck_assert_int_eq(stream_getline(s, &line, 5, &bare), 5);
	ck_assert_str_eq(buf_str(&line), "12345");
	ck_assert_int_eq(stream_getline(s, &line, 5, &bare), STREAM_TOOLONG);
	ck_assert_str_eq(buf_str(&line), "12345");
	ck_assert_int_eq(stream_getline(s, &line, 5, &bare), STREAM_TOOLONG);
	ck_assert_uint_eq(line.len, 5);
	ck_assert_int_eq(stream_getline(s, &line, 5, &bare), 4);
	ck_assert_str_eq(buf_str(&line), "next");
	ck_assert_int_eq(stream_getline(s, &line, 5, &bare), 5);
	ck_assert_str_eq(buf_str(&line), "1234\r");
	ck_assert_int_eq(stream_getline(s, &line, 5, &bare), STREAM_EOF);
	for (i = 0; i < 1; i++)
		wait(NULL);
	buf_free(&line);
	stream_close(s);
}
END_TEST

START_TEST(test_timeout)
{
	int sv[2];
	stream *s;
	buf line;
	struct timespec a, b;
	long ms;
	char c;

	sock_pair(sv);
	s = stream_open(sv[0], 300);
	buf_init(&line, 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(stream_getline(s, &line, 100, NULL), STREAM_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 250);
	ck_assert_int_lt(ms, 3000);
	/* a drip-fed line cannot outlive the deadline for the whole call */
	if (fork() == 0) {
		int k;

		for (k = 0; k < 20; k++) {
			put(sv[1], "x");
			usleep(50000);
		}
		_exit(0);
	}
	ck_assert_int_eq(stream_getline(s, &line, 100, NULL), STREAM_TIMEOUT);
	wait(NULL);
	stream_set_timeout(s, 100);
	ck_assert_int_eq(stream_read(s, &c, 1), 1);	/* data left over from the drip */
	buf_free(&line);
	stream_close(s);
	close(sv[1]);
}
END_TEST

START_TEST(test_write_read)
{
	int sv[2], i;
	stream *a, *b;
	buf line;
	char blk[50000], got[50000];
	ssize_t n;
	size_t have = 0;

	sock_pair(sv);
	a = stream_open(sv[0], 5000);
	b = stream_open(sv[1], 5000);
	buf_init(&line, 0);
	ck_assert_int_eq(stream_printf(a, "250-%s\r\n250 %d\r\n", "fax.example", 8), 0);
	ck_assert_int_eq(stream_pending(b), 0);
	ck_assert_int_eq(stream_flush(a), 0);
	ck_assert_int_eq(stream_getline(b, &line, 512, NULL), 15);
	ck_assert_int_gt(stream_pending(b), 0);
	ck_assert_int_eq(stream_getline(b, &line, 512, NULL), 5);
	ck_assert_str_eq(buf_str(&line), "250 8");
	for (i = 0; i < (int)sizeof(blk); i++)
		blk[i] = (char)(i * 7);
	if (fork() == 0) {
		stream_write(a, blk, 10);
		stream_write(a, blk + 10, sizeof(blk) - 10);	/* larger than the buffer */
		_exit(stream_flush(a) == 0 ? 0 : 1);
	}
	while (have < sizeof(got)) {
		n = stream_read(b, got + have, sizeof(got) - have);
		ck_assert_int_gt(n, 0);
		have += (size_t)n;
	}
	ck_assert_int_eq(memcmp(blk, got, sizeof(got)), 0);
	wait(&i);
	ck_assert(WIFEXITED(i) && WEXITSTATUS(i) == 0);
	buf_free(&line);
	stream_close(a);
	ck_assert_int_eq(stream_read(b, got, 1), STREAM_EOF);
	stream_close(b);
}
END_TEST

START_TEST(test_pipe)
{
	int p[2];
	stream *s;
	buf line;

	ck_assert_int_eq(pipe(p), 0);
	s = stream_open(p[0], 200);
	buf_init(&line, 0);
	put(p[1], "line one\n");
	ck_assert_int_eq(stream_getline(s, &line, 100, NULL), 8);
	ck_assert_int_eq(stream_getline(s, &line, 100, NULL), STREAM_TIMEOUT);
	close(p[1]);
	ck_assert_int_eq(stream_getline(s, &line, 100, NULL), STREAM_EOF);
	buf_free(&line);
	stream_close(s);
}
END_TEST

START_TEST(test_write_to_closed_peer)
{
	int sv[2];
	stream *s;
	char big[100000];

	memset(big, 'a', sizeof(big));
	sock_pair(sv);
	close(sv[1]);
	s = stream_open(sv[0], 1000);
	/* no SIGPIPE: an error code instead */
	ck_assert_int_eq(stream_write(s, big, sizeof(big)), STREAM_ERROR);
	stream_close(s);
}
END_TEST

/* ---- TLS ---------------------------------------------------------------------- */

/* A self-signed CA:TRUE certificate for CN=localhost, SAN localhost and 127.0.0.1. */
static void make_cert(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	FILE *fp;

	ck_assert_ptr_nonnull(key);
	str_copy(tmpdir, sizeof(tmpdir), "/tmp/test_stream.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(certpath, sizeof(certpath), "%s/cert.pem", tmpdir);
	snprintf(keypath, sizeof(keypath), "%s/key.pem", tmpdir);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
	fp = fopen(certpath, "w");
	PEM_write_X509(fp, x);
	fclose(fp);
	fp = fopen(keypath, "w");
	PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void tls_setup(void)
{
	make_cert();
}

static void tls_teardown(void)
{
	unlink(certpath);
	unlink(keypath);
	rmdir(tmpdir);
}

/* Server child: SMTP-like greeting, STARTTLS, then echo lines until QUIT. Exit code
 * 0 = ok, 2 = handshake failed, 3 = injection not discarded. */
static void tls_server(int fd, int expect_injection)
{
	char err[256];
	tls_ctx *ctx = tls_ctx_server(certpath, keypath, err, sizeof(err));
	stream *s = stream_open(fd, 5000);
	buf line;
	ssize_t n;

	if (!ctx)
		_exit(4);
	buf_init(&line, 0);
	stream_printf(s, "220 ready\r\n");
	stream_flush(s);
	if (stream_getline(s, &line, 512, NULL) < 0 || strcmp(buf_str(&line), "STARTTLS"))
		_exit(5);
	stream_printf(s, "220 go ahead\r\n");
	if (stream_starttls_server(s, ctx, err, sizeof(err)) < 0)
		_exit(2);
	if (expect_injection && stream_tls_discarded(s) != strlen("RSET\r\n"))
		_exit(3);
	if (!expect_injection && stream_tls_discarded(s) != 0)
		_exit(3);
	while ((n = stream_getline(s, &line, 512, NULL)) >= 0) {
		if (strcmp(buf_str(&line), "QUIT") == 0)
			break;
		stream_printf(s, "250 %s\r\n", buf_str(&line));
		stream_flush(s);
	}
	stream_printf(s, "221 bye\r\n");
	stream_flush(s);
	stream_close(s);
	tls_ctx_free(ctx);
	buf_free(&line);
	_exit(0);
}

/* Client: returns 0 on a full exchange, -1 (err set) when TLS failed. */
static int tls_client(int fd, const char *host, const char *verify, const char *ca,
		      int inject, char *err, size_t errlen, int *verified)
{
	tls_ctx *ctx = tls_ctx_client(ca, NULL, err, errlen);
	stream *s = stream_open(fd, 5000);
	buf line;
	int rc = -1;

	ck_assert_ptr_nonnull(ctx);
	buf_init(&line, 0);
	ck_assert_int_ge(stream_getline(s, &line, 512, NULL), 0);
	ck_assert_str_eq(buf_str(&line), "220 ready");
	stream_printf(s, inject ? "STARTTLS\r\nRSET\r\n" : "STARTTLS\r\n");
	stream_flush(s);
	ck_assert_int_ge(stream_getline(s, &line, 512, NULL), 0);
	ck_assert_str_eq(buf_str(&line), "220 go ahead");
	if (stream_starttls_client(s, ctx, host, verify, err, errlen) == 0) {
		ck_assert(stream_is_tls(s));
		ck_assert_msg(strncmp(stream_tls_info(s), "TLSv1.", 6) == 0, "%s", stream_tls_info(s));
		*verified = stream_tls_verified(s);
		stream_printf(s, "NOOP\r\n");
		stream_flush(s);
		/* the first reply inside TLS must answer NOOP, not the injected RSET */
		ck_assert_int_ge(stream_getline(s, &line, 512, NULL), 0);
		ck_assert_str_eq(buf_str(&line), "250 NOOP");
		stream_printf(s, "QUIT\r\n");
		stream_flush(s);
		ck_assert_int_ge(stream_getline(s, &line, 512, NULL), 0);
		ck_assert_str_eq(buf_str(&line), "221 bye");
		rc = 0;
	}
	stream_close(s);
	tls_ctx_free(ctx);
	buf_free(&line);
	return rc;
}

static int run_pair(const char *host, const char *verify, const char *ca, int inject,
		    char *err, size_t errlen, int *verified, int *server_status)
{
	int sv[2], rc;
	pid_t pid;

	sock_pair(sv);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		tls_server(sv[1], inject);
	}
	close(sv[1]);
	rc = tls_client(sv[0], host, verify, ca, inject, err, errlen, verified);
	ck_assert_int_eq(waitpid(pid, server_status, 0), pid);
	return rc;
}

START_TEST(test_tls_verify)
{
	char err[512] = "";
	int verified = -1, st;

	ck_assert_msg(run_pair("localhost", "verify", certpath, 0, err, sizeof(err), &verified, &st) == 0,
		      "%s", err);
	ck_assert_int_eq(verified, 1);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(run_pair("127.0.0.1", "verify", certpath, 0, err, sizeof(err), &verified, &st) == 0,
		      "%s", err);
}
END_TEST

START_TEST(test_tls_wrong_name)
{
	char err[512] = "";
	int verified = -1, st;

	ck_assert_int_eq(run_pair("mx.wrong.example", "verify", certpath, 0, err, sizeof(err), &verified, &st), -1);
	ck_assert_msg(strstr(err, "certificate verification failed: hostname mismatch"), "%s", err);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}
END_TEST

START_TEST(test_tls_untrusted)
{
	char err[512] = "";
	int verified = -1, st;
	char other[300];
	FILE *fp;

	/* a CA file that does not hold our certificate */
	snprintf(other, sizeof(other), "%s/other.pem", tmpdir);
	fp = fopen(other, "w");
	fclose(fp);
	/* "may": encrypt anyway, but not verified */
	ck_assert_msg(run_pair("localhost", "may", NULL, 0, err, sizeof(err), &verified, &st) == 0, "%s", err);
	ck_assert_int_eq(verified, 0);
	ck_assert_msg(run_pair("localhost", "none", NULL, 0, err, sizeof(err), &verified, &st) == 0, "%s", err);
	ck_assert_int_eq(verified, 0);
	/* "verify" without trust in the peer fails */
	ck_assert_int_eq(run_pair("localhost", "verify", NULL, 0, err, sizeof(err), &verified, &st), -1);
	ck_assert_msg(strstr(err, "certificate"), "%s", err);
	unlink(other);
	/* a bad verify word */
	ck_assert_int_eq(run_pair("localhost", "maybe", certpath, 0, err, sizeof(err), &verified, &st), -1);
	ck_assert(strstr(err, "bad TLS verify mode"));
}
END_TEST

START_TEST(test_tls_injection)
{
	char err[512] = "";
	int verified = -1, st;

	ck_assert_msg(run_pair("localhost", "verify", certpath, 1, err, sizeof(err), &verified, &st) == 0,
		      "%s", err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server exit %d", WEXITSTATUS(st));
}
END_TEST

START_TEST(test_tls_bad_files)
{
	char err[512];

	ck_assert_ptr_null(tls_ctx_server("/nonexistent/cert.pem", NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "TLS certificate /nonexistent/cert.pem"), "%s", err);
	ck_assert_ptr_null(tls_ctx_server(certpath, "/nonexistent/key.pem", err, sizeof(err)));
	ck_assert_msg(strstr(err, "TLS key"), "%s", err);
	ck_assert_ptr_null(tls_ctx_client("/nonexistent/ca.pem", NULL, err, sizeof(err)));
}
END_TEST

/* ---- net ---------------------------------------------------------------------- */

static int bound_port(int fd, char *port, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	snprintf(port, len, "%d", ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port));
	return 0;
}

static void net_roundtrip(const char *listen_addr, const char *connect_host, const char *want_ip)
{
	char err[256], port[16], name[300], ip[64];
	int l, c, a;

	l = net_listen(listen_addr, "0", 8, err, sizeof(err));
	ck_assert_msg(l >= 0, "%s", err);
	ck_assert_int_eq(bound_port(l, port, sizeof(port)), 0);
	c = net_connect(connect_host, port, 2000, err, sizeof(err));
	ck_assert_msg(c >= 0, "%s", err);
	a = accept(l, NULL, NULL);
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(net_peer_name(a, name, sizeof(name), ip, sizeof(ip)), 0);
	ck_assert_str_eq(ip, want_ip);
	ck_assert_msg(strstr(name, want_ip) && name[strlen(name) - 1] == ']', "%s", name);
	close(a);
	close(c);
	close(l);
}

START_TEST(test_net_tcp)
{
	char err[256], port[16];
	int l;

	net_roundtrip("127.0.0.1", "127.0.0.1", "127.0.0.1");
	net_roundtrip(NULL, "127.0.0.1", "127.0.0.1");	/* wildcard: mapped address shown as v4 */
	if (socket(AF_INET6, SOCK_STREAM, 0) >= 0 && (l = net_listen("[::1]", "0", 1, err, sizeof(err))) >= 0) {
		close(l);
		net_roundtrip("[::1]", "::1", "::1");
		net_roundtrip("::1", "[::1]", "::1");
	}
	/* refused: a port that was just free */
	l = net_listen("127.0.0.1", "0", 1, err, sizeof(err));
	ck_assert_int_ge(l, 0);
	bound_port(l, port, sizeof(port));
	close(l);
	ck_assert_int_eq(net_connect("127.0.0.1", port, 1000, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "refused"), "%s", err);
	ck_assert_int_eq(net_connect("no-such-host.invalid", "25", 1000, err, sizeof(err)), -1);
	ck_assert_int_eq(net_listen("300.1.1.1", "0", 1, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_net_in_use)
{
	char err[256], port[16];
	int l, l2;

	l = net_listen("127.0.0.1", "0", 1, err, sizeof(err));
	ck_assert_int_ge(l, 0);
	bound_port(l, port, sizeof(port));
	l2 = net_listen("127.0.0.1", port, 1, err, sizeof(err));
	ck_assert_int_eq(l2, -1);
	ck_assert_msg(strstr(err, "in use"), "%s", err);
	close(l);
}
END_TEST

START_TEST(test_net_unix)
{
	char dir[] = "/tmp/test_stream_unix.XXXXXX", path[128], err[256], name[64], ip[16];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int l, c, a;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	l = net_listen_unix(path, 0660, 4, err, sizeof(err));
	ck_assert_msg(l >= 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	close(l);
	l = net_listen_unix(path, 0600, 4, err, sizeof(err));	/* stale socket replaced */
	ck_assert_msg(l >= 0, "%s", err);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	str_copy(sun.sun_path, sizeof(sun.sun_path), path);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0);
	a = accept(l, NULL, NULL);
	ck_assert_int_eq(net_peer_name(a, name, sizeof(name), ip, sizeof(ip)), 0);
	ck_assert_str_eq(name, "localhost[local]");
	close(a);
	close(c);
	close(l);
	unlink(path);
	/* never unlink something that is not a socket */
	close(creat(path, 0600));
	ck_assert_int_eq(net_listen_unix(path, 0600, 4, err, sizeof(err)), -1);
	ck_assert(strstr(err, "not a socket"));
	unlink(path);
	rmdir(dir);
}
END_TEST

/* TLS across real loopback TCP, using net_listen/net_connect. */
START_TEST(test_tls_tcp)
{
	char err[256], port[16];
	int l, c, a, verified = 0, st;
	pid_t pid;

	l = net_listen("127.0.0.1", "0", 4, err, sizeof(err));
	ck_assert_int_ge(l, 0);
	bound_port(l, port, sizeof(port));
	pid = fork();
	if (pid == 0) {
		a = accept(l, NULL, NULL);
		close(l);
		tls_server(a, 0);
	}
	close(l);
	c = net_connect("localhost", port, 2000, err, sizeof(err));
	if (c < 0)	/* localhost may resolve to ::1 first: fall back to the v4 literal */
		c = net_connect("127.0.0.1", port, 2000, err, sizeof(err));
	ck_assert_msg(c >= 0, "%s", err);
	ck_assert_msg(tls_client(c, "localhost", "verify", certpath, 0, err, sizeof(err), &verified) == 0,
		      "%s", err);
	ck_assert_int_eq(verified, 1);
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("plain"), *tt = tcase_create("tls"), *tn = tcase_create("net");
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	tcase_add_test(tc, test_getline);
	tcase_add_test(tc, test_getline_toolong);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_pipe);
	tcase_add_test(tc, test_write_to_closed_peer);
	tcase_add_checked_fixture(tt, tls_setup, tls_teardown);
	tcase_add_test(tt, test_tls_verify);
	tcase_add_test(tt, test_tls_wrong_name);
	tcase_add_test(tt, test_tls_untrusted);
	tcase_add_test(tt, test_tls_injection);
	tcase_add_test(tt, test_tls_bad_files);
	tcase_add_test(tt, test_tls_tcp);
	tcase_add_test(tn, test_net_tcp);
	tcase_add_test(tn, test_net_in_use);
	tcase_add_test(tn, test_net_unix);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tt);
	suite_add_tcase(s, tn);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
