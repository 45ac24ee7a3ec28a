/* SPDX-License-Identifier: MIT */
/*
 * iproute2's routing table names: the files `ip route show table NAME` reads,
 * read the way it reads them, so a name means the same table to both.
 */
#include "rttables.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

static const struct {
	uint32_t id;
	const char *name;
} rttables_builtin[] = {
	{ 253, "default" },
	{ 254, "main" },
	{ 255, "local" },
};

static bool rttables_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *rttables_skip_space(char *s)
{
	while (rttables_is_space(*s))
		s++;
	return s;
}

void rttables_clear(struct rttables *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	*t = (struct rttables) { 0 };
}

static int rttables_add(struct rttables *t, uint32_t id, const char *name)
{
	struct rttables_entry *v;

	v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	t->v[t->n].id = id;
	t->v[t->n].name = strdup(name);
	if (!t->v[t->n].name)
		return -ENOMEM;
	t->n++;
	return 0;
}

/* Lines "NUMBER NAME [# comment]"; lines that are not are skipped, as iproute2 does. */
static int rttables_read_file(struct rttables *t, const char *path)
{
	FILE *f;
	char *line = NULL;
	size_t size = 0;
	int r = 0;

	f = fopen(path, "re");
	if (!f)
		return 0; /* absent or unreadable: no names from here */

	while (r >= 0 && getline(&line, &size, f) >= 0) {
		char *num, *name, *end;
		uint32_t id;

		num = rttables_skip_space(line);
		if (*num == '#' || *num == '\0')
			continue;
		for (end = num; *end && !rttables_is_space(*end); end++)
			;
		if (!*end)
			continue;
		*end = '\0';
		name = rttables_skip_space(end + 1);
		for (end = name; *end && !rttables_is_space(*end) && *end != '#'; end++)
			;
		*end = '\0';
		if (*name == '\0' || value_parse_u32(num, &id) < 0)
			continue;
		r = rttables_add(t, id, name);
	}
	free(line);
	fclose(f);
	return r;
}

static int rttables_compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* DIR/rt_tables.d/ *.conf, in name order so the first match is predictable. */
static int rttables_read_dropins(struct rttables *t, const char *dir)
{
	char *path = NULL, **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (asprintf(&path, "%s/rt_tables.d", dir) < 0)
		return -ENOMEM;
	d = opendir(path);
	if (!d) {
		free(path);
		return 0;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **v;

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		v = realloc(names, (n + 1) * sizeof(*names));
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		names = v;
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), rttables_compare_names);
	for (size_t i = 0; i < n && r >= 0; i++) {
		char *file = NULL;

		if (asprintf(&file, "%s/%s", path, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		r = rttables_read_file(t, file);
		free(file);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	free(path);
	return r;
}

int rttables_load(struct rttables *t, const char *dir)
{
	const char *dirs[2] = { dir, NULL };
	size_t n_dirs = 1;
	int r;

	if (t->loaded)
		return 0;
	if (!dir) {
		dirs[0] = RTTABLES_DIR;
		dirs[1] = RTTABLES_VENDOR_DIR;
		n_dirs = 2;
	}
	for (size_t i = 0; i < n_dirs; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/rt_tables", dirs[i]) < 0)
			return -ENOMEM;
		r = rttables_read_file(t, path);
		free(path);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_dirs; i++) {
		r = rttables_read_dropins(t, dirs[i]);
		if (r < 0)
			return r;
	}
	t->loaded = true;
	return 0;
}

int rttables_find(const struct rttables *t, const char *name, uint32_t *ret)
{
	for (size_t i = 0; i < sizeof(rttables_builtin) / sizeof(rttables_builtin[0]); i++)
		if (strcmp(name, rttables_builtin[i].name) == 0) {
			*ret = rttables_builtin[i].id;
			return 0;
		}
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(name, t->v[i].name) == 0) {
			*ret = t->v[i].id;
			return 0;
		}
	return -ENOENT;
}

const char *rttables_builtin_name(uint32_t id)
{
	for (size_t i = 0; i < sizeof(rttables_builtin) / sizeof(rttables_builtin[0]); i++)
		if (rttables_builtin[i].id == id)
			return rttables_builtin[i].name;
	return NULL;
}

uint32_t rttables_lookup(const char *dir, const char *name)
{
	struct rttables t = { 0 };
	uint32_t id = 0;

	if (!name)
		return 0;
	if (value_parse_u32(name, &id) == 0)
		return id;
	if (rttables_load(&t, dir) < 0 || rttables_find(&t, name, &id) < 0)
		id = 0;
	rttables_clear(&t);
	return id;
}
