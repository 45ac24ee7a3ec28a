/* SPDX-License-Identifier: MIT */
#include "peer.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The command name of pid, printable; false if there is no such process. */
static bool peer_comm(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	bool ok;

	if (pid == 0 || pid > 0x3fffff)
		return false;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (!(f = fopen(path, "re")))
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	/* A process names itself: nothing it chose reaches the log raw. */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return true;
}

void peer_describe(uint32_t port, char *buf, size_t len)
{
	char comm[32];
	uint32_t pid = port;

	if (!peer_comm(pid, comm, sizeof(comm))) {
		pid = port & 0x3fffff; /* libnl's second and later sockets */
		if (pid == port || !peer_comm(pid, comm, sizeof(comm))) {
			snprintf(buf, len, "netlink port %u", port);
			return;
		}
	}
	snprintf(buf, len, "%s[%u]", comm, pid);
}
