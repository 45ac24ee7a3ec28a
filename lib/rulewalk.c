/* SPDX-License-Identifier: MIT */
#include "rulewalk.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rttables.h"
#include "value.h"

static bool port_in(const uint16_t range[2], uint16_t port)
{
	return (!range[0] && !range[1]) || (port >= range[0] && port <= range[1]);
}

bool rw_rule_matches(const struct rr_xrule *r, const struct rr_packet *p)
{
	const char *iif = p->iif[0] ? p->iif : "lo"; /* the kernel's iif of a local packet */
	bool m = true;

	if (r->family != p->family)
		return false;
	if (r->iif[0] && strcmp(r->iif, iif))
		m = false;
	/* Lookups here are never bound to a device: a rule naming one does not match. */
	else if (r->oif[0])
		m = false;
	else if ((r->fwmark ^ p->mark) & r->fwmask)
		m = false;
	else if (r->l3mdev)
		m = false;
	else if (r->src_len && !rr_addr_in_prefix(&p->src, &r->src, r->src_len))
		m = false;
	else if (r->dst_len && !rr_addr_in_prefix(&p->dst, &r->dst, r->dst_len))
		m = false;
	else if (r->ipproto && r->ipproto != p->ipproto)
		m = false;
	else if (r->tos)
		m = false;
	else if (r->uid_set && (p->iif[0] || r->uid[0] > 0))
		m = false;
	else if (!port_in(r->sport, p->sport) || !port_in(r->dport, p->dport))
		m = false;
	return r->invert ? !m : m;
}

ssize_t rw_table_lookup(const struct rr_view *v, int family, uint32_t table,
			const struct rr_addr *dst)
{
	ssize_t best = -1;

	for (size_t i = 0; i < v->n_routes; i++) {
		const struct rr_route *r = &v->routes[i];
		const struct rr_route *b = best >= 0 ? &v->routes[best] : NULL;

		if (r->family != family || r->table != table ||
		    (r->dst_len && !rr_addr_in_prefix(dst, &r->dst, r->dst_len)))
			continue;
		if (!b || r->dst_len > b->dst_len ||
		    (r->dst_len == b->dst_len && r->metric < b->metric))
			best = (ssize_t)i;
	}
	return best;
}

/* The rule a goto lands on: the first with exactly the target priority (the kernel's ctarget). */
static ssize_t rw_goto(const struct rr_xrule *rules, size_t n, size_t from)
{
	for (size_t i = from + 1; i < n; i++)
		if (rules[i].family == rules[from].family &&
		    rules[i].priority == rules[from].goto_target)
			return (ssize_t)i;
	return -1;
}

static bool rw_push(struct rw_result *res, size_t rule, enum rw_outcome o, ssize_t route)
{
	if (res->n_steps == RW_MAX_STEPS) {
		res->truncated = true;
		return false;
	}
	res->steps[res->n_steps++] = (struct rw_step){.rule = rule, .outcome = o, .route = route};
	return true;
}

/* A lookup rule's table: a route ends the walk, no route or a throw goes on. */
static enum rw_outcome rw_lookup(const struct rr_xrule *r, const struct rr_view *v,
				 const struct rr_packet *p, ssize_t *route)
{
	*route = rw_table_lookup(v, p->family, r->table, &p->dst);
	if (*route < 0)
		return RW_NO_ROUTE;
	if (v->routes[*route].type == RTN_THROW)
		return RW_THROW;
	if (r->suppress_prefixlen >= 0 && v->routes[*route].dst_len <= r->suppress_prefixlen)
		return RW_SUPPRESSED;
	return RW_ROUTE;
}

void rw_walk(const struct rr_xrule *rules, size_t n, const struct rr_view *v,
	     const struct rr_packet *p, struct rw_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < n; i++) {
		const struct rr_xrule *r = &rules[i];
		enum rw_outcome o;
		ssize_t route = -1, target;

		if (!rw_rule_matches(r, p)) {
			/* l3mdev: say that it was there, the walk cannot tell whether it applies. */
			if (!(r->l3mdev && r->family == p->family && !r->invert))
				continue;
			o = RW_SKIPPED;
		} else if (r->action == FR_ACT_GOTO) {
			o = RW_GOTO;
		} else if (r->action == FR_ACT_NOP) {
			o = RW_NOP;
		} else if (r->action == FR_ACT_TO_TBL) {
			o = rw_lookup(r, v, p, &route);
		} else {
			o = RW_ACTION;
		}
		if (!rw_push(ret, i, o, route))
			return;
		if (o == RW_ROUTE || o == RW_ACTION) {
			ret->done = true;
			return;
		}
		if (o != RW_GOTO || (target = rw_goto(rules, n, i)) < 0)
			continue;
		/* Targets lie after the goto (the kernel refuses others): no loop. */
		i = (size_t)target - 1;
	}
}

uint32_t rw_table(const struct rr_xrule *rules, const struct rw_result *res)
{
	if (!res->done || !res->n_steps)
		return 0;
	const struct rw_step *s = &res->steps[res->n_steps - 1];

	return s->outcome == RW_ROUTE ? rules[s->rule].table : 0;
}

const char *rw_table_name(uint32_t table, char *buf, size_t len)
{
	const char *name = rttables_builtin_name(table);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%u", table);
	return buf;
}

__attribute__((format(printf, 3, 4))) static void rw_cat(char *buf, size_t len, const char *fmt,
							  ...)
{
	size_t l = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	if (l < len)
		vsnprintf(buf + l, len - l, fmt, ap);
	va_end(ap);
}

static const char *rw_prefix(const struct rr_addr *a, uint8_t plen, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	unsigned full = a->family == AF_INET6 ? 128 : 32;

	if (!plen)
		return "all";
	if (plen == full)
		snprintf(buf, len, "%s", rr_addr_str(a, s, sizeof(s)));
	else
		snprintf(buf, len, "%s/%u", rr_addr_str(a, s, sizeof(s)), plen);
	return buf;
}

static const char *rw_action(const struct rr_xrule *r, char *buf, size_t len)
{
	char t[16];

	switch (r->action) {
	case FR_ACT_TO_TBL:
		snprintf(buf, len, "lookup %s", rw_table_name(r->table, t, sizeof(t)));
		break;
	case FR_ACT_GOTO: snprintf(buf, len, "goto %u", r->goto_target); break;
	case FR_ACT_NOP: snprintf(buf, len, "nop"); break;
	case FR_ACT_BLACKHOLE: snprintf(buf, len, "blackhole"); break;
	case FR_ACT_UNREACHABLE: snprintf(buf, len, "unreachable"); break;
	case FR_ACT_PROHIBIT: snprintf(buf, len, "prohibit"); break;
	default: snprintf(buf, len, "action %u", r->action); break;
	}
	return buf;
}

void rw_rule_format(const struct rr_xrule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + 8], act[32];

	snprintf(buf, len, "%u: %sfrom %s", r->priority, r->invert ? "not " : "",
		 rw_prefix(&r->src, r->src_len, a, sizeof(a)));
	if (r->dst_len)
		rw_cat(buf, len, " to %s", rw_prefix(&r->dst, r->dst_len, a, sizeof(a)));
	if (r->fwmask)
		rw_cat(buf, len, " fwmark %#x/%#x", r->fwmark, r->fwmask);
	if (r->iif[0])
		rw_cat(buf, len, " iif %s", VALUE_NAME_SHOWN(r->iif));
	if (r->oif[0])
		rw_cat(buf, len, " oif %s", VALUE_NAME_SHOWN(r->oif));
	if (r->ipproto)
		rw_cat(buf, len, " ipproto %u", r->ipproto);
	if (r->tos)
		rw_cat(buf, len, " tos %#x", r->tos);
	if (r->uid_set)
		rw_cat(buf, len, " uidrange %u-%u", r->uid[0], r->uid[1]);
	if (r->sport[0] || r->sport[1])
		rw_cat(buf, len, " sport %u-%u", r->sport[0], r->sport[1]);
	if (r->dport[0] || r->dport[1])
		rw_cat(buf, len, " dport %u-%u", r->dport[0], r->dport[1]);
	if (r->l3mdev)
		rw_cat(buf, len, " l3mdev");
	rw_cat(buf, len, " %s", rw_action(r, act, sizeof(act)));
	if (r->suppress_prefixlen >= 0)
		rw_cat(buf, len, " suppress_prefixlength %d", r->suppress_prefixlen);
	if (r->protocol)
		rw_cat(buf, len, " proto %u", r->protocol);
}
