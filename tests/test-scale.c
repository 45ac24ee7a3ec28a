/* SPDX-License-Identifier: MIT */
/*
 * Pathological but valid inputs must load, and quickly. Each case prints how
 * long it took as a diagnostic line; no time is asserted here (a loaded test
 * machine is not a slow program: timings belong in benchmarks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "desired.h"
#include "check.h"


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, double start)
{
	printf("# %s: %.3f s\n", what, now() - start);
}

/* The text written to a memstream by fill(f, arg), into *ret. */
static size_t text_of(void (*fill)(FILE *, unsigned), unsigned arg, char **ret)
{
	size_t size = 0;
	FILE *f = open_memstream(ret, &size);

	if (!f)
		exit(1);
	fill(f, arg);
	if (fclose(f) != 0)
		exit(1);
	return size;
}

/* n interfaces v1..vn with a table each and no Mark=, under MarkMask=mask. */
static void auto_marks(FILE *f, const char *mask, unsigned n)
{
	fprintf(f, "[Global]\nMarkMask=%s\n", mask);
	for (unsigned i = 1; i <= n; i++)
		fprintf(f, "[Interface]\nName=v%u\nTable=%u\n", i, 1000 + i);
}

static void many_auto_marks(FILE *f, unsigned n)
{
	auto_marks(f, "0xffff", n);
}

/* 10,000 interfaces, marks allocated: each allocation once scanned all the others. */
static void test_many_auto_marks(void)
{
	struct rr_config *c = NULL;
	char *text = NULL;
	size_t len = text_of(many_auto_marks, 10000, &text);
	double t = now();

	CHECK(config_load_buffer("scale.conf", text, len, NULL, stderr, &c) == 0);
	report("10000 interfaces without Mark=", t);
	CHECK(c && c->n_ifaces == 10000);
	if (c) {
		CHECK(c->ifaces[0].mark == 1 && c->ifaces[9999].mark == 10000);
		CHECK(c->ifaces[9999].mark_auto);
	}
	config_free(c);
	free(text);
}

static void sparse_mask(FILE *f, unsigned n)
{
	auto_marks(f, "0x80000001", n);
}

/*
 * A mask of two far apart bits: three marks fit, the rest do not. Candidates
 * were every multiple of the lowest bit up to the mask: 2^32 of them.
 */
static void test_sparse_mask(void)
{
	struct rr_config *c = NULL;
	char *text = NULL, *errors = NULL;
	size_t len = text_of(sparse_mask, 60, &text), size = 0;
	FILE *err = open_memstream(&errors, &size);
	double t;

	if (!err)
		exit(1);
	CHECK(len <= 2048);
	t = now();
	CHECK(config_load_buffer("scale.conf", text, len, NULL, err, &c) == -EINVAL);
	report("MarkMask=0x80000001, 60 interfaces without Mark=", t);
	fclose(err);
	CHECK(errors && strstr(errors, "scale.conf:12: no free mark inside MarkMask=0x80000001"));
	config_free(c);
	free(text);
	free(errors);

	/* The three that fit, in increasing order. */
	len = text_of(sparse_mask, 3, &text);
	CHECK(config_load_buffer("scale.conf", text, len, NULL, stderr, &c) == 0);
	if (c) {
		CHECK(c->ifaces[0].mark == 0x1 && c->ifaces[1].mark == 0x80000000u &&
		      c->ifaces[2].mark == 0x80000001u);
	}
	config_free(c);
	free(text);
}

static void auto_tables(FILE *f, unsigned n)
{
	for (unsigned i = 1; i <= n; i++)
		fprintf(f, "[Interface]\nName=v%u\n", i);
}

/* Every candidate table from RR_AUTO_TABLE_BASE up was named in rt_tables. */
static void test_big_rt_tables(void)
{
	char dir[] = "/tmp/test-scale.XXXXXX", path[64];
	struct rr_config_env env = { .rt_tables_dir = dir };
	struct rr_config *c = NULL;
	struct rr_view v = { 0 };
	uint32_t tables[20] = { 0 };
	char *text = NULL;
	size_t len;
	double t;
	FILE *f;

	if (!mkdtemp(dir))
		exit(1);
	snprintf(path, sizeof(path), "%s/rt_tables", dir);
	f = fopen(path, "w");
	if (!f)
		exit(1);
	for (unsigned i = 0; i < 100000; i++)
		fprintf(f, "%u t%u\n", RR_AUTO_TABLE_BASE + i, i);
	fclose(f);
	len = text_of(auto_tables, 20, &text);

	t = now();
	CHECK(config_load_buffer("scale.conf", text, len, &env, stderr, &c) == 0);
	CHECK(c && c->n_named_tables == 100000);
	if (c)
		CHECK(desired_assign_tables(c, &v, 205, tables) == 20);
	report("20 automatic tables, 100000-line rt_tables", t);
	CHECK(tables[0] == RR_AUTO_TABLE_BASE + 100000 &&
	      tables[19] == RR_AUTO_TABLE_BASE + 100019);
	config_free(c);
	free(text);
	unlink(path);
	rmdir(dir);
}

/* test-scale [1|2|3]: one case only, for measuring. */
int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";

	if (!*only || strcmp(only, "1") == 0)
		test_many_auto_marks();
	if (!*only || strcmp(only, "2") == 0)
		test_sparse_mask();
	if (!*only || strcmp(only, "3") == 0)
		test_big_rt_tables();
	return check_done("scale");
}
