/*
 * lookup.c - lookup, getattr and forget: names and attributes from the
 * metadata cache, or one probe request on a miss.
 */
#include "azblobfs/common.h"
#include "azblobfs/timeutil.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>

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

/* ---- resolving a name: node table (files being written), cache, probe ---- */

struct resolve_op {
	struct fs *fs;
	void *req;
	struct fs_node *parent;
	char *name;
	char *path;
	uint64_t gen;
	fs_child_fn cb;
	void *arg;
};

static void resolve_finish(struct resolve_op *op, int err, const struct cache_attr *a)
{
	struct fs *fs = op->fs;
	struct fs_node *child = NULL;

	if (!err) {
		pthread_mutex_lock(&fs->lock);
		child = fs_node_child(fs, op->parent, op->name, a);
		pthread_mutex_unlock(&fs->lock);
		if (!child)
			err = -ENOMEM;
	}
	op->cb(fs, op->req, op->parent, op->name, err, child, op->arg);
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, child);
	fs_node_put(fs, op->parent);
	pthread_mutex_unlock(&fs->lock);
	free(op->name);
	free(op->path);
	free(op);
}

static void resolve_probed(void *arg, int err, const struct cache_attr *a)
{
	struct resolve_op *op = arg;

	if (err == -ENOENT)
		(void)cache_put_negative(op->fs->cache, op->path, op->gen);
	else if (!err)
		(void)cache_put_attr(op->fs->cache, op->path, a, op->gen);
	resolve_finish(op, err, err ? NULL : a);
}

void fs_resolve(struct fs *fs, void *req, struct fs_node *parent, const char *name, fs_child_fn cb,
		void *arg)
{
	struct fs_target pt = {0};
	struct resolve_op *op;
	struct fs_node *pending = NULL;
	struct cache_attr a;
	char *ppath = NULL;
	int rc;

	op = calloc(1, sizeof(*op));
	if (!op) {
		cb(fs, req, parent, name, -ENOMEM, NULL, arg);
		return;
	}
	op->fs = fs;
	op->req = req;
	op->cb = cb;
	op->arg = arg;
	op->name = strdup(name);
	pthread_mutex_lock(&fs->lock);
	parent->refs++;
	op->parent = parent;
	if (parent->a.type == CACHE_T_DIR)
		ppath = fs_node_path(fs, parent);
	pending = fs_node_find_child(fs, parent, name);
	if (pending && pending->w && !pending->unlinked)
		a = pending->a; /* being written here: the service does not know it yet */
	else
		pending = NULL;
	pthread_mutex_unlock(&fs->lock);
	if (strlen(name) > FS_NAME_MAX)
		rc = -ENAMETOOLONG;
	else if (parent->a.type != CACHE_T_DIR)
		rc = -ENOTDIR;
	else if (!op->name || !ppath)
		rc = -ENOMEM;
	else
		rc = 0;
	if (rc < 0 || pending) {
		free(ppath);
		return resolve_finish(op, rc, rc ? NULL : &a);
	}
	switch (cache_lookup(fs->cache, ppath, name, &a)) {
	case CACHE_HIT:
		free(ppath);
		return resolve_finish(op, 0, &a);
	case CACHE_NEGATIVE:
		free(ppath);
		return resolve_finish(op, -ENOENT, NULL);
	case CACHE_MISS:
		break;
	}
	op->path = cache_key_join(ppath, name);
	op->gen = cache_generation(fs->cache);
	rc = op->path ? fs_target_of(fs, ppath, &pt) : -ENOMEM;
	if (!rc)
		rc = eng_probe(fs->eng, pt.container, pt.dir_prefix, name, resolve_probed, op);
	fs_target_release(&pt);
	free(ppath);
	if (rc < 0)
		resolve_finish(op, rc, NULL);
}

static void lookup_resolved(struct fs *fs, void *req, struct fs_node *parent, const char *name,
			    int err, struct fs_node *child, void *arg)
{
	struct fs_entry e;

	(void)parent;
	(void)name;
	(void)arg;
	if (err == -ENOENT) {
		reply_negative(fs, req);
		return;
	}
	if (err) {
		fs_reply_err(fs, req, err);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	child->nlookup++;
	fs_fill_entry(fs, child, &e);
	pthread_mutex_unlock(&fs->lock);
	fs->r.entry(req, &e);
}

void fs_lookup(struct fs *fs, void *req, uint64_t parent_ino, const char *name)
{
	struct fs_node *parent;

	pthread_mutex_lock(&fs->lock);
	parent = fs_node_get(fs, parent_ino);
	pthread_mutex_unlock(&fs->lock);
	if (!parent) {
		fs->r.err(req, ENOENT);
		return;
	}
	fs_resolve(fs, req, parent, name, lookup_resolved, NULL);
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
	/* n->a is @a now (or a writer's, which are the truth); this mount's times go on top. */
	(void)a;
	pthread_mutex_lock(&fs->lock);
	fs_node_fill_stat(fs, n, &st);
	pthread_mutex_unlock(&fs->lock);
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
