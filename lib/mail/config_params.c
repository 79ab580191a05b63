/*
 * config_params.c - the table of every main.cf parameter, with type, default, doc.
 *
 * Each area keeps its parameters in its own params_AREA.def (one initializer a line),
 * so that parts of the system can add parameters without touching each other's lines.
 */
#include <stddef.h>

#include "mail/config.h"

const conf_param conf_params[] = {
#include "params_core.def"
#include "params_queue.def"
#include "params_smtpd.def"
#include "params_smtp.def"
#include "params_local.def"
#include "params_pop.def"
#include "params_fax.def"
#include "params_codec.def"
#include "params_hw.def"
	{ NULL, CONF_STR, NULL, NULL },
};
