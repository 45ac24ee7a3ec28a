/* SPDX-License-Identifier: MIT */
/*
 * Which drop-in files a config has, in the order they are read. Only names
 * and directories here: the files are read by config.c.
 */
#include "dropin.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct dropin {
	char *path;
	const char *name; /* inside path */
	size_t dir;	  /* index in dirs: lower wins */
	bool drop; /* masked, or shadowed: not in the result */
};

struct dropins {
	struct dropin *v;
	size_t n, alloc;
};

static bool dropin_wanted(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

/* A symlink to /dev/null (systemd's mask). */
static bool dropin_masked(const char *path)
{
	struct stat lst, st;

	return lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && stat(path, &st) == 0 &&
	       S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static int dropin_add(struct dropins *l, const char *dir, const char *name, size_t i)
{
	struct dropin *d;

	if (l->n == l->alloc) {
		size_t n = l->alloc ? 2 * l->alloc : 8;
		struct dropin *v = realloc(l->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->alloc = n;
	}
	d = &l->v[l->n];
	if (asprintf(&d->path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	d->name = d->path + strlen(dir) + 1;
	d->dir = i;
	d->drop = dropin_masked(d->path);
	l->n++;
	return 0;
}

static int dropin_scan(struct dropins *l, const char *dir, size_t i, FILE *err)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		if (err && r != -ENOMEM)
			fprintf(err, "%s: %s\n", dir, strerror(-r));
		return r;
	}
	while (r == 0 && (errno = 0, de = readdir(d)))
		if (dropin_wanted(de->d_name))
			r = dropin_add(l, dir, de->d_name, i);
	if (r == 0 && errno) {
		r = -errno;
		if (err)
			fprintf(err, "%s: %s\n", dir, strerror(-r));
	}
	closedir(d);
	return r;
}

static int dropin_compare(const void *a, const void *b)
{
	const struct dropin *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : (x->dir > y->dir) - (x->dir < y->dir);
}

void dropin_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int dropin_list(const char *const *dirs, size_t n_dirs, FILE *err, char ***ret, size_t *ret_n)
{
	struct dropins l = { 0 };
	char **v = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < n_dirs && r == 0; i++)
		r = dropin_scan(&l, dirs[i], i, err);
	if (r == 0 && l.n > 0) {
		qsort(l.v, l.n, sizeof(*l.v), dropin_compare);
		v = calloc(l.n, sizeof(*v));
		if (!v)
			r = -ENOMEM;
	}
	/* Freed only once every comparison with a previous name is done. */
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		bool shadowed = i > 0 && strcmp(l.v[i].name, l.v[i - 1].name) == 0;

		if (!shadowed && !l.v[i].drop)
			v[n++] = l.v[i].path;
		else
			l.v[i].drop = true;
	}
	for (size_t i = 0; i < l.n; i++)
		if (r < 0 || l.v[i].drop)
			free(l.v[i].path);
	free(l.v);
	if (r < 0) {
		dropin_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
