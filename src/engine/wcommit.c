/*
 * wcommit.c - commits: make the service's blob equal the pending content.
 *
 *  streaming, nothing sent yet   Put Blob of the buffer (Content-MD5 when small)
 *  streaming, blocks sent        send the tail block, wait for all, Put Block List
 *  staged                        fetch the base's missing bytes, then Put Blob from
 *                                the staging file (up to one part) or Put Blocks
 *                                from it and Put Block List
 *
 * A commit holds the queue (w->busy) and one writer reference until done.
 * With no operation attached it is the switch from streaming to staging:
 * what was streamed becomes the base the staging file fetches from.
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "azblobfs/timeutil.h"
#include "writer_i.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MD5_MAX (4 * MIB)

struct wcommit {
	struct eng_writer *w;
	struct wop *op;     /* NULL: switching to staging */
	struct net_req req; /* Put Blob or Put Block List */
	struct buf body;    /* the block list */
	uint64_t size;
	bool depends_on_base; /* If-Match the base: its bytes are part of the result */
	/* staged */
	uint64_t fill_pos;
	unsigned fills;
	uint64_t block_size;
	uint32_t nnew, next_up, ups_done, first_index;
	unsigned ups;
	int err;
};

struct wput {
	struct wcommit *c;
	struct net_req req;
	uint32_t i;
};

static void put_list(struct wcommit *c);
static void finish(struct wcommit *c, int err, const struct net_req *r);
static void staged_next(struct wcommit *c);

static int final_errno(int err)
{
	/* Errors a program can act on pass; the rest is an I/O error after retries. */
	switch (err) {
	case -ENOSPC:
	case -EEXIST:
	case -EFBIG:
	case -ENAMETOOLONG:
	case -EACCES:
	case -ENOMEM:
		return err;
	default:
		return -EIO;
	}
}

/* Lock held. Completes the commit and releases it. */
static void finish(struct wcommit *c, int err, const struct net_req *r)
{
	struct eng_writer *w = c->w;
	struct eng_commit_result res = {0};

	if (!err) {
		eng_commit_fill(&res, &r->msg, c->size);
		w->base.exists = true;
		w->base.size = c->size;
		memcpy(w->base.etag, res.etag, sizeof(w->base.etag));
		/* Writes wait while a commit runs (w->busy): the content is what was sent. */
		w->dirty = false;
		w->keep = false;
		if (!c->op) {
			/* The streamed content is the base of the staging file now. */
			if (staging_open(w) == 0) {
				w->mode = WM_STAGED;
				w->base_limit = c->size;
				w->next_index = w->nblocks;
				rangeset_clear(&w->have);
			} else {
				err = -EIO;
			}
		} else if (w->mode == WM_STAGED) {
			w->base_limit = c->size;
		}
	}
	if (err) {
		err = final_errno(err);
		w->failed = c->op ? w->failed : err;
		staging_keep(w, "the commit failed");
	}
	w->busy = false;
	if (c->op) {
		c->op->res = res;
		writer_finish_op(w, c->op, err);
	} else if (err) {
		/* The operations that waited for the switch fail with it. */
		while (!list_empty(&w->queue))
			writer_finish_op(w, container_of(w->queue.next, struct wop, node), err);
	}
	net_req_release(&c->req);
	buf_release(&c->body);
	free(c);
	writer_pump(w);
	writer_put(w);
}

static const char *content_type(const struct wcommit *c)
{
	if (c->op && c->op->content_type)
		return c->op->content_type;
	return az_content_type(c->w->blob);
}

static void fill_opts(const struct wcommit *c, struct az_write_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->content_type = content_type(c);
	o->meta = c->op && c->op->meta.n ? &c->op->meta : NULL;
	o->if_match = c->depends_on_base && c->w->base.etag[0] ? c->w->base.etag : NULL;
	o->if_none_match = !c->w->base.exists && c->w->base.create_only ? "*" : NULL;
}

static void req_done(struct net_req *r)
{
	struct wcommit *c = r->arg;
	struct eng_writer *w = c->w;
	struct az_error azerr;
	bool last, created;
	int rc;

	az_error_clear(&azerr);
	rc = az_result(&r->msg, &azerr);
	writer_lock(w);
	created = !w->base.exists && w->base.create_only;
	writer_unlock(w);
	if (created && (rc == -ESTALE || rc == -EEXIST)) {
		rc = -EEXIST;
		log_err("commit '%s/%s': another client created this name after this mount "
			"did; not overwriting it",
			w->container, w->blob);
	} else if (rc == -ESTALE) {
		log_err("commit '%s/%s': the blob changed on the service since it was "
			"opened; not overwriting it",
			w->container, w->blob);
	} else if (rc < 0) {
		eng_log_failure("commit", w->container, w->blob, rc, &azerr);
	}
	writer_lock(w);
	finish(c, rc, r);
	last = w->refs == 0;
	writer_unlock(w);
	if (last)
		writer_destroy(w);
}

static int submit_req(struct wcommit *c)
{
	c->req.done = req_done;
	c->req.arg = c;
	c->req.persist = true; /* the commit: an outage within timeout= must not fail it */
	return net_submit(c->w->e->net, &c->req);
}

/* Put Blob of the streamed buffer (the whole content is in memory). */
static int put_blob_memory(struct wcommit *c)
{
	struct eng_writer *w = c->w;
	unsigned char md5[16];
	struct az_write_opts o;
	int rc;

	fill_opts(c, &o);
	if (w->cur_len <= MD5_MAX) {
		az_md5(w->cur ? w->cur : "", w->cur_len, md5);
		o.md5 = md5;
	}
	rc = az_req_put_blob(w->e->az, &c->req.msg, w->container, w->blob, w->cur_len, &o);
	if (rc < 0)
		return rc;
	c->req.body = w->cur;
	c->req.body_len = w->cur_len;
	return submit_req(c);
}

static void put_list(struct wcommit *c)
{
	struct eng_writer *w = c->w;
	uint32_t n = w->mode == WM_STREAM ? w->nblocks : c->nnew;
	uint32_t first = w->mode == WM_STREAM ? 0 : c->first_index;
	struct az_write_opts o;
	char **ids = calloc(n ? n : 1, sizeof(*ids));
	char *store = malloc((size_t)(n ? n : 1) * (AZ_BLOCK_ID_LEN + 1));
	int rc = -ENOMEM;

	if (!ids || !store)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		ids[i] = store + (size_t)i * (AZ_BLOCK_ID_LEN + 1);
		writer_block_id(w, first + i, ids[i]);
	}
	fill_opts(c, &o);
	buf_init(&c->body, (size_t)n * 64 + 4096);
	rc = az_req_put_block_list(w->e->az, &c->req.msg, w->container, w->blob, ids, n, &o,
				   &c->body);
	if (!rc) {
		c->req.body = c->body.data;
		c->req.body_fd = -1;
		c->req.body_dfd = -1;
		c->req.body_off = 0;
		c->req.body_len = c->body.len;
		rc = submit_req(c);
	}
out:
	free(ids);
	free(store);
	if (rc < 0)
		finish(c, rc, NULL);
}

void commit_uploads_drained(struct eng_writer *w)
{
	struct wcommit *c = w->waiting_commit;

	if (!c)
		return;
	w->waiting_commit = NULL;
	if (w->failed)
		finish(c, w->failed, NULL);
	else
		put_list(c);
}

/* ---- staged ---- */

static void put_done(struct net_req *r)
{
	struct wput *p = r->arg;
	struct wcommit *c = p->c;
	struct eng_writer *w = c->w;
	struct az_error azerr;
	bool last;
	int rc;

	az_error_clear(&azerr);
	rc = az_result(&r->msg, &azerr);
	if (rc < 0)
		eng_log_failure("upload block", w->container, w->blob, rc, &azerr);
	net_req_release(&p->req);
	free(p);
	writer_lock(w);
	c->ups--;
	c->ups_done++;
	if (rc < 0 && !c->err)
		c->err = rc;
	staged_next(c);
	last = writer_put_last(w); /* this upload's reference */
	writer_unlock(w);
	if (last)
		writer_destroy(w);
}

static int put_block_from_file(struct wcommit *c, uint32_t i)
{
	struct eng_writer *w = c->w;
	uint64_t off = (uint64_t)i * c->block_size;
	uint64_t len = MIN(c->block_size, c->size - off);
	char id[AZ_BLOCK_ID_LEN + 1];
	struct wput *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->c = c;
	p->i = i;
	net_req_init(&p->req);
	writer_block_id(w, c->first_index + i, id);
	rc = az_req_put_block(w->e->az, &p->req.msg, w->container, w->blob, id, len, NULL);
	if (rc < 0)
		goto fail;
	p->req.prio = NET_PRIO_BULK;
	p->req.persist = true;
	p->req.body_fd = w->sf.fd;
	p->req.body_off = off;
	p->req.body_len = len;
	p->req.done = put_done;
	p->req.arg = p;
	rc = net_submit(w->e->net, &p->req);
	if (rc < 0)
		goto fail;
	w->refs++;
	c->ups++;
	return 0;
fail:
	net_req_release(&p->req);
	free(p);
	return rc;
}

static void staged_filled(struct eng_writer *w, void *arg, int err)
{
	struct wcommit *c = arg;

	(void)w;
	c->fills--;
	if (err && !c->err)
		c->err = err;
	staged_next(c);
}

/* Drive a staged commit one step: fills, then uploads, then the list. Lock held. */
static void staged_next(struct wcommit *c)
{
	struct eng_writer *w = c->w;
	uint64_t limit = MIN(c->size, w->base_limit), gs, ge;
	struct az_write_opts o;
	int rc;

	if (c->err) {
		if (!c->fills && !c->ups)
			finish(c, c->err, NULL);
		return;
	}
	/* 1. every byte of the result is local */
	while (c->fills < FILLS_IN_FLIGHT && c->fill_pos < limit &&
	       rangeset_first_gap(&w->have, c->fill_pos, limit, &gs, &ge)) {
		uint64_t len = MIN(ge - gs, (uint64_t)FILL_PIECE);
		rc = staged_fill(w, gs, len, staged_filled, c);
		if (rc < 0) {
			c->err = rc;
			break;
		}
		c->fills++;
		c->fill_pos = gs + len;
	}
	if (c->fills || c->err) {
		if (c->err && !c->fills && !c->ups)
			finish(c, c->err, NULL);
		return;
	}
	if (c->fill_pos < limit)
		c->fill_pos = limit;

	/* 2. one Put Blob for a small result */
	if (c->size <= w->e->cfg.part_size) {
		if (c->req.msg.url)
			return; /* already sent */
		fill_opts(c, &o);
		rc = az_req_put_blob(w->e->az, &c->req.msg, w->container, w->blob, c->size, &o);
		if (!rc) {
			c->req.body_fd = w->sf.fd;
			c->req.body_off = 0;
			c->req.body_len = c->size;
			rc = submit_req(c);
		}
		if (rc < 0)
			finish(c, rc, NULL);
		return;
	}

	/* 3. blocks from the staging file, then the list */
	if (!c->nnew) {
		c->block_size = w->e->cfg.part_size;
		if ((c->size + c->block_size - 1) / c->block_size > MAX_BLOCKS)
			c->block_size =
			    ((c->size + MAX_BLOCKS - 1) / MAX_BLOCKS + MIB - 1) / MIB * MIB;
		c->nnew = (uint32_t)((c->size + c->block_size - 1) / c->block_size);
		c->first_index = w->next_index;
		w->next_index += c->nnew;
	}
	while (c->next_up < c->nnew && c->ups < w->e->cfg.uploads_per_file) {
		rc = put_block_from_file(c, c->next_up);
		if (rc < 0) {
			c->err = rc;
			if (!c->ups)
				finish(c, rc, NULL);
			return;
		}
		c->next_up++;
	}
	if (c->ups_done == c->nnew && !c->ups)
		put_list(c);
}

int commit_start(struct eng_writer *w, struct wop *op)
{
	struct wcommit *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->w = w;
	c->op = op;
	c->size = w->size;
	net_req_init(&c->req);
	buf_init(&c->body, 0);
	w->busy = true;
	w->refs++;

	if (w->mode == WM_STAGED) {
		c->depends_on_base = w->base.exists && w->base_limit > 0;
		staged_next(c);
		return 0;
	}
	if (!w->nblocks && !w->inflight) {
		rc = put_blob_memory(c);
		if (rc < 0)
			finish(c, rc, NULL);
		return 0;
	}
	if (w->cur_len) {
		rc = writer_send_cur(w);
		if (rc < 0) {
			finish(c, rc, NULL);
			return 0;
		}
	} else if (w->cur) {
		eng_budget_release(w->e, w->cur_cap);
		eng_buf_put(w->e, w->cur, w->cur_cap);
		w->cur = NULL;
		w->cur_cap = 0;
	}
	if (w->inflight) {
		w->waiting_commit = c;
		return 0;
	}
	if (w->failed)
		finish(c, w->failed, NULL);
	else
		put_list(c);
	return 0;
}
