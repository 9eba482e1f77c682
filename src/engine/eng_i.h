/*
 * eng_i.h - private to src/engine.
 */
#ifndef AZBLOBFS_ENG_I_H
#define AZBLOBFS_ENG_I_H

#include "azblobfs/engine.h"

#include <pthread.h>

#define POOL_SLOTS 64

#define HIDDEN_LOGGED 256
#define ENG_NAME_MAX 255

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
	/* Names listed but not shown, already logged (eng_note_hidden). */
	uint64_t hidden[HIDDEN_LOGGED]; /* protected by pool_lock; 0 = empty slot */
	unsigned hidden_next;           /* protected by pool_lock */
};

/*
 * A listed name that the mount does not show (@why: "a component is over
 * 255 bytes", ...): logged once per mount, for the last HIDDEN_LOGGED
 * names. Any thread.
 */
void eng_note_hidden(struct eng *e, const char *container, const char *name, const char *why);
/* The first path component of @rel that no path can hold, or NULL: "", ".", "..", > 255 bytes. */
const char *eng_bad_component(const char *rel, size_t len);

/* Log a failed request once: "OP 'NAME': message". */
void eng_log_failure(const char *op, const char *container, const char *name, int err,
		     const struct az_error *azerr);

/* @res for a write of @size bytes that @m (a 2xx answer) committed. */
void eng_commit_fill(struct eng_commit_result *res, const struct http_msg *m, uint64_t size);

#endif
