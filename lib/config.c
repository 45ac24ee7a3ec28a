/* SPDX-License-Identifier: MIT */
/*
 * The configuration file: INI in the style of systemd .network files.
 *
 * inih does the splitting into sections and KEY=VALUE pairs, but it has no
 * line numbers (Debian builds it without INI_HANDLER_LINENO), skips lines it
 * cannot parse, only knows ';' as an inline comment and splits long lines.
 * So it reads through config_read_line(), which counts lines, strips comments
 * and whitespace, and reports every line inih would mangle or skip. Section
 * headers are tracked there too, because inih does not tell the handler about
 * a section without keys. Checks between fields (mark inside the mask,
 * duplicates, missing keys) run once the whole file is read. Errors are
 * collected and written sorted by line, so the order is the file's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "rttables.h"

/* Longest key name inih copies whole (its MAX_NAME is 50, with the NUL). */
#define KEY_MAX 49

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
	char table_str[INI_MAX_LINE];
	char mark_str[INI_MAX_LINE];
};

struct config_error {
	unsigned line;
	size_t seq;
	char *msg;
};

struct parser {
	FILE *in;
	char *buf;
	size_t buf_size;
	unsigned lineno;
	int read_errno;
	bool oom;

	enum section section;
	unsigned global_line, mask_line, priority_line;
	bool mask_ok;

	struct rr_config *cfg;
	struct iface_info *info; /* parallel to cfg->ifaces */
	size_t ifaces_alloc;

	struct config_error *errors;
	size_t n_errors, errors_alloc;

	const char *rt_dir; /* NULL: the system's */
	struct rttables rt;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *skip_space(char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static void strip_trailing_space(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
}

/* A table name that looks like a number is read as one, and reported as a bad one. */
static bool looks_numeric(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* NULL when valid, otherwise why not; the kernel's dev_valid_name() rules. */
static const char *ifname_invalid(const char *s)
{
	if (strlen(s) >= IFNAMSIZ)
		return "too long (at most 15 characters)";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "not allowed as an interface name";
	for (; *s; s++) {
		if (*s == '/' || *s == ':' || is_space(*s) || (unsigned char) *s < 0x20 || *s == 0x7f)
			return "invalid character in interface name";
		/* Valid for the kernel, but cannot be written as an nft string (a
		 * trailing '*' would be a wildcard there). */
		if (*s == '"' || *s == '\\' || *s == '*')
			return "quotes, backslashes and '*' cannot be matched in nftables";
	}
	return NULL;
}

/* A gateway must be a unicast address a route can point to. */
static bool gateway_valid(const struct rr_addr *a)
{
	if (a->family == AF_INET) {
		uint32_t v = ntohl(a->v4.s_addr);

		return v != 0 && v != 0xffffffffu && (v >> 24) != 127 && (v >> 28) != 0xe;
	}
	return !IN6_IS_ADDR_UNSPECIFIED(&a->v6) && !IN6_IS_ADDR_LOOPBACK(&a->v6) &&
		!IN6_IS_ADDR_MULTICAST(&a->v6);
}

uint32_t config_table_lookup(const char *dir, const char *name)
{
	return rttables_lookup(dir, name);
}

static void parser_error(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void parser_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	struct config_error *v;
	va_list ap;
	char *msg;
	int r;

	if (p->oom)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		p->oom = true;
		return;
	}
	if (p->n_errors == p->errors_alloc) {
		size_t n = p->errors_alloc ? 2 * p->errors_alloc : 16;

		v = realloc(p->errors, n * sizeof(*v));
		if (!v) {
			free(msg);
			p->oom = true;
			return;
		}
		p->errors = v;
		p->errors_alloc = n;
	}
	p->errors[p->n_errors] = (struct config_error) {
		.line = line,
		.seq = p->n_errors,
		.msg = msg,
	};
	p->n_errors++;
}

static int compare_errors(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
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
	int r = number_parse_u32(value, ret);

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
	if (!gateway_valid(&a)) {
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
		why = ifname_invalid(value);
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
		if (parse_bool(value, &b) < 0) {
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

static int config_handle(void *user, const char *section, const char *key, const char *value)
{
	struct parser *p = user;

	(void) section; /* config_read_line() tracks sections, including empty ones */
	if (!key_known(p->section, key))
		parser_unknown_key(p, key);
	else if (*value == '\0')
		parser_error(p, p->lineno, "%s= needs a value", key);
	else if (p->section == SECTION_GLOBAL)
		parser_global(p, key, value);
	else
		parser_interface(p, key, value);
	return 1;
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

/* s is a whole line starting with '['. */
static void parser_section(struct parser *p, char *s)
{
	char *end = strchr(s, ']');

	p->section = SECTION_UNKNOWN; /* keys after a bad header would only add noise */
	if (!end) {
		parser_error(p, p->lineno, "expected ']' at the end of the section header");
		return;
	}
	if (end[1] != '\0') {
		parser_error(p, p->lineno, "unexpected text after ']'");
		return;
	}
	*end = '\0';
	if (strcmp(s + 1, "Global") == 0) {
		if (p->global_line)
			parser_error(p, p->lineno, "[Global] already defined at line %u", p->global_line);
		else
			p->global_line = p->lineno;
		p->section = SECTION_GLOBAL;
	} else if (strcmp(s + 1, "Interface") == 0) {
		if (!parser_add_interface(p)) {
			p->oom = true;
			return;
		}
		p->section = SECTION_INTERFACE;
	} else
		parser_error(p, p->lineno, "unknown section [%s]", s + 1);
	*end = ']';
}

/* s is a whole line that is neither a comment nor a section header. */
static bool parser_check_assignment(struct parser *p, const char *s)
{
	const char *eq = strchr(s, '=');
	size_t len;

	if (!eq) {
		parser_error(p, p->lineno, "expected KEY=VALUE, [Section] or a comment");
		return false;
	}
	len = (size_t) (eq - s);
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len == 0) {
		parser_error(p, p->lineno, "expected a key name before '='");
		return false;
	}
	/* inih would cut the key at ':' or at KEY_MAX characters. */
	if (len > KEY_MAX || memchr(s, ':', len)) {
		char key[INI_MAX_LINE];

		snprintf(key, sizeof(key), "%.*s", (int) len, s);
		parser_unknown_key(p, key);
		return false;
	}
	return true;
}

/*
 * inih's reader: one physical line per call, so p->lineno is the line the
 * handler is called for. Lines inih would misread come back empty after
 * their error is recorded.
 */
static char *config_read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t len;
	ssize_t n;
	char *s, *c;

	if (p->oom)
		return NULL;
	errno = 0;
	n = getline(&p->buf, &p->buf_size, p->in);
	if (n < 0) {
		if (ferror(p->in))
			p->read_errno = errno ? errno : EIO;
		else if (errno == ENOMEM)
			p->oom = true;
		return NULL;
	}
	p->lineno++;
	str[0] = '\0';

	s = p->buf;
	if ((size_t) n != strlen(s)) {
		parser_error(p, p->lineno, "NUL character in line");
		return str;
	}
	if (p->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	s = skip_space(s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return str;
	for (c = s + 1; *c; c++)
		if ((*c == '#' || *c == ';') && is_space(c[-1])) {
			*c = '\0';
			break;
		}
	strip_trailing_space(s);

	len = strlen(s);
	if (len >= (size_t) num) {
		parser_error(p, p->lineno, "line too long (%zu characters, at most %d)", len, num - 1);
		return str;
	}
	if (*s == '[') {
		parser_section(p, s);
		if (p->section == SECTION_UNKNOWN)
			return str;
	} else if (!parser_check_assignment(p, s))
		return str;
	memcpy(str, s, len + 1);
	return str;
}

static bool mark_taken(const struct rr_config *c, uint32_t mark)
{
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].mark == mark)
			return true;
	return false;
}

/*
 * Mark= omitted: in config order, the lowest multiple of MarkMask's lowest
 * set bit that fits in the mask and no other interface uses.
 */
static void parser_auto_marks(struct parser *p)
{
	struct rr_config *c = p->cfg;
	uint32_t step = c->mask & -c->mask;

	if (!step || (p->mask_line && !p->mask_ok))
		return;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct rr_iface_conf *ifc = &c->ifaces[i];
		uint64_t m;

		if (!ifc->mark_auto)
			continue;
		for (m = step; m <= c->mask; m += step)
			if (((uint32_t)m & ~c->mask) == 0 && !mark_taken(c, (uint32_t)m))
				break;
		if (m > c->mask) {
			parser_error(p, ifc->line, "no free mark inside MarkMask=0x%" PRIx32
				     " for this interface: set Mark=", c->mask);
			continue;
		}
		ifc->mark = (uint32_t)m;
	}
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

/* The checks that need the whole file: required keys, mask, duplicates. */
static void parser_finish(struct parser *p)
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

		for (size_t j = 0; j < i; j++) {
			if (info->name_ok && p->info[j].name_ok &&
			    strcmp(ifc->name, c->ifaces[j].name) == 0) {
				parser_error(p, info->name, "Name=%s already used at line %u",
					     ifc->name, p->info[j].name);
				break;
			}
		}
		for (size_t j = 0; j < i; j++) {
			if (info->table_ok && p->info[j].table_ok && ifc->table == c->ifaces[j].table) {
				if (looks_numeric(info->table_str))
					parser_error(p, info->table, "Table=%s already used at line %u",
						     info->table_str, p->info[j].table);
				else
					parser_error(p, info->table,
						     "Table=%s (%" PRIu32 ") already used at line %u",
						     info->table_str, ifc->table, p->info[j].table);
				break;
			}
		}
		for (size_t j = 0; j < i; j++) {
			if (info->mark_ok && p->info[j].mark_ok && ifc->mark == c->ifaces[j].mark) {
				parser_error(p, info->mark, "Mark=%s already used at line %u",
					     info->mark_str, p->info[j].mark);
				break;
			}
		}

		if (!info->priority)
			ifc->priority = c->priority;
	}
	parser_auto_marks(p);
	parser_named_tables(p);
}

static void parser_done(struct parser *p)
{
	for (size_t i = 0; i < p->n_errors; i++)
		free(p->errors[i].msg);
	free(p->errors);
	free(p->info);
	free(p->buf);
	rttables_clear(&p->rt);
	config_free(p->cfg);
	if (p->in)
		fclose(p->in);
}

int config_load(const char *path, const struct rr_config_env *env, FILE *err,
		struct rr_config **ret)
{
	struct parser p = {
		.rt_dir = env ? env->rt_tables_dir : NULL,
	};
	int r;

	if (!ret)
		return -EINVAL;
	*ret = NULL;
	if (!path)
		path = RR_DEFAULT_CONFIG;

	p.in = fopen(path, "re");
	if (!p.in) {
		r = -errno;
		if (err)
			fprintf(err, "%s: %s\n", path, strerror(-r));
		return r;
	}
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg) {
		parser_done(&p);
		return -ENOMEM;
	}
	p.cfg->mask = RR_DEFAULT_MASK;
	p.cfg->priority = RR_DEFAULT_PRIORITY;

	r = ini_parse_stream(config_read_line, &p, config_handle, &p);
	if (p.oom) {
		parser_done(&p);
		return -ENOMEM;
	}
	if (p.read_errno) {
		r = -p.read_errno;
		if (err)
			fprintf(err, "%s: %s\n", path, strerror(p.read_errno));
		parser_done(&p);
		return r;
	}
	/* The reader keeps from inih every line it could object to. */
	if (r > 0 && p.n_errors == 0)
		parser_error(&p, (unsigned) r, "syntax error");
	parser_finish(&p);
	if (p.oom) {
		parser_done(&p);
		return -ENOMEM;
	}
	if (p.n_errors > 0) {
		qsort(p.errors, p.n_errors, sizeof(*p.errors), compare_errors);
		for (size_t i = 0; err && i < p.n_errors; i++)
			fprintf(err, "%s:%u: %s\n", path, p.errors[i].line, p.errors[i].msg);
		parser_done(&p);
		return -EINVAL;
	}

	p.cfg->path = strdup(path);
	if (!p.cfg->path) {
		parser_done(&p);
		return -ENOMEM;
	}
	*ret = p.cfg;
	p.cfg = NULL;
	parser_done(&p);
	return 0;
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

void config_print(const struct rr_config *c, FILE *out)
{
	char buf[INET6_ADDRSTRLEN];

	fprintf(out, "[Global]\nMarkMask=0x%" PRIx32 "\nPriority=%" PRIu32 "\n", c->mask,
		c->priority);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct rr_iface_conf *ifc = &c->ifaces[i];

		fprintf(out, "\n[Interface]\nName=%s\n", ifc->name);
		if (ifc->table_auto)
			fprintf(out, "# Table= allocated at run time, from %u\n", RR_AUTO_TABLE_BASE);
		else
			fprintf(out, "Table=%" PRIu32 "\n", ifc->table);
		fprintf(out, "%sMark=0x%" PRIx32 "%s\nPriority=%" PRIu32 "\n",
			ifc->mark_auto ? "# " : "", ifc->mark, ifc->mark_auto ? " (allocated)" : "",
			ifc->priority);
		if (ifc->gateway4.family && rr_addr_str(&ifc->gateway4, buf, sizeof(buf)))
			fprintf(out, "Gateway=%s\n", buf);
		if (ifc->gateway6.family && rr_addr_str(&ifc->gateway6, buf, sizeof(buf)))
			fprintf(out, "Gateway=%s\n", buf);
		fprintf(out, "SourceRules=%s\n", ifc->source_rules ? "yes" : "no");
	}
}
