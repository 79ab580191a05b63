/*
 * tiffref.h - libtiff's own CCITT coder, page by page: the reference the tests and the
 * benchmark hold lib/codec's coder against (and nothing else uses it).
 *
 * Contract: tiffref_encode() codes one page with libtiff (COMPRESSION_CCITTFAX3 with
 * t4opts, or COMPRESSION_CCITTFAX4), FillOrder `fill`, one strip, and returns the strip
 * bytes in `strip`. tiffref_decode() wraps strip bytes in a one-page TIFF and decodes them
 * with libtiff (TIFFReadEncodedStrip); NULL when libtiff reports an error.
 */
#ifndef FAXPOST_CODEC_TIFFREF_H
#define FAXPOST_CODEC_TIFFREF_H

#include <stdint.h>

#include "codec/page.h"
#include "util/buf.h"

int tiffref_encode(const codec_page *p, int compression, uint32_t t4opts, int fill, buf *strip);
codec_page *tiffref_decode(const uint8_t *strip, size_t len, uint32_t width, uint32_t height,
			   int compression, uint32_t t4opts, int fill);

#endif
