/* SPDX-License-Identifier: MIT */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *sysctl_root = "/proc/sys";

/* net.ipv4.conf.IFNAME.KEY under sysctl_root; "." and ".." are not interfaces,
 * and a '/' would leave the directory. */
static int conf_path(char *buf, size_t len, const char *ifname, const char *key)
{
	int n;

	if (strchr(ifname, '/') || !strcmp(ifname, ".") || !strcmp(ifname, "..") || strchr(key, '/'))
		return -EINVAL;
	n = snprintf(buf, len, "%s/net/ipv4/conf/%s/%s", sysctl_root, ifname, key);
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

/* src_valid_mark; "all" and "default" would change every interface, or every new one. */
static int sysctl_path(char *buf, size_t len, const char *ifname)
{
	if (!strcmp(ifname, "all") || !strcmp(ifname, "default"))
		return -EINVAL;
	return conf_path(buf, len, ifname, "src_valid_mark");
}

static int sysctl_read(const char *path, int *ret)
{
	char buf[32];
	FILE *f;
	int ok;

	if (!(f = fopen(path, "re")))
		return -errno;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	*ret = atoi(buf);
	return 0;
}

int sysctl_get(const char *ifname, int *ret)
{
	char path[PATH_MAX];
	int r;

	if ((r = sysctl_path(path, sizeof(path), ifname)) < 0)
		return r;
	return sysctl_read(path, ret);
}

int sysctl_get_conf(const char *ifname, const char *key, int *ret)
{
	char path[PATH_MAX];
	int r;

	if ((r = conf_path(path, sizeof(path), ifname, key)) < 0)
		return r;
	return sysctl_read(path, ret);
}

int sysctl_set(const char *ifname, int value)
{
	char path[PATH_MAX], buf[16];
	int fd, n, r;

	if ((r = sysctl_path(path, sizeof(path), ifname)) < 0)
		return r;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", value);
	r = write(fd, buf, (size_t)n) == n ? 0 : (errno ? -errno : -EIO);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}
