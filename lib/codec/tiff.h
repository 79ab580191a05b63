/*
 * tiff.h - TIFF-FX files (RFC 3949): read any bilevel TIFF, write profiles S, F and J.
 *
 * Reading: any TIFF libtiff reads, every page (IFD) in order, any number of strips,
 * either FillOrder, MinIsWhite or MinIsBlack; CCITT strips (Compression 2/3/4) go through
 * our coder, T.85 strips (Compression 9) through jbig85, anything else through libtiff
 * (grey or colour pages are thresholded). Limits: CODEC_MAX_PAGES pages, the page limits
 * of page.h, strip sizes within the file; libtiff's own checks catch IFD loops. Errors
 * are a one-line reason, never a crash.
 *
 * Writing (our own writer, because profile S fixes the layout libtiff cannot produce):
 * "II", first IFD at offset 8, per page the IFD (tags ascending), its values, then its one
 * strip, pages in order; NewSubfileType 2, PageNumber (n, total), ResolutionUnit inch,
 * Photometric 0, one strip per page, T4Options (Compression 3) or T6Options 0 (4).
 * Profile S: MH, FillOrder 2, width 1728, 200/204 x 98/100/196/200 - else an error.
 * Profiles F and J: the resolution/width pairs of RFC 3949 section 4.4 - else an error.
 */
#ifndef FAXPOST_CODEC_TIFF_H
#define FAXPOST_CODEC_TIFF_H

#include <stddef.h>
#include <stdint.h>

#include "codec/page.h"
#include "codec/t4.h"
#include "util/buf.h"

typedef enum { TIFF_PROFILE_S = 1, TIFF_PROFILE_F = 2, TIFF_PROFILE_J = 3 } tiff_profile;

typedef struct tiff_wopts {
	tiff_profile profile;
	t4_coding coding;	/* F: MH, MR or MMR; S: MH; J: ignored */
	int fill_order;		/* 1 or 2 (S: 2; J: 1) */
	int eol_align;		/* T4Options bit 2 */
	int k;			/* MR: 0 = T.4 default */
} tiff_wopts;

/* What the source file used (first page), for capability matching. */
typedef struct tiff_src {
	int compression;	/* TIFF Compression of the first page */
	t4_coding coding;	/* 0 when not CCITT */
	int jbig;		/* Compression 9 */
	int fill_order;
	int profile_s;		/* every profile-S rule holds (RFC 3949 4.3) */
} tiff_src;

#define TIFF_READ_LIBTIFF 1	/* decode CCITT with libtiff (the reference), not ours */

int tiff_read(const uint8_t *data, size_t len, int flags, codec_doc *doc, tiff_src *src,
	      char *err, size_t errlen);
int tiff_write(const codec_doc *doc, const tiff_wopts *o, buf *out, char *err, size_t errlen);

/* Is (xres, yres, width) a legal profile F/J combination?  S is stricter. */
int tiff_combo_ok(tiff_profile p, unsigned xres, unsigned yres, uint32_t width);
/* Snap a resolution read from a file to the fax value it stands for. */
unsigned tiff_snap_xres(double dpi);
unsigned tiff_snap_yres(double dpi);

#endif
