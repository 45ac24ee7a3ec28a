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
#include "dropin.h"
#include "iniline.h"
#include "parser.h"
#include "rrfile.h"
#include "rttables.h"
#include "value.h"

/* A config file is a few lines per interface: anything bigger is a mistake. */
#define CONFIG_FILE_MAX (4u << 20)

/* A table name that looks like a number is read as one, and reported as a bad one. */
bool parser_looks_numeric(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

bool parser_rttables(struct parser *p, unsigned line, const char *what)
{
	int r = rttables_load(&p->rt, p->rt_dir);

	if (r == -ENOMEM)
		p->oom = true;
	else if (r < 0 && !p->rt_reported) {
		parser_error(p, line, "%s: cannot read table names from %s: %s", what,
			     p->rt.error_path ?: "rt_tables", rrfile_strerror(r));
		p->rt_reported = true;
	}
	return r == 0;
}

uint32_t config_table_lookup(const char *dir, const char *name)
{
	return rttables_lookup(dir, name);
}

void parser_error(struct parser *p, unsigned line, const char *fmt, ...)
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

/* Line of the current file's first line. */
static unsigned parser_file_first(const struct parser *p)
{
	return p->n_files ? p->files[p->n_files - 1].first : 1;
}

/*
 * Records where key is set; false (and an error) when it already was in this
 * file. Set in an earlier file, it is overridden.
 */
static bool parser_set_once(struct parser *p, const char *key, unsigned *line)
{
	char at[PARSER_WHERE_MAX];

	if (*line >= parser_file_first(p)) {
		parser_error(p, p->lineno, "%s= already set at %s", key,
			     parser_where(p, p->lineno, *line, at, sizeof(at)));
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

/* P-2 (the gate) to P+1 (the anchor) must be rule priorities, after the local table's 0. */
static bool parser_priority(struct parser *p, const char *value, uint32_t *v)
{
	if (!parser_u32(p, "Priority", value, v))
		return false;
	if (*v < RR_PRIORITY_MIN || *v > RR_PRIORITY_MAX) {
		parser_error(p, p->lineno, "Priority=%s: must be %u..%u (replyroute's rules use P-2..P+1)",
			     value, RR_PRIORITY_MIN, RR_PRIORITY_MAX);
		return false;
	}
	return true;
}

static void parser_global(struct parser *p, const char *key, const char *value)
{
	uint32_t v;

	if (strcmp(key, "MarkMask") == 0) {
		if (!parser_set_once(p, key, &p->mask_line))
			return;
		p->mask_ok = false;
		if (!parser_u32(p, key, value, &v))
			return;
		if (v == 0) {
			parser_error(p, p->lineno, "MarkMask=%s: must not be zero", value);
			return;
		}
		p->cfg->mask = v;
		p->mask_ok = true;
	} else if (strcmp(key, "Priority") == 0) {
		if (parser_set_once(p, key, &p->priority_line) && parser_priority(p, value, &v))
			p->cfg->priority = v;
	}
}

static void parser_table(struct parser *p, const char *value, struct rr_iface_conf *ifc,
			 struct iface_info *info)
{
	uint32_t id;

	if (parser_looks_numeric(value)) {
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
		char what[CONFIG_LINE_MAX + 8];

		snprintf(what, sizeof(what), "Table=%s", value);
		if (!parser_rttables(p, p->lineno, what))
			return;
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
	if (*line >= parser_file_first(p)) {
		char at[PARSER_WHERE_MAX];

		parser_error(p, p->lineno, "Gateway=%s: an %s gateway is already set at %s", value,
			     a.family == AF_INET ? "IPv4" : "IPv6",
			     parser_where(p, p->lineno, *line, at, sizeof(at)));
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
		/* A shell glob: the kernel's rules for the name, and no quote or backslash. */
		ifc->pattern = value[strcspn(value, "*?[")] != '\0';
		why = ifc->pattern ? value_ifname_kernel_invalid(value) : value_ifname_invalid(value);
		if (!why && ifc->pattern && value[strcspn(value, "\"\\")])
			why = "quotes and backslashes cannot be matched in nftables";
		if (why) {
			char shown[4 * CONFIG_LINE_MAX + 1];

			parser_error(p, p->lineno, "Name=%s: %s",
				     value_name_escape(value, shown, sizeof(shown)), why);
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
		if (parser_set_once(p, key, &info->priority) && parser_priority(p, value, &v))
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
		char at[PARSER_WHERE_MAX];

		if (p->global_line >= parser_file_first(p))
			parser_error(p, p->lineno, "[Global] already defined at %s",
				     parser_where(p, p->lineno, p->global_line, at, sizeof(at)));
		else
			p->global_line = p->lineno;
		if (parser_origin_add(p, &p->global_origin, p->lineno) < 0)
			p->oom = true;
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
	/* Given up on: the rest of the file is not read for more of the same. */
	if (p->errors.full)
		return 0;
	/* A C string would end there and hide the rest of the line. */
	if (memchr(line, '\0', len)) {
		parser_error(p, p->lineno, "NUL character in line");
		return p->oom ? -ENOMEM : 0;
	}
	if (p->lineno == parser_file_first(p) && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
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

/* Every message as FILE:LINE, in reading order. */
static void config_write_errors(struct parser *p, FILE *err)
{
	if (p->n_files < 2) {
		diag_write(&p->errors, p->name, err);
		return;
	}
	diag_sort(&p->errors);
	for (size_t i = 0; err && i < p->errors.n; i++) {
		unsigned l;
		const struct parser_file *f = parser_file_of(p, p->errors.v[i].line, &l);

		fprintf(err, "%s:%u: %s\n", f ? f->name : p->name, l, p->errors.v[i].text);
	}
	if (err && p->errors.full)
		fprintf(err, "%s: too many errors, giving up\n", p->name);
}

/* The file names and, with drop-ins, the origins move into the config. */
static int config_keep_files(struct parser *p)
{
	struct rr_config *c = p->cfg;

	c->files = calloc(p->n_files + 1, sizeof(*c->files));
	if (!c->files)
		return -ENOMEM;
	for (; c->n_files < p->n_files; c->n_files++) {
		c->files[c->n_files] = p->files[c->n_files].name;
		p->files[c->n_files].name = NULL;
	}
	if (p->n_files < 2)
		return 0;
	c->origins = calloc(c->n_ifaces + 1, sizeof(*c->origins));
	if (!c->origins)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		c->origins[i] = p->info[i].origin;
		p->info[i].origin = NULL;
	}
	c->global_origin = p->global_origin;
	p->global_origin = NULL;
	return 0;
}

/*
 * Every error, in line order, or the config. 0, -EINVAL (errors written to
 * err) or -ENOMEM; *ret is only set on success.
 */
static int config_read_finish(struct parser *p, FILE *err, struct rr_config **ret)
{
	if (p->oom)
		return -ENOMEM;
	parser_merge(p);
	if (!p->oom)
		parser_check(p);
	if (p->oom)
		return -ENOMEM;
	if (p->errors.n > 0) {
		config_write_errors(p, err);
		return -EINVAL;
	}
	p->cfg->path = strdup(p->name);
	if (!p->cfg->path || config_keep_files(p) < 0)
		return -ENOMEM;
	*ret = p->cfg;
	p->cfg = NULL;
	return 0;
}

/* The next lines are name's. 0 or -ENOMEM. */
static int config_file_begin(struct parser *p, const char *name)
{
	struct parser_file *v = realloc(p->files, (p->n_files + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->files = v;
	v[p->n_files] = (struct parser_file) { .name = strdup(name), .first = p->lineno + 1 };
	if (!v[p->n_files].name)
		return -ENOMEM;
	p->n_files++;
	p->section = SECTION_NONE;
	return 0;
}

static void parser_done(struct parser *p)
{
	diag_clear(&p->errors);
	for (size_t i = 0; p->cfg && i < p->cfg->n_ifaces; i++)
		free(p->info[i].origin);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i].name);
	free(p->files);
	free(p->global_origin);
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
	if (r >= 0)
		r = config_file_begin(&p, name);
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

const char *config_runtime_dir(void)
{
	const char *d = getenv("RUNTIME_DIRECTORY");

	/* systemd may list several directories separated by ':'; ours is the only one. */
	return d && *d && !strchr(d, ':') ? d : "/run/replyroute";
}

/*
 * The lines of the file at path. A drop-in (dropin true) removed since its
 * directory was listed is skipped: a hook took it back.
 */
static int config_read_file(struct parser *p, const char *path, bool dropin, FILE *err)
{
	char *buf = NULL;
	size_t len = 0, pos = 0;
	int r;

	r = rrfile_read(path, CONFIG_FILE_MAX, &buf, &len);
	if (r == -ENOENT && dropin)
		return 0;
	if (r < 0) {
		if (err && r != -ENOMEM)
			fprintf(err, "%s: %s\n", path, rrfile_strerror(r));
		return r;
	}
	r = config_file_begin(p, path);
	while (r >= 0 && pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t) (nl - (buf + pos)) : len - pos;

		r = config_read_line(p, buf + pos, n);
		pos += n + 1;
	}
	free(buf);
	return r;
}

/* PATH.d/ and RUNTIME_DIR/BASENAME.d/: the drop-ins of path, in reading order. */
static int config_dropins(const char *path, const char *runtime_dir, FILE *err, char ***ret,
			  size_t *ret_n)
{
	const char *base = strrchr(path, '/');
	char *dirs[2] = { NULL, NULL };
	size_t n = 1;
	int r = -ENOMEM;

	base = base ? base + 1 : path;
	if (asprintf(&dirs[0], "%s.d", path) < 0)
		dirs[0] = NULL;
	else if (!runtime_dir || asprintf(&dirs[n++], "%s/%s.d", runtime_dir, base) >= 0)
		r = dropin_list((const char *const *)dirs, n, err, ret, ret_n);
	free(dirs[0]);
	free(dirs[1]);
	return r;
}

int config_load(const char *path, const struct rr_config_env *env, FILE *err,
		struct rr_config **ret)
{
	const char *runtime_dir = env ? env->runtime_dir : config_runtime_dir();
	struct parser p;
	char **dropins = NULL;
	size_t n_dropins = 0;
	int r;

	if (!ret)
		return -EINVAL;
	*ret = NULL;
	if (!path)
		path = RR_DEFAULT_CONFIG;

	r = config_read_init(&p, path, env);
	if (r >= 0)
		r = config_read_file(&p, path, false, err);
	if (r >= 0)
		r = config_dropins(path, runtime_dir, err, &dropins, &n_dropins);
	for (size_t i = 0; r >= 0 && i < n_dropins; i++)
		r = config_read_file(&p, dropins[i], true, err);
	if (r >= 0)
		r = config_read_finish(&p, err, ret);
	dropin_free(dropins, n_dropins);
	parser_done(&p);
	return r;
}

void config_free(struct rr_config *c)
{
	if (!c)
		return;
	if (c->base) {
		free(c->ifaces);
		free(c);
		return;
	}
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	for (size_t i = 0; c->origins && i < c->n_ifaces; i++)
		free(c->origins[i]);
	free(c->files);
	free(c->origins);
	free(c->global_origin);
	free(c->ifaces);
	free(c->named_tables);
	free(c->path);
	free(c);
}
