/* SPDX-License-Identifier: MIT */
#include "expand.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "uset.h"
#include "value.h"

const char *alloc_state_dir(void)
{
	const char *d = getenv("STATE_DIRECTORY");

	/* systemd gives a colon-separated list when there are several: not ours then. */
	return d && *d == '/' && !strchr(d, ':') ? d : "/var/lib/replyroute";
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rr_alloc_entry *)a)->name,
		      ((const struct rr_alloc_entry *)b)->name);
}

struct rr_alloc_entry *alloc_find(const struct rr_alloc *a, const char *name)
{
	struct rr_alloc_entry key = {0};

	snprintf(key.name, sizeof(key.name), "%s", name);
	return a->n ? bsearch(&key, a->v, a->n, sizeof(*a->v), entry_cmp) : NULL;
}

void alloc_clear(struct rr_alloc *a)
{
	free(a->v);
	*a = (struct rr_alloc){0};
}

/* Room for 4096 interfaces of 15 bytes and two numbers each. */
#define ALLOC_MAX (4096 * 40)

int alloc_load(const char *dir, struct rr_alloc *a)
{
	char *buf = malloc(ALLOC_MAX), *line, *save = NULL;
	int r;

	alloc_clear(a);
	if (!buf)
		return -ENOMEM;
	r = store_text_read(dir, RR_ALLOC_FILE, buf, ALLOC_MAX);
	if (r == -ENOENT) {
		free(buf);
		return 0;
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct rr_alloc_entry e = {0}, *p;
		char name[64];

		if (sscanf(line, "%63s %" SCNu32 " %" SCNu32, name, &e.mark, &e.table) != 3 ||
		    strlen(name) >= IFNAMSIZ || value_ifname_kernel_invalid(name) || !e.mark ||
		    alloc_find(a, name))
			continue;
		snprintf(e.name, sizeof(e.name), "%s", name);
		if (!(p = realloc(a->v, (a->n + 1) * sizeof(*p)))) {
			free(buf);
			return -ENOMEM;
		}
		a->v = p;
		a->v[a->n++] = e;
		qsort(a->v, a->n, sizeof(*a->v), entry_cmp);
	}
	free(buf);
	a->dirty = false;
	return 0;
}

int alloc_save(const char *dir, struct rr_alloc *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!a->dirty)
		return 0;
	if (!(f = open_memstream(&text, &len)))
		return -ENOMEM;
	fprintf(f, "# replyrouted: the mark and table of each interface a pattern Name= matched\n");
	for (size_t i = 0; i < a->n; i++)
		fprintf(f, "%s %" PRIu32 " %" PRIu32 "\n", a->v[i].name, a->v[i].mark, a->v[i].table);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	r = store_text_write(dir, RR_ALLOC_FILE, text);
	free(text);
	if (r == 0)
		a->dirty = false;
	return r;
}

bool config_has_patterns(const struct rr_config *c)
{
	for (size_t i = 0; c && i < c->n_ifaces; i++)
		if (c->ifaces[i].pattern)
			return true;
	return false;
}

/* The first section that takes name: a plain one by name, a pattern by match. */
static const struct rr_iface_conf *first_section(const struct rr_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct rr_iface_conf *ic = &c->ifaces[i];

		if (ic->pattern ? fnmatch(ic->name, name, 0) == 0 : strcmp(ic->name, name) == 0)
			return ic;
	}
	return NULL;
}

/* Forget names no pattern matches first any more, and marks that are not free now. */
static void alloc_prune(struct rr_alloc *a, const struct rr_config *base, const uint32_t *plain,
			size_t n_plain)
{
	size_t m = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct rr_iface_conf *ic = first_section(base, a->v[i].name);
		bool keep = ic && ic->pattern;

		if (keep && ((a->v[i].mark & ~base->mask) || uset_has(plain, n_plain, a->v[i].mark)))
			keep = false;
		if (keep)
			a->v[m++] = a->v[i];
		else
			a->dirty = true;
	}
	a->n = m;
}

/* A new name: the lowest mark inside mask that no plain section and no other name has. */
static struct rr_alloc_entry *alloc_add(struct rr_alloc *a, const char *name, uint32_t mask,
					const uint32_t *plain, size_t n_plain)
{
	uint32_t *used = calloc(a->n + n_plain + 1, sizeof(*used)), m;
	struct rr_alloc_entry *p;
	size_t n = n_plain;

	if (!used)
		return NULL;
	memcpy(used, plain, n_plain * sizeof(*used));
	for (size_t i = 0; i < a->n; i++)
		used[n++] = a->v[i].mark;
	uset_sort(used, n);
	for (m = uset_mask_next(mask, 0); m && uset_has(used, n, m); m = uset_mask_next(mask, m))
		;
	free(used);
	if (!m || !(p = realloc(a->v, (a->n + 1) * sizeof(*p))))
		return NULL;
	a->v = p;
	a->v[a->n] = (struct rr_alloc_entry){.mark = m};
	snprintf(a->v[a->n].name, IFNAMSIZ, "%s", name);
	a->n++;
	qsort(a->v, a->n, sizeof(*a->v), entry_cmp);
	a->dirty = true;
	return alloc_find(a, name);
}

static int link_name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct rr_link *const *)a)->name,
		      (*(const struct rr_link *const *)b)->name);
}

int expand_config(const struct rr_config *base, const struct rr_view *v, struct rr_alloc *a,
		  struct rr_config **ret)
{
	struct rr_config *c = calloc(1, sizeof(*c));
	const struct rr_link **links = calloc(v->n_links + 1, sizeof(*links));
	uint32_t *plain = calloc(base->n_ifaces + 1, sizeof(*plain));
	size_t n_plain = 0, n_links = 0;
	int r = -ENOMEM;

	*ret = NULL;
	if (!c || !links || !plain)
		goto fail;
	*c = *base;
	c->base = base;
	c->origins = NULL;
	c->n_ifaces = 0;
	if (!(c->ifaces = calloc(base->n_ifaces + v->n_links + 1, sizeof(*c->ifaces))))
		goto fail;
	for (size_t i = 0; i < base->n_ifaces; i++) {
		if (base->ifaces[i].pattern)
			continue;
		c->ifaces[c->n_ifaces++] = base->ifaces[i];
		plain[n_plain++] = base->ifaces[i].mark;
	}
	uset_sort(plain, n_plain);
	alloc_prune(a, base, plain, n_plain);
	for (size_t i = 0; i < v->n_links; i++)
		links[n_links++] = &v->links[i];
	qsort(links, n_links, sizeof(*links), link_name_cmp);
	for (size_t i = 0; i < n_links; i++) {
		const struct rr_iface_conf *ic = first_section(base, links[i]->name);
		struct rr_alloc_entry *e;
		struct rr_iface_conf *d;

		/* The same name twice (a dump in the middle of a rename): once. */
		if (!ic || !ic->pattern || (i && !strcmp(links[i - 1]->name, links[i]->name)))
			continue;
		if (!(e = alloc_find(a, links[i]->name)) &&
		    !(e = alloc_add(a, links[i]->name, base->mask, plain, n_plain)))
			continue; /* no free mark inside MarkMask: not tracked (STATUS cannot say) */
		d = &c->ifaces[c->n_ifaces++];
		*d = *ic;
		snprintf(d->name, sizeof(d->name), "%s", links[i]->name);
		d->pattern = false;
		d->mark = e->mark;
		d->mark_auto = true;
		d->table = 0;
		d->table_auto = true;
	}
	free(links);
	free(plain);
	*ret = c;
	return 0;
fail:
	if (c)
		free(c->ifaces);
	free(c);
	free(links);
	free(plain);
	return r;
}

int expand_config_stored(const struct rr_config *c, const struct rr_view *v, struct rr_config **ret)
{
	struct rr_alloc a = {0};
	int r;

	*ret = NULL;
	if (!c || c->base || !config_has_patterns(c))
		return 0;
	/* What the daemon gave each name; a name it has not seen gets what it would get. */
	(void)alloc_load(alloc_state_dir(), &a);
	r = expand_config(c, v, &a, ret);
	alloc_clear(&a);
	return r;
}
