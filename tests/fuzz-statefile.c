/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the state file's reader (statefile.h), which --status
 * runs on a file it does not trust: any input is parsed or refused, with no
 * crash, leak or undefined behaviour; what is accepted writes back to a text
 * that reads back the same.
 *   meson setup build-fuzz -Dfuzzer=true -Db_sanitize=address,undefined (with CC=clang)
 *   build-fuzz/tests/fuzz-statefile -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "statefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct statefile s, back;
	char *out = NULL, *again = NULL;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (statefile_parse(text, &s) == 0) {
		if (statefile_format(&s, &out) != 0 || statefile_parse(out, &back) != 0 ||
		    statefile_format(&back, &again) != 0 || strcmp(out, again) != 0)
			abort();
		statefile_clear(&back);
		statefile_clear(&s);
	}
	free(out);
	free(again);
	free(text);
	return 0;
}
