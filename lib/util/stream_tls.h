/*
 * stream_tls.h - extras to stream.h (lib/util, owned by the util helper).
 *
 * stream.h is the contract; these are additions that callers may use for logging and
 * policy, kept apart so stream.h stays as agreed.
 */
#ifndef FAXPOST_UTIL_STREAM_TLS_H
#define FAXPOST_UTIL_STREAM_TLS_H

#include <stddef.h>

#include "util/stream.h"

/* Bytes of plaintext that were buffered when TLS started and were thrown away
 * (the STARTTLS injection defence); 0 normally. A caller may choose to hang up. */
size_t stream_tls_discarded(const stream *s);
/* Client side: 1 when the server certificate chained to a trusted CA (and, with
 * verify=verify, matched the host name). Postfix logs "Verified"/"Trusted"/"Untrusted". */
int stream_tls_verified(const stream *s);
/* Peer certificate's subject CN into out ("" when none); returns out. */
const char *stream_tls_peer_cn(const stream *s, char *out, size_t outlen);

#endif
