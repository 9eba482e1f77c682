/*
 * lookup.c - lookup, getattr and forget: names and attributes from the
 * metadata cache, or one probe request on a miss.
 */
#include "azblobfs/common.h"
#include "azblobfs/timeutil.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>

/* Reply to a lookup with the child @name of @parent (takes a lookup reference). */
static void reply_child(struct fs *fs, void *req, struct fs_node *parent, const char *name,
			const struct cache_attr *a)
{
	struct fs_entry e;
	struct fs_node *n;

	pthread_mutex_lock(&fs->lock);
	n = fs_node_child(fs, parent, name, a);
	if (n) {
		n->nlookup++;
		fs_fill_entry(fs, n, &e);
		fs_node_put(fs, n);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!n)
		fs->r.err(req, ENOMEM);
	else
		fs->r.entry(req, &e);
}

static void reply_negative(struct fs *fs, void *req)
{
	struct fs_entry e;

	/* ino 0 with a timeout: the kernel remembers the absence for that long. */
	memset(&e, 0, sizeof(e));
	e.entry_timeout = fs->cfg.negative_timeout;
	if (e.entry_timeout > 0)
		fs->r.entry(req, &e);
	else
		fs->r.err(req, ENOENT);
}

struct lookup_op {
	struct fs *fs;
	void *req;
	struct fs_node *parent;
	char *name;
	char *path;
	uint64_t gen;
};

static void lookup_probed(void *arg, int err, const struct cache_attr *a)
{
	struct lookup_op *op = arg;
	struct fs *fs = op->fs;

	if (err == -ENOENT) {
		(void)cache_put_negative(fs->cache, op->path, op->gen);
		reply_negative(fs, op->req);
	} else if (err) {
		fs_reply_err(fs, op->req, err);
	} else {
		(void)cache_put_attr(fs->cache, op->path, a, op->gen);
		reply_child(fs, op->req, op->parent, op->name, a);
	}
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, op->parent);
	pthread_mutex_unlock(&fs->lock);
	free(op->name);
	free(op->path);
	free(op);
}

void fs_lookup(struct fs *fs, void *req, uint64_t parent_ino, const char *name)
{
	struct fs_target pt = {0};
	struct lookup_op *op = NULL;
	struct fs_node *parent;
	struct cache_attr a;
	char *ppath = NULL;
	int rc;

	if (strlen(name) > FS_NAME_MAX) {
		fs->r.err(req, ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	parent = fs_node_get(fs, parent_ino);
	if (parent && parent->a.type == CACHE_T_DIR)
		ppath = fs_node_path(fs, parent);
	pthread_mutex_unlock(&fs->lock);
	if (!parent) {
		fs->r.err(req, ENOENT);
		return;
	}
	if (parent->a.type != CACHE_T_DIR) {
		rc = -ENOTDIR;
		goto fail;
	}
	if (!ppath) {
		rc = -ENOMEM;
		goto fail;
	}
	switch (cache_lookup(fs->cache, ppath, name, &a)) {
	case CACHE_HIT:
		reply_child(fs, req, parent, name, &a);
		rc = 0;
		goto out;
	case CACHE_NEGATIVE:
		reply_negative(fs, req);
		rc = 0;
		goto out;
	case CACHE_MISS:
		break;
	}
	rc = fs_target_of(fs, ppath, &pt);
	if (rc < 0)
		goto fail;
	op = calloc(1, sizeof(*op));
	if (!op) {
		rc = -ENOMEM;
		goto fail;
	}
	op->fs = fs;
	op->req = req;
	op->parent = parent;
	op->name = strdup(name);
	op->path = cache_key_join(ppath, name);
	op->gen = cache_generation(fs->cache);
	if (!op->name || !op->path) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = eng_probe(fs->eng, pt.container, pt.dir_prefix, name, lookup_probed, op);
	if (rc < 0)
		goto fail;
	/* The probe owns op and the parent reference now. */
	fs_target_release(&pt);
	free(ppath);
	return;
fail:
	fs_reply_err(fs, req, rc);
out:
	if (op) {
		free(op->name);
		free(op->path);
		free(op);
	}
	fs_target_release(&pt);
	free(ppath);
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, parent);
	pthread_mutex_unlock(&fs->lock);
}

void fs_forget(struct fs *fs, uint64_t ino, uint64_t nlookup)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->lock);
	n = fs_node_get(fs, ino);
	if (n) {
		n->refs--; /* fs_node_get's, without freeing yet */
		fs_node_forget(fs, n, nlookup);
	}
	pthread_mutex_unlock(&fs->lock);
}

static void getattr_done(struct fs *fs, void *req, struct fs_node *n, int err,
			 const struct cache_attr *a, void *arg)
{
	struct stat st;

	(void)arg;
	if (err) {
		fs_reply_err(fs, req, err);
		return;
	}
	fs_fill_stat(fs, n->ino, a, &st);
	fs->r.attr(req, &st, fs->cfg.attr_timeout);
}

void fs_getattr(struct fs *fs, void *req, uint64_t ino)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->lock);
	n = fs_node_get(fs, ino);
	pthread_mutex_unlock(&fs->lock);
	if (!n) {
		fs->r.err(req, ENOENT);
		return;
	}
	fs_node_refresh(fs, req, n, getattr_done, NULL);
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, n);
	pthread_mutex_unlock(&fs->lock);
}
