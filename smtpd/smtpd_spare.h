/*
 * smtpd_spare.h - queue files created ahead of need, on a thread.
 *
 * Contract: creating a file can be slow (on ext4 without a journal, inode allocation
 * scans for recently deleted inodes: measured at half of smtpd's CPU after mass
 * deletions), and the event loop must not wait for it. A thread keeps up to n open,
 * empty queue files (qw_create) ready; spare_take() hands one out at once, or makes
 * one itself when the pool is empty. Files older than SPARE_MAX_AGE are replaced, so
 * none lingers in tmp/ long enough to look stale to qmgr's recovery. spare_drain()
 * removes the unused ones at exit.
 */
#ifndef FAXPOST_SMTPD_SPARE_H
#define FAXPOST_SMTPD_SPARE_H

#include <stddef.h>

#include "mail/queue.h"

#define SPARE_MAX_AGE 60	/* seconds */

void spare_start(const char *queue_dir, int n);
qwriter *spare_take(char *err, size_t errlen);
void spare_drain(void);

#endif
