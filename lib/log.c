/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_max_level = 6;
static bool log_prefix = true;

/*
 * Warnings and errors seen lately: past LOG_BURST prints of the same message
 * within LOG_WINDOW_USEC, it is counted, not printed; the count is said with
 * the next print of that message after the window.
 */
#define LOG_RECENT 8
#define LOG_BURST 5
#define LOG_WINDOW_USEC (60 * 1000000ULL)

static struct {
	char text[1024];
	int level;
	uint64_t printed; /* start of the window */
	unsigned burst;   /* prints in this window */
	unsigned suppressed;
} log_recent[LOG_RECENT];
static unsigned log_next;

void log_init(void)
{
	log_prefix = getenv("JOURNAL_STREAM") || !isatty(STDERR_FILENO);
}

static uint64_t log_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void log_write(int level, const char *s)
{
	if (log_prefix)
		fprintf(stderr, "<%d>%s\n", level, s);
	else
		fprintf(stderr, "replyrouted: %s\n", s);
}

/* true: suppress this one; *ret_repeats: how many were suppressed before it. */
static bool log_seen(int level, const char *s, unsigned *ret_repeats)
{
	uint64_t now = log_now();

	*ret_repeats = 0;
	for (unsigned i = 0; i < LOG_RECENT; i++) {
		if (log_recent[i].level != level || strncmp(log_recent[i].text, s,
							    sizeof(log_recent[i].text)) != 0)
			continue;
		if (now - log_recent[i].printed < LOG_WINDOW_USEC) {
			if (log_recent[i].burst < LOG_BURST) {
				log_recent[i].burst++;
				return false;
			}
			log_recent[i].suppressed++;
			return true;
		}
		*ret_repeats = log_recent[i].suppressed;
		log_recent[i].suppressed = 0;
		log_recent[i].burst = 1;
		log_recent[i].printed = now;
		return false;
	}
	snprintf(log_recent[log_next].text, sizeof(log_recent[log_next].text), "%s", s);
	log_recent[log_next].level = level;
	log_recent[log_next].printed = now;
	log_recent[log_next].burst = 1;
	log_recent[log_next].suppressed = 0;
	log_next = (log_next + 1) % LOG_RECENT;
	return false;
}

void log_msgv(int level, const char *fmt, va_list ap)
{
	char buf[1024], line[1100];
	unsigned repeats = 0;

	if (level > log_max_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* A storm or a failure that repeats on every retry: counted, not repeated. */
	if (level <= 4 && log_seen(level, buf, &repeats))
		return;
	if (repeats) {
		snprintf(line, sizeof(line), "%s (and %u more time%s in the last minute)", buf,
			 repeats, repeats == 1 ? "" : "s");
		log_write(level, line);
		return;
	}
	log_write(level, buf);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_msgv(level, fmt, ap);
	va_end(ap);
}

const char *log_errno(int r)
{
	static char buf[160];
	const char *what = NULL;

	switch (-r) {
	case EPERM:
		what = "EPERM: needs CAP_NET_ADMIN in this network namespace";
		break;
	case EACCES:
		what = "EACCES: needs CAP_NET_ADMIN and a writable /proc/sys/net";
		break;
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		what = "the kernel lacks nf_tables or policy routing";
		break;
	}
	snprintf(buf, sizeof(buf), what ? "%s (%s)" : "%s", strerror(-r), what);
	return buf;
}
