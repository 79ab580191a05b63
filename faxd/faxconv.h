/*
 * faxconv.h - turn a queued mail message into the fax document (TIFF-F) through codecd.
 *
 * Contract: faxconv_document() walks the message's MIME parts (lib/mail/mimepart.h),
 * hands every part codecd renders (text/plain, application/pdf, image/png, image/jpeg,
 * image/tiff; at most CODEC_MAX_PARTS, in message order; a text part of only white
 * space is left out) to codecd over queue_directory/private/codecd with the target
 * expression, and writes codecd's TIFF into out_fd. Returns 0, or -1 with an enhanced
 * status (5.6.1 nothing that can be faxed / bad media, 5.6.3 no conversion the receiver
 * accepts, 4.3.0 codecd unreachable: retry later) and a reason.
 */
#ifndef FAXPOST_FAXD_FAXCONV_H
#define FAXPOST_FAXD_FAXCONV_H

#include <stddef.h>

int faxconv_document(const char *msg, size_t len, int out_fd, const char *target,
		     char *status, size_t statuslen, char *reason, size_t reasonlen);

#endif
