/*
 * uidl.h - the durable record of what popd-client has fetched (Berkeley DB btree).
 *
 * Contract: key "mailbox\0uidl", value "queue_id arrival-seconds". uidl_record()
 * returns only when the entry is on disk (DB->sync), so that a DELE sent after it can
 * never lead to a lost message, and a crash before it at worst to one re-fetch.
 */
#ifndef FAXPOST_POPD_UIDL_H
#define FAXPOST_POPD_UIDL_H

#include <stddef.h>

typedef struct uidl_db uidl_db;

uidl_db *uidl_open(const char *path, char *err, size_t errlen);
void uidl_close(uidl_db *u);
/* 1 if mailbox/uidl was fetched before, 0 if not, -1 on error. */
int uidl_seen(uidl_db *u, const char *mailbox, const char *uidl);
int uidl_record(uidl_db *u, const char *mailbox, const char *uidl, const char *queue_id);
/* The same without the sync: for a batch, several uidl_put() then one uidl_sync(). */
int uidl_put(uidl_db *u, const char *mailbox, const char *uidl, const char *queue_id);
int uidl_sync(uidl_db *u);
void uidl_forget(uidl_db *u, const char *mailbox, const char *uidl);	/* synced */
/* After a crash: publish every queue file a recorded entry names that is still complete
 * in tmp/ (recorded, not yet renamed into incoming/). Returns how many, -1 on error. */
int uidl_recover(uidl_db *u, const char *queue_dir);
/* Forget entries of mailbox whose UIDL is not in keep[] (gone from the server). */
int uidl_prune(uidl_db *u, const char *mailbox, const char *const *keep, size_t nkeep);

#endif
