/*
 * test_ipc.c - unit tests for lib/mail/ipc.c: round trip with descriptors over a
 * socketpair, every class of malformed frame refused (and received fds closed),
 * timeouts on receive and send, ipc_connect to a UNIX socket path.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mail/ipc.h"

static int sv[2];
static char err[256];

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	err[0] = 0;
}

static void teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(roundtrip)
{
	static const unsigned char bin[] = { 0, 1, 2, 0, 255 };
	ipc_msg *m = ipc_new(0x44454c56u), *r;
	int p1[2], p2[2], fd;
	int64_t v;
	size_t n;
	const unsigned char *b;
	char c;

	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	ck_assert_int_eq(ipc_put_int(m, "rcpt_count", 3), 0);
	ck_assert_int_eq(ipc_put_int(m, "neg", INT64_MIN), 0);
	ck_assert_int_eq(ipc_put_str(m, "queue_id", "0ABCDEFGHIJK"), 0);
	ck_assert_int_eq(ipc_put_str(m, "empty", ""), 0);
	ck_assert_int_eq(ipc_put_str(m, "utf8", "Gr\xc3\xbc\xc3\x9f"), 0);
	ck_assert_int_eq(ipc_put_bytes(m, "bin", bin, sizeof(bin)), 0);
	ck_assert_int_eq(ipc_put_bytes(m, "nothing", NULL, 0), 0);
	ck_assert_int_eq(ipc_put_fd(m, p1[1]), 0);
	ck_assert_int_eq(ipc_put_fd(m, p2[0]), 0);
	ck_assert_int_eq(ipc_send(sv[0], m, 1000), 0);
	ipc_free(m);

	r = ipc_recv(sv[1], 0, 1000, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_uint_eq(ipc_type(r), 0x44454c56u);
	ck_assert_int_eq(ipc_get_int(r, "rcpt_count", &v), 0);
	ck_assert(v == 3);
	ck_assert_int_eq(ipc_get_int(r, "neg", &v), 0);
	ck_assert(v == INT64_MIN);
	ck_assert_str_eq(ipc_get_str(r, "queue_id"), "0ABCDEFGHIJK");
	ck_assert_str_eq(ipc_get_str(r, "empty"), "");
	ck_assert_str_eq(ipc_get_str(r, "utf8"), "Gr\xc3\xbc\xc3\x9f");
	b = ipc_get_bytes(r, "bin", &n);
	ck_assert_uint_eq(n, sizeof(bin));
	ck_assert(memcmp(b, bin, n) == 0);
	ck_assert_ptr_nonnull(ipc_get_bytes(r, "nothing", &n));
	ck_assert_uint_eq(n, 0);
	/* wrong kind or missing: -1 / NULL, never garbage */
	ck_assert_int_eq(ipc_get_int(r, "queue_id", &v), -1);
	ck_assert_ptr_null(ipc_get_str(r, "rcpt_count"));
	ck_assert_ptr_null(ipc_get_str(r, "bin"));
	ck_assert_ptr_null(ipc_get_bytes(r, "queue_id", &n));
	ck_assert_ptr_null(ipc_get_str(r, "missing"));
	ck_assert_int_eq(ipc_get_int(r, "_nfds", &v), -1);	/* framing is hidden */
	/* the descriptors work */
	ck_assert_uint_eq(ipc_nfds(r), 2);
	fd = ipc_take_fd(r, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert(write(fd, "x", 1) == 1);
	ck_assert(read(p1[0], &c, 1) == 1 && c == 'x');
	close(fd);
	ck_assert_int_eq(fcntl(ipc_take_fd(r, 1), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(ipc_take_fd(r, 2), -1);
	ipc_free(r);	/* closes fd 1 (not taken... taken above, so nothing) */
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}
END_TEST

START_TEST(untaken_fds_closed)
{
	int p[2], before;
	ipc_msg *m = ipc_new(1), *r;

	ck_assert_int_eq(pipe(p), 0);
	before = count_fds();
	ipc_put_fd(m, p[0]);
	ipc_put_fd(m, p[1]);
	ck_assert_int_eq(ipc_send(sv[0], m, 1000), 0);
	ipc_free(m);
	r = ipc_recv(sv[1], 0, 1000, err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(count_fds(), before + 2);
	ipc_free(r);
	ck_assert_int_eq(count_fds(), before);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(put_checks)
{
	ipc_msg *m = ipc_new(1);
	int p[2];

	ck_assert_int_eq(ipc_put_int(m, "a", 1), 0);
	ck_assert_int_eq(ipc_put_int(m, "a", 2), -1);		/* duplicate */
	ck_assert_int_eq(ipc_put_str(m, "a", "x"), -1);
	ck_assert_int_eq(ipc_put_str(m, "", "x"), -1);		/* empty name */
	ck_assert_int_eq(ipc_put_str(m, "sp ace", "x"), -1);
	ck_assert_int_eq(ipc_put_str(m, "_nfds", "x"), -1);	/* reserved */
	ck_assert_int_eq(ipc_put_str(m, "s", NULL), -1);
	ck_assert_int_eq(ipc_put_fd(m, -1), -1);
	ck_assert_int_eq(pipe(p), 0);
	for (int i = 0; i < IPC_MAX_FDS; i++)
		ck_assert_int_eq(ipc_put_fd(m, p[0]), 0);
	ck_assert_int_eq(ipc_put_fd(m, p[0]), -1);
	ipc_free(m);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* --- raw frames ------------------------------------------------------------- */

typedef struct raw {
	unsigned char b[4096];
	size_t len;
} raw;

static void raw32(raw *r, uint32_t v)
{
	r->b[r->len++] = (unsigned char)(v >> 24);
	r->b[r->len++] = (unsigned char)(v >> 16);
	r->b[r->len++] = (unsigned char)(v >> 8);
	r->b[r->len++] = (unsigned char)v;
}

static void raw_attr(raw *r, char kind, const char *name, size_t nlen, const void *v, uint32_t vlen)
{
	r->b[r->len++] = (unsigned char)kind;
	r->b[r->len++] = (unsigned char)nlen;
	memcpy(r->b + r->len, name, nlen);
	r->len += nlen;
	raw32(r, vlen);
	memcpy(r->b + r->len, v, vlen);
	r->len += vlen;
}

static void raw_int(raw *r, const char *name, int64_t v)
{
	unsigned char be[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (unsigned char)v;
	raw_attr(r, 'I', name, strlen(name), be, 8);
}

static void raw_start(raw *r, int64_t nfds)
{
	r->len = 0;
	raw32(r, 0);
	raw32(r, 7);
	raw_int(r, "_nfds", nfds);
}

static void raw_fix(raw *r)	/* set the total to the real length */
{
	uint32_t t = (uint32_t)r->len;

	r->b[0] = (unsigned char)(t >> 24);
	r->b[1] = (unsigned char)(t >> 16);
	r->b[2] = (unsigned char)(t >> 8);
	r->b[3] = (unsigned char)t;
}

/* Send raw bytes with nfds copies of a pipe fd; close the writer; expect refusal. */
static void expect_bad(raw *r, int nfds, const char *why)
{
	int p[2], before;
	ipc_msg *m;

	ck_assert_int_eq(pipe(p), 0);
	before = count_fds();
	{
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(sizeof(int) * 16)];
		} cm;
		struct iovec iov = { r->b, r->len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (nfds > 0) {
			int fds[16];
			for (int i = 0; i < nfds; i++)
				fds[i] = p[0];
			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.space;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
		}
		ck_assert(sendmsg(sv[0], &mh, 0) == (ssize_t)r->len);
	}
	shutdown(sv[0], SHUT_WR);
	err[0] = 0;
	m = ipc_recv(sv[1], 1024, 1000, err, sizeof(err));
	ck_assert_msg(m == NULL, "accepted: %s", why);
	ck_assert_msg(err[0] != 0, "no reason for %s", why);
	ck_assert_msg(count_fds() == before, "%s: received fds not closed", why);
	close(p[0]);
	close(p[1]);
}

START_TEST(bad_total_short)
{
	raw r;
	raw_start(&r, 0);
	r.b[3] = 7;	/* total 7 < header */
	expect_bad(&r, 0, "total < 8");
}
END_TEST

START_TEST(bad_total_over_max)
{
	raw r;
	raw_start(&r, 0);
	r.b[0] = 0x7f;	/* 2 GB: refused before any allocation */
	expect_bad(&r, 0, "total > max");
	ck_assert_msg(strstr(err, "out of range") != NULL, "%s", err);
}
END_TEST

START_TEST(bad_total_beyond_data)
{
	raw r;
	raw_start(&r, 0);
	raw_fix(&r);
	r.b[3] += 10;	/* announces 10 bytes that never come */
	expect_bad(&r, 0, "truncated frame");
}
END_TEST

START_TEST(bad_value_length)
{
	raw r;
	raw_start(&r, 0);
	raw_attr(&r, 'S', "s", 1, "abc", 3);
	r.b[r.len - 4] = 9;	/* value length 3 -> 9, past the frame */
	raw_fix(&r);
	expect_bad(&r, 0, "value length beyond total");
	raw_start(&r, 0);
	raw_attr(&r, 'S', "s", 1, "abc", 3);
	r.b[r.len - 7] = 0xff;	/* huge length */
	raw_fix(&r);
	setup();
	expect_bad(&r, 0, "huge value length");
}
END_TEST

START_TEST(bad_name_length)
{
	raw r;
	raw_start(&r, 0);
	r.b[r.len++] = 'S';
	r.b[r.len++] = 200;	/* name of 200 bytes, only 3 present */
	memcpy(r.b + r.len, "abc", 3);
	r.len += 3;
	raw_fix(&r);
	expect_bad(&r, 0, "name beyond total");
	raw_start(&r, 0);
	raw_attr(&r, 'S', "", 0, "x", 1);
	raw_fix(&r);
	setup();
	expect_bad(&r, 0, "empty name");
	raw_start(&r, 0);
	raw_attr(&r, 'S', "a\nb", 3, "x", 1);
	raw_fix(&r);
	setup();
	expect_bad(&r, 0, "control character in name");
}
END_TEST

START_TEST(bad_truncated_attr)
{
	raw r;
	raw_start(&r, 0);
	r.b[r.len++] = 'S';	/* a lone kind byte */
	raw_fix(&r);
	expect_bad(&r, 0, "truncated attribute header");
}
END_TEST

START_TEST(bad_kind)
{
	raw r;
	raw_start(&r, 0);
	raw_attr(&r, 'X', "x", 1, "abc", 3);
	raw_fix(&r);
	expect_bad(&r, 0, "unknown kind");
}
END_TEST

START_TEST(bad_duplicate)
{
	raw r;
	raw_start(&r, 0);
	raw_attr(&r, 'S', "name", 4, "a", 1);
	raw_attr(&r, 'B', "name", 4, "b", 1);
	raw_fix(&r);
	expect_bad(&r, 0, "duplicate name");
	raw_start(&r, 0);
	raw_int(&r, "_nfds", 0);
	raw_fix(&r);
	setup();
	expect_bad(&r, 0, "duplicate _nfds");
}
END_TEST

START_TEST(bad_nul_in_string)
{
	raw r;
	raw_start(&r, 0);
	raw_attr(&r, 'S', "s", 1, "a\0b", 3);
	raw_fix(&r);
	expect_bad(&r, 0, "NUL in string");
}
END_TEST

START_TEST(bad_int_size)
{
	raw r;
	raw_start(&r, 0);
	raw_attr(&r, 'I', "i", 1, "abcd", 4);
	raw_fix(&r);
	expect_bad(&r, 0, "4-byte int");
}
END_TEST

START_TEST(bad_no_count)
{
	raw r;
	r.len = 0;
	raw32(&r, 0);
	raw32(&r, 7);
	raw_attr(&r, 'S', "s", 1, "x", 1);
	raw_fix(&r);
	expect_bad(&r, 0, "no _nfds");
	r.len = 8;
	raw_fix(&r);
	setup();
	expect_bad(&r, 0, "empty frame without _nfds");
}
END_TEST

START_TEST(bad_fd_count)
{
	raw r;
	raw_start(&r, 1);
	raw_fix(&r);
	expect_bad(&r, 0, "1 announced, none sent");
	raw_start(&r, 0);
	raw_fix(&r);
	setup();
	expect_bad(&r, 2, "none announced, 2 sent");
	raw_start(&r, 3);
	raw_fix(&r);
	setup();
	expect_bad(&r, 2, "3 announced, 2 sent");
	raw_start(&r, 10);
	raw_fix(&r);
	setup();
	expect_bad(&r, 10, "more than IPC_MAX_FDS");
}
END_TEST

START_TEST(eof_and_good_raw)
{
	raw r;
	ipc_msg *m;

	/* a hand-made good frame passes (the tests above differ from it in one way) */
	raw_start(&r, 0);
	raw_attr(&r, 'S', "s", 1, "x", 1);
	raw_fix(&r);
	ck_assert(write(sv[0], r.b, r.len) == (ssize_t)r.len);
	m = ipc_recv(sv[1], 1024, 1000, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_str_eq(ipc_get_str(m, "s"), "x");
	ipc_free(m);
	/* clean EOF */
	shutdown(sv[0], SHUT_WR);
	ck_assert_ptr_null(ipc_recv(sv[1], 1024, 1000, err, sizeof(err)));
	ck_assert_str_eq(err, "connection closed");
}
END_TEST

START_TEST(recv_timeout)
{
	raw r;
	double t0 = now_s();

	ck_assert_ptr_null(ipc_recv(sv[1], 0, 200, err, sizeof(err)));
	ck_assert_str_eq(err, "timeout");
	ck_assert(now_s() - t0 >= 0.19 && now_s() - t0 < 2.0);
	/* a header, then silence: the deadline is for the whole message */
	raw_start(&r, 0);
	raw_fix(&r);
	ck_assert(write(sv[0], r.b, 10) == 10);
	t0 = now_s();
	ck_assert_ptr_null(ipc_recv(sv[1], 0, 200, err, sizeof(err)));
	ck_assert_str_eq(err, "timeout");
	ck_assert(now_s() - t0 < 2.0);
}
END_TEST

START_TEST(send_timeout)
{
	enum { BIG = 4 * 1024 * 1024 };
	ipc_msg *m = ipc_new(1);
	char *p = calloc(1, BIG);
	double t0;

	ck_assert_int_eq(ipc_put_bytes(m, "big", p, BIG), 0);
	t0 = now_s();
	ck_assert_int_eq(ipc_send(sv[0], m, 200), -1);	/* nobody reads */
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert(now_s() - t0 < 2.0);
	ipc_free(m);
	free(p);
}
END_TEST

START_TEST(big_message_roundtrip)
{
	enum { BIG = 600 * 1024 };
	ipc_msg *m = ipc_new(1), *r;
	char *p = malloc(BIG);
	const void *b;
	size_t n;
	pid_t pid;

	for (int i = 0; i < BIG; i++)
		p[i] = (char)i;
	ck_assert_int_eq(ipc_put_bytes(m, "big", p, BIG), 0);
	pid = fork();
	if (pid == 0)
		_exit(ipc_send(sv[0], m, 5000) == 0 ? 0 : 1);
	r = ipc_recv(sv[1], 0, 5000, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	b = ipc_get_bytes(r, "big", &n);
	ck_assert_uint_eq(n, BIG);
	ck_assert(memcmp(b, p, BIG) == 0);
	ipc_free(r);
	ipc_free(m);
	/* over the caller's maximum: refused */
	m = ipc_new(1);
	ipc_put_bytes(m, "big", p, 2000);
	ck_assert_int_eq(ipc_send(sv[0], m, 1000), 0);
	ck_assert_ptr_null(ipc_recv(sv[1], 1000, 1000, err, sizeof(err)));
	ipc_free(m);
	free(p);
}
END_TEST

START_TEST(connect_path)
{
	char dir[] = "/tmp/test_ipc.XXXXXX", path[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ls, c, s;
	ipc_msg *m;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(ls, 4), 0);
	c = ipc_connect(path, 1000);
	ck_assert_int_ge(c, 0);
	s = accept(ls, NULL, NULL);
	m = ipc_new(9);
	ipc_put_str(m, "status", "2.0.0");
	ck_assert_int_eq(ipc_send(c, m, 1000), 0);
	ipc_free(m);
	m = ipc_recv(s, 0, 1000, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_str_eq(ipc_get_str(m, "status"), "2.0.0");
	ipc_free(m);
	close(c);
	close(s);
	close(ls);
	unlink(path);
	ck_assert_int_eq(ipc_connect(path, 100), -1);
	ck_assert_int_eq(errno, ENOENT);
	rmdir(dir);
}
END_TEST

/* Random mutations of a good frame: each is refused or parsed, never a crash, and
 * a refused one leaves no descriptor behind (ASan build checks the memory side). */
START_TEST(mutations)
{
	ipc_msg *m = ipc_new(5), *r;
	unsigned char frame[512];
	ssize_t len;
	int pfd[2], before, accepted = 0;
	unsigned seed = 12345;

	ipc_put_str(m, "status", "2.0.0");
	ipc_put_int(m, "n", 42);
	ipc_put_bytes(m, "b", "\0\1\2", 3);
	ck_assert_int_eq(ipc_send(sv[0], m, 1000), 0);
	ipc_free(m);
	len = read(sv[1], frame, sizeof(frame));
	ck_assert_int_gt(len, 8);
	ck_assert_int_eq(pipe(pfd), 0);
	before = count_fds();
	for (int i = 0; i < 3000; i++) {
		unsigned char f[512];
		int s2[2];
		memcpy(f, frame, (size_t)len);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			f[(seed >> 8) % (unsigned)len] = (unsigned char)(seed >> 20);
		}
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, s2), 0);
		ck_assert(write(s2[0], f, (size_t)len) == len);
		close(s2[0]);
		r = ipc_recv(s2[1], 4096, 1000, err, sizeof(err));
		if (r != NULL) {
			accepted++;
			ipc_free(r);
		}
		close(s2[1]);
	}
	ck_assert_int_eq(count_fds(), before);
	ck_assert_int_lt(accepted, 3000);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

static Suite *ipc_suite(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, untaken_fds_closed);
	tcase_add_test(tc, put_checks);
	tcase_add_test(tc, bad_total_short);
	tcase_add_test(tc, bad_total_over_max);
	tcase_add_test(tc, bad_total_beyond_data);
	tcase_add_test(tc, bad_value_length);
	tcase_add_test(tc, bad_name_length);
	tcase_add_test(tc, bad_truncated_attr);
	tcase_add_test(tc, bad_kind);
	tcase_add_test(tc, bad_duplicate);
	tcase_add_test(tc, bad_nul_in_string);
	tcase_add_test(tc, bad_int_size);
	tcase_add_test(tc, bad_no_count);
	tcase_add_test(tc, bad_fd_count);
	tcase_add_test(tc, eof_and_good_raw);
	tcase_add_test(tc, recv_timeout);
	tcase_add_test(tc, send_timeout);
	tcase_add_test(tc, big_message_roundtrip);
	tcase_add_test(tc, connect_path);
	tcase_add_test(tc, mutations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ipc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
