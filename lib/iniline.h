/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * One line of an INI file, as replyroute writes them: a comment, a
 * [Section] header or KEY=VALUE. Knows nothing of sections and keys.
 */
enum iniline_kind {
	INILINE_EMPTY, /* blank or comment */
	INILINE_SECTION,
	INILINE_ASSIGNMENT,
};

struct iniline {
	enum iniline_kind kind;
	const char *section;	 /* INILINE_SECTION: the text between '[' and ']' */
	const char *key, *value; /* INILINE_ASSIGNMENT: whitespace stripped, value may be "" */
	const char *error;	 /* why the line is malformed, NULL when it is not */
};

/*
 * Cut the comment and the surrounding whitespace off line, in place, and
 * return what is left (inside line; "" for a blank or comment line). '#' and
 * ';' start a comment at the start of a line or after whitespace: "eth1#x"
 * keeps its '#'.
 */
char *iniline_strip(char *line);

/*
 * Split a stripped line, in place; ret points into it. A malformed line
 * still says what it looked like (a header when it starts with '['), with
 * ret->error set.
 */
void iniline_split(char *line, struct iniline *ret);
