/* SPDX-License-Identifier: MIT */
/*
 * FILE:LINE messages, every one of them, in line order: what a reader of a
 * config file needs to fix it in one pass.
 */
#include "diag.h"

#include <errno.h>
#include <stdlib.h>

int diag_addv(struct diag *d, unsigned line, const char *fmt, va_list ap)
{
	char *text;

	if (d->n >= DIAG_MAX) {
		d->full = true;
		return 0;
	}
	if (d->n == d->alloc) {
		size_t n = d->alloc ? 2 * d->alloc : 16;
		struct diag_msg *v = realloc(d->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->alloc = n;
	}
	if (vasprintf(&text, fmt, ap) < 0)
		return -ENOMEM;
	d->v[d->n] = (struct diag_msg) { .line = line, .seq = d->n, .text = text };
	d->n++;
	return 0;
}

/* qsort() is not stable: seq keeps the messages of one line in their order. */
static int diag_compare(const void *a, const void *b)
{
	const struct diag_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diag_sort(struct diag *d)
{
	if (d->n > 0)
		qsort(d->v, d->n, sizeof(*d->v), diag_compare);
}

void diag_write(struct diag *d, const char *name, FILE *f)
{
	diag_sort(d);
	for (size_t i = 0; f && i < d->n; i++)
		fprintf(f, "%s:%u: %s\n", name, d->v[i].line, d->v[i].text);
	if (f && d->full)
		fprintf(f, "%s: too many errors, giving up\n", name);
}

void diag_clear(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	*d = (struct diag) { 0 };
}
