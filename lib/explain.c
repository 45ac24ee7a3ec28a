/* SPDX-License-Identifier: MIT */
#include "explain.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "value.h"

uint32_t explain_mark(const struct explain_input *in)
{
	return in->iface.tracked && in->iface.marking ? in->iface.mark : 0;
}

static bool ex_forward(const struct explain_input *in)
{
	return in->flow.forward_to.family != 0;
}

static bool ex_answered(const struct explain_input *in, enum explain_q q)
{
	return in->asked[q];
}

enum explain_q explain_marked(enum explain_q plain)
{
	return plain == EXQ_IN ? EXQ_IN_MARKED : plain + 2;
}

/* What the flow's packets really meet: the marked lookups while replyroute marks. */
enum explain_q explain_effective(const struct explain_input *in, enum explain_q plain)
{
	return explain_mark(in) && in->asked[explain_marked(plain)] ? explain_marked(plain) : plain;
}

static const char *ex_oif(const struct explain_input *in, enum explain_q q)
{
	const struct fq_lookup *l = &in->q[q];

	return ex_answered(in, q) && !l->error && l->oif[0] ? l->oif : NULL;
}

/*
 * Where the reply to a forwarded connection arrives from: the LAN side of the
 * inbound answer; when the kernel refused the inbound packet, the device of
 * main's route to the LAN host, so that the reply is still asked about.
 */
static const char *ex_lan_iif(const struct explain_input *in)
{
	enum explain_q e = explain_effective(in, EXQ_IN);
	const char *oif = ex_oif(in, e) ?: ex_oif(in, e == EXQ_IN ? EXQ_IN_MARKED : EXQ_IN);
	ssize_t r;
	const struct rr_link *l;

	if (oif || !in->view)
		return oif;
	r = rw_table_lookup(in->view, in->flow.family, RT_TABLE_MAIN, &in->flow.forward_to);
	l = r >= 0 ? view_link_by_index(in->view, in->view->routes[r].oif) : NULL;
	return l ? l->name : NULL;
}

bool explain_question(const struct explain_input *in, enum explain_q q, struct fq_lookup *ret)
{
	const struct explain_flow *f = &in->flow;
	bool marked = q == EXQ_IN_MARKED || q == EXQ_REPLY_MARKED || q == EXQ_REPLY_MARKED_FIB;
	struct rr_packet *p = &ret->pkt;
	const char *lan;

	memset(ret, 0, sizeof(*ret));
	if (marked && !in->iface.tracked)
		return false;
	p->family = f->family;
	p->ipproto = f->ipproto;
	p->mark = marked ? in->iface.mark : 0;
	if (q == EXQ_IN || q == EXQ_IN_MARKED) {
		p->src = f->from;
		p->dst = ex_forward(in) ? f->forward_to : f->to;
		snprintf(p->iif, sizeof(p->iif), "%s", f->iif);
		p->sport = f->sport;
		p->dport = f->dport;
		return true;
	}
	p->dst = f->from;
	p->src = ex_forward(in) ? f->forward_to : f->to;
	p->sport = f->dport;
	p->dport = f->sport;
	ret->fibmatch = q == EXQ_REPLY_FIB || q == EXQ_REPLY_MARKED_FIB;
	if (!ex_forward(in))
		return true;
	if (!(lan = ex_lan_iif(in)))
		return false;
	snprintf(p->iif, sizeof(p->iif), "%s", lan);
	return true;
}

static const char *ex_proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "ipv6-icmp";
	default: snprintf(buf, len, "%u", p); return buf;
	}
}

void explain_command(const struct fq_lookup *l, char *buf, size_t len)
{
	const struct rr_packet *p = &l->pkt;
	char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], num[16];
	FILE *f = fmemopen(buf, len, "w");

	if (!f) {
		snprintf(buf, len, "?");
		return;
	}
	fprintf(f, "ip route get %s", rr_addr_str(&p->dst, d, sizeof(d)));
	if (p->src.family)
		fprintf(f, " from %s", rr_addr_str(&p->src, s, sizeof(s)));
	if (p->iif[0])
		fprintf(f, " iif %s", VALUE_NAME_SHOWN(p->iif));
	if (p->mark)
		fprintf(f, " mark %#x", p->mark);
	if (p->ipproto)
		fprintf(f, " ipproto %s", ex_proto_name(p->ipproto, num, sizeof(num)));
	if (p->sport)
		fprintf(f, " sport %u", p->sport);
	if (p->dport)
		fprintf(f, " dport %u", p->dport);
	if (l->fibmatch)
		fprintf(f, " fibmatch");
	fclose(f);
}

bool explain_rejected(const struct fq_lookup *l)
{
	return l->pkt.iif[0] && (l->error == -EXDEV || l->error == -EINVAL);
}

/* Why the mark is missing, for a verdict that is not symmetric; "" when it is there. */
static const char *ex_mark_note(const struct explain_input *in)
{
	if (!in->iface.tracked)
		return " (the interface is not in replyroute's config: its connections get no mark)";
	if (!in->iface.marking)
		return " (replyroute does not mark the interface's connections now: is replyrouted running?)";
	return "";
}

static void ex_verdict_inbound(const struct explain_input *in, const struct fq_lookup *i,
			       const struct fq_lookup *r, struct explain_verdict *v)
{
	const char *iif = VALUE_NAME_SHOWN(in->flow.iif);
	char back[IFNAMSIZ + 64] = "", t[16];

	if (r->oif[0] && !r->error)
		snprintf(back, sizeof(back), ": the route back leaves through %s (table %s)",
			 VALUE_NAME_SHOWN(r->oif), rw_table_name(r->table, t, sizeof(t)));
	if (explain_rejected(i))
		snprintf(v->reason, sizeof(v->reason),
			 "the packet arriving on %s is dropped by source validation (rp_filter)%s%s",
			 iif, back, ex_mark_note(in));
	else
		snprintf(v->reason, sizeof(v->reason), "the packet arriving on %s is not routed: %s",
			 iif, strerror(-i->error));
}

void explain_verdict(const struct explain_input *in, struct explain_verdict *v)
{
	enum explain_q qi = explain_effective(in, EXQ_IN), qr = explain_effective(in, EXQ_REPLY);
	const struct fq_lookup *i = &in->q[qi], *r = &in->q[qr];
	const char *iif = VALUE_NAME_SHOWN(in->flow.iif);
	char gw[INET6_ADDRSTRLEN + 8] = "", t[16], a[INET6_ADDRSTRLEN];

	memset(v, 0, sizeof(*v));
	if (!ex_answered(in, qi)) {
		snprintf(v->reason, sizeof(v->reason), "the arriving packet was not looked up");
		return;
	}
	if (i->error) {
		ex_verdict_inbound(in, i, r, v);
		return;
	}
	if (!ex_forward(in) && i->type != RTN_LOCAL) {
		snprintf(v->reason, sizeof(v->reason),
			 "%s is not an address of this host (the packet would be forwarded through %s); "
			 "for a port-forward give --forward-to",
			 rr_addr_str(&in->flow.to, a, sizeof(a)), i->oif[0] ? VALUE_NAME_SHOWN(i->oif) : "?");
		return;
	}
	if (ex_forward(in) && i->type != RTN_UNICAST) {
		snprintf(v->reason, sizeof(v->reason), "the packet arriving on %s is not forwarded", iif);
		return;
	}
	if (!ex_answered(in, qr) || r->error) {
		snprintf(v->reason, sizeof(v->reason), "the reply has no route%s%s",
			 ex_answered(in, qr) ? ": " : "",
			 ex_answered(in, qr) ? strerror(-r->error) : "");
		return;
	}
	rw_table_name(r->table, t, sizeof(t));
	if (strcmp(r->oif, in->flow.iif)) {
		snprintf(v->reason, sizeof(v->reason),
			 "the reply leaves through %s (table %s), not %s%s",
			 VALUE_NAME_SHOWN(r->oif), t, iif, ex_mark_note(in));
		return;
	}
	if (r->gw.family)
		snprintf(gw, sizeof(gw), " via %s", rr_addr_str(&r->gw, a, sizeof(a)));
	v->symmetric = true;
	snprintf(v->reason, sizeof(v->reason),
		 "the packet arriving on %s is accepted and the reply leaves through %s%s (table %s)",
		 iif, iif, gw, t);
}
