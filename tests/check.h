/* SPDX-License-Identifier: MIT */
#pragma once

/* The unit tests' one assertion: report file:line and the condition, count, go on. */

#include <stdio.h>
#include <stdlib.h>

#include "addr.h"

static int failures;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                        \
		}                                                                          \
	} while (0)

/* An address literal of the test's own; a typo in it ends the test. */
static inline struct rr_addr check_addr(const char *s)
{
	struct rr_addr a = {0};

	if (rr_addr_parse(s, &a) < 0) {
		fprintf(stderr, "bad address in test: %s\n", s);
		exit(2);
	}
	return a;
}

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
