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
/*
 * A writer waits for memory as long as memory keeps coming back; after
 * this long with none given back at all, it takes a buffer past the
 * budget anyway.
 */
#define BUDGET_WAIT_MS 500

/*
 * A writer waiting for memory: memory the budget gets back wakes it (its
 * @wake runs on the engine thread), and so does BUDGET_WAIT_MS passing
 * with nothing given back, after which it may go past the budget (a
 * program writing several files in turn may hold the memory it waits for
 * in a block it has not filled yet: waiting longer would never end).
 */
struct eng_budget_waiter {
	struct list_node node; /* on e->budget_waiters while queued */
	bool queued;           /* protected by pool_lock */
	uint64_t
	    since_ms; /* protected by pool_lock: since when nothing came back, 0 = not waiting */
	uint64_t gen; /* protected by pool_lock: e->release_gen then */
	void (*wake)(struct eng_budget_waiter *bw);
};

/*
 * No memory for @bw's next buffer: true when it is queued to wait (its
 * wake comes later), false when it has waited long enough and may force
 * the buffer past the budget. Any thread; the caller's lock may be held.
 */
bool eng_budget_wait(struct eng *e, struct eng_budget_waiter *bw);
/* @bw got its memory: its next wait starts afresh. */
void eng_budget_waited(struct eng *e, struct eng_budget_waiter *bw);
/* Take @bw off the queue; true when it was on it (its wake will not run). */
bool eng_budget_unwait(struct eng *e, struct eng_budget_waiter *bw);

struct eng {
	struct eng_config cfg;
	struct net *net;
	const struct az_client *az;
	uint64_t budget_used; /* atomic */
	pthread_mutex_t pool_lock;
	struct {
		void *p;
		size_t size;
	} pool[POOL_SLOTS];  /* protected by pool_lock: free buffers */
	unsigned npool;      /* protected by pool_lock */
	uint64_t pool_bytes; /* protected by pool_lock */
	/* Names listed but not shown, already logged (eng_note_hidden). */
	uint64_t hidden[HIDDEN_LOGGED];  /* protected by pool_lock; 0 = empty slot */
	unsigned hidden_next;            /* protected by pool_lock */
	struct list_node budget_waiters; /* protected by pool_lock */
	unsigned nwaiters;               /* atomic reads; written under pool_lock */
	bool wake_armed;                 /* protected by pool_lock: budget_task is scheduled */
	uint64_t release_gen;            /* atomic: counts eng_budget_release() calls */
	struct net_task budget_task;     /* wakes the waiters, on the engine thread */
};

/*
 * A listed name that the mount does not show (@why: "a component is over
 * 255 bytes", ...): logged once per mount, for the last HIDDEN_LOGGED
 * names. Any thread.
 */
void eng_note_hidden(struct eng *e, const char *container, const char *name, const char *why);

/* Log a failed request once: "OP 'NAME': message". */
void eng_log_failure(const char *op, const char *container, const char *name, int err,
		     const struct az_error *azerr);

/* @res for a write of @size bytes that @m (a 2xx answer) committed. */
void eng_commit_fill(struct eng_commit_result *res, const struct http_msg *m, uint64_t size);

#endif
