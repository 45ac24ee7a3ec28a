/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stddef.h>

/*
 * Small text files read whole: the config and iproute2's table names. Only
 * regular files: a FIFO would block the reader until someone writes to it,
 * /dev/zero never ends. Linux has no errno for "not a regular file"; this one
 * ("wrong medium type") is otherwise never returned by open(), fstat() or
 * read() on these paths.
 */
#define RRFILE_NOT_REGULAR EMEDIUMTYPE

/*
 * The file at path into *ret (NUL-terminated, for convenience) and its length
 * into *ret_len. 0; -RRFILE_NOT_REGULAR for anything but a regular file
 * (-EISDIR for a directory); -EFBIG when it holds more than max bytes;
 * otherwise open()'s or read()'s negative errno. *ret is only set on success.
 */
int rrfile_read(const char *path, size_t max, char **ret, size_t *ret_len);

/* What an error of rrfile_read() means, for "PATH: message". */
const char *rrfile_strerror(int r);
