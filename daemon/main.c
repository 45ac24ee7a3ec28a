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

#include "config.h"
#include "daemon.h"
#include "engine.h"
#include "log.h"
#include "rr-build.h"

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
		"  -v, --verbose      log debug messages\n"
		"  -h, --help         show this help\n"
		"      --version      show the version\n\n"
		"Without a mode option it runs as a daemon (see replyroute.service).\n"
		"Exit status: 0 success, 1 failure, 2 usage error, %d another instance is running,\n"
		"%d invalid config.\n",
		RR_EXIT_RUNNING, RR_EXIT_CONFIG);
}

static const char *statedir(void)
{
	const char *d = getenv("RUNTIME_DIRECTORY");

	/* systemd may list several directories separated by ':'; ours is the only one. */
	return d && *d && !strchr(d, ':') ? d : "/run/replyroute";
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
	enum { OPT_CHECK = 256, OPT_DRY_RUN, OPT_ONCE, OPT_CLEANUP, OPT_VERSION };
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, OPT_CHECK},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"once", no_argument, NULL, OPT_ONCE},
		{"cleanup", no_argument, NULL, OPT_CLEANUP},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	const char *path = RR_DEFAULT_CONFIG;
	struct rr_config *config = NULL;
	struct rr_engine *engine = NULL;
	int mode = 0, verbose = 0, lock_fd = -1, opt, r;

	while ((opt = getopt_long(argc, argv, "c:vh", options, NULL)) != -1) {
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
		case OPT_CHECK:
		case OPT_DRY_RUN:
		case OPT_ONCE:
		case OPT_CLEANUP:
			if (mode && mode != opt) {
				fprintf(stderr, "replyrouted: --check, --dry-run, --once and --cleanup "
						"exclude each other\n");
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
	if (r < 0 && mode != OPT_CLEANUP)
		return RR_EXIT_CONFIG;
	if (mode == OPT_CHECK) {
		if (verbose)
			config_print(config, stdout);
		config_free(config);
		return 0;
	}
	if (r < 0)
		log_warning("%s is not valid: cleaning up by protocol tag alone", path);

	/* --dry-run changes nothing: it runs beside a daemon. */
	if (mode != OPT_DRY_RUN) {
		lock_fd = lock_instance(statedir());
		if (lock_fd < 0) {
			config_free(config);
			return lock_fd == -1 ? RR_EXIT_RUNNING : RR_EXIT_FAILURE;
		}
	}
	r = engine_new(statedir(), NULL, &engine);
	if (r < 0) {
		log_error("cannot open netlink, nftables or the state directory %s: %s", statedir(),
			  log_errno(r));
		config_free(config);
		return RR_EXIT_FAILURE;
	}
	engine_set_config(engine, config);

	switch (mode) {
	case OPT_DRY_RUN:
		r = engine_dry_run(engine, stdout);
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
	return r < 0 ? RR_EXIT_FAILURE : 0;
}
