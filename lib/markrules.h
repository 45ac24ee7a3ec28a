/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * replyroute's mark rules, per family, from the interfaces that are active:
 *
 *   P-2    fwmark 0/K goto A          the gate: unmarked packets skip them all
 *   P-1    iif I fwmark M/K lookup main   per interface: the original direction
 *   P      fwmark M/K lookup T            of a forwarded connection by main,
 *                                          every reply by table T
 *   A      nop                         the anchor, A = P+1 (source rules after it)
 *
 * With more than MARKRULES_FLAT_MAX interfaces of one priority, a walk of one
 * rule per interface would cost every marked packet O(N): the per-interface
 * pairs then sit at the leaves of a binary tree of `fwmark BIT/BIT goto`
 * rules over the marks' bits, from P-1 upwards in depth-first order, and a
 * marked packet walks O(log N) rules. Source rules (priority UINT32_MAX when
 * handed in) are given the anchor's priority.
 */

#include "desired.h"

#define MARKRULES_FLAT_MAX 8

int markrules_add(struct rr_desired *d, const struct rr_config *c, uint8_t proto);
