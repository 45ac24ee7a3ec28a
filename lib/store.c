/* SPDX-License-Identifier: MIT */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int store_mkdir(const char *dir, const char *sub)
{
	char path[PATH_MAX];

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (!sub)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Write a whole file or nothing: a crash never leaves half a record. */
static int store_write(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (!(f = fopen(tmp, "we")))
		return -errno;
	if (fputs(text, f) < 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int saved_cmp(const void *a, const void *b)
{
	const struct rr_saved_sysctl *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/*
 * One file: "VALUE NAME" named by index; files named by interface holding
 * "VALUE INDEX" were written by earlier versions and are taken over.
 */
static int store_sysctl_parse(const char *dir, const char *file, struct rr_saved_sysctl *s)
{
	char path[PATH_MAX], name[IFNAMSIZ + 1] = "";
	char *end;
	long idx = strtol(file, &end, 10);
	FILE *f;
	int n, r = 0;

	snprintf(path, sizeof(path), "%s/sysctl/%s", dir, file);
	if (!(f = fopen(path, "re")))
		return -errno;
	memset(s, 0, sizeof(*s));
	if (*end == '\0' && idx > 0 && idx <= INT_MAX) {
		s->ifindex = (int)idx;
		n = fscanf(f, "%d %15s", &s->value, name);
		r = n >= 1 ? 0 : -EINVAL;
		snprintf(s->name, sizeof(s->name), "%s", name);
	} else {
		n = fscanf(f, "%d %d", &s->value, &s->ifindex);
		r = n == 2 && s->ifindex > 0 && strlen(file) < IFNAMSIZ ? 0 : -EINVAL;
		snprintf(s->name, sizeof(s->name), "%s", file);
	}
	fclose(f);
	if (r < 0 || *end == '\0')
		return r;
	/* The old name-keyed format: rewrite it under the index. */
	if ((r = store_sysctl_save(dir, s)) == 0)
		(void)unlink(path);
	return r;
}

int store_sysctl_load(const char *dir, struct rr_saved_sysctl **ret, size_t *ret_n)
{
	char path[PATH_MAX];
	struct rr_saved_sysctl *v = NULL, *p;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	snprintf(path, sizeof(path), "%s/sysctl", dir);
	if (!(d = opendir(path)))
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp"))
			continue;
		if (!(p = realloc(v, (n + 1) * sizeof(*v)))) {
			r = -ENOMEM;
			break;
		}
		v = p;
		if (store_sysctl_parse(dir, de->d_name, &v[n]) == 0)
			n++; /* an unreadable record is skipped: nothing to put back */
	}
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), saved_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

int store_sysctl_save(const char *dir, const struct rr_saved_sysctl *s)
{
	char path[PATH_MAX], text[64];
	int r;

	if ((r = store_mkdir(dir, "sysctl")) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/sysctl/%d", dir, s->ifindex);
	snprintf(text, sizeof(text), "%d %s\n", s->value, s->name);
	return store_write(path, text);
}

int store_sysctl_forget(const char *dir, int ifindex)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sysctl/%d", dir, ifindex);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int store_nft_read(const char *dir, struct ruleset_state *ret)
{
	struct ruleset_state s = {0};
	char path[PATH_MAX], name[IFNAMSIZ + 1] = "";
	uint32_t mark;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/nft", dir);
	if (!(f = fopen(path, "re")))
		return -errno;
	if (fscanf(f, "%" SCNx64 " %" SCNx64 " %" SCNx32, &s.text_hash, &s.listing_hash,
		   &s.mask) != 3)
		r = -EINVAL;
	while (r == 0 && fscanf(f, "%15s %" SCNx32, name, &mark) == 2) {
		void *p = realloc(s.entries, (s.n_entries + 1) * sizeof(*s.entries));

		if (!p) {
			r = -ENOMEM;
			break;
		}
		s.entries = p;
		memset(&s.entries[s.n_entries], 0, sizeof(*s.entries));
		memcpy(s.entries[s.n_entries].name, name, IFNAMSIZ - 1);
		s.entries[s.n_entries++].mark = mark;
	}
	fclose(f);
	if (r < 0) {
		ruleset_state_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int store_nft_write(const char *dir, const struct ruleset_state *s)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -ENOMEM;
	fprintf(f, "%016" PRIx64 " %016" PRIx64 " %#" PRIx32 "\n", s->text_hash, s->listing_hash,
		s->mask);
	for (size_t i = 0; i < s->n_entries; i++)
		fprintf(f, "%s %#" PRIx32 "\n", s->entries[i].name, s->entries[i].mark);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/nft", dir);
	r = store_mkdir(dir, NULL);
	if (r == 0)
		r = store_write(path, text);
	free(text);
	return r;
}

int store_nft_remove(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nft", dir);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}
