/*
 * buf.c - growable byte buffers with a hard size limit, and bounded string helpers.
 *
 * Contract (see buf.h): data is always NUL-terminated after len bytes; an append that
 * would pass b->limit or overflow size_t fails with -1 and leaves the buffer as it
 * was; only malloc failure is fatal (through xrealloc). Growth doubles, so appends
 * are amortised O(1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/msg.h"

#define BUF_MIN_CAP 64

/* The header leaves the va_list variant unannotated; tell the compiler here. */
int buf_vprintf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static size_t buf_limit(const buf *b)
{
	return b->limit ? b->limit : SIZE_MAX / 2;
}

void buf_init(buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void buf_free(buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_reset(buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

/* Make room for extra more bytes (plus the NUL). Never grows past the limit. */
int buf_reserve(buf *b, size_t extra)
{
	size_t need, ncap, alloc;
	size_t limit = buf_limit(b);

	if (size_add(b->len, extra, &need) < 0 || need > limit)
		return -1;
	if (b->data && need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : BUF_MIN_CAP;
	while (ncap < need) {
		if (ncap > limit / 2) {
			ncap = limit;
			break;
		}
		ncap *= 2;
	}
	if (ncap < need)
		ncap = need;
	if (size_add(ncap, 1, &alloc) < 0)
		return -1;
	b->data = xrealloc(b->data, alloc);
	b->cap = ncap;
	b->data[b->len] = 0;
	return 0;
}

int buf_append(buf *b, const void *p, size_t n)
{
	const char *src = p;
	size_t off = 0;
	int inside = b->data && src >= b->data && src <= b->data + b->len;

	/* p may point into the buffer itself, which reserve may move */
	if (inside)
		off = (size_t)(src - b->data);
	if (buf_reserve(b, n) < 0)
		return -1;
	if (inside)
		p = b->data + off;
	if (n)
		memmove(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int buf_append_str(buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_append_char(buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* Format once to learn the size, then into the reserved room; all or nothing. */
int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_copy(ap2, ap);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
	return 0;
}

void buf_truncate(buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = 0;
}

void buf_consume(buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = 0;
}

int str_copy(char *dst, size_t dstsize, const char *src)
{
	return str_ncopy(dst, dstsize, src, strlen(src));
}

/* Copy at most srclen bytes (stopping at a NUL); always terminates dst when it has
 * room for anything; -1 when the source did not fit. */
int str_ncopy(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);
	int rc = 0;

	if (dstsize == 0)
		return -1;
	if (n >= dstsize) {
		n = dstsize - 1;
		rc = -1;
	}
	memcpy(dst, src, n);
	dst[n] = 0;
	return rc;
}

int size_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return -1;
	*out = a + b;
	return 0;
}

int size_mul(size_t a, size_t b, size_t *out)
{
	if (a && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}
