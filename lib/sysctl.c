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

int sysctl_enable(const char *statedir, const char *ifname, int ifindex)
{
	char path[PATH_MAX], saved[PATH_MAX], buf[32];
	int old, r, fd, n;

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
	fd = open(saved, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		n = snprintf(buf, sizeof(buf), "%d %d\n", old, ifindex);
		r = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
		close(fd);
		if (r < 0)
			return r;
	} else if (errno != EEXIST) {
		return -errno;
	}
	if ((r = write_int(path, 1, 0)) < 0)
		return r;
	return 1;
}

int sysctl_restore(const char *statedir, const struct sysctl_restore_ops *ops)
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
		const char *name = de->d_name;
		int value = -1, ifindex = 0, r = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(saved, sizeof(saved), "%s/%s", dir, de->d_name);
		f = fopen(saved, "re");
		if (!f || fscanf(f, "%d %d", &value, &ifindex) < 1)
			r = -EINVAL;
		if (f)
			fclose(f);
		/* Follow the interface by index: it may have been renamed. */
		if (r == 0 && ifindex > 0 && ops->name_of) {
			name = ops->name_of(ifindex, ops->userdata);
			if (!name) {
				unlink(saved); /* gone, and its value with it */
				continue;
			}
		}
		if (r == 0 && ops->keep && ops->keep(name, ops->userdata))
			continue;
		if (r == 0 && (r = path_of(path, sizeof(path), name)) == 0)
			r = write_int(path, value, 0);
		if (r == -ENOENT) {
			unlink(saved);
			continue;
		}
		if (ops->done)
			ops->done(name, value, r);
		unlink(saved);
		if (r == 0)
			count++;
	}
	closedir(d);
	return count;
}
