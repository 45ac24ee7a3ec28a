/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The operator's commands that only read: --explain and --audit. Each parses
 * its own options (main() hands over argv when it sees the mode) and returns
 * the process's exit status.
 */

#include <stdbool.h>

/* Whether argv names this mode (--explain / --audit): main() hands over then. */
bool cli_has(int argc, char **argv, const char *mode);

int cli_explain(int argc, char **argv);
int cli_audit(int argc, char **argv);

struct rr_config;
/* The audit's warnings as log lines, once: the daemon calls it after its first reconcile. */
void cli_audit_log(const struct rr_config *c);
