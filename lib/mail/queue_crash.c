/*
 * queue_crash.c - named crash points (see queue_crash.h).
 *
 * Contract: FAXPOST_CRASHPOINT=name[:N] makes the N-th queue_crashpoint(name) call
 * of the process raise(SIGKILL). Parsed once (pthread_once); the hit counter is
 * atomic, so threads (smtpd's commit threads) count correctly.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mail/queue_crash.h"
#include "util/buf.h"

static pthread_once_t crash_once = PTHREAD_ONCE_INIT;
static char crash_name[64];
static long crash_at;
static atomic_long crash_hits;

static void crash_parse(void)
{
	const char *v = getenv("FAXPOST_CRASHPOINT");
	const char *colon;

	if (v == NULL || *v == 0)
		return;
	colon = strchr(v, ':');
	if (str_ncopy(crash_name, sizeof(crash_name), v, colon ? (size_t)(colon - v) : strlen(v)) < 0) {
		crash_name[0] = 0;
		return;
	}
	crash_at = colon ? strtol(colon + 1, NULL, 10) : 1;
	if (crash_at < 1)
		crash_at = 1;
}

void queue_crashpoint(const char *name)
{
	pthread_once(&crash_once, crash_parse);
	if (crash_name[0] == 0 || strcmp(crash_name, name) != 0)
		return;
	if (atomic_fetch_add(&crash_hits, 1) + 1 == crash_at)
		raise(SIGKILL);
}
