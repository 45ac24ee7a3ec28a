/* SPDX-License-Identifier: MIT */
#include "explain.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "jsonout.h"
#include "value.h"

/* The fibmatch twin of a reply lookup. */
static enum explain_q ex_fib(enum explain_q q)
{
	return q + 1;
}

static const char *ex_type_name(uint8_t type)
{
	static const char *names[] = {
		[RTN_UNICAST] = "unicast",     [RTN_LOCAL] = "local",
		[RTN_BROADCAST] = "broadcast", [RTN_ANYCAST] = "anycast",
		[RTN_MULTICAST] = "multicast", [RTN_BLACKHOLE] = "blackhole",
		[RTN_UNREACHABLE] = "unreachable", [RTN_PROHIBIT] = "prohibit",
		[RTN_THROW] = "throw",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "other";
}

/* On a lookup with iif, the kernel answers a failed source validation with EXDEV (older
 * kernels) or EINVAL (a martian source, which rp_filter's failure is from 6.x on). */
static const char *ex_error_text(const struct fq_lookup *l)
{
	if (explain_rejected(l))
		return "source validation (rp_filter) failed";
	return strerror(-l->error);
}

/* "PREFIX [via GW] dev IF [proto P] [metric M]" */
static void ex_route_text(char *buf, size_t len, const struct rr_addr *dst, uint8_t dst_len,
			  const struct rr_addr *gw, const char *dev, uint8_t type, uint8_t proto,
			  uint32_t metric)
{
	char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	FILE *f = fmemopen(buf, len, "w");

	if (!f)
		return;
	if (type != RTN_UNICAST)
		fprintf(f, "%s ", ex_type_name(type));
	if (dst_len)
		fprintf(f, "%s/%u", rr_addr_str(dst, d, sizeof(d)), dst_len);
	else
		fprintf(f, "default");
	if (gw->family)
		fprintf(f, " via %s", rr_addr_str(gw, g, sizeof(g)));
	if (dev && dev[0])
		fprintf(f, " dev %s", VALUE_NAME_SHOWN(dev));
	if (proto)
		fprintf(f, " proto %u", proto);
	if (metric)
		fprintf(f, " metric %u", metric);
	fclose(f);
}

/* A lookup's answer in a few words. */
static void ex_answer_text(const struct fq_lookup *l, char *buf, size_t len)
{
	char t[16], g[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], route[256];

	rw_table_name(l->table, t, sizeof(t));
	if (l->error) {
		snprintf(buf, len, "%s: %s (%s)", explain_rejected(l) ? "rejected" : "no route",
			 ex_error_text(l), strerrorname_np(-l->error) ?: "?");
	} else if (l->fibmatch) {
		ex_route_text(route, sizeof(route), &l->dst, l->dst_len, &l->gw, l->oif, l->type,
			      l->protocol, l->metric);
		snprintf(buf, len, "matched route %s, table %s", route, t);
	} else if (l->type == RTN_LOCAL) {
		snprintf(buf, len, "accepted: local delivery (table %s)", t);
	} else if (l->type == RTN_UNICAST) {
		snprintf(buf, len, "dev %s%s%s%s%s, table %s", VALUE_NAME_SHOWN(l->oif),
			 l->gw.family ? " via " : "", l->gw.family ? rr_addr_str(&l->gw, g, sizeof(g)) : "",
			 l->prefsrc.family ? " src " : "",
			 l->prefsrc.family ? rr_addr_str(&l->prefsrc, s, sizeof(s)) : "", t);
	} else {
		snprintf(buf, len, "%s (table %s)", ex_type_name(l->type), t);
	}
}

static const char *ex_group(const struct explain_input *in, enum explain_q q)
{
	bool fwd = in->flow.forward_to.family;

	if (q == EXQ_IN || q == EXQ_IN_MARKED)
		return fwd ? "forwarded" : "inbound";
	return fwd ? "reply from the LAN" : "reply";
}

static void ex_step_text(const struct explain_input *in, const struct rw_step *s, char *buf,
			 size_t len)
{
	char route[256] = "";
	const struct rr_route *r = s->route >= 0 ? &in->view->routes[s->route] : NULL;

	if (r) {
		const struct rr_link *l = view_link_by_index(in->view, r->oif);

		ex_route_text(route, sizeof(route), &r->dst, r->dst_len, &r->gw, l ? l->name : "",
			      r->type, r->protocol, r->metric);
	}
	switch (s->outcome) {
	case RW_NO_ROUTE: snprintf(buf, len, "no route, next rule"); break;
	case RW_SUPPRESSED: snprintf(buf, len, "%s suppressed, next rule", route); break;
	case RW_THROW: snprintf(buf, len, "throw, next rule"); break;
	case RW_ROUTE: snprintf(buf, len, "%s", route); break;
	case RW_ACTION: snprintf(buf, len, "the lookup ends here"); break;
	case RW_GOTO: snprintf(buf, len, "jumps"); break;
	case RW_NOP: snprintf(buf, len, "next rule"); break;
	case RW_SKIPPED: snprintf(buf, len, "a VRF rule, not judged here, next rule"); break;
	}
}

/* The walk against the kernel's table: one sentence. */
static void ex_walk_text(const struct explain_input *in, const struct rw_result *w,
			 const struct fq_lookup *k, char *buf, size_t len)
{
	char a[16], b[16];
	uint32_t t = rw_table(in->rules, w);

	rw_table_name(k->table, b, sizeof(b));
	if (k->error)
		snprintf(buf, len, "the kernel found no route");
	else if (t && t == k->table)
		snprintf(buf, len, "the rule walk agrees with the kernel: rule %u leads to table %s",
			 in->rules[w->steps[w->n_steps - 1].rule].priority, b);
	else if (t)
		snprintf(buf, len, "the rule walk ends in table %s, the kernel says table %s: "
			 "the kernel's answer stands (the walk does not model every selector)",
			 rw_table_name(t, a, sizeof(a)), b);
	else
		snprintf(buf, len, "the rule walk found no route, the kernel says table %s: "
			 "the kernel's answer stands", b);
}

struct ex_out {
	const struct explain_input *in;
	FILE *f;
	json_t *lookups; /* NULL: text */
	json_t *walk;
};

static json_t *ex_addr_json(const struct rr_addr *a)
{
	char s[INET6_ADDRSTRLEN];

	return a->family ? json_string(rr_addr_str(a, s, sizeof(s))) : json_null();
}

static void ex_lookup_json(struct ex_out *o, enum explain_q q, bool effective)
{
	const struct fq_lookup *l = &o->in->q[q];
	json_t *j = json_object();
	char cmd[512], ans[512];

	explain_command(l, cmd, sizeof(cmd));
	ex_answer_text(l, ans, sizeof(ans));
	json_object_set_new(j, "lookup", json_string(ex_group(o->in, q)));
	json_object_set_new(j, "mark", json_integer(l->pkt.mark));
	json_object_set_new(j, "effective", json_boolean(effective));
	json_object_set_new(j, "fibmatch", json_boolean(l->fibmatch));
	json_object_set_new(j, "command", json_text(cmd));
	json_object_set_new(j, "error", l->error ? json_string(strerrorname_np(-l->error) ?: "?") :
						    json_null());
	json_object_set_new(j, "rejected", json_boolean(explain_rejected(l)));
	if (!l->error) {
		json_object_set_new(j, "type", json_string(ex_type_name(l->type)));
		json_object_set_new(j, "table", json_integer(l->table));
		json_object_set_new(j, "dev", l->oif[0] ? json_text(l->oif) : json_null());
		json_object_set_new(j, "gateway", ex_addr_json(&l->gw));
		json_object_set_new(j, "prefsrc", ex_addr_json(&l->prefsrc));
		if (l->fibmatch) {
			char d[INET6_ADDRSTRLEN + 8], s[INET6_ADDRSTRLEN];

			snprintf(d, sizeof(d), "%s/%u", rr_addr_str(&l->dst, s, sizeof(s)), l->dst_len);
			json_object_set_new(j, "dst", json_string(d));
			json_object_set_new(j, "protocol", json_integer(l->protocol));
		}
	}
	json_object_set_new(j, "text", json_text(ans));
	json_array_append_new(o->lookups, j);
}

static void ex_lookup(struct ex_out *o, enum explain_q q, bool effective)
{
	const struct fq_lookup *l = &o->in->q[q];
	char cmd[512], ans[512];

	if (!o->in->asked[q])
		return;
	if (o->lookups) {
		ex_lookup_json(o, q, effective);
		return;
	}
	explain_command(l, cmd, sizeof(cmd));
	ex_answer_text(l, ans, sizeof(ans));
	if (l->fibmatch) {
		fprintf(o->f, "  %s\n  $ %s\n", ans, cmd);
		return;
	}
	fprintf(o->f, "%s, ", ex_group(o->in, q));
	if (l->pkt.mark)
		fprintf(o->f, "mark %#x", l->pkt.mark);
	else
		fprintf(o->f, "no mark");
	fprintf(o->f, "%s: %s\n  $ %s\n", effective ? " (this flow)" : "", ans, cmd);
}

/* The rules the reply's packet meets, and whether they lead where the kernel went. */
static void ex_walk(struct ex_out *o, enum explain_q q)
{
	const struct explain_input *in = o->in;
	struct rw_result w;
	char rule[256], step[320], verdict[256];

	if (!in->asked[q])
		return;
	rw_walk(in->rules, in->n_rules, in->view, &in->q[q].pkt, &w);
	ex_walk_text(in, &w, &in->q[q], verdict, sizeof(verdict));
	if (!o->lookups)
		fprintf(o->f, "  rules met:\n");
	json_t *steps = json_array();
	for (size_t i = 0; i < w.n_steps; i++) {
		rw_rule_format(&in->rules[w.steps[i].rule], rule, sizeof(rule));
		ex_step_text(in, &w.steps[i], step, sizeof(step));
		if (!o->lookups)
			fprintf(o->f, "    %s: %s\n", rule, step);
		else
			json_array_append_new(steps, json_pack("{s:o,s:o}", "rule", json_text(rule),
								 "result", json_text(step)));
	}
	if (!o->lookups) {
		fprintf(o->f, "  %s\n", verdict);
		json_decref(steps);
		return;
	}
	if (w.done)
		rw_rule_format(&in->rules[w.steps[w.n_steps - 1].rule], rule, sizeof(rule));
	o->walk = json_pack("{s:o,s:o,s:I,s:I,s:b,s:o}", "steps", steps, "rule",
			    w.done ? json_text(rule) : json_null(), "table",
			    (json_int_t)rw_table(in->rules, &w), "kernel_table",
			    (json_int_t)in->q[q].table, "agrees",
			    !in->q[q].error && rw_table(in->rules, &w) == in->q[q].table, "text",
			    json_text(verdict));
}

static void ex_group_print(struct ex_out *o, enum explain_q plain)
{
	enum explain_q e = explain_effective(o->in, plain);
	enum explain_q other = e == plain ? explain_marked(plain) : plain;
	bool reply = plain == EXQ_REPLY;

	ex_lookup(o, e, true);
	if (reply) {
		ex_lookup(o, ex_fib(e), true);
		ex_walk(o, e);
	}
	ex_lookup(o, other, false);
	if (reply)
		ex_lookup(o, ex_fib(other), false);
}

static void ex_head_text(const struct explain_input *in, FILE *f)
{
	const struct explain_flow *fl = &in->flow;
	const struct explain_iface *i = &in->iface;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], t[16];

	fprintf(f, "flow: %s %s", fl->ipproto == IPPROTO_TCP ? "tcp" :
				  fl->ipproto == IPPROTO_UDP ? "udp" :
				  fl->ipproto ? "icmp" : "any", rr_addr_str(&fl->from, a, sizeof(a)));
	if (fl->sport)
		fprintf(f, " port %u", fl->sport);
	fprintf(f, " -> %s", rr_addr_str(&fl->to, b, sizeof(b)));
	if (fl->dport)
		fprintf(f, " port %u", fl->dport);
	fprintf(f, ", arriving on %s", VALUE_NAME_SHOWN(fl->iif));
	if (fl->forward_to.family)
		fprintf(f, ", forwarded to %s", rr_addr_str(&fl->forward_to, a, sizeof(a)));
	fprintf(f, "\n%s: ", VALUE_NAME_SHOWN(fl->iif));
	if (!i->tracked) {
		fprintf(f, "not in replyroute's config: its connections get no mark\n");
		return;
	}
	fprintf(f, "tracked, mark %#x/%#x, table %s, priority %u; %s\n", i->mark, i->mask,
		i->table ? rw_table_name(i->table, t, sizeof(t)) : "(not allocated)", i->priority,
		i->marking ? "its new connections are marked" :
			     "replyroute's nft table does not mark its connections now");
}

static json_t *ex_head_json(const struct explain_input *in)
{
	const struct explain_flow *fl = &in->flow;
	const struct explain_iface *i = &in->iface;

	return json_pack("{s:{s:i,s:o,s:o,s:i,s:i,s:o,s:o},s:{s:o,s:b,s:b,s:I,s:I,s:I,s:I}}",
			 "flow", "ipproto", fl->ipproto, "from", ex_addr_json(&fl->from), "to",
			 ex_addr_json(&fl->to), "sport", fl->sport, "dport", fl->dport, "iif",
			 json_text(fl->iif), "forward_to",
			 ex_addr_json(&fl->forward_to),
			 "interface", "name", json_text(fl->iif), "tracked", i->tracked, "marking", i->marking,
			 "mark", (json_int_t)i->mark, "mask", (json_int_t)i->mask, "table",
			 (json_int_t)i->table, "priority", (json_int_t)i->priority);
}

int explain_print(const struct explain_input *in, bool json, FILE *f)
{
	struct ex_out o = {.in = in, .f = f};
	struct explain_verdict v;
	json_t *root;
	int r;

	explain_verdict(in, &v);
	if (!json) {
		ex_head_text(in, f);
		ex_group_print(&o, EXQ_IN);
		ex_group_print(&o, EXQ_REPLY);
		fprintf(f, "verdict: %s: %s\n", v.symmetric ? "symmetric" : "NOT symmetric", v.reason);
		return 0;
	}
	if (!(root = ex_head_json(in)) || !(o.lookups = json_array()))
		return -ENOMEM;
	ex_group_print(&o, EXQ_IN);
	ex_group_print(&o, EXQ_REPLY);
	json_object_set_new(root, "lookups", o.lookups);
	json_object_set_new(root, "rule_walk", o.walk ? o.walk : json_null());
	json_object_set_new(root, "verdict",
			    json_pack("{s:b,s:o}", "symmetric", v.symmetric, "reason",
				      json_text(v.reason)));
	r = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
	return r < 0 ? -EIO : 0;
}
