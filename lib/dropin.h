/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdio.h>

/*
 * The drop-in files of a config, systemd's way: every "*.conf" (not starting
 * with '.') in dirs[0..n_dirs), highest precedence first. A file name found
 * in several directories is taken from the first one only; a file that is a
 * symlink to /dev/null masks that name (it is left out, and so is the same
 * name in the directories after it). The result is sorted by file name,
 * whatever the directory: the order the files are read in, a later file
 * overriding an earlier one.
 *
 * A directory that does not exist has no drop-ins. 0 and *ret (paths, *ret_n
 * of them; free with dropin_free()), or a negative errno with "DIR: why"
 * written to err (may be NULL).
 */
int dropin_list(const char *const *dirs, size_t n_dirs, FILE *err, char ***ret, size_t *ret_n);
void dropin_free(char **v, size_t n);
