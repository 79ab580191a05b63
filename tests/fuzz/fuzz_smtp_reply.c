/*
 * fuzz_smtp_reply.c - libFuzzer harness for the SMTP client's reply parser
 * (smtp/reply.h) and its EHLO and CONNEG readers, fed as the smtp client feeds them.
 *
 * FUZZ_LIBS: util
 * FUZZ_SRCS: smtp/reply.c
 * FUZZ_ARGS: -max_len=20000
 *
 * Input: byte 0 picks the limits (line_limit 64/512/2048/8192 and max_lines
 * 3/100/1000/100000); the rest is what a hostile server says, written to a socketpair
 * and read back as smtp/session.c reads it (stream_getline with the line limit, an
 * over-long line passed on as `toolong`). Every complete reply goes through
 * smtp_reply_summary, smtp_ehlo_parse and smtp_reply_conneg; reading stops at the
 * first protocol error, as the client does. Oracles besides the sanitizers: a complete
 * reply has a code 200..599, at most max_lines lines, kept text within
 * SMTP_REPLY_TEXT_MAX (plus the line separators), no control bytes but the '\n'
 * separators; an enhanced code has the reply's class; SIZE is not negative.
 */
#include <string.h>
#include <sys/socket.h>

#include "fuzz_util.h"
#include "smtp/reply.h"
#include "util/stream.h"

static void fuzz_check_reply(const smtp_reply *r)
{
	smtp_ehlo e;
	buf out;

	if (r->code < 200 || r->code > 599 || r->nlines < 1 || r->nlines > r->max_lines)
		__builtin_trap();
	if (r->lines.len > SMTP_REPLY_TEXT_MAX + (size_t)r->nlines)
		__builtin_trap();
	for (size_t i = 0; i < r->lines.len; i++) {
		unsigned char c = (unsigned char)r->lines.data[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			__builtin_trap();
	}
	if (r->enh[0] && (r->enh[0] != '0' + r->code / 100 || r->enh[1] != '.'))
		__builtin_trap();
	buf_init(&out, 0);
	smtp_reply_summary(r, &out);
	buf_reset(&out);
	smtp_ehlo_parse(r, &e);
	if (e.size_max < 0)
		__builtin_trap();
	(void)smtp_reply_conneg(r, &out);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[4] = { 64, 512, 2048, 8192 };
	static const int maxl[4] = { 3, 100, 1000, 100000 };
	int sv[2], sz = 1 << 20;
	smtp_reply r;
	stream *s;
	buf line;

	if (size < 1 || size > 128 * 1024)
		return 0;
	fuzz_quiet("fuzz_smtp_reply");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (size > 1 && send(sv[0], data + 1, size - 1, MSG_NOSIGNAL) != (ssize_t)(size - 1))
		abort();
	close(sv[0]);
	s = stream_open(sv[1], 1000);
	smtp_reply_init(&r, limits[data[0] & 3], maxl[(data[0] >> 2) & 3]);
	buf_init(&line, 0);
	for (;;) {
		ssize_t n = stream_getline(s, &line, r.line_limit, NULL);
		int toolong = 0, rc;

		if (n == STREAM_TOOLONG) {
			toolong = 1;
			n = (ssize_t)line.len;
		} else if (n < 0) {
			break;
		}
		rc = smtp_reply_feed(&r, line.data ? line.data : "", (size_t)n, toolong);
		if (rc < 0) {
			if (memchr(r.err, 0, sizeof(r.err)) == NULL)
				__builtin_trap();
			break;
		}
		if (rc == 1) {
			fuzz_check_reply(&r);
			smtp_reply_reset(&r);
		}
	}
	buf_free(&line);
	smtp_reply_free(&r);
	stream_close(s);
	return 0;
}
