/*
 * ops.c - namespace operations on the service: properties, small puts and
 * gets, deletes, metadata, copies (waiting out pending ones) and the
 * rename of a whole folder.
 *
 * Every operation is one heap object owning its request; its completion
 * runs on the engine thread and calls the caller's callback once.
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "azblobfs/timeutil.h"
#include "eng_i.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_POLL_MS 200
#define TREE_PARALLEL 16

enum op_kind {
	OK_PROPS = 0,
	OK_PUT,
	OK_DELETE,
	OK_META,
	OK_GET,
	OK_COPY,
	OK_COPY_POLL,
};

struct op {
	struct eng *e;
	enum op_kind kind;
	struct net_req req;
	struct net_task poll;
	char *container, *src, *dst;
	char *data; /* OK_PUT body, owned */
	union {
		eng_props_cb props;
		eng_commit_cb commit;
		eng_done_cb done;
		eng_data_cb data;
	} cb;
	void *arg;
	uint64_t deadline_ms;
};

static void op_free(struct op *op)
{
	net_req_release(&op->req);
	free(op->container);
	free(op->src);
	free(op->dst);
	free(op->data);
	free(op);
}

static struct op *op_new(struct eng *e, enum op_kind kind, const char *container, const char *src,
			 const char *dst, void *arg)
{
	struct op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->e = e;
	op->kind = kind;
	op->arg = arg;
	net_req_init(&op->req);
	op->container = strdup(container);
	op->src = src ? strdup(src) : NULL;
	op->dst = dst ? strdup(dst) : NULL;
	if (!op->container || (src && !op->src) || (dst && !op->dst)) {
		op_free(op);
		return NULL;
	}
	return op;
}

static int start_poll(struct op *op);

static void op_done(struct net_req *r)
{
	struct op *op = r->arg;
	struct eng_commit_result res;
	struct az_error azerr;
	struct az_props p = {0};
	int rc;

	az_error_clear(&azerr);
	rc = az_result(&r->msg, &azerr);
	switch (op->kind) {
	case OK_PROPS:
		if (!rc)
			rc = az_props_from_response(&r->msg, &p);
		op->cb.props(op->arg, rc, rc ? NULL : &p);
		az_props_release(&p);
		break;
	case OK_PUT:
	case OK_META:
		if (rc < 0 && rc != -EEXIST)
			eng_log_failure(op->kind == OK_PUT ? "put" : "set metadata", op->container,
					op->dst, rc, &azerr);
		eng_commit_fill(&res, &r->msg, op->req.body_len);
		op->cb.commit(op->arg, rc, rc ? NULL : &res);
		break;
	case OK_DELETE:
		if (rc < 0)
			eng_log_failure("delete", op->container, op->dst, rc, &azerr);
		op->cb.done(op->arg, rc);
		break;
	case OK_GET:
		if (rc < 0)
			eng_log_failure("read", op->container, op->src, rc, &azerr);
		op->cb.data(op->arg, rc, rc ? NULL : op->req.msg.resp.data,
			    rc ? 0 : op->req.msg.resp.len);
		break;
	case OK_COPY:
	case OK_COPY_POLL:
		if (!rc)
			rc = az_copy_status(&r->msg);
		if (rc == -EINPROGRESS) {
			/* Large copies on Azure finish in the background: ask again soon. */
			if (util_now_ms() < op->deadline_ms && start_poll(op) == 0)
				return;
			rc = -ETIMEDOUT;
		}
		if (rc < 0 && rc != -EEXIST)
			eng_log_failure("copy", op->container, op->src, rc, &azerr);
		op->cb.done(op->arg, rc);
		break;
	}
	op_free(op);
}

static int submit(struct op *op)
{
	int rc;

	op->req.done = op_done;
	op->req.arg = op;
	rc = net_submit(op->e->net, &op->req);
	if (rc < 0)
		op_free(op);
	return rc;
}

static int built(struct op *op, int rc)
{
	if (rc < 0) {
		op_free(op);
		return rc;
	}
	return submit(op);
}

int eng_get_props(struct eng *e, const char *container, const char *blob, eng_props_cb cb,
		  void *arg)
{
	struct op *op = op_new(e, OK_PROPS, container, blob, NULL, arg);

	if (!op)
		return -ENOMEM;
	op->cb.props = cb;
	return built(op, az_req_get_props(e->az, &op->req.msg, container, blob));
}

int eng_put_small(struct eng *e, const char *container, const char *blob, const void *data,
		  size_t len, const struct az_write_opts *o, eng_commit_cb cb, void *arg)
{
	struct op *op = op_new(e, OK_PUT, container, NULL, blob, arg);
	unsigned char md5[16];
	struct az_write_opts opts = *o;
	int rc;

	if (!op)
		return -ENOMEM;
	op->cb.commit = cb;
	op->data = malloc(len ? len : 1);
	if (!op->data) {
		op_free(op);
		return -ENOMEM;
	}
	memcpy(op->data, data, len);
	az_md5(op->data, len, md5);
	opts.md5 = md5;
	rc = az_req_put_blob(e->az, &op->req.msg, container, blob, len, &opts);
	op->req.body = op->data;
	op->req.body_len = len;
	return built(op, rc);
}

int eng_delete(struct eng *e, const char *container, const char *blob, const char *if_match,
	       eng_done_cb cb, void *arg)
{
	struct op *op = op_new(e, OK_DELETE, container, NULL, blob, arg);

	if (!op)
		return -ENOMEM;
	op->cb.done = cb;
	return built(op, az_req_delete_blob(e->az, &op->req.msg, container, blob, if_match));
}

int eng_set_meta(struct eng *e, const char *container, const char *blob, const struct meta_list *m,
		 const char *if_match, eng_commit_cb cb, void *arg)
{
	struct op *op = op_new(e, OK_META, container, NULL, blob, arg);

	if (!op)
		return -ENOMEM;
	op->cb.commit = cb;
	return built(op, az_req_set_metadata(e->az, &op->req.msg, container, blob, m, if_match));
}

int eng_get_small(struct eng *e, const char *container, const char *blob, size_t max,
		  eng_data_cb cb, void *arg)
{
	struct op *op = op_new(e, OK_GET, container, blob, NULL, arg);
	int rc;

	if (!op)
		return -ENOMEM;
	op->cb.data = cb;
	rc = az_req_get_range(e->az, &op->req.msg, container, blob, 0, max, NULL);
	op->req.msg.resp_max = max + 1;
	return built(op, rc);
}

static void poll_task(struct net_task *t)
{
	struct op *op = container_of(t, struct op, poll);
	int rc;

	net_req_release(&op->req);
	net_req_init(&op->req);
	op->kind = OK_COPY_POLL;
	rc = az_req_get_props(op->e->az, &op->req.msg, op->container, op->dst);
	if (rc >= 0) {
		op->req.done = op_done;
		op->req.arg = op;
		rc = net_submit(op->e->net, &op->req);
	}
	if (rc < 0) {
		op->cb.done(op->arg, rc);
		op_free(op);
	}
}

static int start_poll(struct op *op)
{
	net_task_init(&op->poll, poll_task);
	return net_task_schedule(op->e->net, &op->poll, COPY_POLL_MS);
}

int eng_copy(struct eng *e, const char *container, const char *src, const char *dst,
	     bool no_replace, eng_done_cb cb, void *arg)
{
	struct op *op = op_new(e, OK_COPY, container, src, dst, arg);
	int rc;

	if (!op)
		return -ENOMEM;
	op->cb.done = cb;
	op->deadline_ms = util_now_ms() + 30 * 60 * 1000;
	rc = az_req_copy_blob(e->az, &op->req.msg, container, src, dst, NULL, NULL,
			      no_replace ? "*" : NULL);
	return built(op, rc);
}

/* ---- folder rename: copy everything, then delete the originals ---- */

struct tree {
	struct eng *e;
	char *container;
	char *src_prefix, *dst_prefix;
	char **names; /* source blob names */
	size_t n;
	bool *copied;
	size_t next;
	unsigned inflight;
	int err;
	enum { T_COPY, T_ROLLBACK, T_DELETE } phase;
	bool keep_dst_marker; /* the destination folder existed: its marker is not ours to remove */
	eng_done_cb cb;
	void *arg;
	pthread_mutex_t lock;
};

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->copied);
	free(t->container);
	free(t->src_prefix);
	free(t->dst_prefix);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The folder's own marker blob is the one name not under the prefix. */
static bool is_marker(const struct tree *t, const char *src)
{
	return strncmp(src, t->src_prefix, strlen(t->src_prefix)) != 0;
}

/* "a/x" under "a/" becomes "b/x" under "b/"; the marker "a" becomes "b". */
static char *dst_name(const struct tree *t, const char *src)
{
	size_t plen = strlen(t->src_prefix);
	char *out = NULL;

	if (!is_marker(t, src)) {
		if (asprintf(&out, "%s%s", t->dst_prefix, src + plen) < 0)
			return NULL;
		return out;
	}
	/* the folder's own marker blob: the prefix without its '/' */
	return strndup(t->dst_prefix, strlen(t->dst_prefix) - 1);
}

static void tree_step(struct tree *t);

struct tree_item {
	struct tree *t;
	size_t i;
};

static void item_done(void *arg, int err)
{
	struct tree_item *it = arg;
	struct tree *t = it->t;

	pthread_mutex_lock(&t->lock);
	t->inflight--;
	if (t->phase == T_COPY) {
		if (err && !t->err)
			t->err = err;
		else if (!err)
			t->copied[it->i] = true;
	} else if (t->phase == T_DELETE && err && err != -ENOENT && !t->err) {
		t->err = err;
	}
	pthread_mutex_unlock(&t->lock);
	free(it);
	tree_step(t);
}

static void tree_step(struct tree *t)
{
	bool done = false;
	int err;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		/* Stop copying at the first failure; finish what is in flight first. */
		bool stop = t->phase == T_COPY && t->err;
		while (!stop && t->next < t->n && t->inflight < TREE_PARALLEL) {
			size_t i = t->next++;
			struct tree_item *it;
			char *dst;
			int rc = -ENOMEM;

			if (t->phase == T_ROLLBACK &&
			    (!t->copied[i] || (t->keep_dst_marker && is_marker(t, t->names[i]))))
				continue;
			it = malloc(sizeof(*it));
			dst = t->phase == T_DELETE ? NULL : dst_name(t, t->names[i]);
			if (it && (dst || t->phase == T_DELETE)) {
				it->t = t;
				it->i = i;
				t->inflight++;
				pthread_mutex_unlock(&t->lock);
				if (t->phase == T_COPY)
					rc = eng_copy(t->e, t->container, t->names[i], dst, false,
						      item_done, it);
				else
					rc = eng_delete(t->e, t->container,
							t->phase == T_DELETE ? t->names[i] : dst,
							NULL, item_done, it);
				pthread_mutex_lock(&t->lock);
				if (rc < 0)
					t->inflight--;
			}
			free(dst);
			if (rc < 0) {
				free(it);
				if (!t->err)
					t->err = rc;
				if (t->phase == T_COPY)
					stop = true;
			}
		}
		if (t->inflight)
			break;
		if (t->phase == T_COPY && t->err) {
			log_err("rename '%s/%s' to '%s': a copy failed; removing the copies made",
				t->container, t->src_prefix, t->dst_prefix);
			t->phase = T_ROLLBACK;
			t->next = 0;
			continue;
		}
		if (t->phase == T_COPY) {
			t->phase = T_DELETE;
			t->next = 0;
			continue;
		}
		done = t->next >= t->n;
		break;
	}
	err = t->err;
	pthread_mutex_unlock(&t->lock);
	if (done) {
		if (err && t->phase == T_DELETE)
			log_err(
			    "rename '%s/%s' to '%s': some originals could not be deleted; every "
			    "blob exists under its new name",
			    t->container, t->src_prefix, t->dst_prefix);
		t->cb(t->arg, err);
		tree_free(t);
	}
}

static void tree_listed(void *arg, int err, char **names, size_t n)
{
	struct tree *t = arg;

	if (err) {
		t->cb(t->arg, err);
		tree_free(t);
		return;
	}
	t->names = names;
	t->n = n;
	t->copied = calloc(n ? n : 1, sizeof(*t->copied));
	if (!t->copied) {
		t->cb(t->arg, -ENOMEM);
		tree_free(t);
		return;
	}
	tree_step(t);
}

int eng_rename_tree(struct eng *e, const char *container, const char *src_prefix,
		    const char *dst_prefix, const char *src_marker, bool dst_exists, eng_done_cb cb,
		    void *arg)
{
	struct tree *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->e = e;
	t->cb = cb;
	t->arg = arg;
	t->keep_dst_marker = dst_exists;
	t->container = strdup(container);
	t->src_prefix = strdup(src_prefix);
	t->dst_prefix = strdup(dst_prefix);
	if (!t->container || !t->src_prefix || !t->dst_prefix) {
		tree_free(t);
		return -ENOMEM;
	}
	rc = eng_list_flat(e, container, src_prefix, src_marker, SIZE_MAX, tree_listed, t);
	if (rc < 0)
		tree_free(t);
	return rc;
}
