/*
 * convert.h - page geometry conversions for fax: resolution, width/paper, length.
 *
 * Contract: each function returns a new page (or NULL over the page limits) and leaves
 * the source alone. Resolutions that RFC 3949 declares equivalent (200/204, 98/100,
 * 196/200, 391/400, 400/408) are relabelled, not resampled. Reductions OR the source
 * pixels under each target pixel (a one-pixel line survives 196 -> 98); enlargements
 * repeat pixels. Width: a narrower page is padded with white, centred (a 1692-pixel
 * scanner page becomes 1728 with 18 white columns each side); a page at most 1/16 wider
 * is cropped, centred; a wider one is scaled down to the width, both axes. Length: a page
 * longer than the paper's length plus 1/8 is split into several pages, nothing dropped.
 */
#ifndef FAXPOST_CODEC_CONVERT_H
#define FAXPOST_CODEC_CONVERT_H

#include "codec/choose.h"
#include "codec/page.h"

codec_page *convert_scale(const codec_page *src, uint32_t width, uint32_t height);
codec_page *convert_resolution(const codec_page *src, unsigned xres, unsigned yres);
codec_page *convert_width(const codec_page *src, uint32_t width);
/* Bring every page of doc to the target's resolution, width and length (in place). */
int convert_doc(codec_doc *doc, const codec_target *t, char *err, size_t errlen);

#endif
