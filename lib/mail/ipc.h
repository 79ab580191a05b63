/*
 * ipc.h - typed attribute messages between faxpost processes (UNIX sockets).
 *
 * Wire form: 4-byte big-endian total length, 4-byte message type, then attributes
 * (1-byte kind 'I' int64 | 'S' string | 'B' bytes, 1-byte name length, name,
 * 4-byte value length, value). File descriptors travel beside the message with
 * SCM_RIGHTS, in the same sendmsg(); their count is part of the header check.
 *
 * Contract: ipc_recv() checks every length against the declared total and the
 * caller's maximum before allocating, rejects duplicate names, non-UTF-8-free
 * strings with NUL bytes, and unknown kinds; a reader that wants an attribute that is
 * missing or of the wrong kind gets -1, never garbage. A bad message is a protocol
 * error: the receiver logs it and drops the connection.
 *
 * Convention (qmgr <-> agents): one request per connection. Request types and their
 * attribute names are listed in lib/mail/ipc_proto.h. A reply carries "status"
 * (enhanced code "2.0.0" / "4.x.x" / "5.x.x") and "reason" (text), per recipient
 * where a request had several ("status.N", "reason.N").
 */
#ifndef FAXPOST_MAIL_IPC_H
#define FAXPOST_MAIL_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAX_FDS 8
#define IPC_DEFAULT_MAX (1024 * 1024)

typedef struct ipc_msg ipc_msg;

ipc_msg *ipc_new(uint32_t type);
void ipc_free(ipc_msg *m);
uint32_t ipc_type(const ipc_msg *m);

int ipc_put_int(ipc_msg *m, const char *name, int64_t v);
int ipc_put_str(ipc_msg *m, const char *name, const char *s);
int ipc_put_bytes(ipc_msg *m, const char *name, const void *p, size_t n);
int ipc_put_fd(ipc_msg *m, int fd);	/* fd is sent, not closed */

int ipc_get_int(const ipc_msg *m, const char *name, int64_t *v);
const char *ipc_get_str(const ipc_msg *m, const char *name);	/* NULL if absent */
const void *ipc_get_bytes(const ipc_msg *m, const char *name, size_t *n);
size_t ipc_nfds(const ipc_msg *m);
int ipc_take_fd(ipc_msg *m, size_t i);	/* caller owns it afterwards; -1 if none */

/* Blocking send/receive with a timeout in milliseconds (-1 = none).
 * ipc_recv returns NULL on EOF, timeout, or a malformed message (err says which). */
int ipc_send(int sock, const ipc_msg *m, int timeout_ms);
ipc_msg *ipc_recv(int sock, size_t max_len, int timeout_ms, char *err, size_t errlen);

/* Connect to a UNIX socket queue_dir/private/NAME (or an absolute path). */
int ipc_connect(const char *path, int timeout_ms);

#endif
