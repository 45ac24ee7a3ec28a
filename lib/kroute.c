/* SPDX-License-Identifier: MIT */
#include "kroute.h"

#include "rr-build.h"
#include "uset.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/rule.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

struct rr_kroute {
	struct nl_sock *sk;
	/*
	 * For route dumps of one table: with NETLINK_GET_STRICT_CHK the kernel
	 * honours the table in the request (4.20+), so foreign tables cost
	 * nothing. A socket of its own: strict checking wants full headers in
	 * every dump request. NULL where the kernel has no strict checking.
	 */
	struct nl_sock *strict_sk;
};

int kr_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case 0: return 0;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_EXIST: return -EEXIST;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NOACCESS: return -EACCES;
	case NLE_PERM: return -EPERM;
	case NLE_NODEV: return -ENODEV;
	case NLE_BUSY: return -EBUSY;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_DUMP_INTR: return -EINTR;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	default: return -EIO;
	}
}

static void kr_open_strict(struct rr_kroute *n)
{
	int one = 1;

	if (!(n->strict_sk = nl_socket_alloc()))
		return;
	if (nl_connect(n->strict_sk, NETLINK_ROUTE) < 0 ||
	    setsockopt(nl_socket_get_fd(n->strict_sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
		       sizeof(one)) < 0) {
		nl_socket_free(n->strict_sk);
		n->strict_sk = NULL;
	}
}

int kr_open(struct rr_kroute **ret)
{
	struct rr_kroute *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->sk = nl_socket_alloc();
	if (!n->sk) {
		free(n);
		return -ENOMEM;
	}
	r = nl_connect(n->sk, NETLINK_ROUTE);
	if (r < 0) {
		kr_close(n);
		return kr_errno(r);
	}
	/* A window's failures are answered with their request: room for all of them. */
	(void)nl_socket_set_buffer_size(n->sk, 1 << 20, 0);
	kr_open_strict(n);
	*ret = n;
	return 0;
}

void kr_close(struct rr_kroute *n)
{
	if (!n)
		return;
	nl_socket_free(n->sk);
	nl_socket_free(n->strict_sk);
	free(n);
}

uint32_t kr_port(struct rr_kroute *n)
{
	return nl_socket_get_local_port(n->sk);
}

static void addr_from_nl(struct nl_addr *a, struct rr_addr *out)
{
	*out = (struct rr_addr){0};
	if (!a)
		return;
	switch (nl_addr_get_family(a)) {
	case AF_INET:
		if (nl_addr_get_len(a) != 4)
			return;
		break;
	case AF_INET6:
		if (nl_addr_get_len(a) != 16)
			return;
		break;
	default:
		return;
	}
	out->family = nl_addr_get_family(a);
	memcpy(out->bytes, nl_addr_get_binary_addr(a), nl_addr_get_len(a));
}

static struct nl_addr *addr_to_nl(const struct rr_addr *a, unsigned prefixlen)
{
	struct nl_addr *n = nl_addr_build(a->family, a->bytes, a->family == AF_INET ? 4 : 16);

	if (n)
		nl_addr_set_prefixlen(n, (int)prefixlen);
	return n;
}

struct dump_ctx {
	struct rr_view *v;
	struct nl_msg *msg; /* the message the object being converted came from */
	int err;
	const uint32_t *tables; /* routes of these tables only (sorted); NULL: all */
	size_t n_tables;
};

static void dump_link(struct nl_object *o, void *arg)
{
	struct dump_ctx *d = arg;
	struct rtnl_link *l = (struct rtnl_link *)o;
	struct rr_link *out = view_add_link(d->v);

	if (!out) {
		d->err = -ENOMEM;
		return;
	}
	out->ifindex = rtnl_link_get_ifindex(l);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(l) ?: "");
	out->flags = rtnl_link_get_flags(l);
}

static void dump_addr(struct nl_object *o, void *arg)
{
	struct dump_ctx *d = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct rr_ifaddr *out;
	struct rr_addr local, peer;

	addr_from_nl(rtnl_addr_get_local(a), &local);
	addr_from_nl(rtnl_addr_get_peer(a), &peer);
	if (!local.family)
		return;
	out = view_add_addr(d->v);
	if (!out) {
		d->err = -ENOMEM;
		return;
	}
	out->ifindex = rtnl_addr_get_ifindex(a);
	out->local = local;
	if (peer.family && !rr_addr_eq(&peer, &local))
		out->peer = peer;
	out->prefixlen = (uint8_t)rtnl_addr_get_prefixlen(a);
	out->scope = (uint8_t)rtnl_addr_get_scope(a);
	out->flags = rtnl_addr_get_flags(a);
}

static void dump_route(struct nl_object *o, void *arg)
{
	struct dump_ctx *d = arg;
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rr_route base = {0};
	int nnh = rtnl_route_get_nnexthops(r);

	base.family = rtnl_route_get_family(r);
	if (base.family != AF_INET && base.family != AF_INET6)
		return;
	base.table = rtnl_route_get_table(r);
	/* Kept only when it can matter: memory stays flat in the size of foreign tables. */
	if (d->tables && !uset_has(d->tables, d->n_tables, base.table))
		return;
	addr_from_nl(dst, &base.dst);
	base.dst.family = base.family;
	base.dst_len = dst ? (uint8_t)nl_addr_get_prefixlen(dst) : 0;
	base.metric = rtnl_route_get_priority(r);
	base.protocol = rtnl_route_get_protocol(r);
	base.scope = rtnl_route_get_scope(r);
	base.type = rtnl_route_get_type(r);
	addr_from_nl(rtnl_route_get_pref_src(r), &base.src);
	if (d->msg)
		kr_route_extra(nlmsg_hdr(d->msg), &base.pref, &base.expires);

	/* One entry per nexthop: only ever compared as single-path routes. */
	for (int i = 0; i < (nnh > 0 ? nnh : 1); i++) {
		struct rtnl_nexthop *nh = nnh > 0 ? rtnl_route_nexthop_n(r, i) : NULL;
		struct rr_route *out = view_add_route(d->v);

		if (!out) {
			d->err = -ENOMEM;
			return;
		}
		*out = base;
		if (nh) {
			out->oif = rtnl_route_nh_get_ifindex(nh);
			addr_from_nl(rtnl_route_nh_get_gateway(nh), &out->gw);
			out->onlink = rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK;
		}
	}
}

void kr_rule_mark(struct nlmsghdr *h, uint32_t *mark, uint32_t *mask)
{
	struct nlattr *a;

	*mark = *mask = 0;
	if (!nlmsg_valid_hdr(h, sizeof(struct fib_rule_hdr)))
		return;
	a = nlmsg_find_attr(h, sizeof(struct fib_rule_hdr), FRA_FWMARK);
	if (a && nla_len(a) >= (int)sizeof(uint32_t))
		*mark = nla_get_u32(a);
	a = nlmsg_find_attr(h, sizeof(struct fib_rule_hdr), FRA_FWMASK);
	if (a && nla_len(a) >= (int)sizeof(uint32_t))
		*mask = nla_get_u32(a);
	else if (*mark)
		*mask = UINT32_MAX; /* the kernel's default for a mark without a mask */
}

void kr_route_extra(struct nlmsghdr *h, uint8_t *pref, uint32_t *expires)
{
	struct nlattr *a;
	long hz = sysconf(_SC_CLK_TCK);

	*pref = 0;
	*expires = 0;
	if (!nlmsg_valid_hdr(h, sizeof(struct rtmsg)))
		return;
	a = nlmsg_find_attr(h, sizeof(struct rtmsg), RTA_PREF);
	if (a && nla_len(a) >= 1)
		*pref = nla_get_u8(a);
	a = nlmsg_find_attr(h, sizeof(struct rtmsg), RTA_CACHEINFO);
	if (a && nla_len(a) >= (int)sizeof(struct rta_cacheinfo)) {
		const struct rta_cacheinfo *ci = nla_data(a);

		/* clock_t ticks, rounded up: a route about to expire still expires. */
		if (ci->rta_expires > 0)
			*expires = (uint32_t)((ci->rta_expires + (hz > 0 ? hz : 100) - 1) /
					      (hz > 0 ? hz : 100));
	}
}

static void dump_rule(struct nl_object *o, void *arg)
{
	struct dump_ctx *d = arg;
	struct rtnl_rule *r = (struct rtnl_rule *)o;
	struct rr_rule *out = view_add_rule(d->v);
	struct nl_addr *src = rtnl_rule_get_src(r);
	uint8_t proto = 0;

	if (!out) {
		d->err = -ENOMEM;
		return;
	}
	out->family = rtnl_rule_get_family(r);
	out->priority = rtnl_rule_get_prio(r);
	out->table = rtnl_rule_get_table(r);
	kr_rule_mark(nlmsg_hdr(d->msg), &out->fwmark, &out->fwmask);
	if (src && nl_addr_get_prefixlen(src) > 0) {
		addr_from_nl(src, &out->src);
		out->src_len = (uint8_t)nl_addr_get_prefixlen(src);
	}
	if (rtnl_rule_get_protocol(r, &proto) == 0)
		out->protocol = proto;
	out->action = rtnl_rule_get_action(r);
	if (rtnl_rule_get_iif(r))
		snprintf(out->iifname, sizeof(out->iifname), "%s", rtnl_rule_get_iif(r));
	if (out->action == FR_ACT_GOTO)
		out->target = rtnl_rule_get_goto(r);
	out->other = rtnl_rule_get_oif(r) || rtnl_rule_get_dst(r) || rtnl_rule_get_dsfield(r) ||
		     rtnl_rule_get_l3mdev(r) > 0;
}

static void view_clear_parts(struct rr_view *v, unsigned parts)
{
	if (parts & RR_PART_LINKS) {
		free(v->links);
		v->links = NULL;
		v->n_links = 0;
	}
	if (parts & RR_PART_ADDRS) {
		free(v->addrs);
		v->addrs = NULL;
		v->n_addrs = 0;
	}
	if (parts & RR_PART_ROUTES) {
		free(v->routes);
		v->routes = NULL;
		v->n_routes = 0;
	}
	if (parts & RR_PART_RULES) {
		free(v->rules);
		v->rules = NULL;
		v->n_rules = 0;
	}
}

/* Each message of a dump, parsed into a libnl object and handed to the part's converter. */
struct dump_request {
	struct dump_ctx *ctx;
	void (*fn)(struct nl_object *, void *);
};

static void dump_object(struct nl_object *o, void *arg)
{
	struct dump_request *req = arg;

	req->fn(o, req->ctx);
}

static int dump_msg(struct nl_msg *msg, void *arg)
{
	struct dump_request *req = arg;
	int r;

	/* Some fields can only be told apart in the raw message (kr_rule_mark). */
	req->ctx->msg = msg;
	r = nl_msg_parse(msg, dump_object, arg);
	req->ctx->msg = NULL;

	/* Message types of no interest (none expected) are skipped, not fatal. */
	return r < 0 && r != -NLE_MSGTYPE_NOSUPPORT ? NL_STOP : NL_OK;
}

/*
 * A plain dump, not a libnl cache: a cache keeps one object per key and
 * silently drops a second route with the same (table, dst, tos, metric),
 * e.g. two equal-metric default routes through different interfaces.
 */
/* Only the messages of the request being answered: a late answer to another is not mixed in. */
static int dump_seq_check(struct nl_msg *msg, void *arg)
{
	return nlmsg_hdr(msg)->nlmsg_seq == *(uint32_t *)arg ? NL_OK : NL_SKIP;
}

static int dump_recv(struct nl_sock *sk, uint32_t seq, void (*fn)(struct nl_object *, void *),
		     struct dump_ctx *ctx)
{
	struct dump_request req = {.ctx = ctx, .fn = fn};
	struct nl_cb *own = nl_socket_get_cb(sk); /* a reference */
	struct nl_cb *cb = nl_cb_clone(own);
	int r;

	nl_cb_put(own);
	if (!cb)
		return -NLE_NOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_msg, &req);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, dump_seq_check, &seq);
	r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	return r < 0 ? r : 0;
}

/* Send a dump request; its sequence number in *seq. */
static int dump_send(struct nl_sock *sk, struct nl_msg *msg, uint32_t *seq)
{
	int r = nl_send_auto(sk, msg);

	*seq = nlmsg_hdr(msg)->nlmsg_seq;
	return r;
}

static int dump_part(struct rr_kroute *n, int type, void (*fn)(struct nl_object *, void *),
		     struct dump_ctx *ctx)
{
	struct rtgenmsg gen = {.rtgen_family = AF_UNSPEC};
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_DUMP);
	uint32_t seq = 0;
	int r;

	if (!msg)
		return -NLE_NOMEM;
	if ((r = nlmsg_append(msg, &gen, sizeof(gen), NLMSG_ALIGNTO)) >= 0)
		r = dump_send(n->sk, msg, &seq);
	nlmsg_free(msg);
	return r < 0 ? r : dump_recv(n->sk, seq, fn, ctx);
}

/*
 * The routes of one table (protocol 0), or of one protocol in every table
 * (table 0), both families: the kernel filters (strict checking).
 */
static int dump_filtered(struct rr_kroute *n, uint32_t table, uint8_t protocol,
			 struct dump_ctx *ctx)
{
	struct rtmsg rtm = {.rtm_family = AF_UNSPEC,
			    .rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC,
			    .rtm_protocol = protocol};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
	uint32_t seq = 0;
	int r;

	if (!msg)
		return -NLE_NOMEM;
	if ((r = nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO)) >= 0 &&
	    (!table || (r = nla_put_u32(msg, RTA_TABLE, table)) >= 0))
		r = dump_send(n->strict_sk, msg, &seq);
	nlmsg_free(msg);
	return r < 0 ? r : dump_recv(n->strict_sk, seq, dump_route, ctx);
}

/*
 * Routes of the given tables (all when tables is NULL), so that a foreign
 * table of any size costs nothing. A few tables: one dump each, filtered by
 * the kernel. Many: main by itself, then replyroute's own routes of every
 * table in one dump, filtered by protocol in the kernel and by table here
 * (a foreign route in one of those tables is then seen only as the EEXIST
 * of adding ours). Without strict checking: one dump of everything,
 * filtered here (memory still flat).
 */
#define DUMP_TABLES_MAX 8

static int dump_routes(struct rr_kroute *n, const uint32_t *tables, size_t n_tables,
		       struct dump_ctx *ctx)
{
	uint32_t *sorted;
	size_t m = 0;
	int r = 0;

	if (tables && n->strict_sk && n_tables <= DUMP_TABLES_MAX) {
		for (size_t i = 0; i < n_tables && r >= 0; i++)
			r = dump_filtered(n, tables[i], 0, ctx);
		return r;
	}
	if (!tables)
		return dump_part(n, RTM_GETROUTE, dump_route, ctx);
	if (!(sorted = malloc((n_tables + 1) * sizeof(*sorted))))
		return -NLE_NOMEM;
	for (size_t i = 0; i < n_tables; i++) {
		if (n->strict_sk && tables[i] == RT_TABLE_MAIN && r >= 0)
			r = dump_filtered(n, RT_TABLE_MAIN, 0, ctx);
		else
			sorted[m++] = tables[i];
	}
	uset_sort(sorted, m);
	ctx->tables = sorted;
	ctx->n_tables = m;
	if (r >= 0)
		r = n->strict_sk ? dump_filtered(n, 0, RR_PROTO, ctx)
				 : dump_part(n, RTM_GETROUTE, dump_route, ctx);
	ctx->tables = NULL;
	free(sorted);
	return r;
}

int kr_dump(struct rr_kroute *n, struct rr_view *v, unsigned parts, const uint32_t *tables,
	    size_t n_tables)
{
	static const struct {
		unsigned part;
		int type;
		void (*fn)(struct nl_object *, void *);
	} what[] = {
		{RR_PART_LINKS, RTM_GETLINK, dump_link},
		{RR_PART_ADDRS, RTM_GETADDR, dump_addr},
		{RR_PART_ROUTES, RTM_GETROUTE, dump_route},
		{RR_PART_RULES, RTM_GETRULE, dump_rule},
	};
	struct dump_ctx d = {.v = v};
	int r = 0;

	for (unsigned tries = 0; tries < 5; tries++) {
		view_clear_parts(v, parts);
		d.err = 0;
		for (size_t i = 0; i < sizeof(what) / sizeof(what[0]) && r >= 0; i++) {
			if (!(parts & what[i].part))
				continue;
			if (what[i].part == RR_PART_ROUTES)
				r = dump_routes(n, tables, n_tables, &d);
			else
				r = dump_part(n, what[i].type, what[i].fn, &d);
		}
		if (r >= 0 && d.err == 0)
			return 0;
		if (r >= 0) {
			view_clear_parts(v, parts);
			return d.err;
		}
		/* A dump interrupted by a concurrent change is simply taken again, whole. */
		if (abs(r) != NLE_DUMP_INTR)
			break;
		r = 0;
	}
	view_clear_parts(v, parts);
	return kr_errno(r ? r : -NLE_DUMP_INTR);
}

static struct rtnl_rule *rule_to_nl(const struct rr_rule *r)
{
	struct rtnl_rule *n = rtnl_rule_alloc();

	if (!n)
		return NULL;
	rtnl_rule_set_family(n, r->family);
	rtnl_rule_set_prio(n, r->priority);
	rtnl_rule_set_table(n, r->table);
	rtnl_rule_set_action(n, r->action);
	rtnl_rule_set_protocol(n, r->protocol);
	if (r->iifname[0] && rtnl_rule_set_iif(n, r->iifname) < 0) {
		rtnl_rule_put(n);
		return NULL;
	}
	if (r->action == FR_ACT_GOTO)
		rtnl_rule_set_goto(n, r->target);
	if (r->fwmask) {
		rtnl_rule_set_mark(n, r->fwmark);
		rtnl_rule_set_mask(n, r->fwmask);
	}
	if (r->src.family) {
		struct nl_addr *a = addr_to_nl(&r->src, r->src_len);

		if (!a || rtnl_rule_set_src(n, a) < 0) {
			nl_addr_put(a);
			rtnl_rule_put(n);
			return NULL;
		}
		nl_addr_put(a);
	}
	return n;
}

static struct rtnl_route *route_to_nl(const struct rr_route *r)
{
	struct rtnl_route *n = rtnl_route_alloc();
	struct rtnl_nexthop *nh;
	struct nl_addr *a;

	if (!n)
		return NULL;
	rtnl_route_set_family(n, r->family);
	rtnl_route_set_table(n, r->table);
	rtnl_route_set_protocol(n, r->protocol);
	rtnl_route_set_scope(n, r->scope);
	rtnl_route_set_type(n, r->type);
	rtnl_route_set_priority(n, r->metric);
	if (!(a = addr_to_nl(&r->dst, r->dst_len)))
		goto fail;
	rtnl_route_set_dst(n, a);
	nl_addr_put(a);
	if (r->src.family) {
		if (!(a = addr_to_nl(&r->src, r->family == AF_INET ? 32 : 128)))
			goto fail;
		rtnl_route_set_pref_src(n, a);
		nl_addr_put(a);
	}
	if (r->oif || r->gw.family) {
		if (!(nh = rtnl_route_nh_alloc()))
			goto fail;
		if (r->oif)
			rtnl_route_nh_set_ifindex(nh, r->oif);
		if (r->gw.family) {
			if (!(a = addr_to_nl(&r->gw, r->family == AF_INET ? 32 : 128))) {
				rtnl_route_nh_free(nh);
				goto fail;
			}
			rtnl_route_nh_set_gateway(nh, a);
			nl_addr_put(a);
		}
		if (r->onlink)
			rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
		rtnl_route_add_nexthop(n, nh);
	}
	return n;
fail:
	rtnl_route_put(n);
	return NULL;
}

/* The request for one change, with what libnl cannot say (router preference, lifetime). */
static int op_msg(const struct rr_nl_op *op, struct nl_msg **msg)
{
	struct rtnl_rule *rule = NULL;
	struct rtnl_route *route = NULL;
	int r;

	*msg = NULL;
	switch (op->verb) {
	case RR_RULE_ADD:
	case RR_RULE_DEL:
		if (!(rule = rule_to_nl(op->rule)))
			return -NLE_NOMEM;
		/* NLM_F_EXCL: the kernel refuses a second identical rule. */
		r = op->verb == RR_RULE_ADD
			    ? rtnl_rule_build_add_request(rule, NLM_F_EXCL, msg)
			    : rtnl_rule_build_delete_request(rule, 0, msg);
		rtnl_rule_put(rule);
		return r;
	case RR_ROUTE_ADD:
	case RR_ROUTE_REPLACE:
	case RR_ROUTE_DEL:
		if (!(route = route_to_nl(op->route)))
			return -NLE_NOMEM;
		if (op->verb == RR_ROUTE_DEL)
			r = rtnl_route_build_del_request(route, 0, msg);
		else
			r = rtnl_route_build_add_request(
				route, op->verb == RR_ROUTE_REPLACE ? NLM_F_REPLACE : NLM_F_EXCL, msg);
		rtnl_route_put(route);
		if (r < 0 || op->verb == RR_ROUTE_DEL)
			return r;
		if (op->route->pref && (r = nla_put_u8(*msg, RTA_PREF, op->route->pref)) < 0)
			return r;
		if (op->route->expires && (r = nla_put_u32(*msg, RTA_EXPIRES, op->route->expires)) < 0)
			return r;
		return 0;
	}
	return -NLE_INVAL;
}

/* The answers to a window of requests, matched to them by sequence number. */
struct batch {
	struct rr_nl_op *ops;
	size_t n;
	uint32_t first_seq;
	bool done; /* the last one answered: all before it were handled */
};

static struct rr_nl_op *batch_op(struct batch *b, uint32_t seq)
{
	uint32_t i = seq - b->first_seq;

	return i < b->n ? &b->ops[i] : NULL;
}

static int batch_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct batch *b = arg;
	struct rr_nl_op *op = batch_op(b, e->msg.nlmsg_seq);

	if (op) {
		op->result = e->error;
		b->done |= op == &b->ops[b->n - 1];
	}
	return NL_SKIP;
}

static int batch_ack(struct nl_msg *msg, void *arg)
{
	struct batch *b = arg;
	struct rr_nl_op *op = batch_op(b, nlmsg_hdr(msg)->nlmsg_seq);

	if (op == &b->ops[b->n - 1]) {
		op->result = 0;
		b->done = true;
	}
	return NL_OK;
}

static int batch_any(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

/*
 * One window: its requests in one datagram, only the last asking for an
 * acknowledgement. The kernel handles them in order and answers a failed one
 * whether asked or not, so the last one's answer means every request before
 * it succeeded unless it said otherwise: two system calls for the window
 * instead of three per object.
 */
#define KR_WINDOW 128

static int batch_pack(struct rr_kroute *n, struct rr_nl_op *ops, size_t count, uint32_t seq,
		      char **buf, size_t *len)
{
	size_t size = 0, at = 0;
	struct nl_msg *msgs[KR_WINDOW];
	int r = 0;

	for (size_t i = 0; i < count; i++) {
		struct nlmsghdr *h;

		if ((r = op_msg(&ops[i], &msgs[i])) < 0) {
			nlmsg_free(msgs[i]);
			for (size_t j = 0; j < i; j++)
				nlmsg_free(msgs[j]);
			return r;
		}
		h = nlmsg_hdr(msgs[i]);
		h->nlmsg_seq = seq + (uint32_t)i;
		h->nlmsg_pid = nl_socket_get_local_port(n->sk);
		h->nlmsg_flags |= NLM_F_REQUEST | (i == count - 1 ? NLM_F_ACK : 0);
		size += NLMSG_ALIGN(h->nlmsg_len);
	}
	*buf = calloc(1, size + 1);
	for (size_t i = 0; i < count; i++) {
		struct nlmsghdr *h = nlmsg_hdr(msgs[i]);

		if (*buf)
			memcpy(*buf + at, h, h->nlmsg_len);
		at += NLMSG_ALIGN(h->nlmsg_len);
		nlmsg_free(msgs[i]);
	}
	*len = size;
	return *buf ? 0 : -NLE_NOMEM;
}

static void batch_window(struct rr_kroute *n, struct nl_cb *cb, struct rr_nl_op *ops,
			 size_t count)
{
	struct batch b = {.ops = ops, .n = count};
	char *buf = NULL;
	size_t len = 0;
	int r;

	b.first_seq = nl_socket_use_seq(n->sk);
	for (size_t i = 1; i < count; i++)
		(void)nl_socket_use_seq(n->sk);
	nl_cb_err(cb, NL_CB_CUSTOM, batch_err, &b);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, batch_ack, &b);
	for (size_t i = 0; i < count; i++)
		ops[i].result = 0;
	if ((r = batch_pack(n, ops, count, b.first_seq, &buf, &len)) >= 0)
		r = nl_sendto(n->sk, buf, len);
	free(buf);
	while (r >= 0 && !b.done)
		r = nl_recvmsgs(n->sk, cb);
	if (r >= 0)
		return;
	/* Not sent, or the answers lost: failed, so that the engine reads and tries again. */
	for (size_t i = 0; i < count; i++)
		if (ops[i].result == 0)
			ops[i].result = kr_errno(r);
}

int kr_batch(struct rr_kroute *n, struct rr_nl_op *ops, size_t count)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb) {
		for (size_t i = 0; i < count; i++)
			ops[i].result = -ENOMEM;
		return -ENOMEM;
	}
	/* Answers come for many requests at once: matched by sequence number, not checked in order. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, batch_any, NULL);
	for (size_t at = 0; at < count; at += KR_WINDOW)
		batch_window(n, cb, ops + at, count - at < KR_WINDOW ? count - at : KR_WINDOW);
	nl_cb_put(cb);
	return 0;
}

static int kr_one(struct rr_kroute *n, enum rr_nl_verb verb, const void *obj)
{
	struct rr_nl_op op = {.verb = verb};

	if (verb == RR_RULE_ADD || verb == RR_RULE_DEL)
		op.rule = obj;
	else
		op.route = obj;
	kr_batch(n, &op, 1);
	return op.result;
}

int kr_rule_add(struct rr_kroute *n, const struct rr_rule *r)
{
	return kr_one(n, RR_RULE_ADD, r);
}

int kr_rule_del(struct rr_kroute *n, const struct rr_rule *r)
{
	return kr_one(n, RR_RULE_DEL, r);
}

int kr_route_add(struct rr_kroute *n, const struct rr_route *r, bool replace)
{
	return kr_one(n, replace ? RR_ROUTE_REPLACE : RR_ROUTE_ADD, r);
}

int kr_route_del(struct rr_kroute *n, const struct rr_route *r)
{
	return kr_one(n, RR_ROUTE_DEL, r);
}
