/* SPDX-License-Identifier: MIT */
/*
 * test-config-files: what the config and rt_tables readers do with files
 * that are not config files: FIFOs, devices, huge files, endless errors.
 * Each must be refused at once with a message, never read or waited on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "rrfile.h"
#include "rttables.h"
#include "../check.h"


static char tmpdir[] = "/tmp/test-config-files.XXXXXX";

static char *path_in(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		exit(1);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* config_load()'s result for path, its messages in *errors. */
static int load(const char *path, const char *rt_dir, char **errors)
{
	struct rr_config_env env = { .rt_tables_dir = rt_dir };
	struct rr_config *c = NULL;
	size_t size;
	FILE *err = open_memstream(errors, &size);
	int r;

	if (!err)
		exit(1);
	r = config_load(path, &env, err, &c);
	fclose(err);
	config_free(c);
	return r;
}

static void test_config_not_regular(void)
{
	char *fifo = path_in("fifo.conf"), *want, *errors = NULL;

	/* Opened for reading with no writer: without O_NONBLOCK, a hang. */
	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK(load(fifo, NULL, &errors) == -RRFILE_NOT_REGULAR);
	if (asprintf(&want, "%s: not a regular file\n", fifo) < 0)
		exit(1);
	CHECK(errors && strcmp(errors, want) == 0);
	free(errors);
	free(want);

	/* Would never end; was read until the size cap. */
	CHECK(load("/dev/zero", NULL, &errors) == -RRFILE_NOT_REGULAR);
	CHECK(errors && strcmp(errors, "/dev/zero: not a regular file\n") == 0);
	free(errors);
	CHECK(load("/dev/null", NULL, &errors) == -RRFILE_NOT_REGULAR);
	free(errors);
	unlink(fifo);
	free(fifo);
}

/* A sparse file bigger than the cap: refused by its size, not read. */
static void test_too_big(void)
{
	char *big = path_in("big"), *data = NULL;
	size_t len = 0;
	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0 && ftruncate(fd, (off_t)RTTABLES_FILE_MAX + 1) == 0);
	close(fd);
	CHECK(rrfile_read(big, RTTABLES_FILE_MAX, &data, &len) == -EFBIG && !data);
	CHECK(rrfile_read(big, (size_t)RTTABLES_FILE_MAX + 1, &data, &len) == 0);
	CHECK(len == (size_t)RTTABLES_FILE_MAX + 1 && data && data[len] == '\0');
	free(data);
	unlink(big);
	free(big);
}

/* rt_tables a FIFO: the Table= that needed it says so; the rest is not repeated. */
static void test_rt_tables_not_regular(void)
{
	char *conf = path_in("t.conf"), *rt = path_in("rt_tables"), *d = path_in("rt_tables.d");
	char *dropin = path_in("rt_tables.d/fifo.conf"), *good = path_in("rt_tables.d/x.conf");
	char *errors = NULL, *want;
	struct rttables t = { 0 };
	uint32_t id = 0;

	write_file(conf, "[Interface]\nName=a\nTable=wan\nMark=1\n"
			 "[Interface]\nName=b\nTable=wan2\nMark=2\n"
			 "[Interface]\nName=c\nMark=3\n");
	CHECK(mkfifo(rt, 0600) == 0);
	CHECK(load(conf, tmpdir, &errors) == -EINVAL);
	if (asprintf(&want, "%s:3: Table=wan: cannot read table names from %s: "
			    "not a regular file\n", conf, rt) < 0)
		exit(1);
	CHECK(errors && strcmp(errors, want) == 0);
	free(errors);
	free(want);
	unlink(rt);

	/* A drop-in that is not a regular file is skipped; the others are read. */
	CHECK(mkdir(d, 0700) == 0);
	CHECK(mkfifo(dropin, 0600) == 0);
	write_file(good, "100 wan\n101 wan2\n");
	CHECK(rttables_load(&t, tmpdir) == 0);
	CHECK(rttables_find(&t, "wan2", &id) == 0 && id == 101);
	rttables_clear(&t);
	CHECK(load(conf, tmpdir, &errors) == 0);
	free(errors);

	unlink(dropin);
	unlink(good);
	rmdir(d);
	unlink(conf);
	free(conf);
	free(rt);
	free(d);
	free(dropin);
	free(good);
}

/* The first DIAG_MAX errors, then one line that says the rest was not read. */
static void test_error_cap(void)
{
	char *conf = path_in("many.conf"), *errors = NULL, *want, *text = NULL;
	size_t size = 0, lines = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		exit(1);
	for (unsigned i = 0; i < 100000; i++)
		fputs("garbage\n", f);
	fclose(f);
	write_file(conf, text);
	CHECK(load(conf, NULL, &errors) == -EINVAL);
	for (const char *s = errors; s && *s; s++)
		lines += *s == '\n';
	CHECK(lines == 101);
	if (asprintf(&want, "%s:100: expected KEY=VALUE, [Section] or a comment\n"
			    "%s: too many errors, giving up\n", conf, conf) < 0)
		exit(1);
	CHECK(errors && strlen(errors) >= strlen(want) &&
	      strcmp(errors + strlen(errors) - strlen(want), want) == 0);
	free(want);
	free(errors);
	free(text);
	unlink(conf);
	free(conf);
}

/* config_load(conf) fails with r and the message "PATH: WHY". */
static void check_load_error(const char *conf, int r, const char *path, const char *why)
{
	char *want, *errors = NULL;

	CHECK(load(conf, NULL, &errors) == r);
	if (asprintf(&want, "%s: %s\n", path, why) < 0)
		exit(1);
	CHECK(errors && strcmp(errors, want) == 0);
	free(errors);
	free(want);
}

/* Drop-ins: a directory among them is refused; a drop-in "directory" that is a file too. */
static void test_dropins_not_regular(void)
{
	char *conf = path_in("d.conf"), *dir = path_in("d.conf.d"), *sub = path_in("d.conf.d/x.conf");

	write_file(conf, "[Interface]\nName=eth1\n");
	CHECK(mkdir(dir, 0700) == 0 && mkdir(sub, 0700) == 0);
	check_load_error(conf, -EISDIR, sub, "Is a directory");
	rmdir(sub);
	rmdir(dir);

	write_file(dir, "");
	check_load_error(conf, -ENOTDIR, dir, "Not a directory");
	unlink(dir);
	unlink(conf);
	free(conf);
	free(dir);
	free(sub);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_config_not_regular();
	test_too_big();
	test_rt_tables_not_regular();
	test_error_cap();
	test_dropins_not_regular();
	rmdir(tmpdir);
	return check_done("config file");
}
