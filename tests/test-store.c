/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/store: the runtime directory is not trusted. Each test
 * works in its own mkdtemp directory; no privileges needed (one check of the
 * owner runs only as root).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "sysctl.h"
#include "check.h"


static char base[] = "/tmp/rr-test-store.XXXXXX";
static char dir[PATH_MAX];  /* the state directory of the current test */
static char path[PATH_MAX]; /* scratch, from P() */

static const char *P(const char *rel)
{
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return path;
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(P(rel), "we");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", P(rel));
		exit(2);
	}
}

/* The file's text, "" when it cannot be read. */
static const char *get(const char *rel)
{
	static char buf[4096];
	FILE *f = fopen(P(rel), "re");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int exists(const char *rel)
{
	struct stat st;

	return lstat(P(rel), &st) == 0;
}

/* How many names a directory holds, "." and ".." aside. */
static int entries(const char *rel)
{
	DIR *d = opendir(P(rel));
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return d ? n : -1;
}

static void mk(const char *rel)
{
	if (mkdir(P(rel), 0755) < 0) {
		fprintf(stderr, "cannot create %s\n", P(rel));
		exit(2);
	}
}

static void link_to(const char *target, const char *rel)
{
	if (symlink(target, P(rel)) < 0) {
		fprintf(stderr, "cannot link %s\n", P(rel));
		exit(2);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/* A fresh, empty state directory "state" under base. */
static void fresh(void)
{
	/* FTW_PHYS: a symlink planted by a test is removed, never followed. */
	if (nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 || mkdir(base, 0700) < 0) {
		fprintf(stderr, "cannot reset %s\n", base);
		exit(2);
	}
	snprintf(dir, sizeof(dir), "%s/state", base);
	mk("state");
}

/* Loads and returns how many records; *sk says what was skipped. */
static size_t load(struct rr_saved_sysctl **v, struct store_skipped *sk)
{
	size_t n = 99;

	CHECK(store_sysctl_load_report(dir, v, &n, sk) == 0);
	return n;
}

static struct rr_saved_sysctl rec(int ifindex, const char *name, int value)
{
	struct rr_saved_sysctl s = {.ifindex = ifindex, .value = value};

	snprintf(s.name, sizeof(s.name), "%s", name);
	return s;
}

static void test_round_trip(void)
{
	struct rr_saved_sysctl a = rec(12, "eth1", 1), b = rec(3, "wan0", 0), *v;
	struct store_skipped sk;
	struct stat st;
	size_t n;

	fresh();
	CHECK(store_sysctl_load(dir, &v, &n) == 0 && n == 0);
	free(v);
	CHECK(store_sysctl_save(dir, &a) == 0);
	CHECK(store_sysctl_save(dir, &b) == 0);
	CHECK(strcmp(get("state/sysctl/12"), "1 eth1\n") == 0);
	CHECK(stat(P("state/sysctl"), &st) == 0 && (st.st_mode & 07777) == 0755);
	n = load(&v, &sk);
	CHECK(n == 2 && sk.n == 0);
	if (n == 2) {
		CHECK(v[0].ifindex == 3 && v[0].value == 0 && !strcmp(v[0].name, "wan0"));
		CHECK(v[1].ifindex == 12 && v[1].value == 1 && !strcmp(v[1].name, "eth1"));
	}
	free(v);
	CHECK(store_sysctl_forget(dir, 3) == 0);
	CHECK(!exists("state/sysctl/3"));
	CHECK(store_sysctl_forget(dir, 3) == 0); /* already gone: nothing to do */
	n = load(&v, &sk);
	CHECK(n == 1 && v[0].ifindex == 12);
	free(v);
	CHECK(entries("state/sysctl") == 1); /* no temporary file left behind */
}

static void test_legacy(void)
{
	struct rr_saved_sysctl *v;
	struct store_skipped sk;
	size_t n;

	fresh();
	mk("state/sysctl");
	put("state/sysctl/wan0", "0 12\n");
	n = load(&v, &sk);
	CHECK(n == 1 && sk.n == 0);
	if (n == 1)
		CHECK(v[0].ifindex == 12 && v[0].value == 0 && !strcmp(v[0].name, "wan0"));
	free(v);
	CHECK(strcmp(get("state/sysctl/12"), "0 wan0\n") == 0);
	CHECK(!exists("state/sysctl/wan0"));

	/* A legacy record for an index that has one: the index wins, the old file stays. */
	put("state/sysctl/5", "1 eth5\n");
	put("state/sysctl/eth5", "0 5\n");
	n = load(&v, &sk);
	CHECK(n == 2 && sk.n == 1 && sk.error == -EEXIST && !strcmp(sk.file, "eth5"));
	if (n == 2)
		CHECK(v[0].ifindex == 5 && v[0].value == 1);
	free(v);
	CHECK(exists("state/sysctl/eth5"));
	CHECK(strcmp(get("state/sysctl/5"), "1 eth5\n") == 0);
}

/* net.ipv4.conf.all and .default are never interfaces, in any format. */
static void test_all_default(void)
{
	struct rr_saved_sysctl *v, s = rec(3, "all", 1);
	struct store_skipped sk;
	size_t n;

	fresh();
	mk("state/sysctl");
	put("state/sysctl/all", "1 3\n");
	put("state/sysctl/default", "1 4\n");
	put("state/sysctl/9", "1 all\n");
	n = load(&v, &sk);
	CHECK(n == 0 && sk.n == 3 && sk.error == -EINVAL);
	free(v);
	/* Left alone, and not migrated. */
	CHECK(exists("state/sysctl/all") && exists("state/sysctl/default"));
	CHECK(!exists("state/sysctl/3") && !exists("state/sysctl/4"));
	CHECK(store_sysctl_save(dir, &s) == -EINVAL);
	snprintf(s.name, sizeof(s.name), "default");
	CHECK(store_sysctl_save(dir, &s) == -EINVAL);
	CHECK(!exists("state/sysctl/3"));

	/* And sysctl.c never writes them either (a tree standing in for /proc/sys). */
	mk("proc");
	mk("proc/net");
	mk("proc/net/ipv4");
	mk("proc/net/ipv4/conf");
	mk("proc/net/ipv4/conf/all");
	mk("proc/net/ipv4/conf/default");
	mk("proc/net/ipv4/conf/eth0");
	put("proc/net/ipv4/conf/all/src_valid_mark", "0\n");
	put("proc/net/ipv4/conf/default/src_valid_mark", "0\n");
	put("proc/net/ipv4/conf/eth0/src_valid_mark", "0\n");
	sysctl_root = strdup(P("proc"));
	CHECK(sysctl_set("all", 1) == -EINVAL);
	CHECK(sysctl_set("default", 1) == -EINVAL);
	CHECK(sysctl_set("eth0", 1) == 0);
	CHECK(strcmp(get("proc/net/ipv4/conf/all/src_valid_mark"), "0\n") == 0);
	CHECK(strcmp(get("proc/net/ipv4/conf/default/src_valid_mark"), "0\n") == 0);
	CHECK(strcmp(get("proc/net/ipv4/conf/eth0/src_valid_mark"), "1\n") == 0);
	free((char *)sysctl_root);
	sysctl_root = "/proc/sys";
}

/* Each file alone must be refused with -EINVAL; good ones next to them still load. */
static void test_bad_records(void)
{
	static const char *const bad[][2] = {
		{"4", "5 eth4\n"},      {"4", "-1 eth4\n"},    {"4", "2 eth4\n"},
		{"4", "1 eth4 x\n"},    {"4", "1  eth4\n"},    {"4", "1\n"},
		{"4", "1 \n"},          {"4", ""},             {"4", "01 eth4\n"},
		{"4", "1 eth4\n\n"},    {"4", "1 a/b\n"},      {"4", "1 ..\n"},
		{"4", "1 abcdefghijklmnop\n"},
		{"0", "1 eth0\n"},      {"-3", "1 eth0\n"},    {"04", "1 eth4\n"},
		{"eth4", "1 0\n"},      {"eth4", "1 -3\n"},    {"eth4", "5 4\n"},
		{"eth4", "1 4x\n"},     {"eth4", "1 99999999999\n"},
		{"abcdefghijklmnop", "1 4\n"}, /* legacy, named by no interface */
	};
	struct rr_saved_sysctl *v, s;
	struct store_skipped sk;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char rel[64];

		fresh();
		mk("state/sysctl");
		put("state/sysctl/7", "1 good\n");
		snprintf(rel, sizeof(rel), "state/sysctl/%s", bad[i][0]);
		put(rel, bad[i][1]);
		n = load(&v, &sk);
		if (n != 1 || sk.n != 1 || sk.error != -EINVAL) {
			fprintf(stderr, "record %s \"%s\" not refused\n", bad[i][0], bad[i][1]);
			failures++;
		}
		CHECK(n >= 1 && v[0].ifindex == 7);
		free(v);
		CHECK(exists(rel)); /* skipped, not deleted */
	}

	s = rec(4, "eth4", 5);
	CHECK(store_sysctl_save(dir, &s) == -EINVAL);
	s = rec(0, "eth4", 1);
	CHECK(store_sysctl_save(dir, &s) == -EINVAL);
	s = rec(-3, "eth4", 1);
	CHECK(store_sysctl_save(dir, &s) == -EINVAL);
	s = rec(4, "a b", 1);
	CHECK(store_sysctl_save(dir, &s) == -EINVAL);
	CHECK(!exists("state/sysctl/4") && !exists("state/sysctl/0"));
	CHECK(store_sysctl_forget(dir, 0) == -EINVAL);
	CHECK(store_sysctl_forget(dir, -3) == -EINVAL);
}

static void test_oversized(void)
{
	struct rr_saved_sysctl *v;
	struct store_skipped sk;
	char big[512];
	size_t n;

	fresh();
	mk("state/sysctl");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "1 eth4\n", 7);
	put("state/sysctl/4", big);
	n = load(&v, &sk);
	CHECK(n == 0 && sk.n == 1 && sk.error == -EFBIG);
	free(v);
}

/* sysctl/ a symlink to a directory with files: nothing there read, written or deleted. */
static void test_symlinked_dir(void)
{
	struct rr_saved_sysctl *v, s = rec(9, "eth9", 0);
	size_t n;

	fresh();
	mk("target");
	put("target/9", "1 eth9\n");
	put("target/wan0", "1 12\n");
	link_to("../target", "state/sysctl");
	CHECK(store_sysctl_load(dir, &v, &n) == -ENOTDIR);
	CHECK(store_sysctl_save(dir, &s) == -ENOTDIR);
	CHECK(store_sysctl_forget(dir, 9) == -ENOTDIR);
	CHECK(strcmp(get("target/9"), "1 eth9\n") == 0);
	CHECK(strcmp(get("target/wan0"), "1 12\n") == 0);
	CHECK(!exists("target/12"));

	/* The state directory itself a symlink. */
	fresh();
	mk("real");
	mk("real/sysctl");
	put("real/sysctl/9", "1 eth9\n");
	put("real/nft", "x");
	link_to("real", "state2");
	snprintf(dir, sizeof(dir), "%s/state2", base);
	CHECK(store_sysctl_load(dir, &v, &n) == -ENOTDIR);
	CHECK(store_sysctl_forget(dir, 9) == -ENOTDIR);
	CHECK(store_nft_remove(dir) == -ENOTDIR);
	CHECK(exists("real/sysctl/9") && exists("real/nft"));
}

/* sysctl/7 -> ../victim: never followed, never removed, never written through. */
static void test_symlinked_file(void)
{
	struct rr_saved_sysctl *v, s = rec(7, "eth7", 0);
	struct store_skipped sk;
	size_t n;

	fresh();
	mk("state/sysctl");
	put("state/victim", "1 eth7\n");
	link_to("../victim", "state/sysctl/7");
	n = load(&v, &sk);
	CHECK(n == 0 && sk.n == 1 && sk.error == -ELOOP);
	free(v);
	CHECK(store_sysctl_forget(dir, 7) == -ELOOP);
	CHECK(store_sysctl_save(dir, &s) == -ELOOP);
	CHECK(exists("state/sysctl/7"));
	CHECK(strcmp(get("state/victim"), "1 eth7\n") == 0);

	/*
	 * The temporary file is created, never opened: names planted where it
	 * would go (".FILE.PID.N", as store.c makes them) are not written through.
	 */
	for (int i = 0; i < 200; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "state/sysctl/.9.%ld.%d", (long)getpid(), i);
		link_to("../victim", rel);
	}
	s = rec(9, "eth9", 0);
	CHECK(store_sysctl_save(dir, &s) == -EEXIST);
	CHECK(!exists("state/sysctl/9"));
	CHECK(strcmp(get("state/victim"), "1 eth7\n") == 0);

	/* The same for the nft record. */
	put("state/nftvictim", "keep\n");
	link_to("nftvictim", "state/nft");
	CHECK(store_nft_remove(dir) == -ELOOP);
	CHECK(exists("state/nft") && strcmp(get("state/nftvictim"), "keep\n") == 0);
}

/* A FIFO never blocks a load (alarm() kills the test if it does). */
static void test_fifo(void)
{
	struct rr_saved_sysctl *v;
	struct ruleset_state ns;
	struct store_skipped sk;
	size_t n;

	fresh();
	mk("state/sysctl");
	if (mkfifo(P("state/sysctl/8"), 0644) < 0 || mkfifo(P("state/nft"), 0644) < 0) {
		fprintf(stderr, "cannot create a FIFO\n");
		exit(2);
	}
	alarm(5);
	n = load(&v, &sk);
	CHECK(n == 0 && sk.n == 1 && sk.error == -EPERM);
	free(v);
	CHECK(store_nft_read(dir, &ns) == -EPERM);
	alarm(0);
	CHECK(store_sysctl_forget(dir, 8) == -EPERM);
	CHECK(store_nft_remove(dir) == -EPERM);
	CHECK(exists("state/sysctl/8") && exists("state/nft"));
}

static void test_permissions(void)
{
	struct rr_saved_sysctl *v, s = rec(3, "eth3", 1);
	struct ruleset_state ns = {.mask = 0xff};
	size_t n;

	fresh();
	CHECK(store_sysctl_save(dir, &s) == 0);
	chmod(dir, 0777);
	CHECK(store_sysctl_load(dir, &v, &n) == -EPERM);
	CHECK(store_sysctl_save(dir, &s) == -EPERM);
	CHECK(store_sysctl_forget(dir, 3) == -EPERM);
	CHECK(store_nft_write(dir, &ns) == -EPERM);
	CHECK(exists("state/sysctl/3") && !exists("state/nft"));
	chmod(dir, 0755);
	chmod(P("state/sysctl"), 0775);
	CHECK(store_sysctl_load(dir, &v, &n) == -EPERM);
	chmod(P("state/sysctl"), 0755);
	CHECK(store_sysctl_load(dir, &v, &n) == 0 && n == 1);
	free(v);

	/* Owned by someone else: only root can arrange that. */
	if (geteuid() == 0) {
		CHECK(chown(P("state/sysctl"), 65534, 65534) == 0);
		CHECK(store_sysctl_load(dir, &v, &n) == -EPERM);
		CHECK(store_sysctl_forget(dir, 3) == -EPERM);
		CHECK(exists("state/sysctl/3"));
	}

	/* A missing state directory: load creates nothing, save creates it. */
	fresh();
	snprintf(dir, sizeof(dir), "%s/new", base);
	CHECK(store_sysctl_load(dir, &v, &n) == 0 && n == 0);
	CHECK(!exists("new"));
	free(v);
	CHECK(store_sysctl_save(dir, &s) == 0);
	CHECK(store_sysctl_load(dir, &v, &n) == 0 && n == 1);
	free(v);
}

static int nft_parse(const char *text)
{
	struct ruleset_state s = {0};
	int r;

	put("state/nft", text);
	r = store_nft_read(dir, &s);
	ruleset_state_clear(&s);
	return r;
}

static void test_nft(void)
{
	static const char *const bad[] = {
		"",
		"garbage\n",
		"00000000000000aa 00000000000000bb\n",
		"00000000000000aa 00000000000000bb 0xff",               /* cut short */
		"0000000000000aa 00000000000000bb 0xff\n",              /* 15 digits */
		"00000000000000ag 00000000000000bb 0xff\n",
		"00000000000000aa 00000000000000bb 0xff extra\n",
		"00000000000000aa 00000000000000bb 0\n",                /* mask 0 */
		"00000000000000aa 00000000000000bb 0x1ffffffff\n",
		"00000000000000aa 00000000000000bb 0xff\neth1 0x0\n",
		"00000000000000aa 00000000000000bb 0xff\neth1 0x100\n", /* outside the mask */
		"00000000000000aa 00000000000000bb 0xff\neth1 1\n",
		"00000000000000aa 00000000000000bb 0xff\neth1 0x1\neth1 0x2\n",
		"00000000000000aa 00000000000000bb 0xff\neth1 0x1\neth2 0x1\n",
		"00000000000000aa 00000000000000bb 0xff\nall 0x1\n",
		"00000000000000aa 00000000000000bb 0xff\nabcdefghijklmnop 0x1\n",
		"00000000000000aa 00000000000000bb 0xff\na/b 0x1\n",
		"00000000000000aa 00000000000000bb 0xff\neth1 0x1 x\n",
		"00000000000000aa 00000000000000bb 0xff\neth1 0x1\n\n",
		"00000000000000aa 00000000000000bb 0xff\neth1 0x1\ntrailing",
	};
	struct ruleset_entry e[] = {{"eth1", 0x1}, {"wan-2", 0x80}};
	struct ruleset_state w = {.text_hash = 0xaa, .listing_hash = UINT64_MAX, .mask = 0xff,
				  .entries = e, .n_entries = 2};
	struct ruleset_state s;
	FILE *f;

	fresh();
	CHECK(store_nft_read(dir, &s) == -ENOENT);
	CHECK(store_nft_write(dir, &w) == 0);
	CHECK(store_nft_read(dir, &s) == 0);
	CHECK(s.text_hash == 0xaa && s.listing_hash == UINT64_MAX && s.mask == 0xff);
	CHECK(s.n_entries == 2 && !strcmp(s.entries[1].name, "wan-2") && s.entries[1].mark == 0x80);
	ruleset_state_clear(&s);
	CHECK(store_nft_remove(dir) == 0 && !exists("state/nft"));

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (nft_parse(bad[i]) != -EINVAL) {
			fprintf(stderr, "nft record \"%s\" not refused\n", bad[i]);
			failures++;
		}

	/* 4096 interfaces are fine, 4097 are not. */
	for (int count = 4096; count <= 4097; count++) {
		if (!(f = fopen(P("state/nft"), "we")))
			exit(2);
		fprintf(f, "00000000000000aa 00000000000000bb 0xffffffff\n");
		for (int i = 1; i <= count; i++)
			fprintf(f, "if%d %#x\n", i, i);
		fclose(f);
		s = (struct ruleset_state){0};
		CHECK(store_nft_read(dir, &s) == (count == 4096 ? 0 : -EFBIG));
		ruleset_state_clear(&s);
	}
	/* Larger than any record: refused before parsing. */
	if (!(f = fopen(P("state/nft"), "we")))
		exit(2);
	fprintf(f, "00000000000000aa 00000000000000bb 0xff\n");
	for (int i = 0; i < 200000; i++)
		fputc('\n', f);
	fclose(f);
	CHECK(store_nft_read(dir, &s) == -EFBIG);
}

int main(void)
{
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 2;
	}
	umask(022);
	test_round_trip();
	test_legacy();
	test_all_default();
	test_bad_records();
	test_oversized();
	test_symlinked_dir();
	test_symlinked_file();
	test_fifo();
	test_permissions();
	test_nft();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return check_done("store");
}
