/*
 * smtpd_auth.c - the auth threads of smtpd (see smtpd_auth.h).
 *
 * Contract: jobs are independent; results come back in any order. An unknown user
 * costs a crypt of a dummy hash too, so timing does not tell who exists.
 */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "smtpd_auth.h"
#include "util/msg.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	auth_job *todo, *done;
	int efd;
} aq = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, -1 };

/* Equal-length strings compare in constant time. */
static int same_string(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i;
	unsigned char d = na != nb;

	for (i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int auth_verify(const char *pass, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));	/* large: not on the stack */
	const char *got = crypt_r(pass, hash ? hash : "$6$faxpostnouser$", cd);
	int ok = hash && got && got[0] != '*' && same_string(got, hash);

	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static void *auth_thread(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	for (;;) {
		auth_job *j;

		pthread_mutex_lock(&aq.lock);
		while (!aq.todo)
			pthread_cond_wait(&aq.cond, &aq.lock);
		j = aq.todo;
		aq.todo = j->next;
		pthread_mutex_unlock(&aq.lock);
		j->result = auth_verify(j->pass, j->hash);
		explicit_bzero(j->pass, strlen(j->pass));
		free(j->pass);
		free(j->hash);
		j->pass = j->hash = NULL;
		pthread_mutex_lock(&aq.lock);
		j->next = aq.done;
		aq.done = j;
		pthread_mutex_unlock(&aq.lock);
		while (write(aq.efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

int auth_start(int nthreads)
{
	int i;

	aq.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (aq.efd < 0)
		msg_fatal("eventfd: %m");
	for (i = 0; i < (nthreads < 1 ? 1 : nthreads); i++) {
		pthread_t t;
		int r = pthread_create(&t, NULL, auth_thread, NULL);

		if (r != 0)
			msg_fatal("pthread_create: %s", strerror(r));
		pthread_detach(t);
	}
	return aq.efd;
}

void auth_submit(auth_job *job)
{
	pthread_mutex_lock(&aq.lock);
	job->next = aq.todo;	/* order does not matter */
	aq.todo = job;
	pthread_cond_signal(&aq.cond);
	pthread_mutex_unlock(&aq.lock);
}

auth_job *auth_collect(void)
{
	auth_job *list;
	uint64_t v;

	while (read(aq.efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&aq.lock);
	list = aq.done;
	aq.done = NULL;
	pthread_mutex_unlock(&aq.lock);
	return list;
}
