/*
 * sched.c - backoff, expiry and concurrency accounting for qmgr (see sched.h).
 *
 * The destination list is a plain linked list: it only holds destinations with
 * deliveries in flight, which qmgr_concurrency_limit bounds (100 by default).
 */
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/msg.h"
#include "sched.h"

time_t sched_next_retry(time_t now, time_t arrival, long long min_backoff, long long max_backoff)
{
	long long age = (long long)now - (long long)arrival;

	if (max_backoff < min_backoff)
		max_backoff = min_backoff;
	if (age < min_backoff)
		age = min_backoff;
	if (age > max_backoff)
		age = max_backoff;
	return now + (time_t)age;
}

int sched_expired(time_t now, time_t arrival, long long lifetime)
{
	return (long long)now - (long long)arrival >= lifetime;
}

int sched_warn_due(time_t now, time_t arrival, long long warn_time, int already_warned)
{
	if (warn_time <= 0 || already_warned)
		return 0;
	return (long long)now - (long long)arrival >= warn_time;
}

void sched_init(sched *s, int total_limit, int dest_limit)
{
	memset(s, 0, sizeof *s);
	s->total_limit = total_limit > 0 ? total_limit : 1;
	s->dest_limit = dest_limit > 0 ? dest_limit : 1;
}

void sched_free(sched *s)
{
	sched_dest *d, *next;

	for (d = s->dests; d; d = next) {
		next = d->next;
		free(d->key);
		free(d);
	}
	s->dests = NULL;
	s->total = 0;
}

static int sched_key_is(const sched_dest *d, const char *transport, const char *nexthop)
{
	size_t tl = strlen(transport);

	return strncmp(d->key, transport, tl) == 0 && d->key[tl] == '\t'
		&& strcmp(d->key + tl + 1, nexthop) == 0;
}

static sched_dest *sched_find(const sched *s, const char *transport, const char *nexthop,
			      sched_dest ***link)
{
	sched_dest **pp;

	for (pp = (sched_dest **)&s->dests; *pp; pp = &(*pp)->next)
		if (sched_key_is(*pp, transport, nexthop)) {
			if (link)
				*link = pp;
			return *pp;
		}
	return NULL;
}

int sched_active(const sched *s, const char *transport, const char *nexthop)
{
	sched_dest *d = sched_find(s, transport, nexthop, NULL);

	return d ? d->active : 0;
}

int sched_can_start(const sched *s, const char *transport, const char *nexthop)
{
	if (s->total >= s->total_limit)
		return 0;
	return sched_active(s, transport, nexthop) < s->dest_limit;
}

void sched_start(sched *s, const char *transport, const char *nexthop)
{
	sched_dest *d = sched_find(s, transport, nexthop, NULL);

	if (d == NULL) {
		buf k;

		buf_init(&k, 0);
		if (buf_printf(&k, "%s\t%s", transport, nexthop) < 0)
			msg_fatal("sched_start: key too long");
		d = xcalloc(1, sizeof *d);
		d->key = xstrdup(buf_str(&k));
		buf_free(&k);
		d->next = s->dests;
		s->dests = d;
	}
	d->active++;
	s->total++;
}

void sched_done(sched *s, const char *transport, const char *nexthop)
{
	sched_dest **link = NULL;
	sched_dest *d = sched_find(s, transport, nexthop, &link);

	if (d == NULL || d->active <= 0 || s->total <= 0)
		msg_panic("sched_done: %s %s not in flight", transport, nexthop);
	s->total--;
	if (--d->active == 0) {
		*link = d->next;
		free(d->key);
		free(d);
	}
}
