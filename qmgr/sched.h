/*
 * sched.h - qmgr's scheduling arithmetic, kept free of I/O so it can be unit-tested.
 *
 * Contract:
 *  - sched_next_retry(): Postfix's age-based backoff: the wait is the message's age,
 *    clamped to [min, max]; the retry time is now + wait (stored as the mtime of the
 *    file in deferred/).
 *  - sched_expired(): a message older than the lifetime turns temporary failures into
 *    bounces (5.4.7). sched_warn_due(): a delay notice is due once the age passes
 *    delay_warning_time (0 = off) and none was sent yet.
 *  - sched_dest: concurrency accounting per destination (transport + nexthop) and in
 *    total: sched_can_start() says whether one more delivery may start, sched_start()
 *    and sched_done() count it. Destinations with nothing in flight are freed.
 */
#ifndef FAXPOST_QMGR_SCHED_H
#define FAXPOST_QMGR_SCHED_H

#include <stddef.h>
#include <time.h>

time_t sched_next_retry(time_t now, time_t arrival, long long min_backoff, long long max_backoff);
int sched_expired(time_t now, time_t arrival, long long lifetime);
int sched_warn_due(time_t now, time_t arrival, long long warn_time, int already_warned);

typedef struct sched_dest {
	char *key;		/* "transport\tnexthop" */
	int active;
	struct sched_dest *next;
} sched_dest;

typedef struct sched {
	sched_dest *dests;
	int total;		/* deliveries in flight */
	int total_limit;
	int dest_limit;
} sched;

void sched_init(sched *s, int total_limit, int dest_limit);
void sched_free(sched *s);
int sched_can_start(const sched *s, const char *transport, const char *nexthop);
void sched_start(sched *s, const char *transport, const char *nexthop);
void sched_done(sched *s, const char *transport, const char *nexthop);
int sched_active(const sched *s, const char *transport, const char *nexthop);

#endif
