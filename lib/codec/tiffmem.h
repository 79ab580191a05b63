/*
 * tiffmem.h - libtiff on memory buffers (for reading untrusted files without a path,
 * for the tests and the benchmark).
 *
 * Contract: tiffmem_open_read() opens `len` bytes read-only ("rm": no mmap tricks) with
 * libtiff's single allocation capped at CODEC_TIFF_MAX_ALLOC; libtiff's errors land in
 * m->err (first one kept), warnings are dropped. tiffmem_open_write() makes a TIFF whose
 * bytes end up in `out` when TIFFClose() is called. The tiffmem must outlive the TIFF.
 */
#ifndef FAXPOST_CODEC_TIFFMEM_H
#define FAXPOST_CODEC_TIFFMEM_H

#include <stddef.h>
#include <stdint.h>
#include <tiffio.h>

#include "util/buf.h"

#define CODEC_TIFF_MAX_ALLOC (64 * 1024 * 1024)

typedef struct tiffmem {
	const uint8_t *data;	/* read */
	buf *out;		/* write */
	size_t len, pos;
	char err[256];
} tiffmem;

TIFF *tiffmem_open_read(tiffmem *m, const uint8_t *data, size_t len);
TIFF *tiffmem_open_write(tiffmem *m, buf *out);

#endif
