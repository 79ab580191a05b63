/*
 * queue_rec.h - internal to lib/mail/queue*.c: the on-disk record layout of a queue
 * file and the queue-ID helpers. Not for other parts (use queue.h / queue_scan.h).
 *
 * A queue file is a sequence of records: 1 type byte, 4-byte big-endian length, data.
 *   'V' "FXQ1"                  first record, format version
 *   'T' int64 BE                arrival time in microseconds
 *   'S' sender                  ("" = null sender)
 *   'O' 'c' 'a' 'h' 'p' 'u' 'i' origin, client name, client addr, helo, protocol,
 *                               auth user, DSN ENVID (optional, at most once each)
 *   'F' ret, body_8bit          two bytes (optional)
 *   'X' name NUL value          extension attribute (any number)
 *   'R' status notify addr NUL orcpt   recipient; status 'P' pending / 'D' done,
 *                               notify = DSN_NOTIFY_* bits (at least one R)
 *   'M' content                 the message as received (exactly one)
 *   'E' (empty)                 end record; must be the last 5 bytes of the file
 * See docs/queue.md for the reasons.
 */
#ifndef FAXPOST_MAIL_QUEUE_REC_H
#define FAXPOST_MAIL_QUEUE_REC_H

#include <stdint.h>
#include <sys/types.h>

#define QREC_HDR	5
#define QREC_MAGIC	"FXQ1"
#define QREC_MAGIC_LEN	4

#define QR_VERSION	'V'
#define QR_TIME		'T'
#define QR_SENDER	'S'
#define QR_ORIGIN	'O'
#define QR_CLIENT_NAME	'c'
#define QR_CLIENT_ADDR	'a'
#define QR_HELO		'h'
#define QR_PROTOCOL	'p'
#define QR_AUTH_USER	'u'
#define QR_ENVID	'i'
#define QR_FLAGS	'F'
#define QR_ATTR		'X'
#define QR_RCPT		'R'
#define QR_CONTENT	'M'
#define QR_END		'E'

#define QRCPT_PENDING	'P'
#define QRCPT_DONE	'D'

static inline void qrec_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t qrec_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* queue_id.c: a host-wide strictly increasing microsecond stamp (shared through
 * queue_dir/tmp/.idclock), its 10-character base-36 form, and the full ID. */
uint64_t queue_id_stamp(const char *queue_dir);
void queue_id_format(char *id, uint64_t stamp, ino_t ino);	/* id: 13 bytes */
void queue_id_stamp_name(char *name, uint64_t stamp);		/* name: 11 bytes */

/* queue.c: rename that never overwrites (renameat2 NOREPLACE, else link+unlink). */
int queue_rename_noreplace(const char *from, const char *to);

#endif
