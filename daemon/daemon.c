/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "kroute.h"
#include "log.h"
#include "peer.h"
#include "rr-build.h"
#include "retry.h"

#define RCVBUF_DEFAULT (8 * 1024 * 1024)
#define DRIFT_CHECK_USEC (30 * 1000 * 1000ULL)

struct daemon {
	struct rr_engine *engine;
	const char *config_path;
	sd_event *event;
	struct nl_sock *rtnl, *nfnl;
	sd_event_source *reconcile_src, *retry_src, *tick_src, *hold_src;
	uint64_t tick_usec;       /* watchdog period / 2, or the drift check's own period */
	bool watchdog;
	unsigned dirty;
	struct rr_events events; /* classifies the notifications */
	uint64_t retry_usec;
	char status[4096];
	char reload_error[512]; /* the last rejected reload's first error, until one succeeds */
	int exit_code;
	/* The state file for --status (statefile.h): written when its text changes. */
	uint64_t started, reload_time, config_hash; /* CLOCK_REALTIME usec; statefile_config_hash() */
	char *published;
	bool publish_failed;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * The state file, rewritten only when its text changed: it holds nothing that
 * moves by itself, so a reconcile that changed nothing writes nothing.
 */
static void daemon_publish(struct daemon *d)
{
	struct statefile s = {
		.pid = (int)getpid(),
		.started = d->started,
		.config_hash = d->config_hash,
		.reload_time = d->reload_time,
		.reload_failed = d->reload_error[0] != '\0',
	};
	char *text = NULL;
	int r;

	snprintf(s.reload_error, sizeof(s.reload_error), "%s", d->reload_error);
	r = engine_state(d->engine, &s);
	if (r >= 0)
		r = statefile_format(&s, &text);
	statefile_clear(&s);
	if (r >= 0 && d->published && !strcmp(text, d->published)) {
		free(text);
		return;
	}
	if (r >= 0)
		r = statefile_write_text(engine_statedir(d->engine), text);
	if (r < 0) {
		if (!d->publish_failed)
			log_warning("cannot write the state file %s/" STATEFILE_NAME " for --status: %s",
				    engine_statedir(d->engine), strerror(-r));
		d->publish_failed = true;
		free(text);
		return;
	}
	d->publish_failed = false;
	free(d->published);
	d->published = text;
}

/* The table's ownership, for STATUS (nothing while nothing is configured). */
static const char *daemon_nft_clause(struct daemon *d)
{
	const struct rr_config *c = engine_config(d->engine);

	if (!c || c->n_ifaces == 0)
		return "";
	return engine_nft_owned(d->engine) ? "; nft table owned" : "; nft table not owned";
}

/* STATUS: the interfaces, after the last rejected reload's error while it stands. */
static bool daemon_status_compose(struct daemon *d)
{
	char s[sizeof(d->status)];

	if (d->reload_error[0])
		snprintf(s, sizeof(s), "reload failed: %.500s; running: %.3500s%s", d->reload_error,
			 engine_status(d->engine), daemon_nft_clause(d));
	else
		snprintf(s, sizeof(s), "%s%s", engine_status(d->engine), daemon_nft_clause(d));
	if (strcmp(s, d->status) == 0)
		return false;
	memcpy(d->status, s, sizeof(s));
	return true;
}

static void daemon_status(struct daemon *d)
{
	daemon_publish(d);
	if (!daemon_status_compose(d))
		return;
	sd_notifyf(0, "STATUS=%s", d->status);
	log_debug("status: %s", d->status);
}

/* READY=1 and the current STATUS in one message. */
static void daemon_ready(struct daemon *d)
{
	daemon_status_compose(d);
	daemon_publish(d);
	sd_notifyf(0, "READY=1\nSTATUS=%s", d->status);
}

/* Reconcile at the end of this burst of events. */
static void daemon_schedule(struct daemon *d, unsigned dirty)
{
	d->dirty |= dirty;
	sd_event_source_set_enabled(d->reconcile_src, SD_EVENT_ONESHOT);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	/* The engine kept everything that failed pending. */
	daemon_schedule(userdata, 0);
	return 0;
}

/*
 * Every reconcile goes through here, and so does the one decision about
 * retrying: after a failure the retry timer runs until a reconcile succeeds
 * (the engine keeps the failed work pending, so any later success has done it).
 */
static int daemon_reconcile(struct daemon *d, unsigned dirty)
{
	uint64_t t0, t1, hold;
	int r;

	/* From the loop's wake-up: reading the notifications counts too. */
	sd_event_now(d->event, CLOCK_MONOTONIC, &t0);
	r = engine_reconcile(d->engine, dirty);
	/*
	 * A large reconcile's working memory (dumps, the plan, nft's parse of a
	 * big table) goes back to the system; not after each small one, whose
	 * pages would only be faulted in again by the next.
	 */
	if (r > 32)
		malloc_trim(0);
	t1 = now_usec();
	log_debug("reconcile (dirty %#x): %d change(s) in %llu us", dirty, r,
		  (unsigned long long)(t1 - t0));
	/* Re-adds held back after repeated removals by someone else: come back for them. */
	hold = engine_hold_until(d->engine);
	if (hold) {
		sd_event_source_set_time(d->hold_src, hold);
		sd_event_source_set_enabled(d->hold_src, SD_EVENT_ONESHOT);
	}
	if (r >= 0) {
		d->retry_usec = 0;
		sd_event_source_set_enabled(d->retry_src, SD_EVENT_OFF);
		return r;
	}
	d->retry_usec = retry_next(d->retry_usec, r);
	log_msg(r == -EINTR || retry_stale_view(r) ? 7 : 4, "reconcile failed (%s), retrying in %llu ms",
		strerror(-r), (unsigned long long)(d->retry_usec / 1000));
	sd_event_source_set_time_relative(d->retry_src, d->retry_usec);
	sd_event_source_set_enabled(d->retry_src, SD_EVENT_ONESHOT);
	return r;
}

/*
 * The watchdog tick, and on it a look at src_valid_mark: nothing notifies a
 * sysctl change (a late systemd-sysctl, udev, an admin), so drift is caught
 * here without a wake-up of its own. Without a watchdog the same tick runs
 * every DRIFT_CHECK_USEC, with a wide accuracy so that it coalesces.
 */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	if (d->watchdog)
		sd_notify(0, "WATCHDOG=1");
	daemon_schedule(d, RR_DIRTY_SYSCTL);
	sd_event_source_set_time(s, usec + d->tick_usec);
	return 0;
}

static int daemon_tick_setup(struct daemon *d)
{
	uint64_t wd = 0, now;
	int r;

	d->watchdog = sd_watchdog_enabled(false, &wd) > 0 && wd > 0;
	d->tick_usec = d->watchdog && wd / 2 < DRIFT_CHECK_USEC ? wd / 2 : DRIFT_CHECK_USEC;
	if ((r = sd_event_now(d->event, CLOCK_MONOTONIC, &now)) < 0)
		return r;
	r = sd_event_add_time(d->event, &d->tick_src, CLOCK_MONOTONIC, now + d->tick_usec,
			      d->watchdog ? 0 : DRIFT_CHECK_USEC / 4, on_tick, d);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(d->tick_src, SD_EVENT_ON);
}

static int on_reconcile(sd_event_source *s, void *userdata)
{
	struct daemon *d = userdata;
	unsigned dirty = d->dirty;

	d->dirty = 0;
	daemon_reconcile(d, dirty);
	daemon_status(d);
	return 0;
}

/*
 * Only the kernel speaks for the kernel: a process with CAP_NET_ADMIN can send
 * to our multicast groups too, and what it says is nothing we may act on.
 */
static bool from_kernel(struct nl_msg *msg)
{
	const struct sockaddr_nl *src = nlmsg_get_src(msg);

	return src && src->nl_pid == 0;
}

static int rtnl_msg(struct nl_msg *msg, void *arg)
{
	struct daemon *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (!from_kernel(msg)) {
		log_debug("ignoring a netlink message from port %u", nlmsg_get_src(msg)->nl_pid);
		return NL_OK;
	}
	/* libnl has checked nlmsg_len against the datagram (nlmsg_ok) and copied that much. */
	d->dirty |= events_rtnl(&d->events, h, h->nlmsg_len);
	return NL_OK;
}

static int nfnl_msg(struct nl_msg *msg, void *arg)
{
	struct daemon *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (!from_kernel(msg))
		return NL_OK;
	d->dirty |= events_nfnl(&d->events, h, h->nlmsg_len);
	return NL_OK;
}

/* One of ours removed by another process: who it was, for the engine's count and log. */
static void daemon_removed(const struct rr_removal *rm, void *userdata)
{
	struct daemon *d = userdata;
	char who[64];

	peer_describe(rm->port, who, sizeof(who));
	engine_note_removal(d->engine, rm, who);
}

static bool daemon_link_relevant(int ifindex, void *userdata)
{
	struct daemon *d = userdata;

	return engine_link_relevant(d->engine, ifindex);
}

static bool daemon_table_relevant(uint32_t table, void *userdata)
{
	struct daemon *d = userdata;

	return engine_table_relevant(d->engine, table);
}

static uint64_t daemon_nft_commits(void *userdata)
{
	struct daemon *d = userdata;

	return engine_nft_commits(d->engine);
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	struct nl_sock *sk = nl_socket_get_fd(d->rtnl) == fd ? d->rtnl : d->nfnl;

	for (;;) {
		int r = nl_recvmsgs_default(sk);

		if (r >= 0)
			continue;
		if (r == -NLE_AGAIN)
			break;
		if (r == -NLE_NOMEM) {
			/* ENOBUFS: notifications were lost; only a full dump tells the truth. */
			log_warning("netlink receive buffer overrun, reading everything again");
			d->dirty |= RR_DIRTY_ALL;
			continue;
		}
		log_warning("netlink receive: %s, reading everything again", nl_geterror(r));
		d->dirty |= RR_DIRTY_ALL;
		break;
	}
	/* A reconcile only if a notification mattered (our own echoes do not). */
	if (d->dirty)
		daemon_schedule(d, 0);
	return 0;
}

static int socket_open(struct daemon *d, struct nl_sock **ret, int protocol, const int *groups,
		       nl_recvmsg_msg_cb_t cb)
{
	struct nl_sock *sk = nl_socket_alloc();
	const char *env = getenv("REPLYROUTE_RCVBUF");
	int rcvbuf = env ? atoi(env) : RCVBUF_DEFAULT;
	int r;

	if (!sk)
		return -ENOMEM;
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, d);
	if ((r = nl_connect(sk, protocol)) < 0)
		goto fail;
	for (; *groups; groups++)
		if ((r = nl_socket_add_membership(sk, *groups)) < 0)
			goto fail;
	if ((r = nl_socket_set_nonblocking(sk)) < 0)
		goto fail;
	/* FORCE: as root, past net.core.rmem_max; a burst must not overrun it. */
	if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		(void)setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	if ((r = sd_event_add_io(d->event, NULL, nl_socket_get_fd(sk), EPOLLIN, on_netlink, d)) <
	    0) {
		nl_socket_free(sk);
		return r;
	}
	*ret = sk;
	return 0;
fail:
	nl_socket_free(sk);
	return kr_errno(r);
}

int daemon_load_config(const char *path, struct rr_config **ret, char *first, size_t len)
{
	char *errors = NULL, *line, *save = NULL;
	size_t size = 0;
	FILE *err = open_memstream(&errors, &size);
	int r;

	if (!err)
		return -ENOMEM;
	r = config_load(path, NULL, err, ret);
	fclose(err);
	if (len)
		first[0] = '\0';
	/* Each message on its own line, at error level, so that journald keeps it. */
	for (line = strtok_r(errors, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (len && !first[0])
			snprintf(first, len, "%s", line);
		log_error("%s", line);
	}
	free(errors);
	return r;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct rr_config *c = NULL;
	int r;

	r = daemon_load_config(d->config_path, &c, d->reload_error, sizeof(d->reload_error));
	if (r < 0) {
		log_error("reload failed, keeping the running configuration");
		d->reload_time = realtime_usec();
		if (!d->reload_error[0])
			snprintf(d->reload_error, sizeof(d->reload_error), "%s", strerror(-r));
		daemon_ready(d);
		return 0;
	}
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now_usec());
	log_info("reloading %s", d->config_path);
	engine_set_config(d->engine, c);
	d->reload_error[0] = '\0';
	d->reload_time = realtime_usec();
	d->config_hash = statefile_config_hash(c);
	daemon_reconcile(d, RR_DIRTY_ALL | d->dirty);
	d->dirty = 0;
	daemon_ready(d);
	return 0;
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	sd_notify(0, "STOPPING=1");
	log_info("stopping on %s, removing what was installed", strsignal((int)si->ssi_signo));
	if (engine_cleanup(d->engine) < 0)
		d->exit_code = -EIO;
	(void)statefile_remove(engine_statedir(d->engine));
	return sd_event_exit(d->event, 0);
}

int daemon_run(struct rr_engine *e, const char *config_path)
{
	static const int rtnl_groups[] = {RTNLGRP_LINK,	       RTNLGRP_IPV4_IFADDR,
					  RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
					  RTNLGRP_IPV6_ROUTE,  RTNLGRP_IPV4_RULE,
					  RTNLGRP_IPV6_RULE,   0};
	static const int nfnl_groups[] = {NFNLGRP_NFTABLES, 0};
	struct daemon d = {
		.engine = e,
		.config_path = config_path,
		.started = realtime_usec(),
		.config_hash = statefile_config_hash(engine_config(e)),
	};
	sigset_t mask;
	int r;

	d.events = (struct rr_events){
		.own_port = engine_nl_port(e),
		.own_pid = (uint32_t)getpid(),
		.own_comm = program_invocation_short_name,
		.table_relevant = daemon_table_relevant,
		.link_relevant = daemon_link_relevant,
		.own_commits = daemon_nft_commits,
		.own_proto = RR_PROTO,
		.removed = daemon_removed,
		.userdata = &d,
	};

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if ((r = sd_event_default(&d.event)) < 0)
		goto out;
	/* Subscribe before the first dump so that nothing falls between them. */
	if ((r = socket_open(&d, &d.rtnl, NETLINK_ROUTE, rtnl_groups, rtnl_msg)) < 0 ||
	    (r = socket_open(&d, &d.nfnl, NETLINK_NETFILTER, nfnl_groups, nfnl_msg)) < 0) {
		log_error("cannot subscribe to netlink notifications: %s", log_errno(r));
		goto out;
	}
	if ((r = sd_event_add_defer(d.event, &d.reconcile_src, on_reconcile, &d)) < 0 ||
	    (r = sd_event_source_set_priority(d.reconcile_src, SD_EVENT_PRIORITY_IDLE)) < 0 ||
	    (r = sd_event_source_set_enabled(d.reconcile_src, SD_EVENT_OFF)) < 0 ||
	    (r = sd_event_add_time_relative(d.event, &d.retry_src, CLOCK_MONOTONIC, RETRY_MIN_USEC,
					    0, on_retry, &d)) < 0 ||
	    (r = sd_event_source_set_enabled(d.retry_src, SD_EVENT_OFF)) < 0 ||
	    (r = sd_event_add_time(d.event, &d.hold_src, CLOCK_MONOTONIC, 0, 0, on_retry, &d)) < 0 ||
	    (r = sd_event_source_set_enabled(d.hold_src, SD_EVENT_OFF)) < 0 ||
	    (r = sd_event_add_signal(d.event, NULL, SIGHUP, on_sighup, &d)) < 0 ||
	    (r = sd_event_add_signal(d.event, NULL, SIGTERM, on_stop, &d)) < 0 ||
	    (r = sd_event_add_signal(d.event, NULL, SIGINT, on_stop, &d)) < 0 ||
	    (r = daemon_tick_setup(&d)) < 0) {
		log_error("event loop setup: %s", strerror(-r));
		goto out;
	}

	/* The table lives as long as this process: a firewall's `flush ruleset` passes it by. */
	engine_nft_own(e);
	daemon_reconcile(&d, RR_DIRTY_ALL);
	daemon_ready(&d);
	log_info("ready: %s", engine_status(e));
	cli_audit_log(engine_config(e));
	malloc_trim(0); /* the audit read the whole nft ruleset and more: none of it stays */

	r = sd_event_loop(d.event);
	if (r >= 0)
		r = d.exit_code;
out:
	sd_event_source_unref(d.reconcile_src);
	sd_event_source_unref(d.retry_src);
	sd_event_source_unref(d.tick_src);
	sd_event_source_unref(d.hold_src);
	nl_socket_free(d.rtnl);
	nl_socket_free(d.nfnl);
	sd_event_unref(d.event);
	free(d.published);
	return r;
}
