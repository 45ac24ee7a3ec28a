/* SPDX-License-Identifier: MIT */
/*
 * The syntax of one INI line, strict: no continuation lines, no quoting, no
 * ':' for '=', nothing skipped. The meaning of sections and keys, and line
 * numbers, are the caller's (config.c).
 */
#include "iniline.h"

#include <stdbool.h>
#include <string.h>

static bool iniline_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *iniline_skip_space(char *s)
{
	while (iniline_is_space(*s))
		s++;
	return s;
}

char *iniline_strip(char *line)
{
	char *s = iniline_skip_space(line), *c;
	size_t n;

	if (*s == '#' || *s == ';')
		s += strlen(s);
	for (c = s; *c; c++)
		if ((*c == '#' || *c == ';') && c > s && iniline_is_space(c[-1])) {
			*c = '\0';
			break;
		}
	n = strlen(s);
	while (n > 0 && iniline_is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

void iniline_split(char *line, struct iniline *ret)
{
	char *eq, *end;

	*ret = (struct iniline) { .kind = INILINE_EMPTY };
	if (*line == '\0')
		return;
	if (*line == '[') {
		ret->kind = INILINE_SECTION;
		end = strchr(line, ']');
		if (!end)
			ret->error = "expected ']' at the end of the section header";
		else if (end[1] != '\0')
			ret->error = "unexpected text after ']'";
		else {
			*end = '\0';
			ret->section = line + 1;
		}
		return;
	}

	ret->kind = INILINE_ASSIGNMENT;
	eq = strchr(line, '=');
	if (!eq) {
		ret->error = "expected KEY=VALUE, [Section] or a comment";
		return;
	}
	ret->value = iniline_skip_space(eq + 1);
	for (end = eq; end > line && iniline_is_space(end[-1]); end--)
		;
	if (end == line) {
		ret->error = "expected a key name before '='";
		return;
	}
	*end = '\0';
	ret->key = line;
}
