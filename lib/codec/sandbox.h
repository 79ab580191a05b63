/*
 * sandbox.h - run one conversion job in a confined child process.
 *
 * Contract: codec_job_run() forks; the child loads the text font, reads every input fd to
 * its end (each at most lim->max_input bytes), sets RLIMIT_CPU, RLIMIT_AS and
 * RLIMIT_FSIZE, installs a seccomp filter (libseccomp) that refuses with EPERM: sockets
 * (socket, socketpair, connect, bind, listen, accept), opening or creating files (open,
 * openat, creat, ... - read-only openat stays allowed only for PDF jobs, whose
 * non-embedded fonts poppler finds through fontconfig), new programs and processes
 * (execve, fork, vfork, clone without CLONE_THREAD), ptrace, and file-system changes;
 * then it converts and writes the TIFF-FX file to out_fd. The parent waits at most
 * lim->wall_seconds (then SIGKILL) and reports: the child's result, or 5.6.5 with the
 * reason when the child was killed (CPU or memory limit, sandbox violation, crash). A
 * failed job leaves nothing in out_fd when it is a regular file (truncated to where it
 * started). Returns 0 when the job ran (res->status says how it went), -1 on an
 * internal error (fork, pipe) with status 4.3.0.
 */
#ifndef FAXPOST_CODEC_SANDBOX_H
#define FAXPOST_CODEC_SANDBOX_H

#include <stddef.h>

#include "codec/job.h"

typedef struct codec_limits {
	long long cpu_seconds;
	long long memory_bytes;
	long long wall_seconds;
	long long max_input;
	long long max_output;
	unsigned max_pages;
	const char *font;	/* NULL = RENDER_FONT */
} codec_limits;

void codec_limits_default(codec_limits *lim);
/* Install the job's seccomp filter in the calling process (irreversible; tests use it
 * in a child). 0 on success. */
int codec_sandbox_enter(int allow_ro_open);
int codec_job_run(const int *in_fds, const char *const *types, size_t nin, int out_fd,
		  const char *target, const codec_limits *lim, codec_result *res);

#endif
