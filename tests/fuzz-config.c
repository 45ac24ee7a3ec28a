/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config parser: any input must either load or be
 * rejected with FILE:LINE messages; no crash, leak or undefined behaviour.
 * The input goes to config_load_buffer() as it is, NUL bytes included.
 *   meson setup build-fuzz -Dfuzzer=true -Db_sanitize=address,undefined (with CC=clang)
 *   build-fuzz/tests/fuzz-config -max_total_time=60 tests/conf/good tests/conf/bad
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rr_config_env env = {.rt_tables_dir = FUZZ_RT_TABLES_DIR};
	struct rr_config *c = NULL;
	FILE *sink = fopen("/dev/null", "we");

	if (!sink)
		abort();
	if (config_load_buffer("fuzz.conf", (const char *)data, size, &env, sink, &c) == 0) {
		config_print(c, sink);
		config_free(c);
	}
	fclose(sink);
	return 0;
}
