/*
 * choose.c - pick the output form for a receiver's feature expression (see choose.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec/choose.h"

typedef struct res_pair {
	unsigned x, y;
} res_pair;

static const res_pair resolutions[] = {
	{ 204, 98 }, { 200, 100 }, { 204, 196 }, { 200, 200 }, { 204, 391 },
	{ 300, 300 }, { 400, 400 }, { 408, 391 },
};
#define NRES (sizeof(resolutions) / sizeof(resolutions[0]))

static const char *const paper_names[3][3] = {
	{ "A4", "letter", "legal" }, { "B4", NULL, NULL }, { "A3", NULL, NULL },
};

/* Nominal T.4 scan widths in mm: 215, 255, 303. */
static const unsigned paper_mm[3] = { 215, 255, 303 };

codec_paper codec_paper_of(uint32_t width, unsigned xres)
{
	double in = (double)width / (xres ? xres : 204);

	return in <= 9.3 ? PAPER_A4 : in <= 11.0 ? PAPER_B4 : PAPER_A3;
}

uint32_t codec_paper_width(codec_paper p, unsigned xres)
{
	static const uint32_t w200[3] = { 1728, 2048, 2432 }, w300[3] = { 2592, 3072, 3648 },
			      w400[3] = { 3456, 4096, 4864 };

	return xres >= 400 ? w400[p] : xres >= 300 ? w300[p] : w200[p];
}

uint32_t codec_paper_rows(const char *name, unsigned yres)
{
	double in = 297 / 25.4;

	if (!strcasecmp(name, "letter"))
		in = 11;
	else if (!strcasecmp(name, "legal"))
		in = 14;
	else if (!strcasecmp(name, "B4"))
		in = 364 / 25.4;
	else if (!strcasecmp(name, "A3"))
		in = 420 / 25.4;
	return (uint32_t)(in * yres + 0.5);
}

/* Resolution class: 200/204 -> 200, 98/100 -> 100, 196 -> 200, 391/408 -> 400. */
static unsigned res_class(unsigned r)
{
	if (r >= 95 && r <= 105)
		return 100;
	if (r >= 190 && r <= 210)
		return 200;
	if (r >= 385 && r <= 415)
		return 400;
	return r;
}

/* Lower is better: resolution lost first, then resolution added, then exactness. */
static double res_score(const res_pair *c, unsigned sx, unsigned sy)
{
	double cx = res_class(c->x), cy = res_class(c->y), x = res_class(sx), y = res_class(sy);
	double loss = (cx < x ? (x - cx) / x : 0) + (cy < y ? (y - cy) / y : 0);
	double gain = (cx > x ? (cx - x) / x : 0) + (cy > y ? (cy - y) / y : 0);
	int exact = c->x == sx && c->y == sy;

	return loss * 1000 + gain * 10 + (exact ? 0 : 1);
}

static unsigned gcd_u(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;
		a = b;
		b = t;
	}
	return a ? a : 1;
}

int choose_describe(const codec_target *t, buf *out)
{
	unsigned g = gcd_u(t->xres, t->yres);
	const char *coding = t->profile == TIFF_PROFILE_J ? "JBIG" :
			     t->coding == T4_MMR ? "MMR" : t->coding == T4_MR ? "MR" : "MH";
	const char *st = t->structure ? t->structure : t->profile == TIFF_PROFILE_S ? "TIFF-minimal" : "TIFF";
	int rc = buf_printf(out, "(& (image-file-structure=%s) (MRC-mode=0) (color=Binary) (image-coding=%s)",
			    st, coding);

	if (t->profile == TIFF_PROFILE_J)
		rc |= buf_append_str(out, " (image-coding-constraint=JBIG-T85) (JBIG-stripe-size=128)");
	rc |= buf_printf(out, " (dpi=%u) (dpi-xyratio=%u/%u) (size-x=%u/254) (paper-size=%s))",
			 t->xres, t->xres / g, t->yres / g, paper_mm[t->paper] * 10, t->paper_name);
	return rc ? -1 : 0;
}

static int accepts(const fs_expr *caps, const codec_target *t)
{
	buf b;
	char err[128];
	fs_expr *doc;
	int r = 0;

	if (!caps)
		return 1;
	buf_init(&b, 1024);
	if (choose_describe(t, &b) == 0 && (doc = fs_parse(b.data, b.len, err, sizeof(err))) != NULL) {
		r = fs_match(caps, doc);
		fs_free(doc);
	}
	buf_free(&b);
	return r;
}

/* Papers in order of preference for a source class: same, smaller ones, larger ones. */
static int paper_order(codec_paper src, codec_paper *order)
{
	int n = 0;

	order[n++] = src;
	for (int p = (int)src - 1; p >= 0; p--)
		order[n++] = (codec_paper)p;
	for (int p = (int)src + 1; p <= PAPER_A3; p++)
		order[n++] = (codec_paper)p;
	return n;
}

/* Resolutions sorted by score for the source. */
static void res_order(unsigned sx, unsigned sy, const res_pair **order)
{
	for (size_t i = 0; i < NRES; i++)
		order[i] = &resolutions[i];
	for (size_t i = 1; i < NRES; i++)
		for (size_t j = i; j > 0 && res_score(order[j], sx, sy) < res_score(order[j - 1], sx, sy); j--) {
			const res_pair *t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
}

static const char *const structures[4][5] = {
	{ NULL },
	{ "TIFF-minimal", "TIFF-S", NULL },				/* S */
	{ "TIFF", "TIFF-limited", "TIFF-F", "TIFF-minimal", NULL },	/* F */
	{ "TIFF", "TIFF-limited", "TIFF-J", NULL },			/* J */
};

static int try_form(const fs_expr *caps, tiff_profile prof, t4_coding coding, const res_pair **ro,
		    const codec_paper *po, int np, codec_target *out)
{
	for (size_t r = 0; r < NRES; r++) {
		for (int p = 0; p < np; p++) {
			for (int n = 0; n < 3 && paper_names[po[p]][n]; n++) {
				for (int s = 0; structures[prof][s]; s++) {
					codec_target t = { prof, coding, ro[r]->x, ro[r]->y,
							   codec_paper_width(po[p], ro[r]->x), po[p],
							   paper_names[po[p]][n], structures[prof][s] };
					if (!tiff_combo_ok(prof, t.xres, t.yres, t.width))
						break;
					/* TIFF-minimal from F: only for what S cannot say (MR,
					 * MMR); MH there is profile S itself. */
					if (!strcmp(t.structure, "TIFF-minimal") && prof == TIFF_PROFILE_F &&
					    (t.width != 1728 || coding == T4_MH || t.yres == 391))
						continue;
					if (accepts(caps, &t)) {
						*out = t;
						return 1;
					}
				}
			}
		}
	}
	return 0;
}

int codec_choose(const fs_expr *caps, unsigned sx, unsigned sy, uint32_t sw, codec_target *out,
		 char *status, size_t statuslen, char *reason, size_t reasonlen)
{
	static const struct { tiff_profile p; t4_coding c; } forms[] = {
		{ TIFF_PROFILE_J, 0 }, { TIFF_PROFILE_F, T4_MMR }, { TIFF_PROFILE_F, T4_MR },
		{ TIFF_PROFILE_F, T4_MH }, { TIFF_PROFILE_S, T4_MH },
	};
	const res_pair *ro[NRES];
	codec_paper po[3];
	int np = paper_order(codec_paper_of(sw, sx), po);

	res_order(sx, sy, ro);
	for (size_t f = caps ? 0 : 1; f < sizeof(forms) / sizeof(forms[0]); f++) {
		if (try_form(caps, forms[f].p, forms[f].c, ro, po, np, out)) {
			snprintf(status, statuslen, "2.0.0");
			snprintf(reason, reasonlen, "converted");
			return 0;
		}
	}
	snprintf(status, statuslen, "5.6.3");
	snprintf(reason, reasonlen, "conversion required but not supported: no TIFF-FX form we "
		 "can produce matches the recipient's capabilities");
	return -1;
}
