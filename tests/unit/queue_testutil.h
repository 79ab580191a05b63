/*
 * queue_testutil.h - helpers of the queue's Check tests (see queue_testutil.c).
 */
#ifndef FAXPOST_TESTS_QUEUE_TESTUTIL_H
#define FAXPOST_TESTS_QUEUE_TESTUTIL_H

#include <stddef.h>

#include "mail/queue.h"

extern char qdir[64];		/* this test's queue folder */
extern char err[512];

void rm_rf(const char *path);
void setup(void);		/* a fresh queue folder (Check fixture) */
void teardown(void);
void make_env(qenvelope *env, size_t nrcpt);
/* Write and commit one message; its ID into id (QUEUE_ID_LEN + 1 bytes). */
void write_msg(const char *content, size_t len, size_t nrcpt, char *id);
char *make_content(size_t len);	/* malloc'd, CRLF lines */
qfile *open_in(const char *state, const char *id, int mode);
/* Write a message of len bytes and check every field and byte read back. */
void check_roundtrip(size_t len);
unsigned char *slurp(const char *path, size_t *len);	/* malloc'd */
void spew(const char *path, const unsigned char *p, size_t len);

#endif
