/*
 * uidl.c - the fetched-UIDL store of popd-client on Berkeley DB.
 *
 * Contract: see uidl.h. One writer (the single popd-client process); the file is
 * created 0600 in data_directory.
 */
#include <db.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/queue.h"
#include "uidl.h"
#include "util/buf.h"
#include "util/msg.h"

struct uidl_db {
	DB *db;
};

uidl_db *uidl_open(const char *path, char *err, size_t errlen)
{
	DB *db = NULL;
	int r;

	if ((r = db_create(&db, NULL, 0)) != 0) {
		snprintf(err, errlen, "db_create: %s", db_strerror(r));
		return NULL;
	}
	if ((r = db->open(db, NULL, path, NULL, DB_BTREE, DB_CREATE, 0600)) != 0) {
		snprintf(err, errlen, "%s: %s", path, db_strerror(r));
		db->close(db, 0);
		return NULL;
	}
	uidl_db *u = xcalloc(1, sizeof(*u));
	u->db = db;
	return u;
}

void uidl_close(uidl_db *u)
{
	if (!u)
		return;
	u->db->close(u->db, 0);
	free(u);
}

/* key = mailbox NUL uidl */
static int uidl_key(buf *k, const char *mailbox, const char *uidl)
{
	buf_reset(k);
	if (buf_append(k, mailbox, strlen(mailbox) + 1) < 0 || buf_append_str(k, uidl) < 0)
		return -1;
	return 0;
}

int uidl_seen(uidl_db *u, const char *mailbox, const char *uidl)
{
	DBT key, val;
	buf k;
	int r;

	buf_init(&k, 1024);
	if (uidl_key(&k, mailbox, uidl) < 0) {
		buf_free(&k);
		return -1;
	}
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = k.data;
	key.size = (u_int32_t)k.len;
	r = u->db->get(u->db, NULL, &key, &val, 0);
	buf_free(&k);
	if (r == DB_NOTFOUND)
		return 0;
	if (r != 0) {
		msg_warn("uidl database: get: %s", db_strerror(r));
		return -1;
	}
	return 1;
}

int uidl_put(uidl_db *u, const char *mailbox, const char *uidl, const char *queue_id)
{
	char value[64];
	DBT key, val;
	buf k;
	int r;

	buf_init(&k, 1024);
	if (uidl_key(&k, mailbox, uidl) < 0) {
		buf_free(&k);
		return -1;
	}
	snprintf(value, sizeof(value), "%s %lld", queue_id, (long long)time(NULL));
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = k.data;
	key.size = (u_int32_t)k.len;
	val.data = value;
	val.size = (u_int32_t)strlen(value) + 1;
	r = u->db->put(u->db, NULL, &key, &val, 0);
	buf_free(&k);
	if (r != 0) {
		msg_warn("uidl database: put: %s", db_strerror(r));
		return -1;
	}
	return 0;
}

int uidl_sync(uidl_db *u)
{
	int r = u->db->sync(u->db, 0);

	if (r != 0) {
		msg_warn("uidl database: sync: %s", db_strerror(r));
		return -1;
	}
	return 0;
}

int uidl_record(uidl_db *u, const char *mailbox, const char *uidl, const char *queue_id)
{
	if (uidl_put(u, mailbox, uidl, queue_id) < 0)
		return -1;
	return uidl_sync(u);
}

void uidl_forget(uidl_db *u, const char *mailbox, const char *uidl)
{
	DBT key;
	buf k;

	buf_init(&k, 1024);
	if (uidl_key(&k, mailbox, uidl) == 0) {
		memset(&key, 0, sizeof(key));
		key.data = k.data;
		key.size = (u_int32_t)k.len;
		u->db->del(u->db, NULL, &key, 0);
		u->db->sync(u->db, 0);
	}
	buf_free(&k);
}

int uidl_recover(uidl_db *u, const char *queue_dir)
{
	DBC *cur;
	DBT key, val;
	int r, n = 0;

	if (u->db->cursor(u->db, NULL, &cur, 0) != 0)
		return -1;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	while ((r = cur->get(cur, &key, &val, DB_NEXT)) == 0) {
		char qid[32], err[256];
		const char *v = val.data;
		size_t len = strnlen(v, val.size);
		const char *sp = memchr(v, ' ', len);

		if (!sp || (size_t)(sp - v) >= sizeof(qid))
			continue;
		memcpy(qid, v, (size_t)(sp - v));
		qid[sp - v] = 0;
		switch (queue_publish_orphan(queue_dir, qid, err, sizeof(err))) {
		case 1:
			msg_info("%s: recovered a fetched message left unpublished by a crash", qid);
			n++;
			break;
		case -1:
			msg_warn("%s: cannot recover: %s", qid, err);
			break;
		}
	}
	cur->close(cur);
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Binary search in the sorted keep list; s is not NUL-terminated. */
static int in_list(const char *s, size_t len, const char *const *keep, size_t nkeep)
{
	char tmp[128];
	const char *p = tmp;

	if (len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	return bsearch(&p, keep, nkeep, sizeof(*keep), cmp_str) != NULL;
}

int uidl_prune(uidl_db *u, const char *mailbox, const char *const *keep, size_t nkeep)
{
	size_t mlen = strlen(mailbox) + 1;
	DBC *cur;
	DBT key, val;
	int r, removed = 0;

	const char **sorted = xcalloc(nkeep ? nkeep : 1, sizeof(*sorted));

	memcpy(sorted, keep, nkeep * sizeof(*sorted));
	qsort(sorted, nkeep, sizeof(*sorted), cmp_str);
	keep = sorted;
	if (u->db->cursor(u->db, NULL, &cur, 0) != 0) {
		free(sorted);
		return -1;
	}
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = (void *)mailbox;
	key.size = (u_int32_t)mlen;
	for (r = cur->get(cur, &key, &val, DB_SET_RANGE); r == 0;
	     r = cur->get(cur, &key, &val, DB_NEXT)) {
		if (key.size < mlen || memcmp(key.data, mailbox, mlen) != 0)
			break;
		if (!in_list((const char *)key.data + mlen, key.size - mlen, keep, nkeep)) {
			cur->del(cur, 0);
			removed++;
		}
	}
	cur->close(cur);
	free(sorted);
	if (removed)
		u->db->sync(u->db, 0);
	return removed;
}
