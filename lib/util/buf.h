/*
 * buf.h - growable byte buffers with a hard size limit.
 *
 * Contract: a buf always holds a NUL after its data (so buf_str() is a C string when
 * the data has no NUL of its own); every append checks the limit and the size
 * arithmetic, and fails (returns -1, buffer unchanged) instead of growing past
 * buf->limit. A buf never aborts on untrusted input; only a malloc failure is fatal.
 */
#ifndef FAXPOST_UTIL_BUF_H
#define FAXPOST_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
	char *data;	/* len bytes, then a NUL */
	size_t len;
	size_t cap;	/* allocated, excluding the NUL */
	size_t limit;	/* largest len allowed; 0 means SIZE_MAX / 2 */
} buf;

void buf_init(buf *b, size_t limit);
void buf_free(buf *b);
void buf_reset(buf *b);				/* len = 0, keeps memory */
int buf_reserve(buf *b, size_t extra);		/* room for extra more bytes */
int buf_append(buf *b, const void *p, size_t n);
int buf_append_str(buf *b, const char *s);
int buf_append_char(buf *b, char c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);
void buf_truncate(buf *b, size_t len);		/* len <= b->len */
void buf_consume(buf *b, size_t n);		/* drop n bytes from the front */
static inline const char *buf_str(const buf *b) { return b->data ? b->data : ""; }

/* Bounded string helpers for untrusted data. Return -1 on truncation. */
int str_copy(char *dst, size_t dstsize, const char *src);
int str_ncopy(char *dst, size_t dstsize, const char *src, size_t srclen);
/* Overflow-checked size arithmetic: return -1 when the result would wrap. */
int size_add(size_t a, size_t b, size_t *out);
int size_mul(size_t a, size_t b, size_t *out);

#endif
