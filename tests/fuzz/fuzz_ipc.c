/*
 * fuzz_ipc.c - libFuzzer harness for the IPC frame reader ipc_recv (lib/mail/ipc.h).
 *
 * FUZZ_LIBS: mail util
 *
 * Input: byte 0 picks how many descriptors (0..9; more than IPC_MAX_FDS is a case of
 * its own) travel with the first bytes in SCM_RIGHTS; the rest is written to one end
 * of a socketpair, which is then shut down for writing, and ipc_recv() reads the other
 * end. An accepted message is queried (every kind of getter on the names of
 * ipc_proto.h and on names taken from the input), sent on with ipc_send() and read
 * again. Oracles besides the sanitizers: an accepted message has exactly the
 * descriptors that were sent; the copy has the same type, descriptor count and
 * values; a rejected message leaves no descriptor open.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_util.h"
#include "mail/ipc.h"

static const char *const fuzz_names[] = {
	"_nfds", "status", "reason", "queue_id", "queue_name", "path", "nexthop",
	"rcpt_count", "rcpt.0", "rcpt_index.0", "status.0", "reason.0", "target",
	"in_count", "pages", "op", "line", "timeout", "a", "S", "I", "B", NULL
};

/* The lowest free descriptor: received descriptors take the lowest numbers, so one
 * that leaks moves it (a cheap stand-in for counting every open descriptor). */
static int fuzz_open_fds(void)
{
	int fd = dup(0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

/* Same value for name in both messages (or absent from both). */
static void fuzz_same(const ipc_msg *a, const ipc_msg *b, const char *name)
{
	const void *pa, *pb;
	const char *sa, *sb;
	int64_t ia, ib;
	size_t na, nb;
	int ra = ipc_get_int(a, name, &ia), rb = ipc_get_int(b, name, &ib);

	if (ra != rb || (ra == 0 && ia != ib))
		__builtin_trap();
	sa = ipc_get_str(a, name);
	sb = ipc_get_str(b, name);
	if ((sa == NULL) != (sb == NULL) || (sa && strcmp(sa, sb) != 0))
		__builtin_trap();
	pa = ipc_get_bytes(a, name, &na);
	pb = ipc_get_bytes(b, name, &nb);
	if ((pa == NULL) != (pb == NULL) || (pa && (na != nb || memcmp(pa, pb, na) != 0)))
		__builtin_trap();
}

/* Attribute names as they appear in a well-formed frame (kind, len, name ...). */
static void fuzz_names_in(const uint8_t *p, size_t n, const ipc_msg *a, const ipc_msg *b)
{
	char name[256];

	for (size_t i = 0; i + 2 < n; i++) {
		size_t len = p[i + 1];
		if ((p[i] != 'I' && p[i] != 'S' && p[i] != 'B') || len == 0 || i + 2 + len > n)
			continue;
		memcpy(name, p + i + 2, len);
		name[len] = 0;
		fuzz_same(a, b, name);
	}
}

static ipc_msg *fuzz_pass(const uint8_t *p, size_t n, int nfds, char *err, size_t errlen)
{
	int sv[2], fds[10];
	int sz = 1 << 20;
	ipc_msg *m;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	for (int i = 0; i < nfds; i++)
		if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			abort();
	if (n > 0 || nfds > 0) {
		char space[CMSG_SPACE(sizeof(fds))] = { 0 };
		struct iovec iov = { (void *)p, n };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		uint8_t zero = 0;

		if (n == 0) {
			iov.iov_base = &zero;	/* descriptors need at least one byte */
			iov.iov_len = 1;
		}
		if (nfds > 0) {
			struct cmsghdr *c;
			mh.msg_control = space;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
		}
		if (sendmsg(sv[0], &mh, MSG_NOSIGNAL) != (ssize_t)iov.iov_len)
			abort();
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	shutdown(sv[0], SHUT_WR);
	m = ipc_recv(sv[1], 0, 1000, err, errlen);
	close(sv[0]);
	close(sv[1]);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	ipc_msg *m, *copy;
	int nfds, before;
	int sv[2];

	if (size < 1 || size > 65536)
		return 0;
	fuzz_quiet("fuzz_ipc");
	nfds = data[0] % 10;
	before = fuzz_open_fds();
	m = fuzz_pass(data + 1, size - 1, nfds, err, sizeof(err));
	if (m == NULL) {
		if (memchr(err, 0, sizeof(err)) == NULL || fuzz_open_fds() != before)
			__builtin_trap();	/* descriptors of a bad frame leaked */
		return 0;
	}
	if ((int)ipc_nfds(m) != nfds || nfds > IPC_MAX_FDS)
		__builtin_trap();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (ipc_send(sv[0], m, 1000) != 0)
		__builtin_trap();	/* what we accepted we can send on */
	copy = ipc_recv(sv[1], 0, 1000, err, sizeof(err));
	close(sv[0]);
	close(sv[1]);
	if (copy == NULL || ipc_type(copy) != ipc_type(m) || ipc_nfds(copy) != ipc_nfds(m))
		__builtin_trap();
	for (int i = 0; fuzz_names[i]; i++)
		fuzz_same(m, copy, fuzz_names[i]);
	fuzz_names_in(data + 1, size - 1, m, copy);
	if (nfds > 0) {
		int fd = ipc_take_fd(m, 0);
		if (fd < 0 || ipc_take_fd(m, (size_t)nfds) != -1)
			__builtin_trap();
		close(fd);
	}
	ipc_free(copy);
	ipc_free(m);
	if (fuzz_open_fds() != before)
		__builtin_trap();
	return 0;
}
