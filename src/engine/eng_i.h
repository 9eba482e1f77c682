/*
 * eng_i.h - private to src/engine.
 */
#ifndef AZBLOBFS_ENG_I_H
#define AZBLOBFS_ENG_I_H

#include "azblobfs/engine.h"

#include <pthread.h>

#define POOL_SLOTS 64

struct eng {
	struct eng_config cfg;
	struct net *net;
	const struct az_client *az;
	uint64_t budget_used; /* atomic */
	pthread_mutex_t pool_lock;
	struct {
		void *p;
		size_t size;
	} pool[POOL_SLOTS];   /* protected by pool_lock: free buffers */
	unsigned npool;       /* protected by pool_lock */
	uint64_t pool_bytes;  /* protected by pool_lock */
};

/* Log a failed request once: "OP 'NAME': message". */
void eng_log_failure(const char *op, const char *container, const char *name, int err,
		     const struct az_error *azerr);

/* @res for a write of @size bytes that @m (a 2xx answer) committed. */
void eng_commit_fill(struct eng_commit_result *res, const struct http_msg *m, uint64_t size);

#endif
