/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "explain.h"
#include "log.h"
#include "rr-build.h"
#include "value.h"

bool cli_has(int argc, char **argv, const char *mode)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], mode))
			return true;
	}
	return false;
}

__attribute__((format(printf, 1, 2))) static int cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "replyrouted: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return RR_EXIT_USAGE;
}

#define CLI_EXPLAIN_USAGE                                                                   \
	"Usage: replyrouted --explain --from ADDR --to ADDR [--iif IF] [--proto tcp|udp|icmp]\n" \
	"                   [--sport N] [--dport N] [--forward-to ADDR] [-j] [-c FILE]\n"         \
	"The kernel's routing of a connection from ADDR to the host's ADDR and of its reply,\n"  \
	"with and without the arriving interface's mark, and whether it is symmetric.\n"
#define CLI_AUDIT_USAGE                                                                \
	"Usage: replyrouted --audit [-j] [-c FILE]\n"                                       \
	"Warn about what on this host works against replyroute, each with its fix.\n"       \
	"Exit status: 0 no warnings, 4 warnings, 1 failure, 78 invalid config.\n"

static int cli_help(const char *text)
{
	fputs(text, stdout);
	return 0;
}

/* The config, or NULL when there is none to read: these commands work without one. */
static struct rr_config *cli_config(const char *path)
{
	struct rr_config *c = NULL;

	if (daemon_load_config(path, &c, NULL, 0) < 0)
		log_warning("%s not loaded: going on without replyroute's config", path);
	return c;
}

static int cli_port(const char *s, uint16_t *ret)
{
	uint32_t v;

	if (value_parse_u32(s, &v) < 0 || v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

static int cli_proto(const char *s, uint8_t *ret)
{
	if (!strcmp(s, "tcp"))
		*ret = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*ret = IPPROTO_UDP;
	else if (!strcmp(s, "icmp"))
		*ret = IPPROTO_ICMP;
	else
		return -EINVAL;
	return 0;
}

/* The flow's addresses: given, one family, icmp as the family names it. */
static int cli_flow_check(struct explain_flow *f)
{
	if (!f->from.family || !f->to.family)
		return cli_usage("--explain needs --from ADDR and --to ADDR");
	if (f->from.family != f->to.family ||
	    (f->forward_to.family && f->forward_to.family != f->from.family))
		return cli_usage("--explain: the addresses are not all of one family");
	f->family = f->from.family;
	if (f->ipproto == IPPROTO_ICMP && f->family == AF_INET6)
		f->ipproto = IPPROTO_ICMPV6;
	if ((f->sport || f->dport) && f->ipproto != IPPROTO_TCP && f->ipproto != IPPROTO_UDP)
		return cli_usage("--sport and --dport need --proto tcp or udp");
	return 0;
}

int cli_explain(int argc, char **argv)
{
	enum { O_EXPLAIN = 256, O_FROM, O_TO, O_IIF, O_PROTO, O_SPORT, O_DPORT, O_FWD };
	static const struct option options[] = {
		{"explain", no_argument, NULL, O_EXPLAIN}, {"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},	   {"verbose", no_argument, NULL, 'v'},
		{"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
		{"iif", required_argument, NULL, O_IIF},   {"proto", required_argument, NULL, O_PROTO},
		{"sport", required_argument, NULL, O_SPORT},
		{"dport", required_argument, NULL, O_DPORT},
		{"forward-to", required_argument, NULL, O_FWD},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct explain_flow f = {0};
	const char *path = RR_DEFAULT_CONFIG;
	struct rr_config *c;
	bool json = false;
	char err[256] = "";
	int opt, r = 0;

	while ((opt = getopt_long(argc, argv, "c:jvh", options, NULL)) != -1 && r == 0) {
		switch (opt) {
		case O_EXPLAIN: break;
		case 'h': return cli_help(CLI_EXPLAIN_USAGE);
		case 'c': path = optarg; break;
		case 'j': json = true; break;
		case 'v': log_max_level = 7; break;
		case O_FROM: r = rr_addr_parse(optarg, &f.from); break;
		case O_TO: r = rr_addr_parse(optarg, &f.to); break;
		case O_FWD: r = rr_addr_parse(optarg, &f.forward_to); break;
		case O_IIF:
			r = value_ifname_kernel_invalid(optarg) ? -EINVAL : 0;
			snprintf(f.iif, sizeof(f.iif), "%s", optarg);
			break;
		case O_PROTO: r = cli_proto(optarg, &f.ipproto); break;
		case O_SPORT: r = cli_port(optarg, &f.sport); break;
		case O_DPORT: r = cli_port(optarg, &f.dport); break;
		default: return RR_EXIT_USAGE;
		}
	}
	if (r < 0)
		return cli_usage("--explain: invalid value '%s'", optarg);
	if (optind < argc)
		return cli_usage("unexpected argument '%s'", argv[optind]);
	if ((r = cli_flow_check(&f)) != 0)
		return r;
	c = cli_config(path);
	r = explain_run(c, &f, json, stdout, err, sizeof(err));
	config_free(c);
	if (r < 0) {
		log_error("--explain: %s", err);
		return r == -EINVAL ? RR_EXIT_USAGE : RR_EXIT_FAILURE;
	}
	return 0;
}

int cli_audit(int argc, char **argv)
{
	enum { O_AUDIT = 256 };
	static const struct option options[] = {
		{"audit", no_argument, NULL, O_AUDIT}, {"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},      {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *path = RR_DEFAULT_CONFIG;
	struct audit_report rep;
	struct rr_config *c;
	bool json = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "c:jvh", options, NULL)) != -1) {
		switch (opt) {
		case O_AUDIT: break;
		case 'h': return cli_help(CLI_AUDIT_USAGE);
		case 'c': path = optarg; break;
		case 'j': json = true; break;
		case 'v': log_max_level = 7; break;
		default: return RR_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage("unexpected argument '%s'", argv[optind]);
	if (daemon_load_config(path, &c, NULL, 0) < 0)
		return RR_EXIT_CONFIG;
	if ((r = audit_run(c, &rep)) < 0) {
		log_error("--audit: cannot read the kernel state: %s", strerror(-r));
		config_free(c);
		return RR_EXIT_FAILURE;
	}
	audit_print(&rep, json, stdout);
	r = rep.n ? RR_EXIT_WARNINGS : 0;
	audit_report_free(&rep);
	config_free(c);
	return r;
}

void cli_audit_log(const struct rr_config *c)
{
	struct audit_report rep;
	int r = audit_run(c, &rep);

	if (r < 0) {
		log_warning("audit: cannot read the kernel state: %s", strerror(-r));
		return;
	}
	for (size_t i = 0; i < rep.n; i++)
		log_warning("audit: %s: %s: %s; fix: %s", rep.w[i].check, rep.w[i].subject,
			    rep.w[i].message, rep.w[i].fix);
	audit_report_free(&rep);
}
