/*
 * master_sig.c - signals into the event loop through a self-pipe.
 *
 * Contract: handlers only set a flag and write one byte to a non-blocking pipe, so
 * the main loop's poll() wakes up; master_sig_take() drains the pipe and returns the
 * flags (SIGHUP = reload; SIGTERM, SIGINT, SIGQUIT = stop; SIGCHLD = reap). Workers
 * get default dispositions and an empty mask back (master_sig_child_reset).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "util/msg.h"

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_hup, sig_term, sig_chld;

static void master_on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGCHLD)
		sig_chld = 1;
	else
		sig_term = sig;
	if (write(sig_pipe[1], "", 1) < 0) {
		/* pipe full: a wake-up is pending anyway */
	}
	errno = saved;
}

int master_sig_init(void)
{
	struct sigaction sa;
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGCHLD };

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		msg_fatal("pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = master_on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	return sig_pipe[0];
}

int master_sig_take(int *hup, int *term, int *chld)
{
	char junk[64];

	while (read(sig_pipe[0], junk, sizeof(junk)) > 0)
		;
	*hup = sig_hup;
	*term = sig_term;
	*chld = sig_chld;
	sig_hup = sig_chld = 0;
	return *hup || *term || *chld;
}

void master_sig_child_reset(void)
{
	struct sigaction sa;
	sigset_t none;
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGPIPE };

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
