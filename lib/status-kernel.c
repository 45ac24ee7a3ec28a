/* SPDX-License-Identifier: MIT */
/*
 * --status against the real system: the probe (state file, the instance
 * lock's holder as /proc/locks shows it, /proc/sys, the nft counters) and the
 * command itself. Nothing here takes the lock or writes: it runs beside a
 * daemon without disturbing it.
 */
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "log.h"
#include "nft.h"
#include "sysctl.h"

struct kernel_probe {
	char *dir;
	struct rr_nft *nft;
};

static int kp_state(void *data, struct statefile *ret)
{
	return statefile_read(((struct kernel_probe *)data)->dir, ret);
}

/*
 * The pid holding the flock on DIR/lock, from /proc/locks: asking flock()
 * would take the lock for a moment, and a daemon starting then would think
 * another one runs.
 */
static int kp_lock_holder(void *data)
{
	struct kernel_probe *kp = data;
	char path[PATH_MAX], line[256], dev[32];
	struct stat st;
	int pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/lock", kp->dir);
	if (stat(path, &st) < 0 || !(f = fopen("/proc/locks", "re")))
		return 0;
	snprintf(dev, sizeof(dev), "%02x:%02x:%ju", major(st.st_dev), minor(st.st_dev),
		 (uintmax_t)st.st_ino);
	while (!pid && fgets(line, sizeof(line), f)) {
		char type[16], id[16], where[64];
		int p;

		/* "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"; waiters have "->". */
		if (sscanf(line, "%15s %15s %*s %*s %d %63s", id, type, &p, where) == 4 &&
		    !strcmp(type, "FLOCK") && !strcmp(where, dev) && p > 0)
			pid = p;
	}
	fclose(f);
	return pid;
}

static int kp_sysctl(void *data, const char *ifname, const char *key, int *ret)
{
	return sysctl_get_conf(ifname, key, ret);
}

static int kp_counters(void *data, char **ret)
{
	struct kernel_probe *kp = data;

	*ret = NULL;
	if (!kp->nft && nft_open(&kp->nft) < 0)
		return -ENOMEM;
	return nft_list_counters(kp->nft, ret);
}

static uint64_t kp_now(void *data)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

int status_probe_kernel(const char *dir, struct status_probe *ret)
{
	struct kernel_probe *kp = calloc(1, sizeof(*kp));

	if (!kp || !(kp->dir = strdup(dir))) {
		free(kp);
		return -ENOMEM;
	}
	*ret = (struct status_probe){
		.state = kp_state,
		.lock_holder = kp_lock_holder,
		.sysctl = kp_sysctl,
		.counters = kp_counters,
		.now = kp_now,
		.data = kp,
	};
	return 0;
}

void status_probe_close(struct status_probe *p)
{
	struct kernel_probe *kp = p->data;

	if (!kp)
		return;
	nft_close(kp->nft);
	free(kp->dir);
	free(kp);
	p->data = NULL;
}

int status_run(struct rr_engine *e, const char *config_path, enum status_format f, FILE *out)
{
	struct status_probe probe;
	struct status st;
	int r;

	if ((r = status_probe_kernel(engine_statedir(e), &probe)) < 0)
		return r;
	r = status_gather(&st, config_path, engine_config(e), e, &probe);
	if (r < 0)
		log_error("reading the kernel state: %s", strerror(-r));
	else
		status_print(&st, f, out);
	status_clear(&st);
	status_probe_close(&probe);
	return r;
}
