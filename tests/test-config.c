/* SPDX-License-Identifier: MIT */
/*
 * conf-print CONFIG [RT_TABLES_DIR [RUNTIME_DIR]]: load CONFIG (and its drop-ins
 * in CONFIG.d/ and RUNTIME_DIR/BASENAME.d/) and print it normalised
 * (exit 0), or print its errors (exit 78, EX_CONFIG; 1 for other failures).
 * Everything goes to stdout so golden tests capture both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int main(int argc, char **argv)
{
	struct rr_config_env env = { 0 };
	struct rr_config *c = NULL;
	int r;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s CONFIG [RT_TABLES_DIR [RUNTIME_DIR]]\n", argv[0]);
		return 2;
	}
	if (argc >= 3)
		env.rt_tables_dir = argv[2];
	if (argc == 4)
		env.runtime_dir = argv[3];

	r = config_load(argv[1], &env, stdout, &c);
	if (r == -EINVAL)
		return 78;
	if (r < 0)
		return 1;
	config_print(c, stdout);
	config_free(c);
	return fflush(stdout) == 0 ? 0 : 1;
}
