/*
 * config_impl.h - what config.c shares with config_edit.c; not for other users.
 */
#ifndef FAXPOST_MAIL_CONFIG_IMPL_H
#define FAXPOST_MAIL_CONFIG_IMPL_H

#include <stddef.h>

#include "mail/config.h"
#include "util/buf.h"

int conf_is_name_char(int c);
/* The declaration of a parameter main.cf may set, or NULL for an unknown name. */
const conf_param *conf_param_of(const char *name);
/* 0 when v parses as p's type, else -1 with the reason in err. */
int conf_check_typed(const conf_param *p, const char *v, char *err, size_t errlen);
/* Read a whole config file (bounded, no NUL bytes) into text (initialised here). */
int conf_read_file(const char *path, buf *text, char *err, size_t errlen);

#endif
