/*
 * writer.c - the pending content of a blob: the operation queue and the
 * streaming mode (blocks sent while the application writes).
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "azblobfs/timeutil.h"
#include "writer_i.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the staging area ---- */

struct eng_staging {
	char *dir;
	uint64_t max;
	uint64_t used; /* atomic */
};

int eng_staging_new(const char *dir, uint64_t max_bytes, struct eng_staging **out)
{
	struct eng_staging *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->dir = strdup(dir);
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}
	s->max = max_bytes;
	*out = s;
	return 0;
}

void eng_staging_free(struct eng_staging *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s);
}

uint64_t eng_staging_used(const struct eng_staging *s)
{
	return __atomic_load_n(&s->used, __ATOMIC_RELAXED);
}

const char *eng_staging_dir(const struct eng_staging *s)
{
	return s->dir;
}

/* Charge @n more bytes to the staging area; -ENOSPC past its bound. */
int staging_charge(struct eng_staging *s, uint64_t n);
int staging_charge(struct eng_staging *s, uint64_t n)
{
	uint64_t cur = __atomic_load_n(&s->used, __ATOMIC_RELAXED);

	do {
		if (cur + n > s->max)
			return -ENOSPC;
	} while (!__atomic_compare_exchange_n(&s->used, &cur, cur + n, true, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return 0;
}

void staging_uncharge(struct eng_staging *s, uint64_t n);
void staging_uncharge(struct eng_staging *s, uint64_t n)
{
	__atomic_fetch_sub(&s->used, n, __ATOMIC_ACQ_REL);
}

/* ---- locking and completions ---- */

void writer_lock(struct eng_writer *w)
{
	pthread_mutex_lock(&w->lock);
}

void writer_finish_op(struct eng_writer *w, struct wop *op, int err)
{
	op->err = err;
	list_del(&op->node);
	list_add_tail(&w->done, &op->node);
}

static void free_op(struct wop *op)
{
	free(op->copy);
	free(op->rbuf);
	free(op->content_type);
	meta_list_release(&op->meta);
	free(op);
}

void writer_unlock(struct eng_writer *w)
{
	struct list_node done;
	struct list_node *ln;

	list_init(&done);
	while ((ln = list_pop(&w->done)))
		list_add_tail(&done, ln);
	pthread_mutex_unlock(&w->lock);
	while ((ln = list_pop(&done))) {
		struct wop *op = container_of(ln, struct wop, node);
		switch (op->type) {
		case WOP_WRITE:
		case WOP_TRUNC:
			op->done(op->arg, op->err);
			break;
		case WOP_READ: {
			struct iovec iov = {.iov_base = op->rbuf, .iov_len = op->rlen};
			op->read_cb(op->arg, op->err, op->err ? NULL : &iov,
				    op->err || !op->rlen ? 0 : 1);
			break;
		}
		case WOP_COMMIT:
			op->commit_cb(op->arg, op->err, op->err ? NULL : &op->res);
			break;
		}
		free_op(op);
	}
}

bool writer_put_last(struct eng_writer *w)
{
	return --w->refs == 0;
}

void writer_put(struct eng_writer *w)
{
	w->refs--;
}

/* ---- blocks ---- */

void writer_block_id(const struct eng_writer *w, uint32_t index, char out[AZ_BLOCK_ID_LEN + 1])
{
	az_block_id(w->nonce, index, out);
}

uint64_t eng_block_size(const struct eng_config *cfg, uint32_t index)
{
	uint64_t cap = MIN(MAX(cfg->part_size, cfg->mem_budget / 2), 4000 * MIB);
	uint64_t size = cfg->part_size;

	if (index >= 20000)
		size <<= MIN((index - 20000) / 2500 + 1, 16U);
	return MIN(size, cap);
}

uint64_t writer_block_size(const struct eng_writer *w, uint32_t index)
{
	return eng_block_size(&w->e->cfg, index);
}

struct upload {
	struct eng_writer *w;
	struct net_req req;
	char *buf;    /* the bytes, or NULL when they are sent from the staging file */
	uint64_t cap; /* the buffer's size */
	uint64_t len; /* the bytes in it */
	uint64_t off;
	uint32_t index;
};

static void upload_done(struct net_req *r)
{
	struct upload *u = r->arg;
	struct eng_writer *w = u->w;
	struct az_error azerr;
	bool last;
	int rc;

	az_error_clear(&azerr);
	rc = az_result(&r->msg, &azerr);
	writer_lock(w);
	/* A block of a stream since abandoned (now staged) matters no more. */
	if (rc < 0 && w->mode == WM_STREAM) {
		eng_log_failure("upload block", w->container, w->blob, rc, &azerr);
		if (!w->failed)
			w->failed = rc;
		/* The bytes are still here: keep them (the tee may have stopped). */
		if (u->buf && w->tee_off && staging_put(w, u->buf, u->off, u->len, false) < 0)
			log_debug("cannot keep a failed block of '%s'", w->blob);
		w->keep = true;
	}
	if (u->buf) {
		eng_budget_release(w->e, u->len);
		eng_buf_put(w->e, u->buf, u->cap);
		w->inflight_mem--;
	}
	w->inflight--;
	net_req_release(&u->req);
	free(u);
	if (!w->inflight)
		commit_uploads_drained(w);
	writer_pump(w); /* a write may have waited for this buffer */
	last = writer_put_last(w);
	writer_unlock(w);
	if (last)
		writer_destroy(w);
}

/*
 * Until the commit, a sent block exists only as an uncommitted block on the
 * service, which cannot be read back: a copy in the staging file (disk, not
 * memory) is what a failed commit can keep. A full staging area stops the
 * copying, loudly.
 */
static void stream_tee(struct eng_writer *w, const char *p, uint64_t off, uint64_t len)
{
	int rc;

	if (w->tee_off)
		return;
	rc = staging_put(w, p, off, len, true);
	if (rc < 0) {
		w->tee_off = true;
		log_warn("'%s/%s': cannot keep a local copy of what is streamed (%s); if its "
			 "commit fails, bytes sent from offset %llu on cannot be kept",
			 w->container, w->blob, strerror(-rc), (unsigned long long)off);
	}
}

/*
 * Send `cur` as the next block. Once the tee holds its bytes, the block
 * goes up from the staging file and the buffer is free at once: memory
 * then bounds only the block being filled, not the uploads in flight
 * (which uploads_per_file and the connections bound).
 */
int writer_send_cur(struct eng_writer *w)
{
	struct upload *u;
	char id[AZ_BLOCK_ID_LEN + 1];
	bool from_file;
	int rc;

	if (w->nblocks >= MAX_BLOCKS)
		return -EFBIG;
	stream_tee(w, w->cur, w->sent_bytes, w->cur_len);
	from_file = !w->tee_off;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->w = w;
	u->buf = w->cur;
	u->cap = w->cur_cap;
	u->len = w->cur_len;
	u->off = w->sent_bytes;
	u->index = w->nblocks;
	/* The unused tail of the buffer goes back to the budget now. */
	if (w->cur_cap > w->cur_len)
		eng_budget_release(w->e, w->cur_cap - w->cur_len);
	net_req_init(&u->req);
	writer_block_id(w, u->index, id);
	rc = az_req_put_block(w->e->az, &u->req.msg, w->container, w->blob, id, u->len, NULL);
	if (rc < 0)
		goto fail;
	u->req.prio = NET_PRIO_BULK;
	u->req.persist = true; /* a block of the user's data: retried until timeout= */
	if (from_file) {
		u->req.body_fd = w->sf.fd;
		u->req.body_dfd = staging_direct(w, u->off, u->len);
		u->req.body_off = u->off;
	} else {
		u->req.body = u->buf;
	}
	u->req.body_len = u->len;
	u->req.done = upload_done;
	u->req.arg = u;
	rc = net_submit(w->e->net, &u->req);
	if (rc < 0)
		goto fail;
	if (from_file) {
		eng_budget_release(w->e, u->len);
		eng_buf_put(w->e, u->buf, u->cap);
		u->buf = NULL;
	} else {
		w->inflight_mem++;
	}
	w->refs++;
	w->inflight++;
	w->nblocks++;
	w->sent_bytes += u->len;
	w->cur = NULL;
	w->cur_len = w->cur_cap = 0;
	return 0;
fail:
	if (w->cur_cap > w->cur_len)
		eng_budget_force(w->e, w->cur_cap - w->cur_len);
	net_req_release(&u->req);
	free(u);
	return rc;
}

/* Memory came back (or the wait is over): try the queued operations again. Engine thread. */
static void budget_wake(struct eng_budget_waiter *bw)
{
	struct eng_writer *w = container_of(bw, struct eng_writer, bw);
	bool last;

	writer_lock(w);
	/* The wait's reference is ours now; pumping may start a new wait. */
	w->budget_ref = false;
	writer_pump(w);
	last = writer_put_last(w);
	writer_unlock(w);
	if (last)
		writer_destroy(w);
}

/* A buffer for the next block, if the budget and the per-file cap allow. */
static int alloc_cur(struct eng_writer *w)
{
	uint64_t cap = writer_block_size(w, w->nblocks);
	char *p;

	if (w->inflight >= w->e->cfg.uploads_per_file)
		return -EAGAIN;
	if (eng_budget_try(w->e, cap)) {
		if (w->budget_ref)
			eng_budget_waited(w->e, &w->bw);
	} else {
		/* An upload of ours from memory frees some: its completion pumps us. */
		if (w->inflight_mem)
			return -EAGAIN;
		/* Wait for memory others give back, for a while; then take it anyway. */
		if (eng_budget_wait(w->e, &w->bw)) {
			if (!w->budget_ref) {
				w->budget_ref = true;
				w->refs++;
			}
			return -EAGAIN;
		}
		eng_budget_force(w->e, cap);
	}
	p = eng_buf_get(w->e, cap);
	if (!p) {
		eng_budget_release(w->e, cap);
		return -ENOMEM;
	}
	w->cur = p;
	w->cur_cap = cap;
	w->cur_len = 0;
	return 0;
}

/*
 * Append op's bytes to the stream. Returns 1 when all were taken, 0 when
 * it must wait for a buffer (op->data/off/len advanced), or -errno.
 */
static int stream_append(struct eng_writer *w, struct wop *op)
{
	while (op->len) {
		uint64_t n;
		int rc;

		if (!w->cur) {
			rc = alloc_cur(w);
			if (rc == -EAGAIN)
				return 0;
			if (rc < 0)
				return rc;
		}
		n = MIN(op->len, w->cur_cap - w->cur_len);
		memcpy(w->cur + w->cur_len, op->data, n);
		w->cur_len += n;
		w->size += n;
		op->data += n;
		op->off += n;
		op->len -= n;
		w->dirty = true;
		w->keep_logged = false;
		if (w->cur_len == w->cur_cap) {
			rc = writer_send_cur(w);
			if (rc < 0)
				return rc;
		}
	}
	return 1;
}

/*
 * Leave streaming mode; 1 when done now, 0 when a commit must finish first.
 * Every streamed byte is in the staging file (the tee), so the content
 * simply continues there and the blocks sent so far are abandoned. Only if
 * the tee stopped do the sent blocks have to be committed first, to stage
 * from the blob they make.
 */
static int leave_stream(struct eng_writer *w)
{
	int rc;

	if ((!w->nblocks && !w->inflight) || !w->tee_off)
		return staged_enter(w) < 0 ? -EIO : 1;
	rc = commit_start(w, NULL);
	return rc < 0 ? rc : 0;
}

/* Run one queued op. Returns 1 when it finished, 0 when it must wait. */
static int run_op(struct eng_writer *w, struct wop *op)
{
	int rc;

	if (w->mode == WM_STREAM && op->type != WOP_COMMIT) {
		bool stays = (op->type == WOP_WRITE && op->off == w->size && !w->failed) ||
			     (op->type == WOP_TRUNC && op->off == w->size) ||
			     (op->type == WOP_READ && op->off >= w->sent_bytes &&
			      op->off + op->len <= w->sent_bytes + w->cur_len);
		if (op->type == WOP_READ && op->off >= w->size)
			stays = true;
		if (!stays) {
			rc = leave_stream(w);
			if (rc <= 0) {
				if (rc < 0)
					writer_finish_op(w, op, rc);
				return rc < 0;
			}
		}
	}
	switch (op->type) {
	case WOP_WRITE:
		if (w->mode == WM_STREAM) {
			rc = stream_append(w, op);
			if (!rc)
				return 0;
		} else {
			rc = staged_write(w, op->data, op->off, op->len);
		}
		writer_finish_op(w, op, rc < 0 ? rc : 0);
		return 1;
	case WOP_TRUNC:
		rc = w->mode == WM_STAGED ? staged_truncate(w, op->off) : 0;
		writer_finish_op(w, op, rc);
		return 1;
	case WOP_READ:
		if (w->mode == WM_STREAM) {
			uint64_t end = MIN(op->off + op->len, w->size);
			op->rlen = op->off < end ? end - op->off : 0;
			op->rbuf = op->rlen ? malloc(op->rlen) : NULL;
			if (op->rlen && !op->rbuf) {
				writer_finish_op(w, op, -ENOMEM);
				return 1;
			}
			if (op->rlen)
				memcpy(op->rbuf, w->cur + (op->off - w->sent_bytes), op->rlen);
			writer_finish_op(w, op, 0);
			return 1;
		}
		if (staged_read(w, op) == 0)
			return 1; /* off the queue; a fetch completes it */
		return 1;
	case WOP_COMMIT:
		if (w->failed) {
			writer_finish_op(w, op, w->failed);
			return 1;
		}
		if (!w->dirty) {
			op->res.size = w->size;
			memcpy(op->res.etag, w->base.etag, sizeof(op->res.etag));
			clock_gettime(CLOCK_REALTIME, &op->res.mtime);
			writer_finish_op(w, op, 0);
			return 1;
		}
		rc = commit_start(w, op);
		if (rc < 0)
			writer_finish_op(w, op, rc);
		return rc < 0;
	}
	return 1;
}

void writer_pump(struct eng_writer *w)
{
	while (!w->busy && !list_empty(&w->queue)) {
		struct wop *op = container_of(w->queue.next, struct wop, node);
		if (!run_op(w, op))
			break;
	}
}

/* ---- public API ---- */

int eng_writer_new(struct eng *e, struct eng_staging *st, const char *container, const char *blob,
		   const struct eng_wbase *base, bool empty, struct eng_writer **out)
{
	struct eng_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->e = e;
	w->st = st;
	pthread_mutex_init(&w->lock, NULL);
	list_init(&w->bw.node);
	w->bw.wake = budget_wake;
	list_init(&w->queue);
	list_init(&w->done);
	rangeset_init(&w->have);
	w->sf.fd = -1;
	w->sf.dfd = -1;
	w->refs = 1;
	w->nonce = util_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)w;
	w->container = strdup(container);
	w->blob = strdup(blob);
	if (!w->container || !w->blob) {
		writer_destroy(w);
		return -ENOMEM;
	}
	if (base)
		w->base = *base;
	if (empty) {
		w->mode = WM_STREAM;
		w->size = 0;
		w->dirty = true; /* even an empty file must reach the service */
		w->base_limit = 0;
	} else {
		w->mode = WM_STAGED;
		w->size = base ? base->size : 0;
		w->base_limit = w->size;
	}
	*out = w;
	return 0;
}

void writer_destroy(struct eng_writer *w)
{
	struct list_node *ln;

	if (w->cur) {
		eng_budget_release(w->e, w->cur_cap);
		eng_buf_put(w->e, w->cur, w->cur_cap);
	}
	if (w->sf.dfd >= 0)
		close(w->sf.dfd);
	if (w->sf.fd >= 0) {
		close(w->sf.fd);
		if (!w->keep || w->discard)
			unlink(w->sf.path);
	}
	if (w->accounted)
		staging_uncharge(w->st, w->accounted);
	while ((ln = list_pop(&w->queue)))
		free_op(container_of(ln, struct wop, node));
	free(w->sf.path);
	rangeset_release(&w->have);
	pthread_mutex_destroy(&w->lock);
	free(w->container);
	free(w->blob);
	free(w);
}

static struct wop *new_op(enum wop_type type, uint64_t off, uint64_t len, void *arg)
{
	struct wop *op = calloc(1, sizeof(*op));

	if (op) {
		list_init(&op->node);
		op->type = type;
		op->off = off;
		op->len = len;
		op->arg = arg;
	}
	return op;
}

/* Queue @op and run what can run; the caller still holds no lock. */
static void submit(struct eng_writer *w, struct wop *op)
{
	writer_lock(w);
	list_add_tail(&w->queue, &op->node);
	writer_pump(w);
	/* Still queued: its bytes must outlive the caller's buffer. */
	if (op->type == WOP_WRITE && list_linked(&op->node) && !list_empty(&w->queue) &&
	    op->data != op->copy) {
		bool queued = false;
		for (struct list_node *ln = w->queue.next; ln != &w->queue; ln = ln->next)
			queued |= ln == &op->node;
		if (queued) {
			op->copy = malloc(op->len ? op->len : 1);
			if (op->copy) {
				memcpy(op->copy, op->data, op->len);
				op->data = op->copy;
			} else {
				writer_finish_op(w, op, -ENOMEM);
			}
		}
	}
	writer_unlock(w);
}

void eng_writer_write(struct eng_writer *w, const void *buf, size_t len, uint64_t off,
		      eng_done_cb cb, void *arg)
{
	struct wop *op = new_op(WOP_WRITE, off, len, arg);

	if (!op) {
		cb(arg, -ENOMEM);
		return;
	}
	op->data = buf;
	op->done = cb;
	submit(w, op);
}

void eng_writer_read(struct eng_writer *w, uint64_t off, size_t len, eng_read_cb cb, void *arg)
{
	struct wop *op = new_op(WOP_READ, off, len, arg);

	if (!op) {
		cb(arg, -ENOMEM, NULL, 0);
		return;
	}
	op->read_cb = cb;
	submit(w, op);
}

void eng_writer_truncate(struct eng_writer *w, uint64_t size, eng_done_cb cb, void *arg)
{
	struct wop *op = new_op(WOP_TRUNC, size, 0, arg);

	if (!op) {
		cb(arg, -ENOMEM);
		return;
	}
	op->done = cb;
	submit(w, op);
}

void eng_writer_commit(struct eng_writer *w, const struct eng_commit_opts *o, eng_commit_cb cb,
		       void *arg)
{
	struct wop *op = new_op(WOP_COMMIT, 0, 0, arg);

	if (!op) {
		cb(arg, -ENOMEM, NULL);
		return;
	}
	op->commit_cb = cb;
	if ((o && o->content_type && !(op->content_type = strdup(o->content_type))) ||
	    (o && o->meta && meta_copy(&op->meta, o->meta) < 0)) {
		free_op(op);
		cb(arg, -ENOMEM, NULL);
		return;
	}
	submit(w, op);
}

uint64_t eng_writer_size(struct eng_writer *w)
{
	uint64_t s;

	writer_lock(w);
	s = w->size;
	pthread_mutex_unlock(&w->lock);
	return s;
}

bool eng_writer_dirty(struct eng_writer *w)
{
	bool d;

	writer_lock(w);
	d = w->dirty;
	pthread_mutex_unlock(&w->lock);
	return d;
}

int eng_writer_rename(struct eng_writer *w, const char *container, const char *blob)
{
	char *c = strdup(container), *b = strdup(blob);

	if (!c || !b) {
		free(c);
		free(b);
		return -ENOMEM;
	}
	writer_lock(w);
	free(w->container);
	free(w->blob);
	w->container = c;
	w->blob = b;
	/*
	 * Blocks sent under the old name do not exist under the new one. Once
	 * committed (the caller commits before renaming), the content is the
	 * renamed blob: go on from there as staged content.
	 */
	if (w->mode == WM_STREAM && (w->nblocks || w->inflight)) {
		if (w->dirty || w->inflight || staging_open(w) < 0) {
			w->failed = w->failed ? w->failed : -EIO;
		} else {
			w->mode = WM_STAGED;
			w->base.exists = true;
			w->base.etag[0] = '\0'; /* the copy's: unknown, so no If-Match */
			w->base.size = w->size;
			w->base_limit = w->size;
			w->next_index = w->nblocks;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void eng_writer_free(struct eng_writer *w, bool discard)
{
	bool last;

	if (!w)
		return;
	writer_lock(w);
	w->freeing = true;
	w->discard = discard;
	/* Off the memory queue: nobody will write to it any more. */
	if (w->budget_ref && eng_budget_unwait(w->e, &w->bw)) {
		w->budget_ref = false;
		w->refs--;
	}
	if (!discard && (w->dirty || w->failed))
		staging_keep(w, w->failed ? "a block upload failed" : "it was never committed");
	last = writer_put_last(w);
	pthread_mutex_unlock(&w->lock);
	if (last)
		writer_destroy(w);
}
