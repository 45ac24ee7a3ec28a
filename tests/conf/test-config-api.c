/* SPDX-License-Identifier: MIT */
/*
 * test-config-api RT_TABLES_DIR: the config module's C API, for what the
 * golden files cannot show (struct contents, errno values, odd bytes,
 * line length limits, unreadable files).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "iniline.h"
#include "value.h"
#include "rttables.h"
#include "../check.h"


static const char *rt_dir;
static char tmpdir[] = "/tmp/test-config-api.XXXXXX";

/* Writes len bytes of s to a file in tmpdir; returns its path (static buffer). */
static const char *write_conf(const char *s, size_t len)
{
	static char path[sizeof(tmpdir) + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/test.conf", tmpdir);
	f = fopen(path, "we");
	if (!f || fwrite(s, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	return path;
}

/*
 * Loads the config text s (len bytes); returns config_load()'s result, the
 * config in *ret (NULL allowed: freed) and what it wrote to err in *errors.
 */
static int load(const char *s, size_t len, struct rr_config **ret, char **errors)
{
	struct rr_config_env env = { .rt_tables_dir = rt_dir };
	struct rr_config *c = (struct rr_config *) 1; /* config_load must reset it */
	const char *path = write_conf(s, len);
	size_t size;
	char *buf;
	FILE *err;
	int r;

	err = open_memstream(&buf, &size);
	if (!err)
		exit(1);
	r = config_load(path, &env, err, &c);
	fclose(err);
	if (r < 0)
		CHECK(c == NULL);
	else
		CHECK(c != NULL);
	if (ret)
		*ret = c;
	else
		config_free(c);
	if (errors)
		*errors = buf;
	else
		free(buf);
	return r;
}

static int load_str(const char *s, struct rr_config **ret, char **errors)
{
	return load(s, strlen(s), ret, errors);
}

static bool contains(const char *haystack, const char *needle)
{
	return haystack && strstr(haystack, needle);
}

/* Each of the NULL-terminated needles is in haystack, after the one before. */
static bool in_order(const char *haystack, const char *const *needles)
{
	for (; *needles; needles++) {
		haystack = strstr(haystack, *needles);
		if (!haystack)
			return false;
		haystack += strlen(*needles);
	}
	return true;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_addr(void)
{
	struct rr_addr a, b, unset = { 0 };
	char buf[INET6_ADDRSTRLEN];

	CHECK(rr_addr_parse("203.0.113.1", &a) == 0);
	CHECK(a.family == AF_INET);
	CHECK(a.v4.s_addr == htonl(0xcb007101));
	CHECK(rr_addr_str(&a, buf, sizeof(buf)) && strcmp(buf, "203.0.113.1") == 0);

	CHECK(rr_addr_parse("2001:DB8:0:0::1", &b) == 0);
	CHECK(b.family == AF_INET6);
	CHECK(rr_addr_str(&b, buf, sizeof(buf)) && strcmp(buf, "2001:db8::1") == 0);
	CHECK(!rr_addr_eq(&a, &b));

	CHECK(rr_addr_parse("fe80::1", &b) == 0);
	CHECK(b.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&b.v6));
	CHECK(rr_addr_parse("::ffff:192.0.2.1", &b) == 0 && b.family == AF_INET6);

	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/24",
		"fe80::1%eth0", "2001:db8::1/64", "::g", "eth0", "0x01020304",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b.family = 42;
		CHECK(rr_addr_parse(bad[i], &b) == -EINVAL);
		CHECK(b.family == 42); /* untouched on error */
	}
	CHECK(rr_addr_parse(NULL, &b) == -EINVAL);

	CHECK(rr_addr_parse("192.0.2.1", &a) == 0);
	CHECK(rr_addr_parse("192.0.2.1", &b) == 0);
	CHECK(rr_addr_eq(&a, &b));
	CHECK(rr_addr_parse("192.0.2.2", &b) == 0);
	CHECK(!rr_addr_eq(&a, &b));
	CHECK(rr_addr_parse("2001:db8::1", &a) == 0);
	CHECK(rr_addr_parse("2001:db8:0::1", &b) == 0);
	CHECK(rr_addr_eq(&a, &b));
	CHECK(rr_addr_eq(&unset, &unset));
	CHECK(!rr_addr_eq(&unset, &a));

	errno = 0;
	CHECK(rr_addr_str(&unset, buf, sizeof(buf)) == NULL && errno != 0);
	CHECK(rr_addr_str(&a, buf, 4) == NULL); /* too small */
}

/* rr_addr_in_prefix() and rr_addr_mask() agree with each other on every length. */
static void test_addr_prefix(void)
{
	struct rr_addr a, net, m, unset = { 0 };
	char buf[INET6_ADDRSTRLEN];

	CHECK(rr_addr_parse("192.0.2.130", &a) == 0);
	CHECK(rr_addr_parse("192.0.2.128", &net) == 0);
	CHECK(rr_addr_in_prefix(&a, &net, 25));
	CHECK(rr_addr_in_prefix(&a, &net, 24));
	CHECK(rr_addr_in_prefix(&a, &net, 30));
	CHECK(!rr_addr_in_prefix(&a, &net, 31));
	CHECK(!rr_addr_in_prefix(&a, &net, 32));
	CHECK(rr_addr_in_prefix(&a, &net, 0));
	CHECK(rr_addr_in_prefix(&a, &a, 32));
	CHECK(rr_addr_in_prefix(&a, &a, 200)); /* clamped to 32 */
	CHECK(!rr_addr_in_prefix(&a, &net, 200));

	for (unsigned len = 0; len <= 32; len++) {
		m = a;
		rr_addr_mask(&m, len);
		CHECK(rr_addr_in_prefix(&a, &m, len));
		CHECK(m.family == AF_INET);
	}
	m = a;
	rr_addr_mask(&m, 25);
	CHECK(rr_addr_eq(&m, &net));
	m = a;
	rr_addr_mask(&m, 0);
	CHECK(rr_addr_str(&m, buf, sizeof(buf)) && strcmp(buf, "0.0.0.0") == 0);
	m = a;
	rr_addr_mask(&m, 32);
	CHECK(rr_addr_eq(&m, &a));

	CHECK(rr_addr_parse("2001:db8:1:2::1", &a) == 0);
	CHECK(rr_addr_parse("2001:db8:1::", &net) == 0);
	CHECK(rr_addr_in_prefix(&a, &net, 48));
	CHECK(rr_addr_in_prefix(&a, &net, 46));
	CHECK(!rr_addr_in_prefix(&a, &net, 64));
	m = a;
	rr_addr_mask(&m, 48);
	CHECK(rr_addr_eq(&m, &net));
	m = a;
	rr_addr_mask(&m, 63);
	CHECK(rr_addr_str(&m, buf, sizeof(buf)) && strcmp(buf, "2001:db8:1:2::") == 0);
	m = a;
	rr_addr_mask(&m, 128);
	CHECK(rr_addr_eq(&m, &a));

	/* Families never mix; unset addresses are in nothing and mask to themselves. */
	CHECK(rr_addr_parse("0.0.0.0", &net) == 0);
	CHECK(!rr_addr_in_prefix(&a, &net, 0));
	CHECK(!rr_addr_in_prefix(&unset, &unset, 0));
	m = unset;
	rr_addr_mask(&m, 0);
	CHECK(rr_addr_eq(&m, &unset));
}

static void test_table_lookup(void)
{
	CHECK(config_table_lookup(rt_dir, "eth1_table") == 100);
	CHECK(config_table_lookup(rt_dir, "eth2_table") == 101); /* hex in rt_tables */
	CHECK(config_table_lookup(rt_dir, "wan3") == 102);
	CHECK(config_table_lookup(rt_dir, "isp_a") == 200); /* rt_tables.d */
	CHECK(config_table_lookup(rt_dir, "isp_b") == 0x1000);
	CHECK(config_table_lookup(rt_dir, "main") == 254);
	CHECK(config_table_lookup(rt_dir, "local") == 255);
	CHECK(config_table_lookup(rt_dir, "default") == 253);
	CHECK(config_table_lookup(rt_dir, "42") == 42);
	CHECK(config_table_lookup(rt_dir, "0x10") == 16);
	CHECK(config_table_lookup(rt_dir, "nope") == 0);
	CHECK(config_table_lookup(rt_dir, "nonsense") == 0);   /* malformed line */
	CHECK(config_table_lookup(rt_dir, "not_a_table") == 0); /* not a .conf */
	CHECK(config_table_lookup(rt_dir, "Eth1_table") == 0); /* case-sensitive */
	CHECK(config_table_lookup(rt_dir, NULL) == 0);
	CHECK(config_table_lookup("/nonexistent", "main") == 254);
	CHECK(config_table_lookup("/nonexistent", "eth1_table") == 0);
}

static void test_rttables(void)
{
	struct rttables t = { 0 };
	uint32_t id = 42;

	CHECK(rttables_load(&t, rt_dir) == 0);
	CHECK(t.loaded && t.n > 0);
	CHECK(rttables_find(&t, "isp_a", &id) == 0 && id == 200);
	CHECK(rttables_find(&t, "also_main", &id) == 0 && id == 254);
	CHECK(rttables_find(&t, "main", &id) == 0 && id == 254);
	id = 42;
	CHECK(rttables_find(&t, "nope", &id) == -ENOENT && id == 42);
	CHECK(rttables_load(&t, "/nonexistent") == 0); /* already loaded: kept */
	CHECK(rttables_find(&t, "wan3", &id) == 0 && id == 102);
	rttables_clear(&t);
	CHECK(t.n == 0 && !t.loaded && t.v == NULL);
	rttables_clear(&t);

	CHECK(strcmp(rttables_builtin_name(253), "default") == 0);
	CHECK(strcmp(rttables_builtin_name(254), "main") == 0);
	CHECK(strcmp(rttables_builtin_name(255), "local") == 0);
	CHECK(rttables_builtin_name(252) == NULL && rttables_builtin_name(0) == NULL);
	CHECK(rttables_lookup(rt_dir, "isp_b") == 0x1000);
}

static void test_value(void)
{
	uint32_t v = 7;

	CHECK(value_parse_u32("0", &v) == 0 && v == 0);
	CHECK(value_parse_u32("4294967295", &v) == 0 && v == UINT32_MAX);
	CHECK(value_parse_u32("0xFFffFFff", &v) == 0 && v == UINT32_MAX);
	CHECK(value_parse_u32("010", &v) == 0 && v == 10); /* not octal */
	v = 7;
	CHECK(value_parse_u32("4294967296", &v) == -ERANGE && v == 7);
	CHECK(value_parse_u32("0x100000000", &v) == -ERANGE);
	CHECK(value_parse_u32("99999999999x", &v) == -EINVAL);
	static const char *const bad[] = { "", "0x", "-1", "+1", " 1", "1 ", "1a", "0x1g", "1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(value_parse_u32(bad[i], &v) == -EINVAL && v == 7);
}

/* Interface names: the kernel's dev_valid_name(), less what nft cannot match. */
static void test_ifname(void)
{
	static const char *const good[] = {
		"a", ".x", "..x", "...", "x.", "123456789012345", "w\xc3\xa4n", "a\x01b", "a\x7f",
		"\xff", "a=b", "a#b", "a;b", "@", "-", "[x]",
	};
	static const char *const bad[] = {
		"", ".", "..", "1234567890123456", "a/b", "a:b", "a b", "a\tb", "a\nb", "a\vb",
		"a\fb", "a\rb", "a\xa0", "\xa0", "a\"b", "a\\b", "eth*", "*",
	};
	char buf[VALUE_NAME_ESCAPED], small[6];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (value_ifname_invalid(good[i])) {
			fprintf(stderr, "name %zu refused: %s\n", i, value_ifname_invalid(good[i]));
			failures++;
		}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!value_ifname_invalid(bad[i])) {
			fprintf(stderr, "bad name %zu accepted\n", i);
			failures++;
		}

	CHECK(strcmp(value_name_escape("eth0.100", buf, sizeof(buf)), "eth0.100") == 0);
	CHECK(strcmp(value_name_escape("a\x01\x1f\x7f\x80\xff\\z", buf, sizeof(buf)),
		     "a\\x01\\x1f\\x7f\\x80\\xff\\x5cz") == 0);
	CHECK(strcmp(value_name_escape("\xa0\xc3\xa4", buf, sizeof(buf)), "\\xa0\\xc3\\xa4") == 0);
	/* 15 bytes of escapes fill the buffer exactly. */
	CHECK(strlen(value_name_escape("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01",
				       buf, sizeof(buf))) == 60);
	/* Cut short at a whole character, never inside an escape. */
	CHECK(strcmp(value_name_escape("ab\x01", small, sizeof(small)), "ab") == 0);
	CHECK(strcmp(value_name_escape("abcdefg", small, sizeof(small)), "abcde") == 0);
	CHECK(strcmp(value_name_escape("\x01", small, sizeof(small)), "\\x01") == 0);
	CHECK(strcmp(VALUE_NAME_SHOWN("x\x1b[0m"), "x\\x1b[0m") == 0);
}

/* iniline.c alone: what a line is, before any key means anything. */
static void test_iniline(void)
{
	struct iniline l;
	char buf[64];

#define SPLIT(text)                                           \
	do {                                                  \
		snprintf(buf, sizeof(buf), "%s", text);       \
		iniline_split(iniline_strip(buf), &l);        \
	} while (0)

	SPLIT("  \t ");
	CHECK(l.kind == INILINE_EMPTY && !l.error);
	SPLIT("  ; x = y");
	CHECK(l.kind == INILINE_EMPTY);
	SPLIT("[A b] # c");
	CHECK(l.kind == INILINE_SECTION && !l.error && strcmp(l.section, "A b") == 0);
	SPLIT("[]");
	CHECK(l.kind == INILINE_SECTION && !l.error && strcmp(l.section, "") == 0);
	SPLIT("[A");
	CHECK(l.kind == INILINE_SECTION && l.error);
	SPLIT("[A]x");
	CHECK(l.kind == INILINE_SECTION && l.error);
	SPLIT(" Key = a=b;c#d ;e");
	CHECK(l.kind == INILINE_ASSIGNMENT && !l.error);
	CHECK(strcmp(l.key, "Key") == 0 && strcmp(l.value, "a=b;c#d") == 0);
	SPLIT("Key=");
	CHECK(l.kind == INILINE_ASSIGNMENT && !l.error && strcmp(l.value, "") == 0);
	SPLIT("Key: value");
	CHECK(l.kind == INILINE_ASSIGNMENT && l.error);
	SPLIT("  = value");
	CHECK(l.kind == INILINE_ASSIGNMENT && l.error);
#undef SPLIT
}

static void test_load_values(void)
{
	struct rr_config *c;
	char *errors;

	CHECK(load_str("[Global]\n"
		       "MarkMask=0xff00\n"
		       "Priority=500\n"
		       "[Interface]\n"
		       "Name=eth1\n"
		       "Table=eth1_table\n"
		       "Mark=0x100\n"
		       "Gateway=2001:db8::1\n"
		       "Gateway=203.0.113.1\n"
		       "SourceRules=on\n"
		       "\n"
		       "[Interface]\n"
		       "Name=wlan0\n"
		       "Table=0xffffffff\n"
		       "Mark=0xff00\n"
		       "Priority=3\n",
		       &c, &errors) == 0);
	CHECK(strcmp(errors, "") == 0);
	free(errors);
	if (!c)
		return;
	CHECK(c->mask == 0xff00);
	CHECK(c->priority == 500);
	CHECK(c->n_ifaces == 2);
	CHECK(contains(c->path, "/test.conf"));
	CHECK(strcmp(c->ifaces[0].name, "eth1") == 0);
	CHECK(c->ifaces[0].table == 100);
	CHECK(c->ifaces[0].mark == 0x100);
	CHECK(c->ifaces[0].priority == 500);
	CHECK(c->ifaces[0].gateway4.family == AF_INET);
	CHECK(c->ifaces[0].gateway6.family == AF_INET6);
	CHECK(c->ifaces[0].source_rules);
	CHECK(c->ifaces[0].line == 4);
	CHECK(strcmp(c->ifaces[1].name, "wlan0") == 0);
	CHECK(c->ifaces[1].table == 0xffffffffu);
	CHECK(c->ifaces[1].mark == 0xff00);
	CHECK(c->ifaces[1].priority == 3);
	CHECK(c->ifaces[1].gateway4.family == 0);
	CHECK(c->ifaces[1].gateway6.family == 0);
	CHECK(!c->ifaces[1].source_rules);
	CHECK(c->ifaces[1].line == 12);
	config_free(c);

	/* Empty file, only comments: defaults, no interface. */
	CHECK(load_str("", &c, NULL) == 0);
	CHECK(c && c->mask == RR_DEFAULT_MASK && c->priority == RR_DEFAULT_PRIORITY &&
	      c->n_ifaces == 0 && c->ifaces == NULL);
	config_free(c);
	CHECK(load_str("# nothing\n; here\n\n   \n", NULL, NULL) == 0);
	config_free(NULL);
}

static void test_load_bytes(void)
{
	struct rr_config *c;
	char *errors, line[1024];
	int n;

	/* CRLF, a byte order mark, no newline at the end. */
	CHECK(load_str("\xef\xbb\xbf[Interface]\r\nName=eth1\r\nTable=7\r\nMark=1", &c, &errors) == 0);
	CHECK(c && c->n_ifaces == 1 && c->ifaces[0].mark == 1 && c->ifaces[0].table == 7);
	config_free(c);
	free(errors);

	/* Indented lines are ordinary lines, not continuation lines. */
	CHECK(load_str("[Interface]\n  Name=eth1\n\tTable=7 ; comment\n  Mark=1 # comment\n", &c,
		       &errors) == 0);
	CHECK(c && strcmp(c->ifaces[0].name, "eth1") == 0 && c->ifaces[0].table == 7);
	config_free(c);
	free(errors);

	/* A '#' or ';' not after whitespace is part of the value. */
	CHECK(load_str("[Interface]\nName=eth1#x\nTable=7\nMark=1\n", &c, &errors) == 0);
	CHECK(c && strcmp(c->ifaces[0].name, "eth1#x") == 0);
	config_free(c);
	free(errors);

	/* A NUL byte is an error, not the end of the line. */
	static const char nul[] = "[Interface]\nName=eth1\0junk\nTable=7\nMark=1\n";
	CHECK(load(nul, sizeof(nul) - 1, NULL, &errors) == -EINVAL);
	CHECK(contains(errors, "test.conf:2: NUL character in line\n"));
	CHECK(contains(errors, "test.conf:1: [Interface] without Name=\n"));
	free(errors);

	/* 199 characters fit in a line, 200 do not. */
	n = snprintf(line, sizeof(line), "[Interface]\nName=%0194d\n", 0);
	CHECK(load(line, (size_t) n, NULL, &errors) == -EINVAL);
	CHECK(contains(errors, "test.conf:2: Name=0000"));
	CHECK(contains(errors, ": too long (at most 15 bytes)\n"));
	free(errors);
	n = snprintf(line, sizeof(line), "[Interface]\nName=%0195d\n", 0);
	CHECK(load(line, (size_t) n, NULL, &errors) == -EINVAL);
	CHECK(contains(errors, "test.conf:2: line too long (200 characters, at most 199)\n"));
	free(errors);

	/* A long value is not split into a second line that could parse. */
	n = snprintf(line, sizeof(line), "[Interface]\nName=%0200dMark=5\nTable=7\nMark=1\n", 0);
	CHECK(load(line, (size_t) n, NULL, &errors) == -EINVAL);
	CHECK(count_lines(errors) == 2);
	CHECK(contains(errors, "test.conf:2: line too long (211 characters, at most 199)\n"));
	free(errors);

	/* Long comments and trailing whitespace do not count. */
	n = snprintf(line, sizeof(line), "# %0300d\n[Interface]\nName=eth1 # %0300d\nTable=7\nMark=1\n",
		     0, 0);
	CHECK(load(line, (size_t) n, NULL, NULL) == 0);

	/* A long key is reported whole. */
	n = snprintf(line, sizeof(line), "[Global]\n%060d=1\n", 0);
	CHECK(load(line, (size_t) n, NULL, &errors) == -EINVAL);
	CHECK(contains(errors, "test.conf:2: unknown key 0000000000000000000000000000000000000000000"
			       "00000000000000000= in [Global]\n"));
	free(errors);
}

/* config_load_buffer(): buf with len may hold any byte; messages name what name says. */
static int load_buffer(const char *name, const char *buf, size_t len, struct rr_config **ret,
		       char **errors)
{
	struct rr_config_env env = { .rt_tables_dir = rt_dir };
	struct rr_config *c = (struct rr_config *) 1;
	size_t size;
	char *out;
	FILE *err;
	int r;

	err = open_memstream(&out, &size);
	if (!err)
		exit(1);
	r = config_load_buffer(name, buf, len, &env, err, &c);
	fclose(err);
	CHECK(r < 0 ? c == NULL : c != NULL);
	if (ret)
		*ret = c;
	else
		config_free(c);
	if (errors)
		*errors = out;
	else
		free(out);
	return r;
}

static void test_load_buffer(void)
{
	struct rr_config *c;
	char *errors, line[1024];
	int n;

	/* No newline at the end; the last line counts. */
	static const char text[] = "[Interface]\nName=eth1\nTable=7\nMark=0x3";
	CHECK(load_buffer("inline", text, sizeof(text) - 1, &c, &errors) == 0);
	CHECK(strcmp(errors, "") == 0);
	CHECK(c && c->n_ifaces == 1 && c->ifaces[0].mark == 3 && c->ifaces[0].table == 7);
	CHECK(c && strcmp(c->path, "inline") == 0);
	config_free(c);
	free(errors);

	/* Only len bytes are read: a prefix of text cut inside a line. */
	CHECK(load_buffer("prefix", text, sizeof(text) - 5, NULL, &errors) == -EINVAL);
	CHECK(strcmp(errors, "prefix:4: expected KEY=VALUE, [Section] or a comment\n") == 0);
	free(errors);

	/* Errors name the given name and the line. */
	static const char bad[] = "[Global]\nMarkMask=0\n\n[Interface]\nName=eth1\nMark=1\nColour=blue\n";
	CHECK(load_buffer("/etc/replyroute/from-dbus", bad, sizeof(bad) - 1, NULL, &errors) == -EINVAL);
	CHECK(strcmp(errors, "/etc/replyroute/from-dbus:2: MarkMask=0: must not be zero\n"
			     "/etc/replyroute/from-dbus:7: unknown key Colour= in [Interface]\n") == 0);
	free(errors);

	/* A NUL byte is an error in its line, not the end of the buffer. */
	static const char nul[] = "[Interface]\nName=eth1\nTable=7\0\nMark=1\nBogus=1\n";
	CHECK(load_buffer("nul", nul, sizeof(nul) - 1, NULL, &errors) == -EINVAL);
	CHECK(strcmp(errors, "nul:3: NUL character in line\n"
			     "nul:5: unknown key Bogus= in [Interface]\n") == 0);
	free(errors);
	CHECK(load_buffer("nul", "\0", 1, NULL, &errors) == -EINVAL);
	CHECK(strcmp(errors, "nul:1: NUL character in line\n") == 0);
	free(errors);

	/* A very long line is rejected whole, not split: one error, no key read from it. */
	n = snprintf(line, sizeof(line), "[Interface]\nName=eth1\nTable=%0900d\nMark=1\n", 7);
	CHECK(load_buffer("long", line, (size_t) n, NULL, &errors) == -EINVAL);
	CHECK(strcmp(errors, "long:3: line too long (906 characters, at most 199)\n") == 0);
	free(errors);

	/* Nothing at all, or only a byte order mark: an empty config. */
	CHECK(load_buffer("empty", NULL, 0, &c, NULL) == 0);
	CHECK(c && c->n_ifaces == 0 && c->mask == RR_DEFAULT_MASK);
	config_free(c);
	CHECK(load_buffer("bom", "\xef\xbb\xbf", 3, NULL, NULL) == 0);

	/* Bad arguments. */
	c = (struct rr_config *) 1;
	CHECK(config_load_buffer(NULL, "", 0, NULL, NULL, &c) == -EINVAL && c == NULL);
	CHECK(config_load_buffer("x", NULL, 1, NULL, NULL, &c) == -EINVAL && c == NULL);
	CHECK(config_load_buffer("x", "", 0, NULL, NULL, NULL) == -EINVAL);
}

static void test_load_errors(void)
{
	struct rr_config_env env = { 0 };
	struct rr_config *c = (struct rr_config *) 1;
	const char *path;
	char *buf;
	size_t size;
	FILE *err;
	int r;

	/* Unreadable: negative errno and "FILE: message". */
	err = open_memstream(&buf, &size);
	CHECK(config_load("/nonexistent/replyroute.conf", &env, err, &c) == -ENOENT);
	fclose(err);
	CHECK(c == NULL);
	CHECK(strcmp(buf, "/nonexistent/replyroute.conf: No such file or directory\n") == 0);
	free(buf);

	c = (struct rr_config *) 1;
	err = open_memstream(&buf, &size);
	CHECK(config_load(tmpdir, &env, err, &c) == -EISDIR);
	fclose(err);
	CHECK(c == NULL);
	CHECK(contains(buf, ": Is a directory\n"));
	free(buf);

	/* A file over 4 MiB is refused before it is parsed; 4 MiB of comments are read. */
	{
		size_t big = 4u << 20;
		char *text = malloc(big + 1);

		if (!text)
			exit(1);
		memset(text, '#', big + 1);
		text[0] = '\n';
		CHECK(load(text, big, NULL, NULL) == 0);
		CHECK(load(text, big + 1, NULL, &buf) == -EFBIG);
		CHECK(contains(buf, "test.conf: File too large\n"));
		free(buf);
		free(text);
	}

	/* err may be NULL; env may be NULL (system rt_tables, where "main" is reserved). */
	static const char text[] = "[Interface]\nName=eth1\nTable=main\nMark=1\n";
	path = write_conf(text, sizeof(text) - 1);
	c = (struct rr_config *) 1;
	CHECK(config_load(path, NULL, NULL, &c) == -EINVAL);
	CHECK(c == NULL);
	err = open_memstream(&buf, &size);
	r = config_load(path, NULL, err, &c);
	fclose(err);
	CHECK(r == -EINVAL);
	CHECK(contains(buf, "test.conf:3: Table=main: table 254 is reserved\n"));
	free(buf);

	/* Every error of a file with many, one per line, in line order. */
	CHECK(load_str("[Interface]\n"
		       "Name=eth1\n"
		       "Mark=0x300\n"
		       "[Global]\n"
		       "MarkMask=0x1ff\n"
		       "[Interface]\n"
		       "Name=eth1\n"
		       "Table=5\n"
		       "Mark=0x300\n",
		       NULL, &buf) == -EINVAL);
	CHECK(in_order(buf, (const char *const[]) {
		"test.conf:3: Mark=0x300 is outside MarkMask=0x1ff\n",
		"test.conf:7: Name=eth1 already used at line 2\n",
		"test.conf:9: Mark=0x300 is outside MarkMask=0x1ff\n",
		"test.conf:9: Mark=0x300 already used at line 3\n",
		NULL }));
	CHECK(count_lines(buf) == 4);
	free(buf);
}

static void test_load_many(void)
{
	struct rr_config *c;
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	f = open_memstream(&text, &size);
	if (!f)
		exit(1);
	fprintf(f, "[Global]\nMarkMask=0xffff\n");
	for (unsigned i = 1; i <= 300; i++)
		fprintf(f, "[Interface]\nName=veth%u\nTable=%u\nMark=%#x\n", i, 1000 + i, i);
	fclose(f);
	CHECK(load(text, size, &c, NULL) == 0);
	CHECK(c && c->n_ifaces == 300);
	if (c) {
		CHECK(strcmp(c->ifaces[299].name, "veth300") == 0);
		CHECK(c->ifaces[299].mark == 300 && c->ifaces[299].table == 1300);
	}
	config_free(c);
	free(text);
}

int main(int argc, char **argv)
{
	char path[sizeof(tmpdir) + 32];

	if (argc != 2) {
		fprintf(stderr, "usage: %s RT_TABLES_DIR\n", argv[0]);
		return 2;
	}
	rt_dir = argv[1];
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}

	test_addr();
	test_addr_prefix();
	test_table_lookup();
	test_rttables();
	test_value();
	test_ifname();
	test_iniline();
	test_load_values();
	test_load_bytes();
	test_load_buffer();
	test_load_errors();
	test_load_many();

	snprintf(path, sizeof(path), "%s/test.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return check_done("config API");
}
