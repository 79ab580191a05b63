/*
 * t4_util.c - bit-level helpers for T.4 page data on the line (LSB first).
 *
 * Contract: the data is as a Class 1 DCE sends it: bit 0 of each byte first (TIFF
 * FillOrder 2). An EOL is eleven or more zero bits followed by a one; zero bits
 * before an EOL are fill. t4_pad_rows() adds fill so that each row (data, fill and
 * EOL) takes at least min_bits bits: the remote's minimum scan line time times the
 * bit rate. It never pads between the EOLs of RTC (rows of at most one bit, the MR
 * tag bit).
 */
#include "t30.h"

static const uint8_t rev_table_init[16] = { 0x0, 0x8, 0x4, 0xC, 0x2, 0xA, 0x6, 0xE,
					    0x1, 0x9, 0x5, 0xD, 0x3, 0xB, 0x7, 0xF };

void t4_reverse_bits(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rev_table_init[p[i] & 0xF] << 4 | rev_table_init[p[i] >> 4]);
}

typedef struct bitw {
	buf *out;
	uint8_t acc;
	int n;
	int err;
} bitw;

static void bitw_put(bitw *w, int bit)
{
	if (bit)
		w->acc |= (uint8_t)(1u << w->n);
	if (++w->n == 8) {
		if (buf_append_char(w->out, (char)w->acc) < 0)
			w->err = 1;
		w->acc = 0;
		w->n = 0;
	}
}

static void bitw_zeros(bitw *w, size_t n)
{
	while (n > 0 && w->n != 0) {
		bitw_put(w, 0);
		n--;
	}
	for (; n >= 8; n -= 8)
		if (buf_append_char(w->out, 0) < 0)
			w->err = 1;
	while (n-- > 0)
		bitw_put(w, 0);
}

/* Call on_one for every one bit of in (LSB first) with the number of zero bits
 * before it and its place (byte, bit); stop when it returns nonzero. Returns the
 * number of zero bits after the last one bit seen. */
typedef int (*t4_one_fn)(void *ctx, size_t zeros, size_t byte, int bit);

static size_t t4_walk_ones(const uint8_t *in, size_t len, t4_one_fn on_one, void *ctx)
{
	size_t zeros = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = in[i];

		if (b == 0) {
			zeros += 8;
			continue;
		}
		for (int k = 0; k < 8; k++) {
			if (!((b >> k) & 1)) {
				zeros++;
				continue;
			}
			if (on_one(ctx, zeros, i, k))
				return 0;
			zeros = 0;
		}
	}
	return zeros;
}

/* Rows as the walk meets them: an EOL is a one bit after 11 or more zeros; "empty"
 * counts EOLs in a row that end rows of at most one bit (RTC: 6 EOLs, MR tag bits). */
typedef struct t4_rows {
	size_t row_bits;
	size_t empty;
} t4_rows;

/* Note a one bit after zeros zero bits; 1 when it ends an EOL. */
static int t4_rows_one(t4_rows *r, size_t zeros)
{
	if (zeros >= 11) {
		r->empty = r->row_bits <= 1 ? r->empty + 1 : 0;
		r->row_bits = 0;
		return 1;
	}
	r->row_bits += zeros + 1;
	return 0;
}

typedef struct pad_ctx {
	bitw w;
	t4_rows rows;
	size_t min_bits;
} pad_ctx;

static int pad_one(void *arg, size_t zeros, size_t byte, int bit)
{
	pad_ctx *c = arg;
	size_t z = zeros;

	(void)byte;
	(void)bit;
	/* fill before the EOL that ends a short row; never inside RTC (rows <= 1 bit) */
	if (zeros >= 11 && c->rows.row_bits > 1 && c->rows.row_bits + z + 1 < c->min_bits)
		z = c->min_bits - c->rows.row_bits - 1;
	t4_rows_one(&c->rows, zeros);
	bitw_zeros(&c->w, z);
	bitw_put(&c->w, 1);
	return 0;
}

int t4_pad_rows(const uint8_t *in, size_t len, size_t min_bits, buf *out)
{
	pad_ctx c = { { out, 0, 0, 0 }, { 0, 0 }, min_bits };

	bitw_zeros(&c.w, t4_walk_ones(in, len, pad_one, &c));
	if (c.w.n > 0 && buf_append_char(out, (char)c.w.acc) < 0)
		c.w.err = 1;
	return c.w.err ? -1 : 0;
}

typedef struct count_ctx {
	t4_rows rows;
	size_t eols;
	int rtc;
} count_ctx;

static int count_one(void *arg, size_t zeros, size_t byte, int bit)
{
	count_ctx *c = arg;

	(void)byte;
	(void)bit;
	if (t4_rows_one(&c->rows, zeros)) {
		c->eols++;
		if (c->rows.empty >= 5)
			c->rtc = 1;
	}
	return 0;
}

size_t t4_count_eols(const uint8_t *in, size_t len, int *rtc)
{
	count_ctx c = { { 0, 0 }, 0, 0 };

	t4_walk_ones(in, len, count_one, &c);
	*rtc = c.rtc;
	return c.eols;
}

typedef struct trim_ctx {
	t4_rows rows;
	uint8_t *in;
	size_t end;
} trim_ctx;

static int trim_one(void *arg, size_t zeros, size_t byte, int bit)
{
	trim_ctx *c = arg;

	if (!t4_rows_one(&c->rows, zeros) || c->rows.empty < 5)
		return 0;
	/* the last EOL of RTC ends at this bit; keep the MR tag bit when it is in this
	 * byte, zero the rest */
	int keep = bit + 2 > 8 ? 8 : bit + 2;
	c->in[byte] &= (uint8_t)((1u << keep) - 1);
	c->end = byte + 1;
	return 1;
}

size_t t4_trim_rtc(uint8_t *in, size_t len)
{
	trim_ctx c = { { 0, 0 }, in, len };

	t4_walk_ones(in, len, trim_one, &c);
	return c.end;
}

int t4_append_rtc(buf *out, int mr)
{
	/* six EOLs (MR: each followed by the 1-D tag bit), from a byte boundary: the zero
	 * bits left in the last byte before it are fill */
	bitw w = { out, 0, 0, 0 };
	for (int i = 0; i < 6; i++) {
		bitw_zeros(&w, 11);
		bitw_put(&w, 1);
		if (mr)
			bitw_put(&w, 1);
	}
	if (w.n > 0 && buf_append_char(out, (char)w.acc) < 0)
		w.err = 1;
	return w.err ? -1 : 0;
}
