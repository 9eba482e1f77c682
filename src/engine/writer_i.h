/*
 * writer_i.h - private to the write path (writer.c, wstaged.c, wcommit.c).
 *
 * One struct eng_writer holds the pending content of one blob, in one of
 * two modes:
 *  - WM_STREAM: the content started empty and has only been appended to.
 *    Full blocks go up with Put Block while the application writes; the
 *    tail is in `cur`. Sent blocks are also copied to the staging file
 *    (the tee, until the area is full), so a failed commit keeps them and
 *    a switch to staging continues from them; once copied, a block is
 *    sent from that copy and its buffer is free (only when the tee has
 *    stopped does a block in flight hold memory).
 *  - WM_STAGED: the content lives in a sparse staging file. `have` says
 *    which bytes are present; bytes below `base_limit` that are not
 *    present are fetched from the base blob (If-Match its ETag) when
 *    read or committed; bytes at or past it read as zeros.
 *
 * Operations run in call order through `queue`. `busy` is set while an
 * operation waits on the network in a way that must hold back the ones
 * after it (a commit, a switch from streaming to staging). Reads of
 * staged content do not hold the queue.
 *
 * Locking: w->lock guards everything here. Callbacks to the layer above
 * are never made with it held: finished operations go to `done` and
 * writer_unlock() runs them after dropping the lock.
 */
#ifndef AZBLOBFS_WRITER_I_H
#define AZBLOBFS_WRITER_I_H

#include "azblobfs/engine.h"
#include "azblobfs/list.h"
#include "azblobfs/rangeset.h"
#include "eng_i.h"

#include <pthread.h>

#define MAX_BLOCKS 50000
#define FILL_PIECE (4 * MIB)
#define FILL_ALIGN (1 * MIB)
#define FILLS_IN_FLIGHT 4

enum wmode {
	WM_STREAM = 0,
	WM_STAGED,
};

enum wop_type {
	WOP_WRITE = 0,
	WOP_TRUNC,
	WOP_READ,
	WOP_COMMIT,
};

struct wop {
	struct list_node node;
	enum wop_type type;
	uint64_t off;
	uint64_t len;
	const char *data; /* WRITE: the caller's bytes while synchronous, else `copy` */
	char *copy;
	int err;
	eng_done_cb done;
	eng_read_cb read_cb;
	eng_commit_cb commit_cb;
	void *arg;
	char *rbuf; /* READ: the bytes read */
	size_t rlen;
	char *content_type; /* COMMIT */
	struct meta_list meta;
	struct eng_commit_result res;
};

struct staging_file {
	int fd;
	int dfd;        /* the same file opened with O_DIRECT, or -1 */
	bool no_direct; /* O_DIRECT does not work there */
	char *path;
};

struct wcommit;

struct eng_writer {
	struct eng *e;
	struct eng_staging *st;
	pthread_mutex_t lock;
	struct eng_budget_waiter bw; /* waiting for memory for the next block */
	bool budget_ref;             /* the wait holds a reference (refs) */
	char *container;
	char *blob;
	enum wmode mode;
	uint64_t size;
	bool dirty;
	bool keep;        /* a commit failed: keep the staging file */
	bool keep_logged; /* ...and that was logged (once per content) */
	bool tee_off;     /* streamed blocks are no longer copied to staging */
	int failed;       /* a streamed block was lost: every later commit fails */
	unsigned refs;    /* the owner, and everything in flight */
	bool freeing;
	bool discard;
	struct list_node queue;
	struct list_node done;
	bool busy;
	uint64_t nonce;
	uint32_t next_index;

	/* WM_STREAM */
	char *cur; /* the block being filled, or NULL */
	uint64_t cur_len, cur_cap;
	uint32_t nblocks;               /* blocks sent (ids 0..nblocks-1 in file order) */
	uint64_t sent_bytes;            /* bytes in those blocks */
	unsigned inflight;              /* Put Blocks in flight */
	unsigned inflight_mem;          /* ...of which are sent from memory (the tee had stopped) */
	struct wcommit *waiting_commit; /* a commit waiting for uploads to finish */

	/* WM_STAGED */
	struct staging_file sf;
	struct rangeset have;
	uint64_t base_limit;
	uint64_t accounted; /* bytes charged to the staging area */
	struct eng_wbase base;
};

/* writer.c */
void writer_lock(struct eng_writer *w);
void writer_unlock(struct eng_writer *w); /* runs finished callbacks */
void writer_finish_op(struct eng_writer *w, struct wop *op, int err);
void writer_pump(struct eng_writer *w);
void writer_put(struct eng_writer *w);      /* drop an in-flight reference (lock held) */
bool writer_put_last(struct eng_writer *w); /* ...and true if the writer must be destroyed */
void writer_destroy(struct eng_writer *w);
void writer_block_id(const struct eng_writer *w, uint32_t index, char out[AZ_BLOCK_ID_LEN + 1]);
uint64_t writer_block_size(const struct eng_writer *w, uint32_t index);
/* Start uploading `cur` as the next block. */
int writer_send_cur(struct eng_writer *w);

/* wstaged.c */
/* From WM_STREAM: with nothing sent, or with every sent byte in staging (the tee). */
int staged_enter(struct eng_writer *w);
int staged_write(struct eng_writer *w, const char *data, uint64_t off, uint64_t len);
int staged_truncate(struct eng_writer *w, uint64_t size);
/* Returns 1 when the op completed, 0 when a fetch will complete it. */
int staged_read(struct eng_writer *w, struct wop *op);
typedef void (*fill_fn)(struct eng_writer *w, void *arg, int err);
int staged_fill(struct eng_writer *w, uint64_t off, uint64_t len, fill_fn fn, void *arg);
int staging_open(struct eng_writer *w);
/*
 * Write bytes into the staging file and note them as held (charged to the
 * area); @direct: bypass the page cache when aligned (data read back rarely).
 */
int staging_put(struct eng_writer *w, const char *data, uint64_t off, uint64_t len, bool direct);
void staging_keep(struct eng_writer *w, const char *why);
/* The O_DIRECT descriptor that wrote [off, off+len) of the staging file, or -1. */
int staging_direct(const struct eng_writer *w, uint64_t off, uint64_t len);

/* wcommit.c */
/* Start a commit of the whole content; completes @op (NULL: a switch to staging). */
int commit_start(struct eng_writer *w, struct wop *op);
/* A streamed block finished: maybe continue a waiting commit. */
void commit_uploads_drained(struct eng_writer *w);

#endif
