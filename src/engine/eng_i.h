/*
 * eng_i.h - private to src/engine.
 */
#ifndef AZBLOBFS_ENG_I_H
#define AZBLOBFS_ENG_I_H

#include "azblobfs/engine.h"

struct eng {
	struct eng_config cfg;
	struct net *net;
	const struct az_client *az;
	uint64_t budget_used; /* atomic */
};

/* Log a failed request once: "OP 'NAME': message". */
void eng_log_failure(const char *op, const char *container, const char *name, int err,
		     const struct az_error *azerr);

#endif
