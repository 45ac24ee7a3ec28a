/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Who is behind a netlink port: the kernel binds a socket to the process's
 * pid when it can, libnl to pid + (n << 22). Best effort and only for
 * messages: the process may be gone already (an `ip route del` is).
 */

#include <stddef.h>
#include <stdint.h>

/* "NAME[PID]", or "netlink port N" when no such process is found. */
void peer_describe(uint32_t port, char *buf, size_t len);
