/*
 * choose.h - capability matching: which TIFF-FX form to produce for a receiver.
 *
 * Contract: codec_choose() takes the source's resolution and width (first page) and the
 * receiver's RFC 2533 feature expression (RFC 2879 fax tags) and picks the best form the
 * expression accepts, trying in this order: profile J (JBIG T.85, 128-line stripes) when
 * allowed, then profile F with MMR, MR, MH, then profile S; for each, the resolutions
 * closest to the source's (no loss first, then least loss; 200/204, 98/100, 196/200,
 * 391/400 and 400/408 count as equal, as RFC 3949 says), then the paper: the source's
 * width class (A4/letter/legal 1728, B4 2048, A3 2432 at 200 dpi), else a smaller one
 * (scaled down), else a larger one (padded). A form is described by
 * choose_describe() as a conjunction of tag=value (image-file-structure, MRC-mode,
 * color, image-coding[, -constraint, JBIG-stripe-size], dpi, dpi-xyratio, size-x at the
 * nominal T.4 scan width 215/255/303 mm, paper-size) and tested with fs_match().
 * Nothing fits: -1 with status "5.6.3" (conversion required but not supported, RFC 4141).
 * Our writer lays every profile out as profile S demands (II, IFDs first, in order) and
 * F uses FillOrder 2, so F is also offered as TIFF-minimal/TIFF-limited; RFC 2879
 * Appendix B's names TIFF-S/-F/-J are tried as synonyms.
 * A NULL expression means "no capability information": profile F MMR at the source's
 * resolution class.
 */
#ifndef FAXPOST_CODEC_CHOOSE_H
#define FAXPOST_CODEC_CHOOSE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/t4.h"
#include "codec/tiff.h"
#include "mail/featureset.h"
#include "util/buf.h"

typedef enum { PAPER_A4 = 0, PAPER_B4 = 1, PAPER_A3 = 2 } codec_paper;

typedef struct codec_target {
	tiff_profile profile;
	t4_coding coding;	/* 0 for profile J */
	unsigned xres, yres;
	uint32_t width;
	codec_paper paper;
	const char *paper_name;	/* "A4", "letter", "legal", "B4", "A3" */
	const char *structure;	/* image-file-structure value that matched */
} codec_target;

int codec_choose(const fs_expr *caps, unsigned src_xres, unsigned src_yres, uint32_t src_width,
		 codec_target *out, char *status, size_t statuslen, char *reason, size_t reasonlen);
int choose_describe(const codec_target *t, buf *out);

/* Width class of a page from its physical width. */
codec_paper codec_paper_of(uint32_t width, unsigned xres);
/* Width in pixels of a paper class at a horizontal resolution. */
uint32_t codec_paper_width(codec_paper p, unsigned xres);
/* Nominal length in rows of a paper name at a vertical resolution. */
uint32_t codec_paper_rows(const char *paper_name, unsigned yres);

#endif
