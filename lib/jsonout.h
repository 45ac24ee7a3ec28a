/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A JSON string for text that came from the kernel or a file: jansson takes
 * only UTF-8, so text that is not is shown as value_name_escape() shows
 * names (\xNN), never dropped.
 */

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

static inline json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	size_t len;
	char *buf;

	if (j || !s)
		return j;
	len = 4 * strlen(s) + 1;
	if (!(buf = malloc(len)))
		return NULL;
	j = json_string(value_name_escape(s, buf, len));
	free(buf);
	return j;
}
