/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Golden output for the unit tests: what a renderer printed, compared whole
 * with DIR/NAME (tests/expected); RR_GOLDEN_UPDATE=1 writes it instead.
 * Include after check.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, or NULL. */
static char *golden_read(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;

	while (f && m && (c = fgetc(f)) != EOF)
		fputc(c, m);
	if (m)
		fclose(m);
	if (!f) {
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static void golden_check(const char *dir, const char *name, const char *got)
{
	char path[1024];
	char *want;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (getenv("RR_GOLDEN_UPDATE")) {
		FILE *f = fopen(path, "we");

		CHECK(f != NULL);
		if (f) {
			fputs(got, f);
			fclose(f);
		}
		return;
	}
	want = golden_read(path);
	if (!want || strcmp(want, got)) {
		fprintf(stderr, "%s differs; got:\n%s", path, got);
		failures++;
	}
	free(want);
}

/* Run call, which prints to FILE *out, into memory and compare with DIR/NAME. */
#define GOLDEN(dir, name, call)                                      \
	do {                                                         \
		char *out_ = NULL;                                   \
		size_t len_ = 0;                                     \
		FILE *out = open_memstream(&out_, &len_);            \
		CHECK(out != NULL);                                  \
		call;                                                \
		fclose(out);                                         \
		golden_check((dir), (name), out_ ? out_ : "");       \
		free(out_);                                          \
	} while (0)
