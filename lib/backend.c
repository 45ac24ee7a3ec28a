/* SPDX-License-Identifier: MIT */
#include "backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kroute.h"
#include "nft.h"
#include "sysctl.h"
#include "value.h"

/* "ip [-6 ]OBJ VERB REST": view.c's formats start with "-6 " for IPv6. */
static void backend_format(const char *obj, const char *verb, const char *text, char *buf,
			   size_t len)
{
	bool v6 = strncmp(text, "-6 ", 3) == 0;

	snprintf(buf, len, "ip %s%s %s %s", v6 ? "-6 " : "", obj, verb, v6 ? text + 3 : text);
}

void backend_format_rule(const char *verb, const struct rr_rule *r, char *buf, size_t len)
{
	char text[256];

	rule_format(r, text, sizeof(text));
	backend_format("rule", verb, text, buf, len);
}

void backend_format_route(const char *verb, const struct rr_route *r, const struct rr_view *names,
			  char *buf, size_t len)
{
	char text[256];

	route_format(r, names, text, sizeof(text));
	backend_format("route", verb, text, buf, len);
}

/* The kernel: libnl-route-3, libnftables, procfs. */
struct kernel {
	struct rr_kroute *nl;
	struct rr_nft *nft;
};

static int kernel_dump(void *data, struct rr_view *v, unsigned parts, const uint32_t *tables,
		       size_t n_tables)
{
	return kr_dump(((struct kernel *)data)->nl, v, parts, tables, n_tables);
}

static int kernel_rule_add(void *data, const struct rr_rule *r)
{
	return kr_rule_add(((struct kernel *)data)->nl, r);
}

static int kernel_rule_del(void *data, const struct rr_rule *r)
{
	return kr_rule_del(((struct kernel *)data)->nl, r);
}

static int kernel_route_add(void *data, const struct rr_route *r)
{
	return kr_route_add(((struct kernel *)data)->nl, r, false);
}

static int kernel_route_replace(void *data, const struct rr_route *r)
{
	return kr_route_add(((struct kernel *)data)->nl, r, true);
}

static int kernel_route_del(void *data, const struct rr_route *r)
{
	return kr_route_del(((struct kernel *)data)->nl, r);
}

static int kernel_batch(void *data, struct rr_nl_op *ops, size_t n)
{
	return kr_batch(((struct kernel *)data)->nl, ops, n);
}

static int kernel_nft_list(void *data, char **ret)
{
	return nft_list(((struct kernel *)data)->nft, ret);
}

static int kernel_nft_apply(void *data, const char *commands)
{
	return nft_apply(((struct kernel *)data)->nft, commands);
}

static const char *kernel_nft_error(void *data)
{
	return nft_error(((struct kernel *)data)->nft);
}

static int kernel_sysctl_get(void *data, const char *ifname, int *ret)
{
	return sysctl_get(ifname, ret);
}

static int kernel_sysctl_set(void *data, const char *ifname, int value)
{
	return sysctl_set(ifname, value);
}

static uint32_t kernel_nl_port(void *data)
{
	return kr_port(((struct kernel *)data)->nl);
}

static uint64_t kernel_nft_commits(void *data)
{
	return nft_commits(((struct kernel *)data)->nft);
}

static void kernel_nft_own(void *data)
{
	nft_own(((struct kernel *)data)->nft);
}

static bool kernel_nft_owned(void *data)
{
	return nft_owned(((struct kernel *)data)->nft);
}

static void kernel_free(void *data)
{
	struct kernel *k = data;

	if (!k)
		return;
	kr_close(k->nl);
	nft_close(k->nft);
	free(k);
}

static const struct rr_backend_ops kernel_ops = {
	.dump = kernel_dump,
	.rule_add = kernel_rule_add,
	.rule_del = kernel_rule_del,
	.route_add = kernel_route_add,
	.route_replace = kernel_route_replace,
	.route_del = kernel_route_del,
	.batch = kernel_batch,
	.nft_list = kernel_nft_list,
	.nft_apply = kernel_nft_apply,
	.sysctl_get = kernel_sysctl_get,
	.sysctl_set = kernel_sysctl_set,
	.nft_error = kernel_nft_error,
	.nl_port = kernel_nl_port,
	.nft_commits = kernel_nft_commits,
	.nft_elements = kernel_nft_apply,
	.nft_own = kernel_nft_own,
	.nft_owned = kernel_nft_owned,
	.free = kernel_free,
};

int backend_kernel_open(struct rr_backend *ret)
{
	struct kernel *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	if ((r = kr_open(&k->nl)) < 0 || (r = nft_open(&k->nft)) < 0) {
		kernel_free(k);
		return r;
	}
	*ret = (struct rr_backend){.ops = &kernel_ops, .data = k};
	return 0;
}

void backend_close(struct rr_backend *b)
{
	if (b->ops && b->ops->free)
		b->ops->free(b->data);
	*b = (struct rr_backend){0};
}

/* --dry-run: reads from the kernel, writes printed. */
struct printer {
	struct rr_backend inner;
	const struct rr_view *names;
	FILE *out;
};

static int printer_dump(void *data, struct rr_view *v, unsigned parts, const uint32_t *tables,
			size_t n_tables)
{
	struct printer *p = data;

	return p->inner.ops->dump(p->inner.data, v, parts, tables, n_tables);
}

static int printer_rule(struct printer *p, const char *verb, const struct rr_rule *r)
{
	char buf[320];

	backend_format_rule(verb, r, buf, sizeof(buf));
	fprintf(p->out, "%s\n", buf);
	return 0;
}

static int printer_rule_add(void *data, const struct rr_rule *r)
{
	return printer_rule(data, "add", r);
}

static int printer_rule_del(void *data, const struct rr_rule *r)
{
	return printer_rule(data, "del", r);
}

static int printer_route(struct printer *p, const char *verb, const struct rr_route *r)
{
	char buf[320];

	backend_format_route(verb, r, p->names, buf, sizeof(buf));
	fprintf(p->out, "%s\n", buf);
	return 0;
}

static int printer_route_add(void *data, const struct rr_route *r)
{
	return printer_route(data, "add", r);
}

static int printer_route_replace(void *data, const struct rr_route *r)
{
	return printer_route(data, "replace", r);
}

static int printer_route_del(void *data, const struct rr_route *r)
{
	return printer_route(data, "del", r);
}

static int printer_nft_list(void *data, char **ret)
{
	struct printer *p = data;

	return p->inner.ops->nft_list(p->inner.data, ret);
}

static int printer_nft_apply(void *data, const char *commands)
{
	struct printer *p = data;

	fprintf(p->out, "nft -f - <<EOF\n%sEOF\n", commands);
	return 0;
}

static int printer_sysctl_get(void *data, const char *ifname, int *ret)
{
	struct printer *p = data;

	return p->inner.ops->sysctl_get(p->inner.data, ifname, ret);
}

static int printer_sysctl_set(void *data, const char *ifname, int value)
{
	struct printer *p = data;

	fprintf(p->out, "sysctl -w net.ipv4.conf.%s.src_valid_mark=%d\n", VALUE_NAME_SHOWN(ifname),
		value);
	return 0;
}

static void printer_free(void *data)
{
	free(data);
}

static const struct rr_backend_ops printer_ops = {
	.dump = printer_dump,
	.rule_add = printer_rule_add,
	.rule_del = printer_rule_del,
	.route_add = printer_route_add,
	.route_replace = printer_route_replace,
	.route_del = printer_route_del,
	.nft_list = printer_nft_list,
	.nft_apply = printer_nft_apply,
	.sysctl_get = printer_sysctl_get,
	.sysctl_set = printer_sysctl_set,
	.free = printer_free,
};

int backend_printer_open(const struct rr_backend *inner, const struct rr_view *names, FILE *out,
			 struct rr_backend *ret)
{
	struct printer *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*p = (struct printer){.inner = *inner, .names = names, .out = out};
	*ret = (struct rr_backend){.ops = &printer_ops, .data = p};
	return 0;
}
