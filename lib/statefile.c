/* SPDX-License-Identifier: MIT */
#include "statefile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"
#include "store.h"
#include "value.h"

#define STATEFILE_MAGIC "replyroute-state 1"
#define STATEFILE_FIELDS 10

static const char *const state_names[] = {
	[RR_IFACE_ABSENT] = "waiting-for-link",
	[RR_IFACE_DOWN] = "link-down",
	[RR_IFACE_NO_CARRIER] = "no-carrier",
	[RR_IFACE_NO_ADDRESS] = "no-usable-address",
	[RR_IFACE_ACTIVE] = "active",
};

const char *statefile_state_name(enum rr_iface_state s)
{
	return (size_t)s < sizeof(state_names) / sizeof(*state_names) ? state_names[s] : "unknown";
}

static int state_parse(const char *s, enum rr_iface_state *ret)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(*state_names); i++)
		if (!strcmp(s, state_names[i])) {
			*ret = (enum rr_iface_state)i;
			return 0;
		}
	return -EINVAL;
}

/* One field: "" as "-", a lone "-" escaped, no byte that splits or ends a line. */
static void field_put(FILE *f, const char *s)
{
	if (!*s) {
		fputc('-', f);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '\\' || (*p == '-' && p == (const unsigned char *)s && !p[1]))
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/* The inverse, into buf of len bytes: -EINVAL for what field_put never writes. */
static int field_get(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (!strcmp(s, "-")) {
		buf[0] = '\0';
		return 0;
	}
	for (; *s; s++) {
		unsigned v = (unsigned char)*s;

		if (*s == '\\') {
			if (s[1] != 'x' || !isxdigit((unsigned char)s[2]) ||
			    !isxdigit((unsigned char)s[3]) || sscanf(s + 2, "%2x", &v) != 1 || v == 0)
				return -EINVAL;
			s += 3;
		} else if (v <= ' ' || v >= 0x7f) {
			return -EINVAL;
		}
		if (n + 1 >= len)
			return -EINVAL;
		buf[n++] = (char)v;
	}
	buf[n] = '\0';
	return 0;
}

/* Decimal digits only, no sign, fits 64 bits. */
static int u64_get(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
		return -EINVAL;
	for (; *s; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	*ret = v;
	return 0;
}

static int u32_get(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (u64_get(s, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int mark_get(const char *s, uint32_t *ret)
{
	return strncmp(s, "0x", 2) || value_parse_u32(s, ret) < 0 || !*ret ? -EINVAL : 0;
}

static int ifname_get(const char *s, char *name, bool none_ok)
{
	char buf[IFNAMSIZ];

	if (field_get(s, buf, sizeof(buf)) < 0)
		return -EINVAL;
	if (!(none_ok && !buf[0]) && value_ifname_kernel_invalid(buf))
		return -EINVAL;
	memcpy(name, buf, IFNAMSIZ);
	return 0;
}

int statefile_format(const struct statefile *s, char **ret)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, STATEFILE_MAGIC "\npid %d\nstarted %" PRIu64 "\nconfig %016" PRIx64 "\n", s->pid,
		s->started, s->config_hash);
	if (s->reload_time) {
		fprintf(f, "reload %" PRIu64 " %s", s->reload_time, s->reload_failed ? "failed " : "ok");
		if (s->reload_failed)
			field_put(f, s->reload_error);
		fputc('\n', f);
	}
	fprintf(f, "nft-owned %s\n", s->nft_owned ? "yes" : "no");
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct statefile_iface *x = &s->ifaces[i];

		fputs("iface ", f);
		field_put(f, x->name);
		fprintf(f, " %s %" PRIu32 " %#" PRIx32 " %" PRIu64 " ", statefile_state_name(x->state),
			x->table, x->mark, x->since);
		field_put(f, x->was);
		fputc('\n', f);
	}
	for (size_t i = 0; i < s->n_removals && i < STATEFILE_MAX_REMOVALS; i++) {
		const struct statefile_removal *m = &s->removals[i];

		fputs("removed ", f);
		field_put(f, m->iface);
		fprintf(f, " %s %u %u %" PRIu64 " ", m->rule ? "rule" : "route", m->total, m->streak,
			m->last);
		field_put(f, m->who);
		fputc(' ', f);
		field_put(f, m->what);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	return 0;
}

static int iface_parse(char **v, size_t n, struct statefile *s)
{
	struct statefile_iface x = {0}, *p;

	if (n != 7 || s->n_ifaces >= STATEFILE_MAX_IFACES || ifname_get(v[1], x.name, false) < 0 ||
	    state_parse(v[2], &x.state) < 0 || u32_get(v[3], &x.table) < 0 ||
	    mark_get(v[4], &x.mark) < 0 || u64_get(v[5], &x.since) < 0 ||
	    field_get(v[6], x.was, sizeof(x.was)) < 0)
		return -EINVAL;
	for (size_t i = 0; i < s->n_ifaces; i++)
		if (!strcmp(s->ifaces[i].name, x.name))
			return -EINVAL;
	if (!(p = realloc(s->ifaces, (s->n_ifaces + 1) * sizeof(*p))))
		return -ENOMEM;
	s->ifaces = p;
	s->ifaces[s->n_ifaces++] = x;
	return 0;
}

static int removal_parse(char **v, size_t n, struct statefile *s)
{
	struct statefile_removal m = {0}, *p;
	uint64_t total, streak;

	if (n != 8 || s->n_removals >= STATEFILE_MAX_REMOVALS ||
	    ifname_get(v[1], m.iface, true) < 0 || (strcmp(v[2], "rule") && strcmp(v[2], "route")) ||
	    u64_get(v[3], &total) < 0 || total > UINT32_MAX || u64_get(v[4], &streak) < 0 ||
	    streak > total || u64_get(v[5], &m.last) < 0 || field_get(v[6], m.who, sizeof(m.who)) < 0 ||
	    field_get(v[7], m.what, sizeof(m.what)) < 0)
		return -EINVAL;
	m.rule = !strcmp(v[2], "rule");
	m.total = (unsigned)total;
	m.streak = (unsigned)streak;
	if (!(p = realloc(s->removals, (s->n_removals + 1) * sizeof(*p))))
		return -ENOMEM;
	s->removals = p;
	s->removals[s->n_removals++] = m;
	return 0;
}

static int line_parse(char *line, struct statefile *s)
{
	char *v[STATEFILE_FIELDS], *save = NULL;
	size_t n = 0;
	uint64_t pid;

	/* Single spaces only: as written. */
	if (!*line || line[0] == ' ' || strstr(line, "  ") || line[strlen(line) - 1] == ' ')
		return -EINVAL;
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == STATEFILE_FIELDS)
			return -EINVAL;
		v[n++] = t;
	}
	if (n == 0)
		return -EINVAL;
	if (!strcmp(v[0], "pid"))
		return n == 2 && u64_get(v[1], &pid) == 0 && pid > 0 && pid <= INT32_MAX
			       ? (s->pid = (int)pid, 0) : -EINVAL;
	if (!strcmp(v[0], "started"))
		return n == 2 ? u64_get(v[1], &s->started) : -EINVAL;
	if (!strcmp(v[0], "config"))
		return n == 2 && strlen(v[1]) == 16 && strspn(v[1], "0123456789abcdef") == 16 &&
			       sscanf(v[1], "%" SCNx64, &s->config_hash) == 1 ? 0 : -EINVAL;
	if (!strcmp(v[0], "reload")) {
		if (n < 3 || u64_get(v[1], &s->reload_time) < 0 || !s->reload_time)
			return -EINVAL;
		s->reload_failed = !strcmp(v[2], "failed");
		if (s->reload_failed)
			return n == 4 ? field_get(v[3], s->reload_error, sizeof(s->reload_error)) : -EINVAL;
		return n == 3 && !strcmp(v[2], "ok") ? 0 : -EINVAL;
	}
	if (!strcmp(v[0], "nft-owned")) {
		if (n != 2 || (strcmp(v[1], "yes") && strcmp(v[1], "no")))
			return -EINVAL;
		s->nft_owned = !strcmp(v[1], "yes");
		return 0;
	}
	if (!strcmp(v[0], "iface"))
		return iface_parse(v, n, s);
	if (!strcmp(v[0], "removed"))
		return removal_parse(v, n, s);
	return 0; /* a newer daemon's record */
}

int statefile_parse(const char *text, struct statefile *ret)
{
	struct statefile s = {0};
	char *copy = strdup(text), *p = copy, *nl;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	if (strncmp(p, STATEFILE_MAGIC "\n", sizeof(STATEFILE_MAGIC)) != 0)
		r = -EINVAL;
	else
		p += sizeof(STATEFILE_MAGIC);
	while (r == 0 && *p) {
		if (!(nl = strchr(p, '\n'))) {
			r = -EINVAL; /* cut short */
			break;
		}
		*nl = '\0';
		r = line_parse(p, &s);
		p = nl + 1;
	}
	free(copy);
	if (r == 0 && (!s.pid || !s.started))
		r = -EINVAL;
	if (r < 0) {
		statefile_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}

void statefile_clear(struct statefile *s)
{
	free(s->ifaces);
	free(s->removals);
	*s = (struct statefile){0};
}

int statefile_read(const char *dir, struct statefile *ret)
{
	char *text = malloc(STATEFILE_MAX + 2);
	int r;

	if (!text)
		return -ENOMEM;
	r = store_text_read(dir, STATEFILE_NAME, text, STATEFILE_MAX + 2);
	if (r == 0)
		r = statefile_parse(text, ret);
	free(text);
	return r;
}

int statefile_write_text(const char *dir, const char *text)
{
	return store_text_write(dir, STATEFILE_NAME, text);
}

int statefile_remove(const char *dir)
{
	return store_text_remove(dir, STATEFILE_NAME);
}

uint64_t statefile_config_hash(const struct rr_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint64_t h;

	if (!f)
		return 0;
	if (c)
		config_print(c, f);
	if (fclose(f) != 0) {
		free(text);
		return 0;
	}
	h = ruleset_hash(text);
	free(text);
	return h;
}
