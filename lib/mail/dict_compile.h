/*
 * dict_compile.h - dict_compile() with flags (an addition to dict.h, same module).
 *
 * Contract: as dict_compile(), but flags may hold DICT_CASE: keys are stored as
 * written instead of lower-cased (postmap -f). Such a table must then be opened with
 * DICT_CASE too, or mixed-case keys are never found.
 */
#ifndef FAXPOST_MAIL_DICT_COMPILE_H
#define FAXPOST_MAIL_DICT_COMPILE_H

#include <stddef.h>

#include "mail/dict.h"

int dict_compile_flags(const char *path, int flags, char *err, size_t errlen);

#endif
