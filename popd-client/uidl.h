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
/* Forget entries of mailbox whose UIDL is not in keep[] (gone from the server). */
int uidl_prune(uidl_db *u, const char *mailbox, const char *const *keep, size_t nkeep);

#endif
