/*
 * queue_recycle.h - reuse the inodes of finished queue files for new ones.
 *
 * Why: on ext4 without a journal (this project's test VMs) every file creation skips,
 * one by one, each inode of its group deleted in the last 60-360 seconds; under a
 * steady flow of mail (qmgr removing what it delivered, smtpd creating) a creation
 * then costs 0.3-1.2 ms of CPU with the tmp/ folder locked, which capped smtpd's
 * accept rate (docs/queue.md, "Recycled queue files"). A file that is emptied and
 * renamed into free/ instead of unlinked frees no inode, and a producer that renames
 * it back into tmp/ allocates none.
 *
 * Contract:
 *  - queue_recycle_put() removes the file at path (a queue file of queue_dir, or an
 *    unpublished tmp/ file): it is renamed to a private name in free/ (so the removal
 *    is one atomic step, as unlink was), emptied there, and renamed to a slot name
 *    (or unlinked when the pool is full, or when the file has a second name). A
 *    producer never sees old content. Returns 0 when path is gone, or -1 with errno
 *    (ENOENT: no such file; anything else: the caller unlinks instead - no free/
 *    folder, another file system). Never blocks on other processes.
 *  - queue_recycle_recover() removes private names left by a crash (older than
 *    max_age seconds).
 *  - queue_recycle_take() renames one free/ file to dst (a tmp/ path, never
 *    overwritten) and returns it opened O_RDWR, empty, mtime now; -1 when the pool
 *    is empty or unusable (the caller creates a file as before). Safe from threads
 *    and from many processes at once (the rename decides who gets a file).
 *  - The pool holds at most QUEUE_FREE_SLOTS files: empty files cost one inode each
 *    and no data blocks.
 */
#ifndef FAXPOST_MAIL_QUEUE_RECYCLE_H
#define FAXPOST_MAIL_QUEUE_RECYCLE_H

#define Q_FREE "free"
#define QUEUE_FREE_SLOTS 16384
#define QUEUE_FREE_HOLD_PREFIX ".r"

int queue_recycle_put(const char *queue_dir, const char *path);
int queue_recycle_take(const char *queue_dir, const char *dst);
void queue_recycle_recover(const char *queue_dir, int max_age);

#endif
