/* SPDX-License-Identifier: MIT */
/* Unit tests of the retry policy and of the log's rate limit. No privileges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "retry.h"
#include "check.h"


static void test_retry(void)
{
	uint64_t t = 0;

	/* A real failure: 0.5 s doubling to 60 s, and it stays there. */
	t = retry_next(t, -EIO);
	CHECK(t == RETRY_MIN_USEC);
	t = retry_next(t, -EIO);
	CHECK(t == 2 * RETRY_MIN_USEC);
	for (int i = 0; i < 20; i++)
		t = retry_next(t, -EIO);
	CHECK(t == RETRY_MAX_USEC);
	/* A busy kernel (interrupted dump): short, and short again after a long one. */
	t = retry_next(t, -EINTR);
	CHECK(t == RETRY_BUSY_MAX_USEC);
	t = retry_next(0, -EINTR);
	CHECK(t == RETRY_BUSY_MIN_USEC);
	for (int i = 0; i < 20; i++)
		t = retry_next(t, -EINTR);
	CHECK(t == RETRY_BUSY_MAX_USEC);
	/* After busy retries, a real failure backs off from its own minimum. */
	t = retry_next(t, -EIO);
	CHECK(t == RETRY_MIN_USEC);
	/* A change refused by a stale view (the link went down meanwhile): soon, up to 1 s. */
	t = retry_next(0, -ENETDOWN);
	CHECK(t == RETRY_BUSY_MIN_USEC);
	for (int i = 0; i < 20; i++)
		t = retry_next(t, -EINVAL);
	CHECK(t == RETRY_STALE_MAX_USEC);
	CHECK(retry_stale_view(-ENODEV) && !retry_stale_view(-EIO) && !retry_stale_view(-EPERM));
}

/* The same warning 1000 times in a row: printed 5 times, the rest counted. */
static void test_log_rate_limit(void)
{
	char *buf = NULL;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&buf, &len);
	int fd = dup(STDERR_FILENO);

	fflush(stderr);
	if (!f || fd < 0 || !freopen("/dev/null", "w", stderr))
		abort();
	/* stderr to a pipe we can read: simplest through a temp file. */
	{
		char path[] = "/tmp/rr-test-log.XXXXXX";
		int tfd = mkstemp(path);
		FILE *r;
		char line[256];

		if (tfd < 0 || dup2(tfd, STDERR_FILENO) < 0)
			abort();
		log_init();
		for (int i = 0; i < 1000; i++)
			log_warning("dump interrupted");
		log_warning("something else");
		for (int i = 0; i < 10; i++)
			log_info("an info line is never limited");
		fflush(stderr);
		dup2(fd, STDERR_FILENO);
		r = fopen(path, "re");
		while (r && fgets(line, sizeof(line), r)) {
			lines++;
			fputs(line, f);
		}
		if (r)
			fclose(r);
		unlink(path);
		close(tfd);
	}
	fclose(f);
	CHECK(lines == 5 + 1 + 10);
	CHECK(buf && strstr(buf, "<4>something else\n"));
	free(buf);
	close(fd);
}

int main(void)
{
	test_retry();
	test_log_rate_limit();
	return check_done("retry/log");
}
