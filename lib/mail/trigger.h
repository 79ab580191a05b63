/*
 * trigger.h - the receiving side of the qmgr wake-up socket (queue_trigger() sends).
 *
 * Contract: trigger_listen() binds a UNIX datagram socket at queue_dir/public/qmgr
 * (a stale socket file is replaced), non-blocking and close-on-exec, mode 0622 so
 * that local producers may write; it returns the fd or -1 with err set.
 * trigger_read() takes one pending datagram without blocking: 1 with *what set to a
 * known request (TRIGGER_NEW, TRIGGER_FLUSH, TRIGGER_SCAN), 0 when none is pending,
 * -1 on a socket error. Unknown or empty datagrams are dropped silently (anyone
 * local can write there). qmgr should drain it (loop until 0) and merge duplicates.
 */
#ifndef FAXPOST_MAIL_TRIGGER_H
#define FAXPOST_MAIL_TRIGGER_H

#include <stddef.h>

#define TRIGGER_SOCKET	"public/qmgr"

int trigger_listen(const char *queue_dir, char *err, size_t errlen);
int trigger_read(int fd, char *what);

#endif
