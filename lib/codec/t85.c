/*
 * t85.c - T.85 JBIG pages through jbigkit's jbig85 (see t85.h).
 */
#include <jbig85.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/t85.h"
#include "util/msg.h"

typedef struct enc_ctx {
	buf *out;
	int failed;
} enc_ctx;

static void enc_out(unsigned char *start, size_t len, void *file)
{
	enc_ctx *c = file;

	if (!c->failed && buf_append(c->out, start, len) < 0)
		c->failed = 1;
}

int t85_encode(const codec_page *pg, buf *out)
{
	struct jbg85_enc_state s;
	enc_ctx c = { out, 0 };
	size_t start = out->len;
	const uint8_t *zero;
	uint8_t *z = xcalloc(1, pg->stride);

	zero = z;
	jbg85_enc_init(&s, pg->width, pg->height, enc_out, &c);
	jbg85_enc_options(&s, JBG_TPBON, T85_L0, T85_MX);
	for (uint32_t y = 0; y < pg->height && !c.failed; y++)
		jbg85_enc_lineout(&s, page_row(pg, y),
				  (unsigned char *)(y > 0 ? page_row(pg, y - 1) : zero),
				  (unsigned char *)(y > 1 ? page_row(pg, y - 2) : zero));
	free(z);
	if (c.failed) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}

typedef struct dec_ctx {
	codec_page *pg;
	uint32_t rows;
	int overflow;
} dec_ctx;

static int dec_line(const struct jbg85_dec_state *s, unsigned char *start, size_t len,
		    unsigned long y, void *file)
{
	dec_ctx *c = file;

	(void)s;
	if (y >= CODEC_MAX_ROWS || (uint64_t)c->pg->width * (y + 1) > CODEC_MAX_PIXELS) {
		c->overflow = 1;
		return 1;		/* interrupt */
	}
	if (y >= c->pg->height) {
		uint32_t h = c->pg->height * 2 < y + 1 ? (uint32_t)y + 1 : c->pg->height * 2;
		if (h > CODEC_MAX_ROWS)
			h = CODEC_MAX_ROWS;
		if (page_set_height(c->pg, h) < 0) {
			c->overflow = 1;
			return 1;
		}
	}
	memcpy(page_row(c->pg, (uint32_t)y), start, len < c->pg->stride ? len : c->pg->stride);
	if (y + 1 > c->rows)
		c->rows = (uint32_t)y + 1;
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

codec_page *t85_decode(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct jbg85_dec_state s;
	dec_ctx c = { NULL, 0, 0 };
	uint32_t x0, y0, l0;
	unsigned char *linebuf;
	size_t bpl, cnt = 0, off = 0;
	int rc = JBG_EAGAIN;

	if (len < 20) {
		snprintf(err, errlen, "JBIG: truncated header");
		return NULL;
	}
	x0 = be32(data + 4);
	y0 = be32(data + 8);
	l0 = be32(data + 12);
	if (data[0] != 0 || data[1] != 0 || data[2] != 1 || x0 == 0 || x0 > CODEC_MAX_WIDTH || l0 == 0) {
		snprintf(err, errlen, "JBIG: not a T.85 bi-level header (width %u)", x0);
		return NULL;
	}
	if (!(data[19] & JBG_VLENGTH) && (y0 > CODEC_MAX_ROWS || (uint64_t)x0 * y0 > CODEC_MAX_PIXELS)) {
		snprintf(err, errlen, "JBIG: page too large (%ux%u)", x0, y0);
		return NULL;
	}
	c.pg = page_alloc(x0, y0 && y0 <= CODEC_MAX_ROWS ? (y0 < 4096 ? y0 : 4096) : 1024, 0, 0);
	if (!c.pg) {
		snprintf(err, errlen, "JBIG: page too large");
		return NULL;
	}
	bpl = (x0 + 7) / 8;
	linebuf = xmalloc(3 * bpl);
	jbg85_dec_init(&s, linebuf, 3 * bpl, dec_line, &c);
	while (off < len) {
		rc = jbg85_dec_in(&s, (unsigned char *)data + off, len - off, &cnt);
		off += cnt;
		if (rc != JBG_EAGAIN)
			break;
		if (cnt == 0)
			break;
	}
	if (rc == JBG_EAGAIN)
		rc = jbg85_dec_end(&s);
	free(linebuf);
	if (c.overflow) {
		snprintf(err, errlen, "JBIG: page too large");
	} else if (rc != JBG_EOK && rc != JBG_EOK_INTR) {
		snprintf(err, errlen, "JBIG: %s", jbg85_strerror(rc));
	} else if (c.rows == 0 || c.rows < jbg85_dec_getheight(&s)) {
		snprintf(err, errlen, "JBIG: truncated data (%u rows)", c.rows);
	} else {
		page_set_height(c.pg, c.rows);
		page_clear_padding(c.pg);
		return c.pg;
	}
	page_free(c.pg);
	return NULL;
}
