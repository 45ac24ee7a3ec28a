/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Messages about the lines of one file, collected in any order and written
 * in the file's: a check that runs at the end of the file can still report
 * a line near its start.
 */
struct diag_msg {
	unsigned line;
	size_t seq; /* order of arrival, among messages for one line */
	char *text;
};

/*
 * More than this and the file is not a config with mistakes but something
 * else: the rest would only bury the first ones (the file is rejected anyway).
 */
#define DIAG_MAX 100

struct diag {
	struct diag_msg *v;
	size_t n, alloc;
	bool full; /* a message past DIAG_MAX was dropped */
};

/* 0 or -ENOMEM; past DIAG_MAX messages, 0 and the message is dropped. */
int diag_addv(struct diag *d, unsigned line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/*
 * Sorts d by line and writes "NAME:LINE: text\n" for each message, then
 * "NAME: too many errors, giving up\n" when some were dropped.
 */
void diag_write(struct diag *d, const char *name, FILE *f);
void diag_clear(struct diag *d);
/* Sorts d by line (messages of one line in their order of arrival). */
void diag_sort(struct diag *d);
