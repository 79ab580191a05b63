/*
 * t4_enc.c - T.4 MH/MR and T.6 MMR encoder working on whole words (see t4.h).
 *
 * Each row becomes its list of changing elements (positions where the colour differs
 * from the pixel before; the line starts white) by scanning 64-bit big-endian words with
 * clz, so white space costs one compare per 64 pixels. MH codes each run with one table
 * lookup (make-up and terminating code pre-joined, up to 25 bits); MR/MMR run the T.4
 * 2-D mode choice (pass if b2 < a1, vertical if |a1 - b1| <= 3, else horizontal) over the
 * two change lists with monotone indexes, so the cost is O(changes) per row. Bits go out
 * through a 64-bit accumulator, 32 bits at a time, into space reserved per row.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/t4.h"
#include "util/msg.h"

#define RUN_TAB 2624		/* runs 0..2623 take one make-up + one terminating code */

typedef struct run_code {
	uint32_t code;
	uint32_t len;
} run_code;

static run_code run_tab[2][RUN_TAB];

/* Pre-join make-up and terminating codes (process start; the tables are read-only after). */
__attribute__((constructor)) static void t4_enc_init(void)
{
	for (int c = 0; c < 2; c++) {
		const t4_code *term = c ? t4_black_term : t4_white_term;
		const t4_code *mk = c ? t4_black_makeup : t4_white_makeup;
		for (uint32_t r = 0; r < RUN_TAB; r++) {
			run_code rc = { term[r & 63].code, term[r & 63].len };
			if (r >= 64) {
				const t4_code *m = &mk[r / 64 - 1];
				rc.code |= m->code << rc.len;
				rc.len += m->len;
			}
			run_tab[c][r] = rc;
		}
	}
}

typedef struct bitw {
	uint64_t acc;		/* the low n bits are pending, MSB first */
	unsigned n;
	uint8_t *p;
} bitw;

static inline void put_bits(bitw *w, uint32_t code, unsigned len)
{
	w->acc = (w->acc << len) | code;
	w->n += len;
	if (w->n >= 32) {
		uint32_t v;
		w->n -= 32;
		v = __builtin_bswap32((uint32_t)(w->acc >> w->n));
		memcpy(w->p, &v, 4);
		w->p += 4;
	}
}

static inline void put_run(bitw *w, int color, uint32_t run)
{
	const t4_code *big = color ? &t4_black_makeup[39] : &t4_white_makeup[39];

	while (run >= RUN_TAB) {
		put_bits(w, big->code, big->len);	/* 2560 */
		run -= 2560;
	}
	put_bits(w, run_tab[color][run].code, run_tab[color][run].len);
}

/* Zero bits so that `extra` more bits end on a byte boundary. */
static inline void put_align(bitw *w, uint8_t *start, unsigned extra)
{
	size_t bitpos = (size_t)(w->p - start) * 8 + w->n + extra;
	unsigned pad = (unsigned)((8 - bitpos % 8) % 8);

	if (pad)
		put_bits(w, 0, pad);
}

static inline void put_flush(bitw *w)
{
	while (w->n >= 8) {
		w->n -= 8;
		*w->p++ = (uint8_t)(w->acc >> w->n);
	}
	if (w->n) {
		*w->p++ = (uint8_t)(w->acc << (8 - w->n));
		w->n = 0;
	}
}

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/*
 * The changing elements of a row, then `pad` sentinels equal to width.
 * Bits past width are 0: a black run reaching the edge yields one element >= width,
 * which is dropped.
 */
static size_t row_changes(const uint8_t *row, uint32_t width, uint32_t *chg, int pad)
{
	uint32_t nw = (width + 63) / 64;
	uint64_t inv = 0;
	size_t n = 0;

	for (uint32_t i = 0; i < nw; i++) {
		uint64_t w = load_be64(row + 8 * (size_t)i) ^ inv;
		while (w) {
			int b = __builtin_clzll(w);
			chg[n++] = i * 64 + (uint32_t)b;
			inv = ~inv;
			w = b == 63 ? 0 : ~w & (~0ULL >> (b + 1));
		}
	}
	while (n && chg[n - 1] >= width)
		n--;
	for (int i = 0; i < pad; i++)
		chg[n + (size_t)i] = width;
	return n;
}

static void enc_1d(bitw *w, const uint32_t *chg, size_t n, uint32_t width)
{
	uint32_t prev = 0;
	int color = 0;

	for (size_t i = 0; i < n; i++) {
		put_run(w, color, chg[i] - prev);
		prev = chg[i];
		color ^= 1;
	}
	put_run(w, color, width - prev);
}

/* Vertical mode codes for a1 - b1 = -3 .. 3. */
static const t4_code vcode[7] = {
	{0x02, 7}, {0x02, 6}, {0x02, 3}, {0x01, 1}, {0x03, 3}, {0x03, 6}, {0x03, 7},
};

static void enc_2d(bitw *w, const uint32_t *cur, const uint32_t *ref, uint32_t width)
{
	int64_t a0 = -1;
	int color = 0;
	size_t ia = 0, ib = 0;

	while (a0 < (int64_t)width) {
		uint32_t a1 = cur[ia], b1, b2;
		size_t jb;

		while ((int64_t)ref[ib] <= a0)
			ib++;
		jb = ib + ((ib ^ (size_t)color) & 1);
		b1 = ref[jb];
		b2 = ref[jb + 1];
		if (b2 < a1) {
			put_bits(w, 0x1, 4);		/* pass */
			a0 = b2;
		} else if (a1 + 3 >= b1 && a1 <= b1 + 3) {
			const t4_code *v = &vcode[(int)a1 - (int)b1 + 3];
			put_bits(w, v->code, v->len);
			a0 = a1;
			color ^= 1;
			ia++;
		} else {
			uint32_t a2 = cur[ia + 1], start = a0 < 0 ? 0 : (uint32_t)a0;
			put_bits(w, 0x1, 3);		/* horizontal */
			put_run(w, color, a1 - start);
			put_run(w, color ^ 1, a2 - a1);
			a0 = a2;
			ia += 2;
		}
	}
}

int t4_encode(const t4_opts *o, const codec_page *pg, buf *out)
{
	uint32_t width = pg->width;
	uint32_t *c1 = xmalloc(((size_t)width + 8) * sizeof(uint32_t));
	uint32_t *c2 = xmalloc(((size_t)width + 8) * sizeof(uint32_t));
	uint32_t *cur = c1, *ref = c2, *t;
	size_t start = out->len, room = (size_t)width * 4 + 64;
	int k = o->k > 0 ? o->k : t4_default_k(pg->yres), rc = 0;
	int mmr = o->coding == T4_MMR, mr = o->coding == T4_MR;
	bitw w = { 0, 0, NULL };

	for (uint32_t i = 0; i < 3; i++)
		ref[i] = width;				/* MMR: imaginary white line */
	for (uint32_t y = 0; y < pg->height; y++) {
		size_t off;
		int one_d = !mmr && (!mr || y % (uint32_t)k == 0);

		/* Whole bytes written so far become part of out (buf_reserve keeps only len). */
		off = w.p ? (size_t)(w.p - (uint8_t *)out->data) : out->len;
		out->len = off;
		if (buf_reserve(out, room) < 0) {
			rc = -1;
			break;
		}
		w.p = (uint8_t *)out->data + off;
		row_changes(page_row(pg, y), width, cur, 3);
		if (!mmr) {
			if (o->eol_align)
				put_align(&w, (uint8_t *)out->data + start, mr ? 13 : 12);
			if (mr)
				put_bits(&w, 0x2 | (uint32_t)one_d, 13);
			else
				put_bits(&w, 0x1, 12);
		}
		if (one_d) {
			size_t n = 0;
			while (cur[n] < width)
				n++;
			enc_1d(&w, cur, n, width);
		} else {
			enc_2d(&w, cur, ref, width);
		}
		t = cur;
		cur = ref;
		ref = t;
	}
	if (rc == 0) {
		size_t off = w.p ? (size_t)(w.p - (uint8_t *)out->data) : out->len;
		out->len = off;
		if (buf_reserve(out, 64) < 0) {
			rc = -1;
		} else {
			w.p = (uint8_t *)out->data + off;
			if (mmr && o->rtc) {
				put_bits(&w, 0x1, 12);
				put_bits(&w, 0x1, 12);
			} else if (o->rtc && !o->eol_align) {
				for (int i = 0; i < 6; i++)
					put_bits(&w, mr ? 0x3 : 0x1, mr ? 13 : 12);
			}
			put_flush(&w);
			out->len = (size_t)(w.p - (uint8_t *)out->data);
			out->data[out->len] = 0;
			if (o->fill_lsb)
				t4_reverse_bytes((uint8_t *)out->data + start, out->len - start);
		}
	}
	free(c1);
	free(c2);
	if (rc < 0)
		buf_truncate(out, start);
	return rc;
}
