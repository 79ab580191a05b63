/*
 * job.h - one conversion job: input parts in, one TIFF-FX file out (what codecd and
 * `faxpost convert` run).
 *
 * Contract: codec_convert() reads each part by its MIME type (image/tiff, image/tiff-fx,
 * application/pdf, text/plain, image/png, image/jpeg; a NULL or
 * application/octet-stream type is sniffed from the data), chooses the output form for
 * the receiver's expression (codec_choose; NULL caps = no capability information), brings
 * every page to it and writes one TIFF-FX file into out. The result carries an enhanced
 * status: 2.0.0; 5.6.1 for a media type we cannot read; 5.6.3 when no form we can make is
 * acceptable (RFC 4141); 5.6.5 when a part is damaged or too large to convert.
 */
#ifndef FAXPOST_CODEC_JOB_H
#define FAXPOST_CODEC_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "codec/choose.h"
#include "mail/featureset.h"
#include "util/buf.h"

typedef struct codec_input {
	const uint8_t *data;
	size_t len;
	const char *type;	/* MIME type or NULL */
} codec_input;

typedef struct codec_result {
	char status[16];
	char reason[256];
	size_t pages;
	codec_target target;
} codec_result;

#define CODEC_MAX_PARTS 8

int codec_convert(const codec_input *in, size_t nin, const fs_expr *caps, unsigned max_pages,
		  buf *out, codec_result *res);
/*
 * The Content-Features of a TIFF document (standards digest 3.4): one conjunction of
 * tag=value from its first page and the file's coding and layout, e.g. "(& (image-file-
 * structure=TIFF-minimal) (MRC-mode=0) (color=Binary) (image-coding=MH) (dpi=204)
 * (dpi-xyratio=51/49) (size-x=2150/254) (paper-size=A4))". With fs_match() against a
 * receiver's expression it tells whether a document can go as it is.
 */
int codec_features(const uint8_t *data, size_t len, buf *out, char *err, size_t errlen);

/* The MIME type of data by its first bytes ("image/tiff", "application/pdf", ...). */
const char *codec_sniff(const uint8_t *data, size_t len);

#endif
