/*
 * fuzz_smtp_body.c - libFuzzer harness for the SMTP client's DATA encoder
 * (smtp/body.h): what goes out after DATA must never let a message end early.
 *
 * FUZZ_LIBS: util
 * FUZZ_SRCS: smtp/body.c
 *
 * Input: byte 0 picks the chunk size (1..256) the rest is given in, as the client
 * reads the queue file in pieces; the rest is the message content. Oracles besides
 * the sanitizers (the outbound side of SMTP smuggling, security.md 2.1):
 *  - the output ends with CRLF "." CRLF and no earlier line is a lone "." (a line
 *    that starts with "." is stuffed to "..");
 *  - CR and LF appear only as CRLF, and no line is longer than SMTP_BODY_LINE_MAX;
 *  - the output does not depend on how the input was split (chunked == whole).
 */
#include <string.h>

#include "fuzz_util.h"
#include "smtp/body.h"

static void fuzz_encode(const uint8_t *p, size_t n, size_t chunk, buf *out)
{
	smtp_body e;

	smtp_body_init(&e);
	for (size_t off = 0; off < n; off += chunk)
		if (smtp_body_chunk(&e, (const char *)p + off, n - off < chunk ? n - off : chunk,
				    out) != 0)
			abort();
	if (smtp_body_end(&e, out) != 0)
		abort();
}

static void fuzz_check(const buf *o)
{
	const char *d = o->data;
	size_t n = o->len, start = 0;

	if (n < 3 || memcmp(d + n - 3, ".\r\n", 3) != 0 || (n > 3 && d[n - 4] != '\n'))
		__builtin_trap();	/* no final "." line */
	for (size_t i = 0; i < n; i++) {
		if ((d[i] == '\r' && (i + 1 == n || d[i + 1] != '\n'))
		    || (d[i] == '\n' && (i == 0 || d[i - 1] != '\r')))
			__builtin_trap();	/* bare CR or LF on the wire */
		if (d[i] != '\n')
			continue;
		/* the line [start, i - 1) without its CRLF */
		size_t len = i - 1 - start;
		if (len > SMTP_BODY_LINE_MAX)
			__builtin_trap();
		if (i + 1 < n && len >= 1 && d[start] == '.' && (len < 2 || d[start + 1] != '.'))
			__builtin_trap();	/* an unstuffed dot line before the end */
		start = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf whole, chunked;

	if (size < 1 || size > 256 * 1024)
		return 0;
	fuzz_quiet("fuzz_smtp_body");
	buf_init(&whole, 0);
	buf_init(&chunked, 0);
	fuzz_encode(data + 1, size - 1, size, &whole);
	fuzz_encode(data + 1, size - 1, (size_t)data[0] + 1, &chunked);
	fuzz_check(&chunked);
	if (whole.len != chunked.len || (whole.len && memcmp(whole.data, chunked.data, whole.len) != 0))
		__builtin_trap();	/* the split changed what goes out */
	buf_free(&whole);
	buf_free(&chunked);
	return 0;
}
