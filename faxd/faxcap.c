/*
 * faxcap.c - remote fax capabilities per number, in a Berkeley DB table (faxcap.h).
 *
 * Contract: see faxcap.h. The expression lists TIFF (what codecd turns into the fax
 * coding), binary colour, 204 dpi with 98 lpi (and 196 when the DIS says fine), the
 * codings the DIS offers (MMR and JBIG T.85 only with ECM), and the paper sizes its
 * width allows.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "faxcap.h"
#include "util/buf.h"
#include "util/msg.h"

void faxcap_expression(const t30_caps *c, char *out, size_t size)
{
	const char *codings = c->jbig ? "(| (image-coding=[MH,MR,MMR]) (& (image-coding=JBIG) "
		"(image-coding-constraint=JBIG-T85) (JBIG-stripe-size=128)))"
		: c->mmr ? "(image-coding=[MH,MR,MMR])" : c->mr ? "(image-coding=[MH,MR])"
		: "(image-coding=MH)";
	const char *ratio = c->fine ? "[204/98,204/196]" : "204/98";
	const char *paper = c->width >= 2 ? "[A4,letter,B4,A3]" : c->width == 1 ? "[A4,letter,B4]"
		: "[A4,letter]";
	snprintf(out, size,
		 "(& (image-file-structure=[TIFF-minimal,TIFF-limited,TIFF]) (MRC-mode=0) "
		 "(color=Binary) (dpi=204) (dpi-xyratio=%s) %s "
		 "(paper-size=%s) (ua-media=stationery))", ratio, codings, paper);
}

static int put(DB *db, const char *key, const char *val)
{
	DBT k, v;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key) + 1;
	v.data = (void *)val;
	v.size = (u_int32_t)strlen(val) + 1;
	return db->put(db, NULL, &k, &v, 0);
}

/* Copy every entry of old (may be missing) into db, except those of `number`. */
static int copy_old(DB *db, const char *oldpath, const char *k1, const char *k2)
{
	DB *old;
	if (db_create(&old, NULL, 0) != 0)
		return -1;
	if (old->open(old, NULL, oldpath, NULL, DB_HASH, DB_RDONLY, 0) != 0) {
		old->close(old, 0);
		return 0;	/* no table yet */
	}
	DBC *cur;
	int rc = 0;
	if (old->cursor(old, NULL, &cur, 0) == 0) {
		DBT k, v;
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		while (cur->get(cur, &k, &v, DB_NEXT) == 0) {
			if ((k.size == strlen(k1) + 1 && memcmp(k.data, k1, k.size) == 0) ||
			    (k.size == strlen(k2) + 1 && memcmp(k.data, k2, k.size) == 0))
				continue;
			if (db->put(db, NULL, &k, &v, 0) != 0)
				rc = -1;
		}
		cur->close(cur);
	}
	old->close(old, 0);
	return rc;
}

int faxcap_store(const char *data_dir, const char *number, const t30_caps *c,
		 const char *csi, char *err, size_t errlen)
{
	char path[4096], tmp[4200], lock[4200], k2[128], expr[512], raw[400], desc[160];
	if (snprintf(path, sizeof(path), "%s/fax_capabilities.db", data_dir) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp) ||
	    snprintf(lock, sizeof(lock), "%s/fax_capabilities.lock", data_dir) >= (int)sizeof(lock) ||
	    snprintf(k2, sizeof(k2), "%s/dis", number) >= (int)sizeof(k2)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	faxcap_expression(c, expr, sizeof(expr));
	t30_caps_describe(c, desc, sizeof(desc));
	snprintf(raw, sizeof(raw), "%s; csi=\"%s\"; seen=%lld", desc, csi ? csi : "",
		 (long long)time(NULL));
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0) {
		snprintf(err, errlen, "lock %s: %s", lock, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	DB *db;
	int rc = -1;
	unlink(tmp);
	if (db_create(&db, NULL, 0) == 0) {
		int st = db->open(db, NULL, tmp, NULL, DB_HASH, DB_CREATE | DB_EXCL, 0644);
		if (st == 0 && copy_old(db, path, number, k2) == 0 && put(db, number, expr) == 0 &&
		    put(db, k2, raw) == 0 && db->sync(db, 0) == 0)
			rc = 0;
		else
			snprintf(err, errlen, "write %s: %s", tmp, st ? db_strerror(st) : "failed");
		db->close(db, 0);
	}
	if (rc == 0) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		if (rename(tmp, path) < 0) {
			snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
			rc = -1;
		}
	}
	if (rc < 0)
		unlink(tmp);
	close(lfd);
	return rc;
}
