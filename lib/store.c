/* SPDX-License-Identifier: MIT */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "value.h"

/*
 * Nothing in the directory is taken on trust: a value read here is written to
 * /proc/sys, a name read here is deleted. Directories are opened once without
 * following a symlink and everything else is done relative to them, so a
 * path swapped in between cannot redirect a write or an unlink.
 */

/* "1 eth0\n" is 7 bytes; anything longer than this was not written by us. */
#define STORE_SYSCTL_MAX 64
/* Header of 45 bytes and at most 27 per interface: 4096 interfaces fit. */
#define STORE_NFT_ENTRIES 4096
#define STORE_NFT_MAX (128 * 1024)

/*
 * The kernel's dev_valid_name() rules (no '/', ':' or whitespace as the
 * kernel sees it, which keeps a record one line of space-separated fields;
 * other control bytes are valid names and kept as they are). "all" and
 * "default" are directories of net.ipv4.conf, never interfaces: no record
 * may name them.
 */
static bool store_ifname_valid(const char *s)
{
	return !value_ifname_kernel_invalid(s) && strcmp(s, "all") != 0 &&
	       strcmp(s, "default") != 0;
}

/* A decimal index as we write it: 1..INT_MAX, no sign, no leading zero. */
static int store_parse_index(const char *s, int *ret)
{
	long v = 0;

	if (*s < '1' || *s > '9' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -EINVAL;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	if (v > INT_MAX)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* Hex digits only, exactly `len` of them (1..16). */
static int store_parse_hex(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 16 || strspn(s, "0123456789abcdefABCDEF") != len || s[len])
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

/* A mark or mask as "%#x" writes it; zero is never one. */
static int store_parse_mark(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (strncmp(s, "0x", 2) != 0 || strlen(s) > 10 ||
	    store_parse_hex(s + 2, strlen(s + 2), &v) < 0 || v == 0)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* -ELOOP for a symlink, -EPERM for anything else but a regular file. */
static int store_regular(const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		return 0;
	return S_ISLNK(st->st_mode) ? -ELOOP : -EPERM;
}

/*
 * Opens the directory at (at, name), creating it if asked. Trusted only if no
 * one else could have put anything in it: owned by the effective uid (root
 * for the daemon; an unprivileged test owns its own directory, and root's
 * files are no safer from root) and not writable by group or others.
 * O_NOFOLLOW covers the last component only: /var/run -> /run still works.
 */
static int store_opendir(int at, const char *name, bool create, int *ret)
{
	struct stat st;
	int fd;

	if (create && mkdirat(at, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* A symlink fails here with -ENOTDIR. */
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EPERM;
	}
	*ret = fd;
	return 0;
}

/* The state directory and, if sub, its subdirectory; the other fd is closed. */
static int store_open(const char *dir, const char *sub, bool create, int *ret)
{
	int top, r;

	*ret = -1;
	if ((r = store_opendir(AT_FDCWD, dir, create, &top)) < 0)
		return r;
	if (!sub) {
		*ret = top;
		return 0;
	}
	r = store_opendir(top, sub, create, ret);
	close(top);
	return r;
}

/*
 * Reads a small regular file whole into buf (NUL-terminated): -EFBIG when it
 * holds more than size - 2 bytes, -EINVAL when it holds a NUL byte.
 */
static int store_read(int dfd, const char *name, char *buf, size_t size)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	/* Look before opening: opening a FIFO or a device can block or act. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((r = store_regular(&st)) < 0)
		return r;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* And again after: it may have been swapped in between. */
	r = fstat(fd, &st) < 0 ? -errno : store_regular(&st);
	while (r == 0 && len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (r == 0 && len > size - 2)
		r = -EFBIG;
	if (r == 0 && memchr(buf, '\0', len))
		r = -EINVAL;
	buf[r == 0 ? len : 0] = '\0';
	return r;
}

/* Removes a regular file only: never what a symlink, FIFO or directory is. */
static int store_unlink(int dfd, const char *name)
{
	struct stat st;
	int r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if ((r = store_regular(&st)) < 0)
		return r;
	return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

/*
 * Writes a whole file or nothing: a crash never leaves half a record. The
 * temporary name starts with '.', which the reader skips; O_EXCL and
 * O_NOFOLLOW keep it from being anything planted beforehand.
 */
static int store_write(int dfd, const char *name, const char *text)
{
	static unsigned counter;
	char tmp[NAME_MAX + 1];
	size_t len = strlen(text), done = 0;
	struct stat st;
	ssize_t n;
	int fd = -1, r = 0;

	/* The record replaced must be one of ours, not something else under its name. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (r = store_regular(&st)) < 0)
		return r;
	for (int i = 0; fd < 0 && i < 16; i++) {
		snprintf(tmp, sizeof(tmp), ".%s.%ld.%u", name, (long)getpid(), counter++);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	while (r == 0 && done < len) {
		n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dfd, tmp, 0);
	return r;
}

static bool store_sysctl_valid(const struct rr_saved_sysctl *s)
{
	return s->ifindex > 0 && (s->value == 0 || s->value == 1) && store_ifname_valid(s->name);
}

static int store_sysctl_write(int sfd, const struct rr_saved_sysctl *s)
{
	char file[16], text[32];

	if (!store_sysctl_valid(s))
		return -EINVAL;
	snprintf(file, sizeof(file), "%d", s->ifindex);
	snprintf(text, sizeof(text), "%d %s\n", s->value, s->name);
	return store_write(sfd, file, text);
}

/*
 * One file: "VALUE NAME" in a file named by index, or "VALUE INDEX" in one
 * named by interface, as earlier versions wrote them (*ret_legacy). A name of
 * digits only is always an index: an interface named so loses its old record.
 */
static int store_sysctl_parse(int sfd, const char *file, struct rr_saved_sysctl *s,
			      bool *ret_legacy)
{
	char buf[STORE_SYSCTL_MAX + 2], *arg;
	bool legacy = strspn(file, "0123456789") != strlen(file);
	size_t len;
	int r;

	memset(s, 0, sizeof(*s));
	if (legacy && !store_ifname_valid(file))
		return -EINVAL; /* "all", "default": not ours, left alone */
	if (!legacy && (r = store_parse_index(file, &s->ifindex)) < 0)
		return r;
	if ((r = store_read(sfd, file, buf, sizeof(buf))) < 0)
		return r;
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	/* Exactly "0 " or "1 " and one word: no sign, no spaces, nothing after. */
	if (len < 3 || (buf[0] != '0' && buf[0] != '1') || buf[1] != ' ')
		return -EINVAL;
	s->value = buf[0] - '0';
	arg = buf + 2;
	if (legacy) {
		if ((r = store_parse_index(arg, &s->ifindex)) < 0)
			return r;
		snprintf(s->name, sizeof(s->name), "%s", file);
	} else {
		if (!store_ifname_valid(arg))
			return -EINVAL;
		memcpy(s->name, arg, strlen(arg) + 1); /* shorter than IFNAMSIZ: checked */
	}
	*ret_legacy = legacy;
	return store_sysctl_valid(s) ? 0 : -EINVAL;
}

static void store_skip(struct store_skipped *sk, const char *file, int error)
{
	if (!sk)
		return;
	if (sk->n++ == 0) {
		snprintf(sk->file, sizeof(sk->file), "%s", file);
		sk->error = error;
	}
}

struct store_loaded {
	struct rr_saved_sysctl s;
	bool legacy;
};

/* By index; for one index the record keyed by it before a legacy one. */
static int store_loaded_cmp(const void *a, const void *b)
{
	const struct store_loaded *x = a, *y = b;

	if (x->s.ifindex != y->s.ifindex)
		return (x->s.ifindex > y->s.ifindex) - (x->s.ifindex < y->s.ifindex);
	return (int)x->legacy - (int)y->legacy;
}

/* Reads every record of the open sysctl/ directory; takes sfd. */
static int store_sysctl_scan(int sfd, struct store_loaded **ret, size_t *ret_n,
			     struct store_skipped *sk)
{
	struct store_loaded *v = NULL, *p;
	size_t n = 0;
	struct dirent *de;
	DIR *d = fdopendir(sfd);
	int r = 0;

	if (!d) {
		r = -errno;
		close(sfd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		size_t len = strlen(de->d_name);

		/* Ours in the middle of a write (or of an earlier version's). */
		if (de->d_name[0] == '.' || (len > 4 && !strcmp(de->d_name + len - 4, ".tmp")))
			continue;
		if (!(p = realloc(v, (n + 1) * sizeof(*v)))) {
			r = -ENOMEM;
			break;
		}
		v = p;
		if ((r = store_sysctl_parse(dirfd(d), de->d_name, &v[n].s, &v[n].legacy)) == 0)
			n++;
		else
			store_skip(sk, de->d_name, r); /* nothing to put back: left alone */
		r = 0;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int store_sysctl_load_report(const char *dir, struct rr_saved_sysctl **ret, size_t *ret_n,
			     struct store_skipped *ret_skipped)
{
	struct store_loaded *v = NULL;
	struct rr_saved_sysctl *out;
	size_t n = 0, k = 0;
	int sfd, r;

	*ret = NULL;
	*ret_n = 0;
	if (ret_skipped)
		*ret_skipped = (struct store_skipped){0};
	if ((r = store_open(dir, "sysctl", false, &sfd)) < 0)
		return r == -ENOENT ? 0 : r;
	/* Scanned whole before migrating: a file written meanwhile is not read twice. */
	if ((r = store_sysctl_scan(dup(sfd), &v, &n, ret_skipped)) < 0) {
		close(sfd);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), store_loaded_cmp);
	out = calloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++) {
		if (k && out[k - 1].ifindex == v[i].s.ifindex) {
			/* A legacy record for an index that has one: not ours to pick. */
			store_skip(ret_skipped, v[i].s.name, -EEXIST);
			continue;
		}
		/* The old name-keyed format: rewritten under the index. If that
		 * fails, the old file stays for the next start. */
		if (v[i].legacy && store_sysctl_write(sfd, &v[i].s) == 0)
			(void)store_unlink(sfd, v[i].s.name);
		out[k++] = v[i].s;
	}
	close(sfd);
	free(v);
	if (!out)
		return -ENOMEM;
	*ret = out;
	*ret_n = k;
	return 0;
}

int store_sysctl_load(const char *dir, struct rr_saved_sysctl **ret, size_t *ret_n)
{
	return store_sysctl_load_report(dir, ret, ret_n, NULL);
}

int store_sysctl_save(const char *dir, const struct rr_saved_sysctl *s)
{
	return store_sysctl_save_many(dir, s, 1);
}

int store_sysctl_save_many(const char *dir, const struct rr_saved_sysctl *v, size_t n)
{
	int sfd, r = 0;

	for (size_t i = 0; i < n; i++)
		if (!store_sysctl_valid(&v[i]))
			return -EINVAL;
	if (n == 0)
		return 0;
	if ((r = store_open(dir, "sysctl", true, &sfd)) < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = store_sysctl_write(sfd, &v[i]);
	close(sfd);
	return r;
}

int store_sysctl_forget(const char *dir, int ifindex)
{
	char file[16];
	int sfd, r;

	if (ifindex <= 0)
		return -EINVAL;
	if ((r = store_open(dir, "sysctl", false, &sfd)) < 0)
		return r == -ENOENT ? 0 : r;
	snprintf(file, sizeof(file), "%d", ifindex);
	r = store_unlink(sfd, file);
	close(sfd);
	return r;
}

/* The next line of *p, without its '\n'; NULL at the end or on a line not ended. */
static char *store_line(char **p)
{
	char *line = *p, *nl = strchr(line, '\n');

	if (!nl)
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return line;
}

/* "A REST" at the first space, both not empty; REST is checked by its parser. */
static bool store_split(char *line, char **ret_a, char **ret_b)
{
	char *sp = strchr(line, ' ');

	if (!sp || sp == line || !sp[1])
		return false;
	*sp = '\0';
	*ret_a = line;
	*ret_b = sp + 1;
	return true;
}

/* "TEXTHASH LISTINGHASH MASK" then "NAME MARK" per interface, each line ended. */
static int store_nft_parse(char *text, struct ruleset_state *s)
{
	char *p = text, *line = store_line(&p), *a, *b, *c;
	size_t lines = 0;

	if (!line || !store_split(line, &a, &b) || !store_split(b, &b, &c) ||
	    store_parse_hex(a, 16, &s->text_hash) < 0 ||
	    store_parse_hex(b, 16, &s->listing_hash) < 0 ||
	    store_parse_mark(c, &s->mask) < 0)
		return -EINVAL;
	for (const char *q = p; (q = strchr(q, '\n')); q++)
		lines++;
	if (lines > STORE_NFT_ENTRIES)
		return -EFBIG;
	if (!(s->entries = calloc(lines + 1, sizeof(*s->entries))))
		return -ENOMEM;
	while ((line = store_line(&p))) {
		struct ruleset_entry *e = &s->entries[s->n_entries];

		if (!store_split(line, &a, &b) || !store_ifname_valid(a) ||
		    store_parse_mark(b, &e->mark) < 0 || (e->mark & ~s->mask))
			return -EINVAL;
		for (size_t i = 0; i < s->n_entries; i++)
			if (!strcmp(s->entries[i].name, a) || s->entries[i].mark == e->mark)
				return -EINVAL; /* the config allows neither twice */
		memcpy(e->name, a, strlen(a) + 1);
		s->n_entries++;
	}
	return *p ? -EINVAL : 0; /* text after the last '\n': cut short */
}

int store_nft_read(const char *dir, struct ruleset_state *ret)
{
	struct ruleset_state s = {0};
	char *text = malloc(STORE_NFT_MAX + 2);
	int r;

	if (!text)
		return -ENOMEM;
	r = store_text_read(dir, "nft", text, STORE_NFT_MAX + 2);
	if (r == 0)
		r = store_nft_parse(text, &s);
	free(text);
	if (r < 0) {
		ruleset_state_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int store_nft_write(const char *dir, const struct ruleset_state *s)
{
	char *text = NULL;
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
	r = store_text_write(dir, "nft", text);
	free(text);
	return r;
}

int store_nft_remove(const char *dir)
{
	return store_text_remove(dir, "nft");
}

int store_text_read(const char *dir, const char *name, char *buf, size_t size)
{
	int fd, r;

	if ((r = store_open(dir, NULL, false, &fd)) < 0)
		return r;
	r = store_read(fd, name, buf, size);
	close(fd);
	return r;
}

int store_text_write(const char *dir, const char *name, const char *text)
{
	int fd, r;

	if ((r = store_open(dir, NULL, true, &fd)) < 0)
		return r;
	r = store_write(fd, name, text);
	close(fd);
	return r;
}

int store_text_remove(const char *dir, const char *name)
{
	int fd, r;

	if ((r = store_open(dir, NULL, false, &fd)) < 0)
		return r == -ENOENT ? 0 : r;
	r = store_unlink(fd, name);
	close(fd);
	return r;
}
