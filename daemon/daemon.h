/* SPDX-License-Identifier: MIT */
#pragma once

#include "engine.h"

#define RR_EXIT_FAILURE 1
#define RR_EXIT_USAGE 2
#define RR_EXIT_RUNNING 3 /* another instance holds the lock */
#define RR_EXIT_WARNINGS 4 /* --audit found something to fix */
#define RR_EXIT_CONFIG 78 /* EX_CONFIG: RestartPreventExitStatus= in the unit */

/* config_load, each error logged as its own line; the first one copied to first. */
int daemon_load_config(const char *path, struct rr_config **ret, char *first, size_t len);

/* Run until SIGTERM/SIGINT; returns 0 or a negative errno. */
int daemon_run(struct rr_engine *e, const char *config_path);
