/*
 * queue_id.c - queue IDs: 12 characters [0-9A-Z], sortable by creation time.
 *
 * Contract: ID = base36(stamp) in 10 characters + base36(inode % 1296) in 2, where
 * stamp is a microsecond time that is strictly increasing across every process of
 * the host using the same queue directory: the last stamp handed out lives in a small
 * shared file (queue_dir/tmp/.idclock) mapped MAP_SHARED into each process and
 * advanced with a lock-free compare-and-swap, stamp = max(now, last + 1). So two
 * writers in the same microsecond still get distinct, ordered IDs, and a clock that
 * steps back does not reorder IDs; no system call per ID after the first mapping.
 * Should the shared file be unusable (read-only tmp/, odd file system), a per-process
 * counter is used and the O_EXCL create of tmp/STAMP plus the inode part keep names
 * unique; publish never overwrites (queue_write.c).
 * 10 base-36 digits of microseconds last until 2086.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_rec.h"
#include "util/buf.h"

#define IDCLOCK_NAME	"tmp/.idclock"
#define IDCLOCK_SIZE	4096
#define IDCLOCK_MAX_AHEAD	(86400ull * 1000000)

static const char b36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

static pthread_mutex_t idclock_lock = PTHREAD_MUTEX_INITIALIZER;
static char idclock_dir[PATH_MAX];
static _Atomic uint64_t *idclock;	/* NULL: not mapped (use the local clock) */
static _Atomic uint64_t local_clock;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Map queue_dir/tmp/.idclock; NULL when that is not possible. */
static _Atomic uint64_t *idclock_map(const char *queue_dir)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", queue_dir, IDCLOCK_NAME) >= (int)sizeof(path))
		return NULL;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return NULL;
	/* ftruncate() to the same size never clears data, so racing creators are safe. */
	if (fstat(fd, &st) < 0 || (st.st_size < IDCLOCK_SIZE && ftruncate(fd, IDCLOCK_SIZE) < 0)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, IDCLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : (_Atomic uint64_t *)p;
}

static _Atomic uint64_t *idclock_get(const char *queue_dir)
{
	_Atomic uint64_t *p;

	pthread_mutex_lock(&idclock_lock);
	if (idclock == NULL || strcmp(idclock_dir, queue_dir) != 0) {
		if (idclock != NULL)
			munmap((void *)idclock, IDCLOCK_SIZE);
		idclock = idclock_map(queue_dir);
		if (str_copy(idclock_dir, sizeof(idclock_dir), queue_dir) < 0)
			idclock_dir[0] = 0;
	}
	p = idclock;
	pthread_mutex_unlock(&idclock_lock);
	return p;
}

static uint64_t clock_advance(_Atomic uint64_t *clk)
{
	uint64_t now = now_us();
	uint64_t old = atomic_load(clk);
	uint64_t next;

	do {
		/* A stamp more than a day ahead is a clock that was set wrong and put
		 * back: start again from now rather than issue future IDs for days.
		 * (Publishing never overwrites, so this cannot cost a message.) */
		if (old > now + IDCLOCK_MAX_AHEAD)
			next = now;
		else
			next = now > old ? now : old + 1;
	} while (!atomic_compare_exchange_weak(clk, &old, next));
	return next;
}

uint64_t queue_id_stamp(const char *queue_dir)
{
	_Atomic uint64_t *clk = idclock_get(queue_dir);
	uint64_t s;

	s = clock_advance(clk ? clk : &local_clock);
	/* Keep the local clock ahead too, in case the shared file goes away later. */
	if (clk != NULL) {
		uint64_t old = atomic_load(&local_clock);
		while (old < s && !atomic_compare_exchange_weak(&local_clock, &old, s))
			;
	}
	return s;
}

static void b36_put(char *dst, int width, uint64_t v)
{
	for (int i = width - 1; i >= 0; i--) {
		dst[i] = b36[v % 36];
		v /= 36;
	}
}

void queue_id_stamp_name(char *name, uint64_t stamp)
{
	b36_put(name, 10, stamp);
	name[10] = 0;
}

void queue_id_format(char *id, uint64_t stamp, ino_t ino)
{
	b36_put(id, 10, stamp);
	b36_put(id + 10, 2, (uint64_t)ino % (36 * 36));
	id[QUEUE_ID_LEN] = 0;
}

int queue_id_valid(const char *id)
{
	size_t i;

	if (id == NULL)
		return 0;
	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z')))
			return 0;
	return id[i] == 0;
}
