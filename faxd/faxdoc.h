/*
 * faxdoc.h - pages for the T.30 engine: TIFF in (sending), TIFF-F out (receiving).
 *
 * Contract: sending, a faxdoc_tx opens a multi-page bilevel TIFF (any compression
 * libtiff decodes) and gives each page coded as the DCS says (MH/MR/MMR, fine or
 * standard, LSB first; MH/MR with an EOL before every row and RTC at the end, MMR with
 * EOFB; JBIG as one T.85 BIE): the page is decoded and encoded again, so the data always
 * matches the DCS.
 * Pages must be 1728, 2048 or 2432 pels wide (codecd makes them so).
 * Receiving, a faxdoc_rx appends each confirmed page to a TIFF-F file exactly as it
 * came off the line (no re-encoding): Compression 3 (T4Options 2-D bit for MR), 4, or
 * 9 (T.85, TIFF-FX profile J),
 * FillOrder 2, one strip, 204 dpi across and 98/196 lpi, BadFaxLines/CleanFaxData for
 * non-ECM pages. faxdoc_check() counts the rows and bad rows of received data.
 */
#ifndef FAXPOST_FAXD_FAXDOC_H
#define FAXPOST_FAXD_FAXDOC_H

#include "t30.h"

typedef struct faxdoc_tx faxdoc_tx;
typedef struct faxdoc_rx faxdoc_rx;

faxdoc_tx *faxdoc_tx_open(const char *path, char *err, size_t errlen);
faxdoc_tx *faxdoc_tx_fdopen(int fd, char *err, size_t errlen);
void faxdoc_tx_close(faxdoc_tx *d);
/* Draw a header line on every page sent: header with %P %T %I %D (fax_header). */
void faxdoc_tx_set_header(faxdoc_tx *d, const char *header, const char *ident);
/* Fill the sending part of a t30_doc (npages, codings, fine, width, get_page). */
void faxdoc_tx_bind(faxdoc_tx *d, t30_doc *doc);

faxdoc_rx *faxdoc_rx_open(const char *path, const char *remote_id, char *err, size_t errlen);
int faxdoc_rx_close(faxdoc_rx *d);	/* -1 if writing failed */
int faxdoc_rx_pages(const faxdoc_rx *d);
/* Fill the receiving part of a t30_doc (check_page, put_page). */
void faxdoc_rx_bind(faxdoc_rx *d, t30_doc *doc);

/* Rows and bad rows of coded data; returns 0 if the data decodes well enough. */
int faxdoc_check(const t30_params *p, const uint8_t *data, size_t len, int *rows, int *bad);

#endif
