/* SPDX-License-Identifier: MIT */
#include "rrfile.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Everything left in fd, up to max bytes; one more byte read is -EFBIG. */
static int rrfile_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, alloc = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t n;

		if (len + 1 >= alloc) {
			/* Room for max + 1 bytes at most: the extra one tells "too big". */
			size_t want = alloc ? 2 * alloc : 4096;
			char *v;

			if (want > max + 2)
				want = max + 2;
			if (want <= alloc) {
				free(buf);
				return -EFBIG;
			}
			v = realloc(buf, want);
			if (!v) {
				free(buf);
				return -ENOMEM;
			}
			buf = v;
			alloc = want;
		}
		n = read(fd, buf + len, alloc - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return -EFBIG;
		}
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int rrfile_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO without a writer would wait for one. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -RRFILE_NOT_REGULAR;
	else if ((unsigned long long)st.st_size > max)
		r = -EFBIG;
	else
		r = rrfile_read_fd(fd, max, ret, ret_len);
	close(fd);
	return r;
}

const char *rrfile_strerror(int r)
{
	if (r == -RRFILE_NOT_REGULAR)
		return "not a regular file";
	return strerror(-r);
}
