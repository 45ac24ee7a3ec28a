/* SPDX-License-Identifier: MIT */
#pragma once

/* One rule or route change, as the back ends take them in a batch. */

#include "view.h"

enum rr_nl_verb {
	RR_RULE_ADD,
	RR_RULE_DEL,
	RR_ROUTE_ADD,
	RR_ROUTE_REPLACE,
	RR_ROUTE_DEL,
};

struct rr_nl_op {
	enum rr_nl_verb verb;
	const struct rr_rule *rule;   /* RR_RULE_* */
	const struct rr_route *route; /* RR_ROUTE_* */
	int result;                   /* 0 or the kernel's negative errno */
};
