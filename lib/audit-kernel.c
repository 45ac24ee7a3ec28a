/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "expand.h"
#include "value.h"
#include "vindex.h"

const char *audit_root = "";

/* /proc/sys/net/FAMILY/conf/DEV/KEY; -1 when it cannot be read. */
static int audit_sysctl(const char *family, const char *dev, const char *key)
{
	char path[512], buf[32];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, dev, key);
	if (strchr(dev, '/') || !(f = fopen(path, "re")))
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = atoi(buf);
	fclose(f);
	return v;
}

static struct audit_conf2 audit_conf2(const char *dev, const char *key)
{
	return (struct audit_conf2){audit_sysctl("ipv4", "all", key), audit_sysctl("ipv4", dev, key)};
}

/* /proc/PID/comm without its newline; "" when gone. */
static void audit_comm(const char *pid, char *buf, size_t len)
{
	char path[300];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	if (!(f = fopen(path, "re")))
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* fn for each process until it returns true. */
static void audit_procs(bool (*fn)(const char *pid, void *data), void *data)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && fn(e->d_name, data))
			break;
	if (d)
		closedir(d);
}

struct audit_find {
	const char *comm;
	bool found;
};

static bool audit_is(const char *pid, void *data)
{
	struct audit_find *f = data;
	char comm[32];

	audit_comm(pid, comm, sizeof(comm));
	return (f->found = !strcmp(comm, f->comm));
}

/*
 * A process of that name runs (comm: at most 15 bytes), or its runtime
 * files under /run say it has run since boot: with ProtectProc=invisible (the
 * unit) the daemon does not see the processes of other users.
 */
static bool audit_running(const char *comm, const char *runtime)
{
	struct audit_find f = {.comm = comm};
	char path[512];

	audit_procs(audit_is, &f);
	snprintf(path, sizeof(path), "%s%s", audit_root, runtime);
	return f.found || access(path, F_OK) == 0;
}

/* Name the process holding each wildcard socket: its fds link to socket:[INODE]. */
static bool audit_owner(const char *pid, void *data)
{
	struct audit_facts *f = data;
	char dir[300], path[600], link[64], comm[32] = "";
	unsigned long inode;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	if (!(d = opendir(dir)))
		return false;
	while ((e = readdir(d))) {
		ssize_t l;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((l = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[l] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) != 1)
			continue;
		for (size_t i = 0; i < f->n_udp; i++) {
			if (f->udp[i].inode != inode || f->udp[i].owner[0])
				continue;
			if (!comm[0])
				audit_comm(pid, comm, sizeof(comm));
			snprintf(f->udp[i].owner, sizeof(f->udp[i].owner), "%s[%s]", comm, pid);
		}
	}
	closedir(d);
	return false;
}

/* networkd's view of a link: /run/systemd/netif/links/IFINDEX, ADMIN_STATE not unmanaged. */
static bool audit_nd_manages(int ifindex)
{
	char path[512], line[256];
	bool managed = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/run/systemd/netif/links/%d", audit_root, ifindex);
	if (!(f = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "ADMIN_STATE=", 12))
			managed = strncmp(line + 12, "unmanaged", 9) && strncmp(line + 12, "linger", 6);
	fclose(f);
	return managed;
}

/* Call fn for each KEY=VALUE of section in file, in order. */
static void audit_ini(const char *file, const char *section,
		      void (*fn)(const char *file, const char *key, const char *value, void *),
		      void *data)
{
	char line[512], cur[64] = "";
	FILE *f = fopen(file, "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *eq, *end;

		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '[') {
			snprintf(cur, sizeof(cur), "%.*s", (int)strcspn(p + 1, "]"), p + 1);
			continue;
		}
		if (*p == '#' || *p == ';' || strcmp(cur, section) || !(eq = strchr(p, '=')))
			continue;
		for (end = eq; end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		fn(file, p, eq + 1 + strspn(eq + 1, " \t"), data);
	}
	if (f)
		fclose(f);
}

static void audit_nd_key(const char *file, const char *key, const char *value, void *data)
{
	struct audit_networkd *nd = data;
	struct audit_setting *s = !strcmp(key, "ManageForeignRoutingPolicyRules") ? &nd->rules :
				  !strcmp(key, "ManageForeignRoutes")		   ? &nd->routes :
										     NULL;
	bool b;

	if (!s || value_parse_bool(value, &b) < 0)
		return;
	s->value = b;
	snprintf(s->where, sizeof(s->where), "%s", file + strlen(audit_root));
}

static int audit_name_cmp(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');

	return strcmp(x, y);
}

/*
 * The files of dirs whose names end in suffix, sorted by file name (a later
 * dir's file of the same name wins, as systemd does with drop-ins).
 */
static size_t audit_files(const char *const *dirs, size_t n_dirs, const char *suffix, char **out,
			  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < n_dirs; i++) {
		char path[512];
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s%s", audit_root, dirs[i]);
		if (!(d = opendir(path)))
			continue;
		while ((e = readdir(d)) && n < max) {
			size_t l = strlen(e->d_name);
			char *p;

			if (l <= strlen(suffix) || strcmp(e->d_name + l - strlen(suffix), suffix))
				continue;
			if (asprintf(&p, "%s/%s", path, e->d_name) < 0)
				continue;
			for (size_t j = 0; j < n; j++)
				if (!strcmp(strrchr(out[j], '/'), strrchr(p, '/'))) {
					free(out[j]);
					out[j] = out[--n];
				}
			out[n++] = p;
		}
		closedir(d);
	}
	qsort(out, n, sizeof(*out), audit_name_cmp);
	return n;
}

void audit_read_networkd(struct audit_networkd *nd)
{
	static const char *const dirs[] = {"/usr/lib/systemd/networkd.conf.d",
					   "/usr/local/lib/systemd/networkd.conf.d",
					   "/run/systemd/networkd.conf.d",
					   "/etc/systemd/networkd.conf.d"};
	char path[512], *files[64];
	size_t n;

	nd->rules.value = nd->routes.value = -1;
	snprintf(path, sizeof(path), "%s/etc/systemd/networkd.conf", audit_root);
	audit_ini(path, "Network", audit_nd_key, nd);
	n = audit_files(dirs, sizeof(dirs) / sizeof(dirs[0]), ".conf", files, 64);
	for (size_t i = 0; i < n; i++) {
		audit_ini(files[i], "Network", audit_nd_key, nd);
		free(files[i]);
	}
}

static void audit_nm_table(struct audit_nm_conn *c, const char *file, uint32_t *table,
			   const char *value)
{
	if (value_parse_u32(value, table) == 0)
		snprintf(c->file, sizeof(c->file), "%s", file + strlen(audit_root));
}

/* [connection] of a keyfile, or of NetworkManager.conf (its defaults for every connection). */
static void audit_nm_key(const char *file, const char *key, const char *value, void *data)
{
	struct audit_nm_conn *c = data;

	if (!strcmp(key, "interface-name"))
		snprintf(c->iface, sizeof(c->iface), "%s", value);
	else if (!strcmp(key, "ipv4.route-table"))
		audit_nm_table(c, file, &c->table4, value);
	else if (!strcmp(key, "ipv6.route-table"))
		audit_nm_table(c, file, &c->table6, value);
}

static void audit_nm_key4(const char *file, const char *key, const char *value, void *data)
{
	struct audit_nm_conn *c = data;

	if (!strcmp(key, "route-table"))
		audit_nm_table(c, file, &c->table4, value);
}

static void audit_nm_key6(const char *file, const char *key, const char *value, void *data)
{
	struct audit_nm_conn *c = data;

	if (!strcmp(key, "route-table"))
		audit_nm_table(c, file, &c->table6, value);
}

static void audit_nm_file(const char *file, struct audit_nm_conn *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "%s", file + strlen(audit_root));
	audit_ini(file, "connection", audit_nm_key, c);
	audit_ini(file, "ipv4", audit_nm_key4, c);
	audit_ini(file, "ipv6", audit_nm_key6, c);
}

static int audit_nm_add(struct audit_nm_conn **ret, size_t *n, const struct audit_nm_conn *c)
{
	struct audit_nm_conn *a = realloc(*ret, (*n + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	*ret = a;
	a[(*n)++] = *c;
	return 0;
}

/* NetworkManager.conf and its conf.d: route tables for every connection without its own. */
static int audit_nm_defaults(struct audit_nm_conn **ret, size_t *n)
{
	static const char *const dirs[] = {"/usr/lib/NetworkManager/conf.d",
					   "/run/NetworkManager/conf.d", "/etc/NetworkManager/conf.d"};
	struct audit_nm_conn c = {.defaults = true};
	char path[512], *files[64];
	size_t nf = audit_files(dirs, 3, ".conf", files, 64);

	snprintf(path, sizeof(path), "%s/etc/NetworkManager/NetworkManager.conf", audit_root);
	audit_ini(path, "connection", audit_nm_key, &c);
	for (size_t i = 0; i < nf; i++) {
		audit_ini(files[i], "connection", audit_nm_key, &c);
		free(files[i]);
	}
	return c.table4 || c.table6 ? audit_nm_add(ret, n, &c) : 0;
}

int audit_read_nm(struct audit_nm_conn **ret, size_t *n)
{
	static const char *const dirs[] = {"/run/NetworkManager/system-connections",
					   "/etc/NetworkManager/system-connections"};
	char *files[256];
	size_t nf = audit_files(dirs, 2, ".nmconnection", files, 256);
	struct audit_nm_conn c;
	int r;

	*ret = NULL;
	*n = 0;
	r = audit_nm_defaults(ret, n);
	for (size_t i = 0; i < nf; i++) {
		audit_nm_file(files[i], &c);
		if (r >= 0)
			r = audit_nm_add(ret, n, &c);
		free(files[i]);
	}
	return r;
}

int audit_parse_udp(FILE *f, int family, struct audit_udp **ret, size_t *n)
{
	char line[512], local[64];
	unsigned port, st;
	unsigned long inode;

	while (fgets(line, sizeof(line), f)) {
		struct audit_udp *u;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu", local, &port,
			   &st, &inode) != 4)
			continue;
		/* 07: TCP_CLOSE, an unconnected socket; only zeros: the wildcard address. */
		if (st != 7 || strspn(local, "0") != strlen(local))
			continue;
		if (!(u = realloc(*ret, (*n + 1) * sizeof(*u))))
			return -ENOMEM;
		*ret = u;
		u[(*n)++] = (struct audit_udp){.family = family, .port = (uint16_t)port, .inode = inode};
	}
	return 0;
}

static int audit_read_udp(struct audit_facts *f)
{
	static const struct { const char *path; int family; } files[] = {
		{"/proc/net/udp", AF_INET}, {"/proc/net/udp6", AF_INET6}};
	int r = 0;

	for (size_t i = 0; i < 2 && r >= 0; i++) {
		FILE *p = fopen(files[i].path, "re");

		if (!p)
			continue;
		r = audit_parse_udp(p, files[i].family, &f->udp, &f->n_udp);
		fclose(p);
	}
	if (r >= 0 && f->n_udp)
		audit_procs(audit_owner, f);
	return r;
}

int audit_collect(const struct rr_config *c, const struct inspect *k, struct audit_facts *f)
{
	size_t n = c ? c->n_ifaces : 0;
	struct rr_vindex x;
	int r;

	memset(f, 0, sizeof(*f));
	f->config = c;
	f->k = k;
	if (!(f->ifs = calloc(n ? n : 1, sizeof(*f->ifs))) ||
	    vindex_build(&x, &k->view, RT_TABLE_MAIN) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *name = c->ifaces[i].name;
		const struct rr_link *l = vindex_link_by_name(&x, name);
		struct audit_iface *s = &f->ifs[i];

		s->table = inspect_iface_table(k, c, &c->ifaces[i]);
		if (!(s->present = l != NULL))
			continue;
		s->rp_filter = audit_conf2(name, "rp_filter");
		s->src_valid_mark = audit_conf2(name, "src_valid_mark");
		s->arp_ignore = audit_conf2(name, "arp_ignore");
		s->arp_announce = audit_conf2(name, "arp_announce");
		s->forwarding = audit_sysctl("ipv4", name, "forwarding");
		s->nd_managed = audit_nd_manages(l->ifindex);
	}
	vindex_clear(&x);
	f->ip6_forwarding = audit_sysctl("ipv6", "all", "forwarding");
	if ((f->nd.running = audit_running("systemd-network", "/run/systemd/netif/state")))
		audit_read_networkd(&f->nd);
	if ((f->nm_running = audit_running("NetworkManager", "/run/NetworkManager")) &&
	    (r = audit_read_nm(&f->nm, &f->n_nm)) < 0)
		return r;
	return audit_read_udp(f);
}

void audit_facts_clear(struct audit_facts *f)
{
	free(f->ifs);
	free(f->nm);
	free(f->udp);
	memset(f, 0, sizeof(*f));
}

/* The configured tables: their foreign routes are checked whether a rule points there or not. */
static int audit_tables(const struct rr_config *c, uint32_t **ret, size_t *n)
{
	*n = 0;
	if (!(*ret = calloc(c && c->n_ifaces ? c->n_ifaces : 1, sizeof(**ret))))
		return -ENOMEM;
	for (size_t i = 0; c && i < c->n_ifaces; i++)
		if (c->ifaces[i].table)
			(*ret)[(*n)++] = c->ifaces[i].table;
	return 0;
}

/* A link that two sections take (a name and a pattern, or two patterns): the first wins. */
static int audit_overlaps(const struct rr_config *c, const struct rr_view *v,
			  struct audit_report *r)
{
	const struct rr_config *b = c->base ? c->base : c;

	if (!config_has_patterns(b))
		return 0;
	for (size_t i = 0; i < v->n_links; i++) {
		const char *name = v->links[i].name;
		const struct rr_iface_conf *first = NULL;

		for (size_t j = 0; j < b->n_ifaces; j++) {
			const struct rr_iface_conf *ic = &b->ifaces[j];
			struct audit_warning *w;
			char shown[VALUE_NAME_ESCAPED];

			if (ic->pattern ? fnmatch(ic->name, name, 0) : strcmp(ic->name, name))
				continue;
			if (!first) {
				first = ic;
				continue;
			}
			if (!(w = audit_add(r, "overlap", value_name_escape(name, shown, sizeof(shown)))))
				return -ENOMEM;
			snprintf(w->message, sizeof(w->message),
				 "%s is taken by Name=%s (line %u) and also matches Name=%s (line %u): "
				 "the first section wins", shown, first->name, first->line, ic->name,
				 ic->line);
			snprintf(w->fix, sizeof(w->fix), "narrow the pattern, or remove one of the "
				 "sections, so that one section takes %s", shown);
		}
	}
	return 0;
}

int audit_run(const struct rr_config *c, struct audit_report *ret)
{
	struct rr_config *x = NULL;
	struct inspect k;
	struct audit_facts f;
	uint32_t *tables;
	size_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	/* Tests (and chroots) keep the managers' files elsewhere. */
	if (getenv("REPLYROUTE_AUDIT_ROOT"))
		audit_root = getenv("REPLYROUTE_AUDIT_ROOT");
	if ((r = audit_tables(c, &tables, &n)) < 0)
		return r;
	r = inspect_read(&k, INSPECT_NFT, tables, n);
	free(tables);
	if (r < 0)
		return r;
	/* Patterns: the interfaces they match, with what the state directory gave them. */
	if ((r = expand_config_stored(c, &k.view, &x)) < 0) {
		inspect_clear(&k);
		return r;
	}
	if ((r = audit_collect(x ? x : c, &k, &f)) >= 0)
		r = audit_check(&f, ret);
	if (r >= 0)
		r = audit_overlaps(c, &k.view, ret);
	audit_facts_clear(&f);
	inspect_clear(&k);
	config_free(x);
	return r;
}
