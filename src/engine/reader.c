/*
 * reader.c - reads of one blob version with adaptive read-ahead.
 *
 * The reader keeps a sorted list of non-overlapping chunks: byte ranges of
 * the blob, each filled by one ranged GET (If-Match the ETag seen at open)
 * into a buffer charged to the engine's memory budget. A read is answered
 * from the chunks that cover it, straight from their buffers (no copy
 * here; libfuse's writev is the only one).
 *
 * Sequential reads (within 1 MiB behind or 16 MiB ahead of where the last
 * read ended, the tolerance kernel read-ahead needs) double the read-ahead
 * window up to its maximum; a seek resets it. After `random_after` seeks
 * in a row the reader is in random mode: a miss fetches exactly the range
 * asked for, and nothing ahead. Two sequential reads switch read-ahead
 * back on.
 *
 * Locking: r->lock guards everything in the reader and its chunks. It is
 * never held while a read callback runs (net_submit only queues, so it
 * may be called under it). Lifetime: r->refs counts the owner (until
 * eng_reader_free) and every chunk with a request in flight.
 */
#include "azblobfs/common.h"
#include "azblobfs/engine.h"
#include "azblobfs/log.h"
#include "eng_i.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BACK_TOLERANCE (1 * MIB)
#define FWD_TOLERANCE (16 * MIB)
#define RANDOM_KEEP 16 /* chunks kept for locality in random mode */
#define MIN_PIECE (1 * MIB)

enum chunk_state {
	CH_PENDING = 0,
	CH_READY,
	CH_FAILED,
};

struct chunk {
	struct list_node node; /* on r->chunks while on_list */
	struct eng_reader *r;
	uint64_t off, len;
	char *data;
	unsigned refs; /* the list, each reply in progress, the request in flight */
	enum chunk_state state;
	int err;
	bool on_list;
	uint64_t used_seq; /* for random-mode eviction */
	struct net_req req;
};

struct pending {
	struct list_node node;
	uint64_t off;
	size_t len;
	eng_read_cb cb;
	void *arg;
};

struct eng_reader {
	struct eng *e;
	pthread_mutex_t lock;
	char *container;
	char *blob;
	char etag[AZ_ETAG_MAX];
	uint64_t size;
	struct list_node chunks; /* sorted by off */
	struct list_node pending;
	unsigned nchunks;
	unsigned refs;
	bool closing;
	uint64_t next_off;
	uint64_t window;
	unsigned seeks;
	unsigned seq_in_random;
	bool random;
	uint64_t use_seq;
	uint64_t gets;
};

/* A reply ready to be made once the lock is dropped. */
struct reply {
	struct pending *p;
	int err;
	struct iovec *iov;
	struct chunk **held;
	int n;
};

static void reader_destroy(struct eng_reader *r)
{
	pthread_mutex_destroy(&r->lock);
	free(r->container);
	free(r->blob);
	free(r);
}

/* Caller holds r->lock. Returns true when the chunk was freed. */
static bool chunk_unref(struct chunk *c)
{
	struct eng_reader *r = c->r;

	if (--c->refs)
		return false;
	eng_budget_release(r->e, c->len);
	eng_buf_put(r->e, c->data, c->len);
	net_req_release(&c->req);
	r->nchunks--;
	free(c);
	return true;
}

static void chunk_unlink(struct chunk *c)
{
	if (!c->on_list)
		return;
	list_del(&c->node);
	c->on_list = false;
	chunk_unref(c);
}

static void chunk_done(struct net_req *req);

/*
 * Create and start a chunk for [off, off+len), inserted before @before
 * (the list stays sorted). Caller holds the lock and reserved the budget.
 */
static struct chunk *chunk_start(struct eng_reader *r, struct list_node *before, uint64_t off,
				 uint64_t len)
{
	struct chunk *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		goto fail;
	c->data = eng_buf_get(r->e, len);
	if (!c->data) {
		free(c);
		goto fail;
	}
	c->r = r;
	c->off = off;
	c->len = len;
	c->refs = 2; /* the list and the request */
	c->on_list = true;
	c->used_seq = ++r->use_seq;
	list_insert_after(before->prev, &c->node);
	r->nchunks++;
	net_req_init(&c->req);
	rc = az_req_get_range(r->e->az, &c->req.msg, r->container, r->blob, off, len,
			      r->etag[0] ? r->etag : NULL);
	if (rc < 0)
		goto failed;
	c->req.prio = NET_PRIO_BULK;
	c->req.msg.sink = c->data;
	c->req.msg.sink_cap = len;
	c->req.done = chunk_done;
	c->req.arg = c;
	r->refs++;
	rc = net_submit(r->e->net, &c->req);
	if (rc < 0) {
		r->refs--;
		goto failed;
	}
	r->gets++;
	return c;
failed:
	c->state = CH_FAILED;
	c->err = rc;
	c->refs--; /* no request in flight */
	return c;
fail:
	eng_budget_release(r->e, len);
	return NULL;
}

/* The first chunk that ends after @off (or the list head). */
static struct list_node *first_after(struct eng_reader *r, uint64_t off)
{
	struct list_node *pos;

	for (pos = r->chunks.next; pos != &r->chunks; pos = pos->next) {
		struct chunk *c = container_of(pos, struct chunk, node);
		if (c->off + c->len > off)
			break;
	}
	return pos;
}

/* Size of the next read-ahead piece: a quarter of the window, 1 MiB to a part. */
static uint64_t piece_size(const struct eng_reader *r)
{
	return MIN(MAX(r->window / 4, (uint64_t)MIN_PIECE), r->e->cfg.part_size);
}

/* Make sure chunks cover [off, end): demand reads always get their bytes. */
static int cover(struct eng_reader *r, uint64_t off, uint64_t end)
{
	struct list_node *pos = first_after(r, off);

	while (off < end) {
		struct chunk *c = pos != &r->chunks ? container_of(pos, struct chunk, node) : NULL;
		uint64_t gap_end = c ? MIN(c->off, end) : end;

		if (c && c->off <= off) {
			off = c->off + c->len;
			pos = pos->next;
			continue;
		}
		/*
		 * A gap [off, gap_end): in sequential mode fill a whole piece if
		 * the budget has room for it. Past the budget a demand read still
		 * gets its bytes, but only those: many readers at once must not
		 * each force a whole piece (64 readers x 8 MiB) past mem_mb.
		 */
		if (!r->random) {
			uint64_t want = off + MAX(piece_size(r), r->e->cfg.readahead_init);
			uint64_t limit = c ? c->off : r->size;
			uint64_t grown = MIN(MAX(gap_end, MIN(want, limit)), r->size);
			if (grown > gap_end && eng_budget_try(r->e, grown - off)) {
				if (!chunk_start(r, pos, off, grown - off))
					return -ENOMEM;
				off = grown;
				continue;
			}
		}
		eng_budget_force(r->e, gap_end - off);
		if (!chunk_start(r, pos, off, gap_end - off))
			return -ENOMEM;
		off = gap_end;
	}
	return 0;
}

/* Read-ahead: start pieces after @end up to the window, as the budget allows. */
static void prefetch(struct eng_reader *r, uint64_t end)
{
	uint64_t limit = MIN(end + r->window, r->size);
	struct list_node *pos = first_after(r, end);

	while (end < limit) {
		struct chunk *c = pos != &r->chunks ? container_of(pos, struct chunk, node) : NULL;
		uint64_t len;

		if (c && c->off <= end) {
			end = c->off + c->len;
			pos = pos->next;
			continue;
		}
		len = MIN(piece_size(r), limit - end);
		if (c)
			len = MIN(len, c->off - end);
		if (!eng_budget_try(r->e, len))
			return;
		if (!chunk_start(r, pos, end, len))
			return;
		end += len;
	}
}

/* Drop chunks the reader has moved past (or, in random mode, the least used). */
static void trim(struct eng_reader *r, uint64_t off)
{
	struct list_node *pos, *tmp;

	if (!r->random) {
		list_for_each_safe(pos, tmp, &r->chunks)
		{
			struct chunk *c = container_of(pos, struct chunk, node);
			if (c->off + c->len + BACK_TOLERANCE > off)
				break;
			chunk_unlink(c);
		}
		return;
	}
	while (r->nchunks > RANDOM_KEEP) {
		struct chunk *oldest = NULL;
		list_for_each_safe(pos, tmp, &r->chunks)
		{
			struct chunk *c = container_of(pos, struct chunk, node);
			if (c->state != CH_PENDING && (!oldest || c->used_seq < oldest->used_seq))
				oldest = c;
		}
		if (!oldest)
			break;
		chunk_unlink(oldest);
	}
}

/* Update the access pattern with a read at [off, off+len). */
static void classify(struct eng_reader *r, uint64_t off, uint64_t len)
{
	uint64_t lo = r->next_off > BACK_TOLERANCE ? r->next_off - BACK_TOLERANCE : 0;
	bool seq = off >= lo && off <= r->next_off + FWD_TOLERANCE;
	const struct eng_config *cfg = &r->e->cfg;

	if (seq) {
		r->seeks = 0;
		if (r->random && ++r->seq_in_random >= 2) {
			r->random = false;
			r->window = cfg->readahead_init;
		} else if (!r->random) {
			r->window = MIN(r->window * 2, cfg->readahead_max);
		}
	} else {
		r->seq_in_random = 0;
		r->window = cfg->readahead_init;
		if (++r->seeks >= cfg->random_after)
			r->random = true;
	}
	if (off + len > r->next_off || !seq)
		r->next_off = off + len;
}

/*
 * Try to answer @p from the chunks. Returns 1 with @out filled (chunk
 * references held), 0 to keep waiting, or 1 with out->err set on failure.
 */
static int try_answer(struct eng_reader *r, struct pending *p, struct reply *out)
{
	uint64_t off = p->off, end = p->off + p->len;
	struct list_node *pos = first_after(r, off);
	int n = 0, cap = 4;

	memset(out, 0, sizeof(*out));
	out->p = p;
	while (off < end) {
		struct chunk *c = pos != &r->chunks ? container_of(pos, struct chunk, node) : NULL;
		uint64_t take;

		if (!c || c->off > off)
			goto fail_io; /* a hole cannot happen after cover(); be safe */
		if (c->state == CH_FAILED) {
			out->err = c->err ? c->err : -EIO;
			goto release;
		}
		if (c->state == CH_PENDING)
			goto release_wait;
		if (!out->iov || n == cap) {
			cap = out->iov ? cap * 2 : cap;
			struct iovec *iov = realloc(out->iov, (size_t)cap * sizeof(*iov));
			struct chunk **held = realloc(out->held, (size_t)cap * sizeof(*held));
			if (iov)
				out->iov = iov;
			if (held)
				out->held = held;
			if (!iov || !held) {
				out->err = -ENOMEM;
				goto release;
			}
		}
		take = MIN(end, c->off + c->len) - off;
		out->iov[n].iov_base = c->data + (off - c->off);
		out->iov[n].iov_len = take;
		out->held[n] = c;
		c->refs++;
		c->used_seq = ++r->use_seq;
		n++;
		off += take;
		pos = pos->next;
	}
	out->n = n;
	return 1;
fail_io:
	out->err = -EIO;
release:
	for (int i = 0; i < n; i++)
		chunk_unref(out->held[i]);
	free(out->iov);
	free(out->held);
	out->iov = NULL;
	out->held = NULL;
	out->n = 0;
	return 1;
release_wait:
	for (int i = 0; i < n; i++)
		chunk_unref(out->held[i]);
	free(out->iov);
	free(out->held);
	return 0;
}

/* Call the callbacks without the lock, then drop their chunk references. */
static void deliver(struct eng_reader *r, struct reply *rs, int n)
{
	for (int i = 0; i < n; i++) {
		if (rs[i].err)
			rs[i].p->cb(rs[i].p->arg, rs[i].err, NULL, 0);
		else
			rs[i].p->cb(rs[i].p->arg, 0, rs[i].iov, rs[i].n);
	}
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < rs[i].n; j++)
			chunk_unref(rs[i].held[j]);
		free(rs[i].iov);
		free(rs[i].held);
		free(rs[i].p);
	}
	pthread_mutex_unlock(&r->lock);
}

static void chunk_done(struct net_req *req)
{
	struct chunk *c = req->arg;
	struct eng_reader *r = c->r;
	struct az_error azerr;
	struct list_node *pos, *tmp;
	struct reply *rs = NULL;
	int n = 0, rc;
	bool last;

	az_error_clear(&azerr);
	rc = az_range_result(&req->msg, c->off, c->len, &azerr);
	if (rc == -ECANCELED && r->closing)
		rc = -EIO;
	else if (rc < 0)
		eng_log_failure("read", r->container, r->blob, rc, &azerr);

	pthread_mutex_lock(&r->lock);
	c->state = rc ? CH_FAILED : CH_READY;
	c->err = rc;
	chunk_unref(c); /* the request's reference */
	list_for_each_safe(pos, tmp, &r->pending)
	{
		struct pending *p = container_of(pos, struct pending, node);
		struct reply one;
		if (!try_answer(r, p, &one))
			continue;
		struct reply *grown = realloc(rs, (size_t)(n + 1) * sizeof(*rs));
		if (!grown) {
			/* Answer later: drop what try_answer took. */
			for (int j = 0; j < one.n; j++)
				chunk_unref(one.held[j]);
			free(one.iov);
			free(one.held);
			continue;
		}
		rs = grown;
		list_del(&p->node);
		rs[n++] = one;
	}
	pthread_mutex_unlock(&r->lock);
	/* This request's reader reference keeps the reader alive while we deliver. */
	deliver(r, rs, n);
	free(rs);
	pthread_mutex_lock(&r->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (last)
		reader_destroy(r);
}

int eng_reader_new(struct eng *e, const char *container, const char *blob, uint64_t size,
		   const char *etag, struct eng_reader **out)
{
	struct eng_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->e = e;
	pthread_mutex_init(&r->lock, NULL);
	r->container = strdup(container);
	r->blob = strdup(blob);
	if (!r->container || !r->blob) {
		reader_destroy(r);
		return -ENOMEM;
	}
	if (etag && strlen(etag) < sizeof(r->etag))
		strcpy(r->etag, etag);
	r->size = size;
	r->refs = 1;
	r->window = e->cfg.readahead_init;
	list_init(&r->chunks);
	list_init(&r->pending);
	*out = r;
	return 0;
}

void eng_reader_free(struct eng_reader *r)
{
	struct list_node *pos, *tmp;
	bool last;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->closing = true;
	list_for_each_safe(pos, tmp, &r->chunks)
	{
		struct chunk *c = container_of(pos, struct chunk, node);
		if (c->state == CH_PENDING)
			net_cancel(r->e->net, &c->req);
		chunk_unlink(c);
	}
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (last)
		reader_destroy(r);
}

void eng_read(struct eng_reader *r, uint64_t off, size_t len, eng_read_cb cb, void *arg)
{
	struct pending *p;
	struct reply rep;
	uint64_t end;
	bool last;
	int rc;

	if (off >= r->size || !len) {
		cb(arg, 0, NULL, 0);
		return;
	}
	len = (size_t)MIN((uint64_t)len, r->size - off);
	end = off + len;
	p = calloc(1, sizeof(*p));
	if (!p) {
		cb(arg, -ENOMEM, NULL, 0);
		return;
	}
	p->off = off;
	p->len = len;
	p->cb = cb;
	p->arg = arg;

	pthread_mutex_lock(&r->lock);
	classify(r, off, len);
	trim(r, off);
	rc = cover(r, off, end);
	if (!r->random)
		prefetch(r, end);
	if (rc < 0) {
		pthread_mutex_unlock(&r->lock);
		free(p);
		cb(arg, rc, NULL, 0);
		return;
	}
	if (!try_answer(r, p, &rep)) {
		list_add_tail(&r->pending, &p->node);
		pthread_mutex_unlock(&r->lock);
		return;
	}
	/*
	 * Once the reply is out the kernel may release the file and free the
	 * reader on another thread, while deliver() still drops chunk references.
	 */
	r->refs++;
	pthread_mutex_unlock(&r->lock);
	deliver(r, &rep, 1);
	pthread_mutex_lock(&r->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (last)
		reader_destroy(r);
}

void eng_reader_stats(struct eng_reader *r, struct eng_reader_stats *out)
{
	pthread_mutex_lock(&r->lock);
	out->gets = r->gets;
	out->window = r->window;
	out->random = r->random;
	pthread_mutex_unlock(&r->lock);
}
