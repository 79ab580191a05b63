/*
 * hwd.h - what the parts of hwd offer each other.
 *
 * scan_request(): IPC_SCAN_REQUEST -> a page (or pages) from the scanner, queued as a
 * MIME message; replies IPC_SCAN_REPLY. print_request(): IPC_PRINT_REQUEST -> the
 * spool folder or CUPS; replies IPC_PRINT_REPLY. Both answer on fd and return.
 */
#ifndef FAXPOST_HWD_HWD_H
#define FAXPOST_HWD_HWD_H

#include <stddef.h>
#include <stdint.h>

#include "mail/ipc.h"

#define FAX_WIDTH 1728		/* pels per row on every fax page */

void scan_request(int fd, const ipc_msg *q);
void print_request(int fd, const ipc_msg *q);
/* print.c: one document (fd, read from offset 0) to hw_print_backend. 0 ok; -1 with err
 * (temporary trouble); -2 an unsupported type. */
int print_document(int doc, const char *type, const char *title, const char *qid, char *job,
		   size_t joblen, char *err, size_t errlen);
/* printjob.c: the print delivery agent (master.cf service "print" running hwd):
 * IPC_DELIVER -> the printable MIME parts of the message -> print_document(). */
void printjob_serve(int fd);

/* scanpage.c: a bilevel page being assembled (rows of FAX_WIDTH pels, 1 = black). */
typedef struct scan_page {
	unsigned char *data;
	size_t rows, cap;
	int xres, yres;
} scan_page;

/* Append one row of src_pels pels (1 = black, MSB first), centred: padded with white
 * or cut to FAX_WIDTH. -1 when out of memory limits. */
int scanpage_add_row(scan_page *p, const unsigned char *row, size_t src_pels);
void scanpage_free(scan_page *p);
/* Write pages as one multi-page TIFF (MMR) to path. */
int scanpage_write_tiff(const char *path, scan_page *pages, size_t n, char *err, size_t errlen);

#endif
