/*
 * smtpd_tmplock.h - a sleeping lock over the queue's tmp/ folder, shared by the smtpd
 * processes.
 *
 * Contract: creating a file in tmp/ and renaming a file out of it both hold tmp/'s
 * inode lock in the kernel; on ext4 without a journal a creation holds it for the
 * whole scan past recently deleted inodes (0.1-1 ms measured), and whoever waits for
 * it (a publishing commit thread, the other process's spare thread) spins on a CPU
 * meanwhile (rwsem_spin_on_owner, 9-10% of the machine's CPU in perf). Taking this
 * flock(2) first makes those waiters sleep instead, and lets a publisher rename its
 * whole batch without a creation slipping in between two renames. Advisory only:
 * correctness never depends on it (tmplock_open failing just disables it).
 */
#ifndef FAXPOST_SMTPD_TMPLOCK_H
#define FAXPOST_SMTPD_TMPLOCK_H

/* A descriptor of its own for each thread that locks (flock locks belong to the
 * open file description); -1 when the lock file cannot be opened. */
int tmplock_open(const char *queue_dir);
void tmplock_take(int fd);
void tmplock_drop(int fd);

#endif
