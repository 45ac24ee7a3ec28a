/* SPDX-License-Identifier: MIT */
#pragma once

#include "engine.h"

#define RR_EXIT_FAILURE 1
#define RR_EXIT_USAGE 2
#define RR_EXIT_CONFIG 78 /* EX_CONFIG: RestartPreventExitStatus= in the unit */

/* Run until SIGTERM/SIGINT; returns 0 or a negative errno. */
int daemon_run(struct rr_engine *e, const char *config_path);
