/*
 * smtpd_auth.c - the auth threads of smtpd (see smtpd_auth.h).
 *
 * Contract: jobs are independent; results come back in any order. An unknown user
 * costs a crypt of a dummy hash too, so timing does not tell who exists.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd_auth.h"
#include "util/msg.h"

static workq *auth_q;

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

/* On a pool thread: the crypt, then the password wiped. */
static void auth_run(work_item *item)
{
	auth_job *j = (auth_job *)item;

	j->result = auth_verify(j->pass, j->hash);
	explicit_bzero(j->pass, strlen(j->pass));
	free(j->pass);
	free(j->hash);
	j->pass = j->hash = NULL;
}

int auth_start(int nthreads)
{
	auth_q = workq_start(nthreads);
	return workq_fd(auth_q);
}

void auth_submit(auth_job *job)
{
	job->item.run = auth_run;
	workq_submit(auth_q, &job->item);
}

auth_job *auth_collect(void)
{
	return (auth_job *)workq_collect(auth_q);
}
