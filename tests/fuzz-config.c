/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config parser: any input must either load or be
 * rejected with FILE:LINE messages; no crash, leak or undefined behaviour.
 *   meson setup build-fuzz -Dfuzzer=true -Db_sanitize=address,undefined (with CC=clang)
 *   build-fuzz/tests/fuzz-config -max_total_time=60 tests/conf/good tests/conf/bad
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rr_config_env env = {.rt_tables_dir = FUZZ_RT_TABLES_DIR};
	struct rr_config *c = NULL;
	char path[64];
	FILE *sink = fopen("/dev/null", "we");
	int fd = memfd_create("fuzz.conf", MFD_CLOEXEC);

	if (fd < 0 || !sink)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(path, &env, sink, &c) == 0) {
		config_print(c, sink);
		config_free(c);
	}
	fclose(sink);
	close(fd);
	return 0;
}
