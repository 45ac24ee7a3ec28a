/* SPDX-License-Identifier: MIT */
#pragma once

/* The unit tests' one assertion: report file:line and the condition, count, go on. */

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                        \
		}                                                                          \
	} while (0)

/* main's last word: 0 when every check held. */
static inline int check_done(const char *what)
{
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("all %s checks passed\n", what);
	return 0;
}
