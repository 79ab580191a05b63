/*
 * tiffmem.c - libtiff client procedures over memory (see tiffmem.h).
 */
#include <stdio.h>
#include <string.h>

#include "codec/tiffmem.h"

static tmsize_t mem_read(thandle_t h, void *p, tmsize_t n)
{
	tiffmem *m = h;
	const uint8_t *data = m->out ? (const uint8_t *)m->out->data : m->data;
	size_t len = m->out ? m->out->len : m->len;
	size_t left = m->pos < len ? len - m->pos : 0;

	if (n < 0)
		return -1;
	if ((size_t)n > left)
		n = (tmsize_t)left;
	if (n)
		memcpy(p, data + m->pos, (size_t)n);
	m->pos += (size_t)n;
	return n;
}

static tmsize_t mem_write(thandle_t h, void *p, tmsize_t n)
{
	tiffmem *m = h;
	size_t end;

	if (!m->out || n < 0 || size_add(m->pos, (size_t)n, &end) < 0)
		return -1;
	if (end > m->out->len) {
		size_t grow = end - m->out->len;
		if (buf_reserve(m->out, grow) < 0)
			return -1;
		memset(m->out->data + m->out->len, 0, grow);
		m->out->len = end;
		m->out->data[end] = 0;
	}
	memcpy(m->out->data + m->pos, p, (size_t)n);
	m->pos = end;
	return n;
}

static toff_t mem_size(thandle_t h)
{
	tiffmem *m = h;

	return m->out ? m->out->len : m->len;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
	tiffmem *m = h;
	size_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? mem_size(h) : 0;

	if (off > (toff_t)(SIZE_MAX / 4) || base + off > SIZE_MAX / 4)
		return (toff_t)-1;
	m->pos = base + (size_t)off;
	return m->pos;
}

static int mem_close(thandle_t h)
{
	(void)h;
	return 0;
}

static int mem_map(thandle_t h, void **base, toff_t *size)
{
	(void)h;
	(void)base;
	(void)size;
	return 0;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

static int mem_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int mem_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	tiffmem *m = user;

	(void)tif;
	(void)module;
	if (m && !m->err[0])
		vsnprintf(m->err, sizeof(m->err), fmt, ap);
	return 1;
}

static int mem_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)user;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

static TIFF *mem_open(tiffmem *m, const char *mode)
{
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	TIFF *t;

	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, CODEC_TIFF_MAX_ALLOC);
	TIFFOpenOptionsSetErrorHandlerExtR(opts, mem_error, m);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, mem_warning, m);
	t = TIFFClientOpenExt("memory", mode, m, mem_read, mem_write, mem_seek, mem_close,
			      mem_size, mem_map, mem_unmap, opts);
	TIFFOpenOptionsFree(opts);
	return t;
}

TIFF *tiffmem_open_read(tiffmem *m, const uint8_t *data, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->data = data;
	m->len = len;
	return mem_open(m, "rm");
}

TIFF *tiffmem_open_write(tiffmem *m, buf *out)
{
	memset(m, 0, sizeof(*m));
	m->out = out;
	buf_reset(out);
	return mem_open(m, "wm");
}
