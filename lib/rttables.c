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

#include "rrfile.h"
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
	free(t->by_name);
	free(t->error_path);
	*t = (struct rttables) { 0 };
}

static int rttables_add(struct rttables *t, uint32_t id, const char *name)
{
	if (t->n == t->alloc) {
		size_t n = t->alloc ? 2 * t->alloc : 64;
		struct rttables_entry *v = realloc(t->v, n * sizeof(*t->v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->alloc = n;
	}
	t->v[t->n].id = id;
	t->v[t->n].name = strdup(name);
	if (!t->v[t->n].name)
		return -ENOMEM;
	t->n++;
	return 0;
}

/* One line "NUMBER NAME [# comment]"; a line that is not is skipped, as iproute2 does. */
static int rttables_read_line(struct rttables *t, char *line)
{
	char *num, *name, *end;
	uint32_t id;

	num = rttables_skip_space(line);
	if (*num == '#' || *num == '\0')
		return 0;
	for (end = num; *end && !rttables_is_space(*end); end++)
		;
	if (!*end)
		return 0;
	*end = '\0';
	name = rttables_skip_space(end + 1);
	for (end = name; *end && !rttables_is_space(*end) && *end != '#'; end++)
		;
	*end = '\0';
	if (*name == '\0' || value_parse_u32(num, &id) < 0)
		return 0;
	return rttables_add(t, id, name);
}

/*
 * The names in one file. An absent file has none; a drop-in that is not a
 * regular file is skipped (iproute2 would read a FIFO and hang); anything
 * else that cannot be read is an error, with its path kept in t.
 */
static int rttables_read_file(struct rttables *t, const char *path, bool dropin)
{
	char *buf = NULL, *line, *nl;
	size_t len = 0;
	int r;

	r = rrfile_read(path, RTTABLES_FILE_MAX, &buf, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (dropin && (r == -RRFILE_NOT_REGULAR || r == -EISDIR))
		return 0;
	if (r < 0) {
		if (r != -ENOMEM && !(t->error_path = strdup(path)))
			r = -ENOMEM;
		return r;
	}
	/* A NUL ends its line early, as it did for iproute2's fgets(). */
	for (line = buf; r >= 0 && line < buf + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(buf + len - line));
		if (!nl)
			nl = buf + len; /* buf[len] is a NUL */
		*nl = '\0';
		r = rttables_read_line(t, line);
	}
	free(buf);
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
		r = rttables_read_file(t, file, true);
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

/* Entries by name, then file order: a name's first entry is the one that counts. */
static int rttables_compare_index(const void *a, const void *b, void *arg)
{
	const struct rttables_entry *v = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcmp(v[x].name, v[y].name);

	return r ? r : (x > y) - (x < y);
}

static int rttables_read_all(struct rttables *t, const char *const *dirs, size_t n_dirs)
{
	int r;

	for (size_t i = 0; i < n_dirs; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/rt_tables", dirs[i]) < 0)
			return -ENOMEM;
		r = rttables_read_file(t, path, false);
		free(path);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_dirs; i++) {
		r = rttables_read_dropins(t, dirs[i]);
		if (r < 0)
			return r;
	}
	/* Looked up once per Table= line: by binary search, not through 100,000 lines. */
	t->by_name = calloc(t->n + 1, sizeof(*t->by_name));
	if (!t->by_name)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		t->by_name[i] = i;
	if (t->n > 1)
		qsort_r(t->by_name, t->n, sizeof(*t->by_name), rttables_compare_index, t->v);
	return 0;
}

int rttables_load(struct rttables *t, const char *dir)
{
	const char *dirs[2] = { dir, NULL };
	size_t n_dirs = 1;

	if (t->loaded)
		return t->error;
	if (!dir) {
		dirs[0] = RTTABLES_DIR;
		dirs[1] = RTTABLES_VENDOR_DIR;
		n_dirs = 2;
	}
	/* Loaded even when it failed: the error is kept, the files are not read again. */
	t->error = rttables_read_all(t, dirs, n_dirs);
	t->loaded = true;
	return t->error;
}

int rttables_find(const struct rttables *t, const char *name, uint32_t *ret)
{
	size_t lo = 0, hi = t->by_name ? t->n : 0;

	for (size_t i = 0; i < sizeof(rttables_builtin) / sizeof(rttables_builtin[0]); i++)
		if (strcmp(name, rttables_builtin[i].name) == 0) {
			*ret = rttables_builtin[i].id;
			return 0;
		}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->v[t->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < (t->by_name ? t->n : 0) && strcmp(t->v[t->by_name[lo]].name, name) == 0) {
		*ret = t->v[t->by_name[lo]].id;
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
