/*
 * faxcap.h - the remembered capabilities of remote fax machines (Berkeley DB).
 *
 * Contract: one entry per dialled number ("+4930123456", as in the FAX= address) in
 * data_directory/fax_capabilities.db, a DB_HASH table in the format of lib/mail/dict (key and
 * value stored with their NUL), so smtpd reads it with dict_open(".../fax_capabilities") to
 * answer CONNEG for FAX= recipients. The value is an RFC 2879 feature expression of
 * what that machine's DIS offered; a second key "NUMBER/dis" holds the raw DIS summary
 * and the remote CSI, for people. faxcap_store() rewrites the table into a temporary
 * file and renames it over the old one (readers see one or the other, whole), under an
 * flock on fax_capabilities.lock so that concurrent faxd processes do not lose updates.
 */
#ifndef FAXPOST_FAXD_FAXCAP_H
#define FAXPOST_FAXD_FAXCAP_H

#include <stddef.h>

#include "t30.h"

/* The feature expression for a DIS (what we can deliver to that machine). */
void faxcap_expression(const t30_caps *c, char *out, size_t size);
/* Store number -> caps under data_dir. 0 or -1 (err set). */
int faxcap_store(const char *data_dir, const char *number, const t30_caps *c,
		 const char *csi, char *err, size_t errlen);

#endif
