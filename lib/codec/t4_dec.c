/*
 * t4_dec.c - T.4 MH/MR and T.6 MMR decoder (see t4.h for the contract).
 *
 * Bits come through a 64-bit left-aligned buffer refilled with one unaligned 8-byte load.
 * Runs are decoded by one lookup per code in direct tables (12 bits white, 13 bits black,
 * entries run << 4 | length), 2-D modes by a 7-bit table whose V and P entries drive one
 * branch-free path (see dec_2d); each line becomes a list of changing elements, rows are
 * painted word by word. Every loop consumes bits or moves a0 right, and
 * the line ends once a0 reaches the width, so the work is bounded by the input size
 * and the row count. Past the end of the data the reader supplies zeros and counts them,
 * which lets the line code stay branch-light and detect truncation once per line.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/t4.h"
#include "util/msg.h"

#define WBITS 12
#define BBITS 13
#define MBITS 7

static uint16_t white_tab[1 << WBITS], black_tab[1 << BBITS];
/* Two terminating codes at once (colour c then the other) when both fit in PBITS bits:
 * r1 << 10 | r2 << 4 | total length; 0 = not covered. Short run pairs are what
 * halftones and the horizontal mode are made of. */
#define PBITS 12
static uint16_t pair_tab[2][1 << PBITS];

/* 2-D mode codes, 7 bits at a time. V(d) and P share one path: a1 = ref[jb + off] + d,
 * the change list grows by ninc, jb moves by jd (then the search goes on from there). */
enum { K_VP, K_V0RUN, K_H, K_BAD };
typedef struct mode_ent {
	uint8_t len, kind, off, ninc;
	int8_t d, jd;
	uint8_t pad_[2];
} mode_ent;
static mode_ent mode_tab2[1 << MBITS];

static void tab_fill(uint16_t *tab, int bits, const t4_code *c, uint32_t run)
{
	uint32_t shift = (uint32_t)bits - c->len, base = c->code << shift;

	for (uint32_t s = 0; s < (1u << shift); s++)
		tab[base + s] = (uint16_t)(run << 4 | c->len);
}

static void mode_fill(uint32_t code, unsigned len, mode_ent m)
{
	uint32_t shift = MBITS - len, base = code << shift;

	m.len = (uint8_t)len;
	for (uint32_t s = 0; s < (1u << shift); s++)
		mode_tab2[base + s] = m;
}

static void vmode_fill(uint32_t code, unsigned len, int d)
{
	mode_ent m = { 0, K_VP, 0, 1, (int8_t)d, (int8_t)(d < 0 ? -1 : 1), { 0, 0 } };

	mode_fill(code, len, m);
}

static void pair_fill(void)
{
	for (int c = 0; c < 2; c++) {
		const t4_code *first = c ? t4_black_term : t4_white_term;
		const t4_code *second = c ? t4_white_term : t4_black_term;
		for (uint32_t r1 = 0; r1 < 64; r1++) {
			for (uint32_t r2 = 0; r2 < 64; r2++) {
				unsigned len = first[r1].len + second[r2].len;
				uint32_t code, shift;
				if (len > PBITS)
					continue;
				code = first[r1].code << second[r2].len | second[r2].code;
				shift = PBITS - len;
				for (uint32_t s = 0; s < (1u << shift); s++)
					pair_tab[c][(code << shift) + s] = (uint16_t)(r1 << 10 | r2 << 4 | len);
			}
		}
	}
}

__attribute__((constructor)) static void t4_dec_init(void)
{
	pair_fill();
	for (uint32_t r = 0; r < 64; r++) {
		tab_fill(white_tab, WBITS, &t4_white_term[r], r);
		tab_fill(black_tab, BBITS, &t4_black_term[r], r);
	}
	for (uint32_t i = 0; i < 40; i++) {
		tab_fill(white_tab, WBITS, &t4_white_makeup[i], 64 * (i + 1));
		tab_fill(black_tab, BBITS, &t4_black_makeup[i], 64 * (i + 1));
	}
	for (uint32_t i = 0; i < (1u << MBITS); i++)
		mode_tab2[i] = (mode_ent){ 1, K_BAD, 0, 0, 0, 0, { 0, 0 } };
	vmode_fill(0x1, 1, 0);
	/* Four V0 or more start a run: rare on dithered photos, where a branch taken
	 * for shorter runs was mispredicted, common on halftones and large type. */
	for (uint32_t i = 15u << (MBITS - 4); i < (1u << MBITS); i++)
		mode_tab2[i].kind = K_V0RUN;
	vmode_fill(0x3, 3, 1);
	vmode_fill(0x2, 3, -1);
	mode_fill(0x1, 3, (mode_ent){ 0, K_H, 0, 0, 0, 0, { 0, 0 } });
	mode_fill(0x1, 4, (mode_ent){ 0, K_VP, 1, 0, 0, 2, { 0, 0 } });	/* P */
	vmode_fill(0x3, 6, 2);
	vmode_fill(0x2, 6, -2);
	vmode_fill(0x3, 7, 3);
	vmode_fill(0x2, 7, -3);
}

typedef struct bitr {
	const uint8_t *p, *end, *start;
	uint64_t bits;		/* next bit in the MSB; bits past n are 0 or future data */
	int n;
	size_t pad;		/* zero bits supplied past the end */
} bitr;

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static inline void br_fill(bitr *b)
{
	if (b->end - b->p >= 8) {
		int take = (63 - b->n) >> 3;
		b->bits |= load_be64(b->p) >> b->n;
		b->p += take;
		b->n += take * 8;
		return;
	}
	while (b->n <= 56) {
		if (b->p < b->end)
			b->bits |= (uint64_t)*b->p++ << (56 - b->n);
		else
			b->pad += 8;
		b->n += 8;
	}
}

/* Refill on every code, without a branch on the bit count (that branch was mispredicted
 * on photo pages): at least 56 bits valid afterwards. */
static inline void br_refill(bitr *b)
{
	if (__builtin_expect(b->end - b->p >= 8, 1)) {
		b->bits |= load_be64(b->p) >> b->n;
		b->p += (63 - b->n) >> 3;
		b->n |= 56;
	} else {
		br_fill(b);
	}
}

static inline void br_skip(bitr *b, unsigned k)
{
	b->bits <<= k;
	b->n -= (int)k;
}

/* br_skip for counts that may reach 64 (EOL and fill scanning, off the hot path). */
static inline void br_skip_far(bitr *b, unsigned k)
{
	b->bits = k >= 64 ? 0 : b->bits << k;
	b->n -= (int)k;
}

/* Bits consumed beyond the data? */
static inline int br_overrun(const bitr *b)
{
	return (size_t)b->n < b->pad;
}

/* Bits left in the data (not counting the zeros supplied past the end). */
static inline size_t br_left(const bitr *b)
{
	return (size_t)(b->end - b->p) * 8 + (size_t)b->n - (b->pad < (size_t)b->n ? b->pad : (size_t)b->n);
}

/* One run of a colour: make-up codes then a terminating code; -1 on a bad code.
 * The table is picked by index, not by a branch: colours alternate unpredictably. */
static const uint16_t *const run_tabs[2] = { white_tab, black_tab };
static const unsigned run_shift[2] = { 64 - WBITS, 64 - BBITS };

static inline int64_t dec_run(bitr *b, int color, uint32_t limit)
{
	const uint16_t *tab = run_tabs[color];
	unsigned shift = run_shift[color];
	uint32_t total = 0;

	for (;;) {
		uint16_t e;
		unsigned len;
		if (b->n < 16)
			br_fill(b);
		e = tab[b->bits >> shift];
		len = e & 15;
		if (__builtin_expect(!len, 0))
			return -1;
		br_skip(b, len);
		total += e >> 4;
		if (__builtin_expect((e >> 4) < 64, 1))
			return total;
		if (total > limit)
			return -1;
	}
}

static int dec_1d(bitr *bp, uint32_t *cur, size_t *nout, uint32_t width)
{
	bitr lb = *bp, *b = &lb;	/* a local copy stays in registers */
	uint32_t pos = 0;
	size_t n = 0;
	int color = 0;

	while (pos < width) {
		int64_t r;
		if (__builtin_expect(n > 2 * (size_t)width, 0)) {
			*bp = lb;
			return -1;	/* zero-length runs that never end the line */
		}
		if (color == 0) {
			/* A white and a black run in one lookup, unless the line ends between. */
			uint16_t e;
			if (b->n < 16)
				br_fill(b);
			e = pair_tab[0][b->bits >> (64 - PBITS)];
			if (e && pos + (e >> 10) < width && pos + (e >> 10) + (e >> 4 & 63) <= width) {
				br_skip(b, e & 15);
				pos += e >> 10;
				cur[n++] = pos;
				pos += e >> 4 & 63;
				cur[n++] = pos;
				continue;
			}
		}
		r = dec_run(b, color, width);
		if (r < 0 || pos + (uint64_t)r > width) {
			*bp = lb;
			return -1;
		}
		pos += (uint32_t)r;
		cur[n++] = pos;
		color ^= 1;
	}
	*bp = lb;
	while (n && cur[n - 1] >= width)
		n--;
	*nout = n;
	return 0;
}

/*
 * One 2-D line. jb indexes b1 in the reference line: the first change right of a0 whose
 * index parity is the current colour (even = white-to-black; the colour is n & 1). It
 * only moves forward from a point known to be at or before the answer: after V(d) it
 * restarts at jb - 1 (d < 0) or jb + 1, after H at jb, after P at jb + 2; then one
 * branch-free step of 2 and a loop that rarely runs (zero-length and very short
 * reference runs). ref[-1] is 0, a change never right of a0 after a V code.
 *
 * V and P share one branch-free path (a1 = ref[jb + off] + d, n grows by 1 for V and 0
 * for P): on halftones and dithered photos the mode is unpredictable, and a mispredicted
 * branch per code cost more than all the arithmetic. Only H (and errors) leave it.
 */
static int dec_2d(bitr *bp, const uint32_t *ref, uint32_t *cur, size_t *nout, uint32_t width)
{
	bitr lb = *bp, *b = &lb;	/* a local copy stays in registers */
	int rc = 0;
	int32_t a0 = -1, w = (int32_t)width;	/* width <= CODEC_MAX_WIDTH */
	ptrdiff_t jb = 0;
	size_t n = 0;

	for (;;) {
		br_refill(b);
		/* 8 V/P codes of at most 7 bits fit in the 56 bits a refill leaves, so the
		 * refill is not on every code's dependency chain. H and V0 runs refill
		 * themselves and set u to what is left. */
		for (int u = 0; u < 8; u++) {
			const mode_ent *m = &mode_tab2[b->bits >> (64 - MBITS)];
			int32_t a1;

			if (__builtin_expect(m->kind == K_VP, 1)) {
				br_skip(b, m->len);
				a1 = (int32_t)ref[jb + m->off] + m->d;
				if ((uint32_t)(a1 - a0 - 1) >= (uint32_t)(w - a0)) {
					rc = -1;	/* a1 <= a0 or a1 > w */
					goto out;
				}
				cur[n] = (uint32_t)a1;
				n += m->ninc;
				a0 = a1;
				jb += m->jd;
			} else if (m->kind == K_V0RUN) {
				/*
				 * A run of k V0 codes (k leading one bits) copies k reference
				 * changes, as long as each exceeds a0 (else the search runs
				 * first: zero-length runs in the reference). Clustered-dot
				 * halftones and large type are made of these.
				 */
				uint64_t inv = ~b->bits;
				int k = inv ? __builtin_clzll(inv) : 64, i = 0;
				if (k > b->n)
					k = b->n;
				if (k > 63)
					k = 63;		/* br_skip() shifts by less than 64 */
				do {
					a1 = (int32_t)ref[jb];
					if (a1 <= a0)
						break;
					cur[n++] = (uint32_t)a1;
					a0 = a1;
					jb++;
					i++;
				} while (i < k && a1 < w);
				br_skip(b, (unsigned)i);
				br_refill(b);
				u = -1;
			} else if (m->kind == K_H) {
				int32_t start = a0 < 0 ? 0 : a0;
				int64_t r1, r2;
				uint32_t pe;
				/* Before code u at least 56 - 7u bits are valid; the pair needs
				 * 15 (rarely missing: only late in the 8). */
				if (b->n < 16) {
					br_refill(b);
					u = 0;
				}
				/* The run pair after the 3-bit H code is looked up at once. */
				pe = pair_tab[n & 1][(b->bits << 3) >> (64 - PBITS)];
				br_skip(b, m->len);
				if (pe) {
					br_skip(b, pe & 15);
					r1 = pe >> 10;
					r2 = pe >> 4 & 63;
					u += 2;		/* <= 15 bits: this code and 2 more slots */
				} else {
					r1 = dec_run(b, (int)(n & 1), width);
					r2 = r1 < 0 ? -1 : dec_run(b, (int)(n & 1) ^ 1, width);
					br_refill(b);
					u = -1;
				}
				if (r1 < 0 || r2 < 0 || start + r1 + r2 > w || start + r1 + r2 <= a0) {
					rc = -1;
					goto out;
				}
				cur[n++] = (uint32_t)(start + r1);
				a0 = (int32_t)(start + r1 + r2);
				cur[n++] = (uint32_t)a0;
			} else {
				rc = -1;	/* bad code, extension (uncompressed mode), EOL */
				goto out;
			}
			if (a0 >= w)
				goto done;
			jb += ((int32_t)ref[jb] <= a0) * 2;
			while ((int32_t)ref[jb] <= a0)
				jb += 2;
		}
	}
done:
	while (n && cur[n - 1] >= width)
		n--;
	*nout = n;
out:
	*bp = lb;
	return rc;
}

/*
 * Paint a row from its changing elements, each output word written once: the pixel at x
 * is the parity of the changes at or before x, so a word is its starting colour xor'ed
 * with ~0 >> (c % 64) for each change c inside it. Words are built in host order with
 * the leftmost pixel in the MSB and stored big-endian.
 */
static inline void store_be64(uint8_t *row, size_t j, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(row + 8 * j, &v, 8);
}

static void paint(uint8_t *row, const uint32_t *cur, size_t n, uint32_t width)
{
	size_t nw = (width + 63) / 64, j = 0;
	uint64_t word = 0, color = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t c = cur[i];
		size_t cw = c >> 6;
		if (cw != j) {
			store_be64(row, j++, word);
			while (j < cw)
				store_be64(row, j++, color);
			word = color;
		}
		word ^= ~0ULL >> (c & 63);
		color = ~color;
	}
	if (width & 63 && j == nw - 1)
		word &= ~0ULL << (64 - (width & 63));
	store_be64(row, j++, word);
	if (j < nw) {
		while (j < nw - 1)
			store_be64(row, j++, color);
		store_be64(row, j, width & 63 ? color & (~0ULL << (64 - (width & 63))) : color);
	}
}

/* The valid bits of the buffer (bits past n may already hold future data). */
static inline uint64_t br_valid(const bitr *b)
{
	return b->n >= 64 ? b->bits : b->n <= 0 ? 0 : b->bits & ~(~0ULL >> b->n);
}

/* At a line start: skip fill bits and EOLs. Returns the EOLs seen, -1 at the data's end. */
static int skip_eols(bitr *b, int mr, int *tag)
{
	int eols = 0;

	for (;;) {
		uint64_t v;
		int lz;
		br_fill(b);
		v = br_valid(b);
		if (br_left(b) == 0 || (v == 0 && b->p >= b->end))
			return eols ? eols : -1;	/* only zero padding left */
		if (v == 0) {
			/* A long stretch of fill: keep 16 zeros, they may begin an EOL. */
			br_skip_far(b, (unsigned)b->n - 16);
			continue;
		}
		lz = __builtin_clzll(v);
		if (lz < 11)
			return eols;
		br_skip_far(b, (unsigned)lz + 1);
		eols++;
		if (mr) {
			br_fill(b);
			*tag = (int)(b->bits >> 63);
			br_skip(b, 1);
		}
	}
}

/* Skip to just before the next EOL (resynchronisation after a damaged line). */
static void find_eol(bitr *b)
{
	for (;;) {
		uint64_t v;
		br_fill(b);
		if (br_overrun(b) || br_left(b) == 0)
			return;
		v = br_valid(b);
		if (v == 0 || __builtin_clzll(v) >= 11)
			return;
		br_skip_far(b, (unsigned)__builtin_clzll(v) + 1);
	}
}

typedef struct dec_state {
	const t4_opts *o;
	bitr b;
	codec_page *pg;
	uint32_t width, rows_wanted, y;
	/* Change lists; [-1] is 0 (see dec_2d). A line holds at most 2 * width + 2 changes
	 * (zero-length runs: an H code adds two for one pixel of progress, dec_1d stops
	 * there), then 4 sentinels. */
	uint32_t *cur, *ref;
	uint32_t *buf0, *buf1;
	t4_result *res;
	uint32_t bad_run;
} dec_state;

static int grow(dec_state *s)
{
	uint32_t h;

	if (s->y < s->pg->height)
		return 0;
	if (s->rows_wanted || s->pg->height >= CODEC_MAX_ROWS)
		return -1;
	h = s->pg->height * 2 > CODEC_MAX_ROWS ? CODEC_MAX_ROWS : s->pg->height * 2;
	return page_set_height(s->pg, h);
}

static void finish_row(dec_state *s, size_t n, int bad)
{
	uint32_t *t;

	if (bad) {
		/* Regenerate: repeat the previous row, keep its reference line. */
		if (s->y > 0)
			memcpy(page_row(s->pg, s->y), page_row(s->pg, s->y - 1), s->pg->stride);
		else
			memset(page_row(s->pg, 0), 0, s->pg->stride);
		s->res->bad_lines++;
		if (++s->bad_run > s->res->max_bad_run)
			s->res->max_bad_run = s->bad_run;
	} else {
		paint(page_row(s->pg, s->y), s->cur, n, s->width);
		for (int i = 0; i < 4; i++)
			s->cur[n + (size_t)i] = s->width;	/* dec_2d reads up to 3 past */
		t = s->cur;
		s->cur = s->ref;
		s->ref = t;
		s->bad_run = 0;
	}
	s->y++;
}

static int decode_mmr(dec_state *s)
{
	while (!s->rows_wanted || s->y < s->rows_wanted) {
		size_t n, left;
		br_fill(&s->b);
		left = br_left(&s->b);
		if (left == 0 || (left < 8 && (s->b.bits >> (64 - left)) == 0)) {
			if (s->rows_wanted)
				return T4_ERR_DATA;
			break;				/* only padding left */
		}
		if ((s->b.bits >> 40) == 0x001001) {	/* EOFB */
			s->res->end_marker = 1;
			break;
		}
		if (grow(s) < 0)
			return T4_ERR_LIMIT;
		if (dec_2d(&s->b, s->ref, s->cur, &n, s->width) < 0 || br_overrun(&s->b))
			return T4_ERR_DATA;
		finish_row(s, n, 0);
	}
	return T4_OK;
}

static int decode_g3(dec_state *s)
{
	int mr = s->o->coding == T4_MR;

	while (!s->rows_wanted || s->y < s->rows_wanted) {
		int tag = 1, eols = skip_eols(&s->b, mr, &tag), bad;
		size_t n = 0;

		if (eols < 0)
			break;				/* the data ended */
		if (eols >= 2) {
			s->res->end_marker = 1;		/* RTC */
			break;
		}
		if (grow(s) < 0)
			return T4_ERR_LIMIT;
		if (!mr || tag)
			bad = dec_1d(&s->b, s->cur, &n, s->width) < 0;
		else
			bad = dec_2d(&s->b, s->ref, s->cur, &n, s->width) < 0;
		if (br_overrun(&s->b)) {
			if (s->y == 0)
				return T4_ERR_DATA;
			break;				/* truncated last line: dropped */
		}
		if (bad)
			find_eol(&s->b);
		finish_row(s, n, bad);
	}
	if (s->y == 0)
		return T4_ERR_DATA;
	return T4_OK;
}

static int decode_page(const t4_opts *o, const uint8_t *data, size_t len, codec_page *pg,
		       uint32_t rows, t4_result *res)
{
	dec_state s;
	uint8_t *copy = NULL;
	uint32_t width = pg->width;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	if (o->fill_lsb) {
		copy = xmalloc(len ? len : 1);
		memcpy(copy, data, len);
		t4_reverse_bytes(copy, len);
		data = copy;
	}
	s.o = o;
	s.b.p = s.b.start = data;
	s.b.end = data + len;
	s.width = width;
	s.rows_wanted = rows;
	s.res = res;
	s.pg = pg;
	s.buf0 = xcalloc(2 * (size_t)width + 16, sizeof(uint32_t));
	s.buf1 = xcalloc(2 * (size_t)width + 16, sizeof(uint32_t));
	s.cur = s.buf0 + 1;
	s.ref = s.buf1 + 1;
	for (int i = 0; i < 4; i++)
		s.ref[i] = width;
	rc = o->coding == T4_MMR ? decode_mmr(&s) : decode_g3(&s);
	res->rows = s.y;
	if (rows && s.y < rows && rc == T4_OK)
		rc = T4_ERR_DATA;		/* fewer rows than the file says */
	free(s.buf0);
	free(s.buf1);
	free(copy);
	return rc;
}

int t4_decode(const t4_opts *o, const uint8_t *data, size_t len, uint32_t width,
	      uint32_t rows, codec_page **pgp, t4_result *res)
{
	codec_page *pg = page_alloc(width, rows ? rows : 1024, 0, 0);
	int rc;

	*pgp = NULL;
	if (!pg) {
		memset(res, 0, sizeof(*res));
		return T4_ERR_LIMIT;
	}
	rc = decode_page(o, data, len, pg, rows, res);
	if (!rows || res->rows < rows)
		page_set_height(pg, res->rows ? res->rows : 1);
	if (res->rows == 0)
		pg->height = 0;
	*pgp = pg;
	return rc;
}

int t4_decode_into(const t4_opts *o, const uint8_t *data, size_t len, codec_page *pg,
		   t4_result *res)
{
	int rc = decode_page(o, data, len, pg, pg->height, res);

	/* Rows the data did not reach are left white. */
	for (uint32_t y = res->rows; y < pg->height; y++)
		memset(page_row(pg, y), 0, pg->stride);
	return rc;
}
