/* SPDX-License-Identifier: MIT */
#include "sysctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *sysctl_root = "/proc/sys";

static int path_of(char *buf, size_t len, const char *ifname)
{
	int n = snprintf(buf, len, "%s/net/ipv4/conf/%s/src_valid_mark", sysctl_root, ifname);

	return n < 0 || (size_t)n >= len || strchr(ifname, '/') ? -EINVAL : 0;
}

static int read_int(const char *path, int *ret)
{
	char buf[32];
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	*ret = atoi(buf);
	return 0;
}

static int write_int(const char *path, int value, int flags)
{
	char buf[16];
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644), n, r = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", value);
	if (write(fd, buf, (size_t)n) != n)
		r = -errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int sysctl_read(const char *ifname, int *ret)
{
	char path[PATH_MAX];
	int r = path_of(path, sizeof(path), ifname);

	return r < 0 ? r : read_int(path, ret);
}

int sysctl_enable(const char *statedir, const char *ifname)
{
	char path[PATH_MAX], saved[PATH_MAX];
	int old, r;

	if ((r = path_of(path, sizeof(path), ifname)) < 0)
		return r;
	if ((r = read_int(path, &old)) < 0)
		return r;
	if (old == 1)
		return 0;
	snprintf(saved, sizeof(saved), "%s/sysctl", statedir);
	if (mkdir(statedir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(saved, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(saved, sizeof(saved), "%s/sysctl/%s", statedir, ifname);
	/* Keep the first value seen: a later one may be our own. */
	r = write_int(saved, old, O_CREAT | O_EXCL);
	if (r < 0 && r != -EEXIST)
		return r;
	if ((r = write_int(path, 1, 0)) < 0)
		return r;
	return 1;
}

int sysctl_restore_all(const char *statedir, void (*done)(const char *ifname, int value, int err))
{
	return sysctl_restore_untracked(statedir, NULL, NULL, done);
}

int sysctl_restore_untracked(const char *statedir, bool (*tracked)(const char *ifname, void *userdata),
			     void *userdata, void (*done)(const char *ifname, int value, int err))
{
	char dir[PATH_MAX], saved[PATH_MAX + 256], path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int count = 0;

	snprintf(dir, sizeof(dir), "%s/sysctl", statedir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		int value = -1, r;

		if (de->d_name[0] == '.' || (tracked && tracked(de->d_name, userdata)))
			continue;
		snprintf(saved, sizeof(saved), "%s/%s", dir, de->d_name);
		r = read_int(saved, &value);
		if (r == 0 && (r = path_of(path, sizeof(path), de->d_name)) == 0)
			r = write_int(path, value, 0);
		/* An interface that is gone took its value with it. */
		if (r == -ENOENT)
			r = 0;
		if (done)
			done(de->d_name, value, r);
		unlink(saved);
		count++;
	}
	closedir(d);
	return count;
}
