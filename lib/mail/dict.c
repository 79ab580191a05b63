/*
 * dict.c - lookup tables: Berkeley DB (DB_HASH) files compiled from postmap text.
 *
 * Contract (dict.h, dict_compile.h):
 *  - Source syntax as postmap(1): "key whitespace value"; empty lines and lines whose
 *    first non-blank is '#' are skipped; a line that starts with whitespace continues
 *    the previous logical line (the line break is dropped, its leading whitespace
 *    kept, exactly as postmap joins them); keys are lower-cased (ASCII)
 *    unless compiled with DICT_CASE; a line with a key but no value is an error
 *    "file:line: ..."; a duplicate key keeps the first value with a warning, as
 *    postmap does. Keys and values are stored with their terminating NUL.
 *  - dict_compile() builds PATH.db.tmp.PID, syncs and fsyncs it, renames it over
 *    PATH.db and fsyncs the folder: a reader sees the old table or the new, whole.
 *  - dict_lookup() checks at most once a second (time(), no system call otherwise)
 *    whether PATH.db was replaced (device, inode, size, mtime) and reopens it.
 *  - A missing PATH.db is an empty table with one warning, unless DICT_REQUIRED;
 *    it is picked up once it appears.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/dict.h"
#include "mail/dict_compile.h"
#include "util/buf.h"
#include "util/msg.h"

#define DICT_LINE_MAX	(1024 * 1024)	/* one logical line */

struct dict {
	char *path;
	char *dbpath;
	int flags;
	DB *db;			/* NULL: table missing (empty) */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	time_t checked;
	int warned;
	buf key;
	buf val;
};

static char *db_path(const char *path)
{
	size_t n = strlen(path), sz;
	char *p;

	if (size_add(n, 4, &sz) < 0)
		msg_fatal("dict: path too long");
	p = xmalloc(sz);
	memcpy(p, path, n);
	memcpy(p + n, ".db", 4);
	return p;
}

static void fold(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* --- reading ---------------------------------------------------------------- */

/* Open d->dbpath read-only. 1 opened, 0 missing, -1 error (err set). */
static int dict_load(dict *d, char *err, size_t errlen)
{
	struct stat st;
	DB *db;
	int rc;

	if (stat(d->dbpath, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "stat %s: %s", d->dbpath, strerror(errno));
		return -1;
	}
	if ((rc = db_create(&db, NULL, 0)) != 0) {
		snprintf(err, errlen, "db_create: %s", db_strerror(rc));
		return -1;
	}
	if ((rc = db->open(db, NULL, d->dbpath, NULL, DB_HASH, DB_RDONLY, 0)) != 0) {
		snprintf(err, errlen, "open %s: %s", d->dbpath, db_strerror(rc));
		db->close(db, 0);
		return -1;
	}
	if (d->db)
		d->db->close(d->db, 0);
	d->db = db;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->size = st.st_size;
	d->mtime = st.st_mtim;
	return 1;
}

dict *dict_open(const char *path, int flags, char *err, size_t errlen)
{
	dict *d = xcalloc(1, sizeof(*d));
	int rc;

	d->path = xstrdup(path);
	d->dbpath = db_path(path);
	d->flags = flags;
	d->checked = time(NULL);
	buf_init(&d->key, 0);
	buf_init(&d->val, 0);
	rc = dict_load(d, err, errlen);
	if (rc == 0 && (flags & DICT_REQUIRED)) {
		snprintf(err, errlen, "table %s does not exist (run faxpost map %s)", d->dbpath, path);
		rc = -1;
	}
	if (rc < 0) {
		dict_close(d);
		return NULL;
	}
	if (rc == 0) {
		msg_warn("table %s does not exist; treated as empty", d->dbpath);
		d->warned = 1;
	}
	return d;
}

/* Reopen when the file was replaced; at most one stat() per second. */
static void dict_refresh(dict *d)
{
	time_t now = time(NULL);
	struct stat st;
	char err[256];

	if (now == d->checked)
		return;
	d->checked = now;
	if (stat(d->dbpath, &st) < 0)
		return;		/* gone: keep what we have */
	if (d->db && st.st_dev == d->dev && st.st_ino == d->ino && st.st_size == d->size
	    && st.st_mtim.tv_sec == d->mtime.tv_sec && st.st_mtim.tv_nsec == d->mtime.tv_nsec)
		return;
	if (dict_load(d, err, sizeof(err)) < 0)
		msg_warn("%s; keeping the table opened before", err);
}

const char *dict_lookup(dict *d, const char *key)
{
	DBT k, v;

	dict_refresh(d);
	if (d->db == NULL || key == NULL)
		return NULL;
	buf_reset(&d->key);
	if (buf_append(&d->key, key, strlen(key) + 1) < 0)
		return NULL;
	if (!(d->flags & DICT_CASE))
		fold(d->key.data);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = d->key.data;
	k.size = (u_int32_t)d->key.len;
	if (d->db->get(d->db, NULL, &k, &v, 0) != 0)
		return NULL;
	/* copy: libdb's memory is only good until its next call */
	buf_reset(&d->val);
	if (buf_append(&d->val, v.data, v.size) < 0)
		return NULL;
	return buf_str(&d->val);	/* stored with its NUL; buf adds one anyway */
}

int dict_walk(dict *d, int (*fn)(const char *key, const char *value, void *ctx), void *ctx)
{
	DBC *cur;
	DBT k, v;
	buf kb, vb;
	int rc = 0, st;

	dict_refresh(d);
	if (d->db == NULL)
		return 0;
	if (d->db->cursor(d->db, NULL, &cur, 0) != 0)
		return -1;
	buf_init(&kb, 0);
	buf_init(&vb, 0);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while ((st = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		buf_reset(&kb);
		buf_reset(&vb);
		if (buf_append(&kb, k.data, k.size) < 0 || buf_append(&vb, v.data, v.size) < 0) {
			rc = -1;
			break;
		}
		if ((rc = fn(buf_str(&kb), buf_str(&vb), ctx)) != 0)
			break;
	}
	if (st != 0 && st != DB_NOTFOUND)
		rc = -1;
	cur->close(cur);
	buf_free(&kb);
	buf_free(&vb);
	return rc;
}

void dict_close(dict *d)
{
	if (d == NULL)
		return;
	if (d->db)
		d->db->close(d->db, 0);
	buf_free(&d->key);
	buf_free(&d->val);
	free(d->path);
	free(d->dbpath);
	free(d);
}

/* --- compiling -------------------------------------------------------------- */

typedef struct src {
	FILE *fp;
	const char *path;
	long lineno;		/* physical line last read */
	char *line;		/* getline() buffer */
	size_t linecap;
	int pending;		/* line holds an unconsumed physical line */
} src;

static int is_blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == 0 || *s == '#';
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
}

/* Next physical line that is not blank or a comment; 0 at end, -1 on error. */
static int src_next(src *s, char *err, size_t errlen)
{
	ssize_t n;

	if (s->pending) {
		s->pending = 0;
		return 1;
	}
	errno = 0;
	while ((n = getline(&s->line, &s->linecap, s->fp)) >= 0) {
		s->lineno++;
		if ((size_t)n != strlen(s->line)) {
			snprintf(err, errlen, "%s:%ld: NUL byte in line", s->path, s->lineno);
			return -1;
		}
		chomp(s->line);
		if (!is_blank_or_comment(s->line))
			return 1;
	}
	if (errno != 0 && !feof(s->fp)) {
		snprintf(err, errlen, "read %s: %s", s->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Assemble one logical line into b; *first gets its first line number. */
static int src_logical(src *s, buf *b, long *first, char *err, size_t errlen)
{
	int rc = src_next(s, err, errlen);

	if (rc <= 0)
		return rc;
	if (s->line[0] == ' ' || s->line[0] == '\t') {
		snprintf(err, errlen, "%s:%ld: continuation line without a line before it",
			 s->path, s->lineno);
		return -1;
	}
	*first = s->lineno;
	buf_reset(b);
	if (buf_append_str(b, s->line) < 0)
		goto toolong;
	while ((rc = src_next(s, err, errlen)) > 0) {
		const char *p = s->line;
		if (*p != ' ' && *p != '\t') {
			s->pending = 1;
			break;
		}
		/* as postmap: the line break goes, the leading whitespace stays */
		if (buf_append_str(b, p) < 0)
			goto toolong;
	}
	return rc < 0 ? -1 : 1;
toolong:
	snprintf(err, errlen, "%s:%ld: logical line longer than %d bytes", s->path, s->lineno,
		 DICT_LINE_MAX);
	return -1;
}

static int db_put(DB *db, const char *key, const char *val, const char *path, long line,
		  char *err, size_t errlen)
{
	DBT k, v;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key) + 1;
	v.data = (void *)val;
	v.size = (u_int32_t)strlen(val) + 1;
	rc = db->put(db, NULL, &k, &v, DB_NOOVERWRITE);
	if (rc == DB_KEYEXIST) {
		msg_warn("%s:%ld: duplicate entry \"%s\"; the first one is kept", path, line, key);
		return 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s:%ld: write table: %s", path, line, db_strerror(rc));
		return -1;
	}
	return 0;
}

/* Read the source, put every entry. */
static int compile_into(DB *db, const char *path, int flags, char *err, size_t errlen)
{
	src s = { .path = path };
	buf b;
	long first = 0;
	int rc;

	if ((s.fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b, DICT_LINE_MAX);
	while ((rc = src_logical(&s, &b, &first, err, errlen)) > 0) {
		char *key = b.data, *val = key;
		while (*val && *val != ' ' && *val != '\t')
			val++;
		if (*val)
			*val++ = 0;
		while (*val == ' ' || *val == '\t')
			val++;
		if (*val == 0) {
			snprintf(err, errlen, "%s:%ld: expected format: key whitespace value",
				 path, first);
			rc = -1;
			break;
		}
		if (!(flags & DICT_CASE))
			fold(key);
		if (db_put(db, key, val, path, first, err, errlen) < 0) {
			rc = -1;
			break;
		}
	}
	buf_free(&b);
	free(s.line);
	fclose(s.fp);
	return rc;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static int fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (slash == NULL)
		return fsync_path(".", O_RDONLY | O_DIRECTORY);
	if (str_ncopy(dir, sizeof(dir), path, slash == path ? 1 : (size_t)(slash - path)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

int dict_compile_flags(const char *path, int flags, char *err, size_t errlen)
{
	char *dbpath = db_path(path), tmp[PATH_MAX];
	DB *db = NULL;
	int rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", dbpath, (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		free(dbpath);
		return -1;
	}
	(void)unlink(tmp);
	if ((rc = db_create(&db, NULL, 0)) != 0) {
		snprintf(err, errlen, "db_create: %s", db_strerror(rc));
		free(dbpath);
		return -1;
	}
	/* created private; given the source's permissions before it is installed, so a
	 * password table (mode 600) never has a world-readable .db (as postmap does) */
	if ((rc = db->open(db, NULL, tmp, NULL, DB_HASH, DB_CREATE | DB_EXCL, 0600)) != 0) {
		snprintf(err, errlen, "create %s: %s", tmp, db_strerror(rc));
		db->close(db, 0);
		goto fail;
	}
	if (compile_into(db, path, flags, err, errlen) < 0) {
		db->close(db, 0);
		goto fail;
	}
	if ((rc = db->close(db, 0)) != 0) {	/* close flushes (sync) */
		snprintf(err, errlen, "write %s: %s", tmp, db_strerror(rc));
		goto fail;
	}
	{
		struct stat srcst;

		if (stat(path, &srcst) == 0 && chmod(tmp, srcst.st_mode & 0666) < 0) {
			snprintf(err, errlen, "chmod %s: %s", tmp, strerror(errno));
			goto fail;
		}
	}
	if (fsync_path(tmp, O_RDONLY) < 0 || rename(tmp, dbpath) < 0) {
		snprintf(err, errlen, "install %s: %s", dbpath, strerror(errno));
		goto fail;
	}
	if (fsync_parent(dbpath) < 0)
		msg_warn("fsync folder of %s: %s", dbpath, strerror(errno));
	free(dbpath);
	return 0;
fail:
	unlink(tmp);
	free(dbpath);
	return -1;
}

int dict_compile(const char *path, char *err, size_t errlen)
{
	return dict_compile_flags(path, 0, err, errlen);
}
