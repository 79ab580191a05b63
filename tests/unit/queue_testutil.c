/*
 * queue_testutil.c - what the queue's Check tests share (test_queue.c,
 * test_queue_recycle.c): a fresh queue folder per test (setup/teardown), messages
 * written and read back, whole-file read and write.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/queue.h"
#include "queue_testutil.h"

char qdir[64];
char err[512];

void rm_rf(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

void setup(void)
{
	snprintf(qdir, sizeof(qdir), "/tmp/test_queue.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(qdir));
	ck_assert_int_eq(queue_init_dirs(qdir, err, sizeof(err)), 0);
}

void teardown(void)
{
	rm_rf(qdir);
}

void make_env(qenvelope *env, size_t nrcpt)
{
	char addr[64];

	qenv_init(env);
	env->sender = strdup("alice@example.com");
	env->arrival_us = 1795350042683847LL;
	env->origin = strdup("smtp");
	env->client_name = strdup("localhost");
	env->client_addr = strdup("127.0.0.1");
	env->helo = strdup("client.example");
	env->protocol = strdup("ESMTP");
	env->envid = strdup("ENV-1");
	env->ret = DSN_RET_HDRS;
	env->body_8bit = 1;
	for (size_t i = 0; i < nrcpt; i++) {
		snprintf(addr, sizeof(addr), "rcpt%zu@example.net", i);
		ck_assert_int_eq(qenv_add_rcpt(env, addr, i == 0 ? "rfc822;x@y" : NULL,
					       i == 0 ? DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY : 0), 0);
	}
	ck_assert_int_eq(qenv_add_attr(env, "conneg", "yes"), 0);
	ck_assert_int_eq(qenv_add_attr(env, "empty", ""), 0);
}

/* Write one message; returns its ID in id (13 bytes). */
void write_msg(const char *content, size_t len, size_t nrcpt, char *id)
{
	qenvelope env;
	qwriter *w = qw_create(qdir, err, sizeof(err));

	ck_assert_msg(w != NULL, "%s", err);
	make_env(&env, nrcpt);
	ck_assert_int_eq(qw_envelope(w, &env), 0);
	/* in uneven chunks, to cross the writer's buffer boundaries */
	for (size_t off = 0; off < len;) {
		size_t n = (off % 3 == 0) ? 1000 : 70000;
		if (n > len - off)
			n = len - off;
		ck_assert_int_eq(qw_content(w, content + off, n), 0);
		off += n;
	}
	ck_assert_uint_eq(qw_content_size(w), len);
	ck_assert_msg(qw_commit(w, err, sizeof(err)) == 0, "%s", err);
	memcpy(id, qw_id(w), QUEUE_ID_LEN + 1);
	qw_free(w);
	qenv_free(&env);
}

char *make_content(size_t len)
{
	char *p = malloc(len + 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : (char)('a' + i % 26);
	return p;
}

qfile *open_in(const char *state, const char *id, int mode)
{
	char path[512];

	ck_assert_int_eq(queue_path(path, sizeof(path), qdir, state, id), 0);
	return qf_open(path, mode, err, sizeof(err));
}

void check_roundtrip(size_t len)
{
	char id[QUEUE_ID_LEN + 1];
	char *content = make_content(len);
	char *back = malloc(len + 1);
	qfile *qf;

	write_msg(content, len, 3, id);
	ck_assert(queue_id_valid(id));
	qf = open_in(Q_INCOMING, id, O_RDONLY);
	ck_assert_msg(qf != NULL, "%s", err);
	ck_assert_str_eq(qf->id, id);
	ck_assert_str_eq(qf->env.sender, "alice@example.com");
	ck_assert(qf->env.arrival_us == 1795350042683847LL);
	ck_assert_str_eq(qf->env.origin, "smtp");
	ck_assert_str_eq(qf->env.client_name, "localhost");
	ck_assert_str_eq(qf->env.client_addr, "127.0.0.1");
	ck_assert_str_eq(qf->env.helo, "client.example");
	ck_assert_str_eq(qf->env.protocol, "ESMTP");
	ck_assert_ptr_null(qf->env.auth_user);
	ck_assert_str_eq(qf->env.envid, "ENV-1");
	ck_assert_int_eq(qf->env.ret, DSN_RET_HDRS);
	ck_assert_int_eq(qf->env.body_8bit, 1);
	ck_assert_uint_eq(qf->env.nrcpt, 3);
	ck_assert_str_eq(qf->env.rcpt[0].addr, "rcpt0@example.net");
	ck_assert_str_eq(qf->env.rcpt[0].orcpt, "rfc822;x@y");
	ck_assert_int_eq(qf->env.rcpt[0].notify, DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
	ck_assert_ptr_null(qf->env.rcpt[1].orcpt);
	ck_assert_str_eq(qf->env.rcpt[2].addr, "rcpt2@example.net");
	ck_assert_str_eq(qenv_attr(&qf->env, "conneg"), "yes");
	ck_assert_str_eq(qenv_attr(&qf->env, "empty"), "");
	ck_assert_ptr_null(qenv_attr(&qf->env, "nosuch"));
	ck_assert_uint_eq(qf_pending(qf), 3);
	ck_assert(qf->content_len == (off_t)len);
	ck_assert(qf_read_content(qf, 0, back, len + 1) == (ssize_t)len);
	ck_assert(memcmp(back, content, len) == 0);
	if (len > 10)
		ck_assert(qf_read_content(qf, (off_t)len - 10, back, 100) == 10);
	ck_assert(qf_read_content(qf, (off_t)len + 1, back, 1) == -1);
	qf_close(qf);
	free(content);
	free(back);
}

/* Read a whole file. */
unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	unsigned char *p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	ck_assert(read(fd, p, (size_t)st.st_size) == st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

void spew(const char *path, const unsigned char *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert(write(fd, p, len) == (ssize_t)len);
	close(fd);
}
