/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <systemd/sd-daemon.h>

/*
 * One line per message on stderr. Under systemd (JOURNAL_STREAM set) or when
 * stderr is not a terminal, lines carry the sd-daemon "<N>" priority prefix
 * so that journald keeps the level.
 */
extern int log_max_level; /* LOG_INFO by default, LOG_DEBUG with -v */

void log_init(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_msgv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_debug(...) log_msg(7, __VA_ARGS__)
#define log_info(...) log_msg(6, __VA_ARGS__)
#define log_notice(...) log_msg(5, __VA_ARGS__)
#define log_warning(...) log_msg(4, __VA_ARGS__)
#define log_error(...) log_msg(3, __VA_ARGS__)

/*
 * strerror(-r) with what it means for replyrouted where that is known
 * ("Operation not permitted (EPERM: needs CAP_NET_ADMIN)"). The text lives
 * until the next call.
 */
const char *log_errno(int r);
