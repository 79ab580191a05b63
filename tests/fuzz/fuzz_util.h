/*
 * fuzz_util.h - small helpers shared by the mail-level libFuzzer harnesses.
 *
 * Contract: header-only (static functions), no library state. fuzz_quiet() sends the
 * libraries' log lines to /dev/null once per process (libFuzzer runs millions of
 * inputs; stderr stays for libFuzzer and the sanitizers). fuzz_cstr() gives a
 * NUL-terminated malloc'd copy of the input (the caller frees it). fuzz_tmpdir() makes
 * one private folder per process under $TMPDIR for harnesses whose API takes paths.
 */
#ifndef FAXPOST_FUZZ_UTIL_H
#define FAXPOST_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"

__attribute__((unused)) static void fuzz_quiet(const char *prog)
{
	static int done;

	if (!done) {
		msg_open(prog, MSG_TO_FILE, "/dev/null", NULL);
		done = 1;
	}
}

__attribute__((unused)) static char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = 0;
	return s;
}

__attribute__((unused)) static const char *fuzz_tmpdir(void)
{
	static char dir[256];
	const char *t;

	if (dir[0])
		return dir;
	if ((t = getenv("TMPDIR")) == NULL || !*t)
		t = "/tmp";
	if (snprintf(dir, sizeof(dir), "%s/faxpost-fuzz.XXXXXX", t) >= (int)sizeof(dir)
	    || mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	return dir;
}

/* Write size bytes to path (created or truncated). */
__attribute__((unused)) static void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;
	ssize_t n;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (off < size) {
		if ((n = write(fd, data + off, size - off)) <= 0) {
			perror(path);
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
}

#endif
