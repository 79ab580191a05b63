/*
 * client.h - ask codecd for a conversion (for smtp, qmgr, faxd and `faxpost convert`).
 *
 * Contract: codecd_convert() connects to the codecd socket (an absolute path, usually
 * queue_directory/private/codecd), sends one IPC_CONVERT with the input descriptors and
 * the output descriptor (they stay the caller's), and waits at most timeout_ms for the
 * reply. It fills res from the reply: status ("2.0.0", "5.6.1", "5.6.3", "5.6.5",
 * "5.5.4", or "4.3.0" when codecd cannot be reached or does not answer - a temporary
 * failure), reason, pages, target profile/coding/resolution/width/paper. Returns 0 when
 * a reply came (whatever its status), -1 otherwise (res says 4.3.0 and why).
 */
#ifndef FAXPOST_CODEC_CLIENT_H
#define FAXPOST_CODEC_CLIENT_H

#include <stddef.h>

#include "codec/job.h"

int codecd_convert(const char *socket_path, const int *in_fds, const char *const *types,
		   size_t nin, int out_fd, const char *target, int timeout_ms, codec_result *res);

#endif
