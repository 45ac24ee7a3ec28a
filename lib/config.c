/* SPDX-License-Identifier: MIT */
/*
 * The configuration file: INI in the style of systemd .network files.
 *
 * Read by a strict line reader, in wireguard-tools' way: config_read_init(),
 * then config_read_line() for every physical line, then config_read_finish().
 * A line is a comment, a [Section] header or KEY=VALUE, split at the first
 * '='; anything else is an error with its line number, never skipped or
 * split. Checks between fields (mark inside the mask, duplicates, missing
 * keys) run once the whole file is read. Errors are collected and written
 * sorted by line, so the order is the file's.
 *
 * This file knows the sections and keys; the syntax of a line is
 * iniline.c's, of a single value value.c's, table names are rttables.c's.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "iniline.h"
#include "rrfile.h"
#include "rttables.h"
#include "uset.h"
#include "value.h"

/*
 * Longest line, without comments and surrounding whitespace: longer is a
 * mistake (a lost newline, not a config file), reported rather than read.
 * 199 was inih's limit; kept so that files and messages stay the same.
 */
#define CONFIG_LINE_MAX 199
/* A config file is a few lines per interface: anything bigger is a mistake. */
#define CONFIG_FILE_MAX (4u << 20)

enum section {
	SECTION_NONE,
	SECTION_GLOBAL,
	SECTION_INTERFACE,
	SECTION_UNKNOWN,
};

/* What the checks at the end need to know about one [Interface]. */
struct iface_info {
	/* Line of each key, 0 when absent. */
	unsigned name, table, mark, priority, gateway4, gateway6, source_rules;
	bool name_ok, table_ok, mark_ok;
	char table_str[CONFIG_LINE_MAX + 1];
	char mark_str[CONFIG_LINE_MAX + 1];
};

struct parser {
	const char *name; /* of the file, for messages */
	char *line;	  /* the current line, copied to be cut up */
	size_t line_size;
	unsigned lineno;
	bool oom;

	enum section section;
	unsigned global_line, mask_line, priority_line;
	bool mask_ok;

	struct rr_config *cfg;
	struct iface_info *info; /* parallel to cfg->ifaces */
	size_t ifaces_alloc;

	struct diag errors;

	const char *rt_dir; /* NULL: the system's */
	struct rttables rt;
};

/* A table name that looks like a number is read as one, and reported as a bad one. */
static bool looks_numeric(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

uint32_t config_table_lookup(const char *dir, const char *name)
{
	return rttables_lookup(dir, name);
}

static void parser_error(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void parser_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (p->oom)
		return;
	va_start(ap, fmt);
	if (diag_addv(&p->errors, line, fmt, ap) < 0)
		p->oom = true;
	va_end(ap);
}

static const char *section_name(enum section s)
{
	return s == SECTION_GLOBAL ? "[Global]" : "[Interface]";
}

static void parser_unknown_key(struct parser *p, const char *key)
{
	switch (p->section) {
	case SECTION_NONE:
		parser_error(p, p->lineno, "%s= outside of any section", key);
		break;
	case SECTION_GLOBAL:
	case SECTION_INTERFACE:
		parser_error(p, p->lineno, "unknown key %s= in %s", key, section_name(p->section));
		break;
	case SECTION_UNKNOWN:
		break; /* the section header was reported */
	}
}

/* Records where key is set; false (and an error) when it already was. */
static bool parser_set_once(struct parser *p, const char *key, unsigned *line)
{
	if (*line) {
		parser_error(p, p->lineno, "%s= already set at line %u", key, *line);
		return false;
	}
	*line = p->lineno;
	return true;
}

static bool parser_u32(struct parser *p, const char *key, const char *value, uint32_t *ret)
{
	int r = value_parse_u32(value, ret);

	if (r == -ERANGE)
		parser_error(p, p->lineno, "%s=%s: number out of range (at most 4294967295)", key, value);
	else if (r < 0)
		parser_error(p, p->lineno, "%s=%s: invalid number (expected decimal or 0x hexadecimal)",
			     key, value);
	return r == 0;
}

static void parser_global(struct parser *p, const char *key, const char *value)
{
	uint32_t v;

	if (strcmp(key, "MarkMask") == 0) {
		if (!parser_set_once(p, key, &p->mask_line) || !parser_u32(p, key, value, &v))
			return;
		if (v == 0) {
			parser_error(p, p->lineno, "MarkMask=%s: must not be zero", value);
			return;
		}
		p->cfg->mask = v;
		p->mask_ok = true;
	} else if (strcmp(key, "Priority") == 0) {
		if (parser_set_once(p, key, &p->priority_line) && parser_u32(p, key, value, &v))
			p->cfg->priority = v;
	}
}

static void parser_table(struct parser *p, const char *value, struct rr_iface_conf *ifc,
			 struct iface_info *info)
{
	uint32_t id;
	int r;

	if (looks_numeric(value)) {
		if (!parser_u32(p, "Table", value, &id))
			return;
		if (id == 0) {
			parser_error(p, p->lineno, "Table=%s: table 0 is invalid", value);
			return;
		}
		if (id >= 253 && id <= 255) {
			parser_error(p, p->lineno, "Table=%s: table %" PRIu32 " is reserved (%s)",
				     value, id, rttables_builtin_name(id));
			return;
		}
	} else {
		r = rttables_load(&p->rt, p->rt_dir);
		if (r < 0) {
			p->oom = true;
			return;
		}
		if (rttables_find(&p->rt, value, &id) < 0) {
			parser_error(p, p->lineno, "Table=%s: unknown routing table name", value);
			return;
		}
		if (id == 0) {
			parser_error(p, p->lineno, "Table=%s: names table 0, which is invalid", value);
			return;
		}
		if (id >= 253 && id <= 255) {
			parser_error(p, p->lineno, "Table=%s: table %" PRIu32 " is reserved", value, id);
			return;
		}
	}
	ifc->table = id;
	info->table_ok = true;
	snprintf(info->table_str, sizeof(info->table_str), "%s", value);
}

static void parser_gateway(struct parser *p, const char *value, struct rr_iface_conf *ifc,
			   struct iface_info *info)
{
	struct rr_addr a;
	unsigned *line;

	if (rr_addr_parse(value, &a) < 0) {
		parser_error(p, p->lineno, "Gateway=%s: invalid IPv4 or IPv6 address", value);
		return;
	}
	line = a.family == AF_INET ? &info->gateway4 : &info->gateway6;
	if (*line) {
		parser_error(p, p->lineno, "Gateway=%s: an %s gateway is already set at line %u",
			     value, a.family == AF_INET ? "IPv4" : "IPv6", *line);
		return;
	}
	*line = p->lineno;
	if (!value_gateway_valid(&a)) {
		parser_error(p, p->lineno, "Gateway=%s: not a unicast address", value);
		return;
	}
	if (a.family == AF_INET)
		ifc->gateway4 = a;
	else
		ifc->gateway6 = a;
}

static void parser_interface(struct parser *p, const char *key, const char *value)
{
	struct rr_iface_conf *ifc = &p->cfg->ifaces[p->cfg->n_ifaces - 1];
	struct iface_info *info = &p->info[p->cfg->n_ifaces - 1];
	const char *why;
	uint32_t v;
	bool b;

	if (strcmp(key, "Name") == 0) {
		if (!parser_set_once(p, key, &info->name))
			return;
		why = value_ifname_invalid(value);
		if (why) {
			parser_error(p, p->lineno, "Name=%s: %s", value, why);
			return;
		}
		snprintf(ifc->name, sizeof(ifc->name), "%s", value);
		info->name_ok = true;
	} else if (strcmp(key, "Table") == 0) {
		if (parser_set_once(p, key, &info->table))
			parser_table(p, value, ifc, info);
	} else if (strcmp(key, "Mark") == 0) {
		if (!parser_set_once(p, key, &info->mark) || !parser_u32(p, key, value, &v))
			return;
		if (v == 0) {
			parser_error(p, p->lineno, "Mark=%s: must not be zero", value);
			return;
		}
		ifc->mark = v;
		info->mark_ok = true;
		snprintf(info->mark_str, sizeof(info->mark_str), "%s", value);
	} else if (strcmp(key, "Priority") == 0) {
		if (parser_set_once(p, key, &info->priority) && parser_u32(p, key, value, &v))
			ifc->priority = v;
	} else if (strcmp(key, "Gateway") == 0) {
		parser_gateway(p, value, ifc, info);
	} else if (strcmp(key, "SourceRules") == 0) {
		if (!parser_set_once(p, key, &info->source_rules))
			return;
		if (value_parse_bool(value, &b) < 0) {
			parser_error(p, p->lineno, "SourceRules=%s: expected yes or no", value);
			return;
		}
		ifc->source_rules = b;
	}
}

static bool key_known(enum section section, const char *key)
{
	static const char *const global[] = { "MarkMask", "Priority" };
	static const char *const iface[] = { "Name", "Table", "Mark", "Priority", "Gateway",
					     "SourceRules" };

	if (section == SECTION_GLOBAL) {
		for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++)
			if (strcmp(key, global[i]) == 0)
				return true;
	} else if (section == SECTION_INTERFACE) {
		for (size_t i = 0; i < sizeof(iface) / sizeof(iface[0]); i++)
			if (strcmp(key, iface[i]) == 0)
				return true;
	}
	return false;
}

/* One KEY=VALUE line, key and value stripped of whitespace. */
static void parser_assignment(struct parser *p, const char *key, const char *value)
{
	if (!key_known(p->section, key))
		parser_unknown_key(p, key);
	else if (*value == '\0')
		parser_error(p, p->lineno, "%s= needs a value", key);
	else if (p->section == SECTION_GLOBAL)
		parser_global(p, key, value);
	else
		parser_interface(p, key, value);
}

static bool parser_add_interface(struct parser *p)
{
	struct rr_config *c = p->cfg;

	if (c->n_ifaces == p->ifaces_alloc) {
		size_t n = p->ifaces_alloc ? 2 * p->ifaces_alloc : 4;
		struct rr_iface_conf *v;
		struct iface_info *vi;

		v = realloc(c->ifaces, n * sizeof(*v));
		if (!v)
			return false;
		c->ifaces = v;
		vi = realloc(p->info, n * sizeof(*vi));
		if (!vi)
			return false;
		p->info = vi;
		p->ifaces_alloc = n;
	}
	c->ifaces[c->n_ifaces] = (struct rr_iface_conf) { .line = p->lineno };
	p->info[c->n_ifaces] = (struct iface_info) { 0 };
	c->n_ifaces++;
	return true;
}

/* A [Section] line; l->error set when it is malformed. */
static void parser_section(struct parser *p, const struct iniline *l)
{
	p->section = SECTION_UNKNOWN; /* keys after a bad header would only add noise */
	if (l->error) {
		parser_error(p, p->lineno, "%s", l->error);
		return;
	}
	if (strcmp(l->section, "Global") == 0) {
		if (p->global_line)
			parser_error(p, p->lineno, "[Global] already defined at line %u", p->global_line);
		else
			p->global_line = p->lineno;
		p->section = SECTION_GLOBAL;
	} else if (strcmp(l->section, "Interface") == 0) {
		if (!parser_add_interface(p)) {
			p->oom = true;
			return;
		}
		p->section = SECTION_INTERFACE;
	} else
		parser_error(p, p->lineno, "unknown section [%s]", l->section);
}

static int config_read_init(struct parser *p, const char *name, const struct rr_config_env *env)
{
	*p = (struct parser) {
		.name = name,
		.rt_dir = env ? env->rt_tables_dir : NULL,
	};
	p->cfg = calloc(1, sizeof(*p->cfg));
	if (!p->cfg)
		return -ENOMEM;
	p->cfg->mask = RR_DEFAULT_MASK;
	p->cfg->priority = RR_DEFAULT_PRIORITY;
	return 0;
}

/*
 * One physical line, len bytes without its '\n'. Mistakes in it are
 * recorded, not returned: the reader goes on to find them all. 0 or -ENOMEM.
 */
static int config_read_line(struct parser *p, const char *line, size_t len)
{
	struct iniline l;
	char *s;

	p->lineno++;
	if (p->oom)
		return -ENOMEM;
	/* A C string would end there and hide the rest of the line. */
	if (memchr(line, '\0', len)) {
		parser_error(p, p->lineno, "NUL character in line");
		return p->oom ? -ENOMEM : 0;
	}
	if (p->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (len >= p->line_size) {
		char *v = realloc(p->line, len + 1);

		if (!v)
			return -ENOMEM;
		p->line = v;
		p->line_size = len + 1;
	}
	memcpy(p->line, line, len);
	p->line[len] = '\0';

	s = iniline_strip(p->line);
	len = strlen(s);
	if (len > CONFIG_LINE_MAX) {
		parser_error(p, p->lineno, "line too long (%zu characters, at most %d)", len,
			     CONFIG_LINE_MAX);
		return p->oom ? -ENOMEM : 0;
	}
	iniline_split(s, &l);
	switch (l.kind) {
	case INILINE_EMPTY:
		break;
	case INILINE_SECTION:
		parser_section(p, &l);
		break;
	case INILINE_ASSIGNMENT:
		if (l.error)
			parser_error(p, p->lineno, "%s", l.error);
		else
			parser_assignment(p, l.key, l.value);
		break;
	}
	return p->oom ? -ENOMEM : 0;
}

/*
 * Mark= omitted: in config order, the lowest mark inside MarkMask that no
 * other interface uses. Candidates are the mask's submasks in increasing
 * order, walked once for all interfaces; set marks are found in a sorted copy.
 */
static void parser_auto_marks(struct parser *p)
{
	struct rr_config *c = p->cfg;
	uint32_t *used, m;
	size_t n_used = 0, k = 0;

	if (p->mask_line && !p->mask_ok)
		return;
	used = calloc(c->n_ifaces + 1, sizeof(*used));
	if (!used) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].mark)
			used[n_used++] = c->ifaces[i].mark;
	uset_sort(used, n_used);

	m = uset_mask_next(c->mask, 0);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct rr_iface_conf *ifc = &c->ifaces[i];

		if (!ifc->mark_auto)
			continue;
		for (; m; m = uset_mask_next(c->mask, m)) {
			while (k < n_used && used[k] < m)
				k++;
			if (k == n_used || used[k] != m)
				break;
		}
		if (!m) {
			parser_error(p, ifc->line, "no free mark inside MarkMask=0x%" PRIx32
				     " for this interface: set Mark=", c->mask);
			continue;
		}
		ifc->mark = m;
		m = uset_mask_next(c->mask, m);
	}
	free(used);
}

/* Tables named in rt_tables are someone's: automatic tables avoid them. */
static void parser_named_tables(struct parser *p)
{
	struct rr_config *c = p->cfg;
	bool any = false;

	for (size_t i = 0; i < c->n_ifaces; i++)
		any |= c->ifaces[i].table_auto;
	if (!any || rttables_load(&p->rt, p->rt_dir) < 0)
		return;
	c->named_tables = calloc(p->rt.n + 1, sizeof(*c->named_tables));
	if (!c->named_tables) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < p->rt.n; i++)
		c->named_tables[c->n_named_tables++] = p->rt.v[i].id;
}

/* One key of one interface, for finding duplicates by sorting. */
struct dup_key {
	const char *name; /* Name=, or NULL: number is the key */
	uint32_t number;
	size_t i;
};

static int dup_compare(const void *a, const void *b)
{
	const struct dup_key *x = a, *y = b;
	int r = x->name ? strcmp(x->name, y->name) : (x->number > y->number) - (x->number < y->number);

	/* Equal keys in config order: the first one is the one used first. */
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

static bool dup_same(const struct dup_key *x, const struct dup_key *y)
{
	return x->name ? strcmp(x->name, y->name) == 0 : x->number == y->number;
}

enum dup_field { DUP_NAME, DUP_TABLE, DUP_MARK };

static void parser_duplicate(struct parser *p, enum dup_field f, size_t i, size_t first)
{
	const struct rr_iface_conf *ifc = &p->cfg->ifaces[i];
	const struct iface_info *info = &p->info[i], *was = &p->info[first];

	if (f == DUP_NAME)
		parser_error(p, info->name, "Name=%s already used at line %u", ifc->name, was->name);
	else if (f == DUP_MARK)
		parser_error(p, info->mark, "Mark=%s already used at line %u", info->mark_str,
			     was->mark);
	else if (looks_numeric(info->table_str))
		parser_error(p, info->table, "Table=%s already used at line %u", info->table_str,
			     was->table);
	else
		parser_error(p, info->table, "Table=%s (%" PRIu32 ") already used at line %u",
			     info->table_str, ifc->table, was->table);
}

/* Each valid Name=, Table= and Mark= used twice, reported against its first use. */
static void parser_duplicates(struct parser *p)
{
	struct rr_config *c = p->cfg;
	struct dup_key *keys = calloc(c->n_ifaces + 1, sizeof(*keys));

	if (!keys) {
		p->oom = true;
		return;
	}
	for (enum dup_field f = DUP_NAME; f <= DUP_MARK; f++) {
		size_t n = 0;

		for (size_t i = 0; i < c->n_ifaces; i++) {
			const struct iface_info *info = &p->info[i];

			if (f == DUP_NAME && info->name_ok)
				keys[n++] = (struct dup_key) { .name = c->ifaces[i].name, .i = i };
			else if (f == DUP_TABLE && info->table_ok)
				keys[n++] = (struct dup_key) { .number = c->ifaces[i].table, .i = i };
			else if (f == DUP_MARK && info->mark_ok)
				keys[n++] = (struct dup_key) { .number = c->ifaces[i].mark, .i = i };
		}
		if (n > 1)
			qsort(keys, n, sizeof(*keys), dup_compare);
		for (size_t j = 1, first = 0; j < n; j++) {
			if (dup_same(&keys[first], &keys[j]))
				parser_duplicate(p, f, keys[j].i, keys[first].i);
			else
				first = j;
		}
	}
	free(keys);
}

/* The checks that need the whole file: required keys, mask, duplicates. */
static void parser_check(struct parser *p)
{
	struct rr_config *c = p->cfg;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct rr_iface_conf *ifc = &c->ifaces[i];
		struct iface_info *info = &p->info[i];

		if (!info->name)
			parser_error(p, ifc->line, "[Interface] without Name=");
		ifc->table_auto = !info->table;
		ifc->mark_auto = !info->mark;

		if (info->mark_ok && (p->mask_ok || !p->mask_line) && (ifc->mark & ~c->mask))
			parser_error(p, info->mark, "Mark=%s is outside MarkMask=0x%" PRIx32,
				     info->mark_str, c->mask);

		if (!info->priority)
			ifc->priority = c->priority;
	}
	parser_duplicates(p);
	parser_auto_marks(p);
	parser_named_tables(p);
}

/*
 * Every error, in line order, or the config. 0, -EINVAL (errors written to
 * err) or -ENOMEM; *ret is only set on success.
 */
static int config_read_finish(struct parser *p, FILE *err, struct rr_config **ret)
{
	if (p->oom)
		return -ENOMEM;
	parser_check(p);
	if (p->oom)
		return -ENOMEM;
	if (p->errors.n > 0) {
		diag_write(&p->errors, p->name, err);
		return -EINVAL;
	}
	p->cfg->path = strdup(p->name);
	if (!p->cfg->path)
		return -ENOMEM;
	*ret = p->cfg;
	p->cfg = NULL;
	return 0;
}

static void parser_done(struct parser *p)
{
	diag_clear(&p->errors);
	free(p->info);
	free(p->line);
	rttables_clear(&p->rt);
	config_free(p->cfg);
}

int config_load_buffer(const char *name, const char *buf, size_t len,
		       const struct rr_config_env *env, FILE *err, struct rr_config **ret)
{
	struct parser p;
	size_t pos = 0;
	int r;

	if (!ret)
		return -EINVAL;
	*ret = NULL;
	if (!name || (!buf && len > 0))
		return -EINVAL;

	r = config_read_init(&p, name, env);
	while (r >= 0 && pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t) (nl - (buf + pos)) : len - pos;

		r = config_read_line(&p, buf + pos, n);
		pos += n + 1;
	}
	if (r >= 0)
		r = config_read_finish(&p, err, ret);
	parser_done(&p);
	return r;
}

int config_load(const char *path, const struct rr_config_env *env, FILE *err,
		struct rr_config **ret)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (!ret)
		return -EINVAL;
	*ret = NULL;
	if (!path)
		path = RR_DEFAULT_CONFIG;

	r = rrfile_read(path, CONFIG_FILE_MAX, &buf, &len);
	if (r < 0) {
		if (err && r != -ENOMEM)
			fprintf(err, "%s: %s\n", path, rrfile_strerror(r));
		return r;
	}
	r = config_load_buffer(path, buf, len, env, err, ret);
	free(buf);
	return r;
}

void config_free(struct rr_config *c)
{
	if (!c)
		return;
	free(c->ifaces);
	free(c->named_tables);
	free(c->path);
	free(c);
}
