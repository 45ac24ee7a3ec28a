/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "engine.h"
#include "log.h"
#include "rr-build.h"
#include "status.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: replyrouted [OPTIONS]\n"
		"Keep replies on the interface their connection arrived on.\n\n"
		"  -c, --config FILE  config file (default " RR_DEFAULT_CONFIG ")\n"
		"      --check        validate the config and exit (-v: print it normalised)\n"
		"      --dry-run      read the kernel, change nothing, print what would be installed\n"
		"      --once         reconcile once and exit\n"
		"      --cleanup      remove everything replyroute installed and exit\n"
		"      --explain --from ADDR --to ADDR [--iif IF] [--proto tcp|udp|icmp]\n"
		"                [--sport N] [--dport N] [--forward-to ADDR] [-j]\n"
		"                     the kernel's routing of that flow and its reply, and a verdict\n"
		"      --audit [-j]   warn about what works against replyroute on this host\n"
		"      --status       show the daemon's and the kernel's state, change nothing\n"
		"      --format FMT   --status output: human (default), json or prometheus\n"
		"  -j, --json         --format=json\n"
		"  -v, --verbose      log debug messages\n"
		"  -h, --help         show this help\n"
		"      --version      show the version\n\n"
		"Drop-ins: FILE.d/*.conf and generated ones in $RUNTIME_DIRECTORY/NAME.d/*.conf\n"
		"(/run/replyroute/NAME.d), read after FILE in file name order; see replyroute.conf(5).\n"
		"Without a mode option it runs as a daemon (see replyroute.service).\n"
		"Exit status: 0 success, 1 failure, 2 usage error, %d another instance is running,\n"
		"%d --audit found warnings, %d invalid config.\n",
		RR_EXIT_RUNNING, RR_EXIT_WARNINGS, RR_EXIT_CONFIG);
}

/*
 * One instance per runtime directory: the daemon, --once and --cleanup change
 * the kernel, and two of them would fight (or one's stop would undo the
 * other's sysctls). The lock goes with the process, however it ends.
 * Returns the fd to keep open, or -1 when another instance holds it.
 */
static int lock_instance(const char *dir)
{
	char path[4096], pid[32] = "";
	int fd;
	ssize_t n;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", dir, strerror(errno));
		return -2;
	}
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return -2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (err == EWOULDBLOCK)
			log_error("another replyrouted is running (pid %s, lock %s): not starting",
				  pid[0] ? pid : "unknown", path);
		else
			log_error("cannot lock %s: %s", path, strerror(err));
		close(fd);
		return err == EWOULDBLOCK ? -1 : -2;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_debug("cannot write the pid to %s", path);
	return fd;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_DRY_RUN, OPT_ONCE, OPT_CLEANUP, OPT_VERSION, OPT_STATUS,
	       OPT_FORMAT };
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, OPT_CHECK},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"once", no_argument, NULL, OPT_ONCE},
		{"cleanup", no_argument, NULL, OPT_CLEANUP},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"status", no_argument, NULL, OPT_STATUS},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"json", no_argument, NULL, 'j'},
		{0},
	};
	const char *path = RR_DEFAULT_CONFIG, *statedir = config_runtime_dir();
	struct rr_config *config = NULL;
	struct rr_engine *engine = NULL;
	enum status_format format = STATUS_HUMAN;
	int mode = 0, verbose = 0, lock_fd = -1, opt, r;

	/* Read-only commands with options of their own (cli.c). */
	if (cli_has(argc, argv, "--explain") || cli_has(argc, argv, "--audit")) {
		log_init();
		return cli_has(argc, argv, "--explain") ? cli_explain(argc, argv) :
							  cli_audit(argc, argv);
	}
	while ((opt = getopt_long(argc, argv, "c:vhj", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("replyrouted " RR_VERSION "\n");
			return 0;
		case 'j':
			format = STATUS_JSON;
			break;
		case OPT_FORMAT:
			if (status_format_parse(optarg, &format) < 0) {
				fprintf(stderr, "replyrouted: --format: human, json or prometheus\n");
				return RR_EXIT_USAGE;
			}
			break;
		case OPT_CHECK:
		case OPT_DRY_RUN:
		case OPT_ONCE:
		case OPT_CLEANUP:
		case OPT_STATUS:
			if (mode && mode != opt) {
				fprintf(stderr, "replyrouted: --check, --dry-run, --once, --cleanup and "
						"--status exclude each other\n");
				return RR_EXIT_USAGE;
			}
			mode = opt;
			break;
		default:
			usage(stderr);
			return RR_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "replyrouted: unexpected argument '%s'\n", argv[optind]);
		return RR_EXIT_USAGE;
	}
	log_init();
	if (verbose)
		log_max_level = 7;

	r = daemon_load_config(path, &config, NULL, 0);
	/* --status still shows the daemon, which runs the config it loaded last. */
	if (r < 0 && mode != OPT_CLEANUP && mode != OPT_STATUS)
		return RR_EXIT_CONFIG;
	if (mode == OPT_CHECK) {
		if (verbose)
			config_print(config, stdout);
		config_free(config);
		return 0;
	}
	if (r < 0 && mode == OPT_CLEANUP)
		log_warning("%s is not valid: cleaning up by protocol tag alone", path);

	/* --dry-run and --status change nothing: they run beside a daemon. */
	if (mode == OPT_STATUS && !verbose)
		log_max_level = 4; /* the engine's notes (a table allocated) are not news here */
	if (mode != OPT_DRY_RUN && mode != OPT_STATUS) {
		lock_fd = lock_instance(statedir);
		if (lock_fd < 0) {
			config_free(config);
			return lock_fd == -1 ? RR_EXIT_RUNNING : RR_EXIT_FAILURE;
		}
	}
	r = engine_new(statedir, NULL, &engine);
	if (r < 0) {
		log_error("cannot open netlink, nftables or the state directory %s: %s", statedir,
			  log_errno(r));
		config_free(config);
		return RR_EXIT_FAILURE;
	}
	engine_set_config(engine, config);

	switch (mode) {
	case OPT_DRY_RUN:
		r = engine_dry_run(engine, stdout);
		break;
	case OPT_STATUS:
		r = status_run(engine, path, format, stdout);
		break;
	case OPT_ONCE:
		r = engine_reconcile(engine, RR_DIRTY_ALL);
		if (r >= 0)
			log_info("%s", engine_status(engine));
		break;
	case OPT_CLEANUP:
		r = engine_cleanup(engine);
		break;
	default:
		r = daemon_run(engine, path);
		break;
	}
	engine_free(engine);
	if (lock_fd >= 0)
		close(lock_fd);
	if (r < 0)
		return RR_EXIT_FAILURE;
	/* --status printed what it could; the exit status says the config is not valid. */
	return mode == OPT_STATUS && !config ? RR_EXIT_CONFIG : 0;
}
