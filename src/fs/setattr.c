/*
 * setattr.c - chmod, chown, utimens and truncate, and storing a node's
 * metadata on the service.
 *
 * Attributes of a file with a pending commit ride along with it. Otherwise
 * they go up at once: Set Blob Metadata on a blob, or on a folder's marker
 * blob (created when the folder had none). A truncation of a file nobody
 * has open is a writer of its own: truncate, commit, done.
 */
#include "azblobfs/common.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>

struct setattr_op {
	struct fs *fs;
	void *req;
	struct fs_node *n;
	struct stat st;
	unsigned to_set;
	struct fs_caller caller;
	bool temp_writer;
	bool reply_attr;
};

static void node_unref(struct fs *fs, struct fs_node *n)
{
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

static void reply_node_attr(struct fs *fs, void *req, struct fs_node *n)
{
	struct stat st;

	pthread_mutex_lock(&fs->lock);
	fs_node_fill_stat(fs, n, &st);
	pthread_mutex_unlock(&fs->lock);
	fs->r.attr(req, &st, fs->cfg.attr_timeout);
}

/* ---- storing metadata ---- */

static void meta_stored(void *arg, int err, const struct eng_commit_result *res)
{
	struct setattr_op *op = arg;
	struct fs *fs = op->fs;

	if (!err && res) {
		fs_node_committed(fs, op->n, res, false);
		pthread_mutex_lock(&fs->lock);
		if (op->n->a.type == CACHE_T_DIR)
			op->n->a.flags |= CACHE_F_MARKER;
		pthread_mutex_unlock(&fs->lock);
	}
	if (err)
		fs_reply_err(fs, op->req, err);
	else if (op->reply_attr)
		reply_node_attr(fs, op->req, op->n);
	else
		fs->r.err(op->req, 0);
	node_unref(fs, op->n);
	free(op);
}

void fs_node_store_meta(struct fs *fs, void *req, struct fs_node *n, bool reply_attr)
{
	struct meta_list meta = {0};
	struct fs_target t = {0};
	struct setattr_op *op = NULL;
	struct az_write_opts o = {0};
	bool pending, marker;
	char *path = NULL;
	int rc;

	pthread_mutex_lock(&fs->lock);
	pending = (n->w && eng_writer_dirty(n->w)) || n->unlinked || n == fs->root;
	marker = (n->a.flags & CACHE_F_MARKER) && !(n->a.flags & CACHE_F_SLASH);
	rc = pending ? 0 : fs_node_build_meta(fs, n, &meta);
	if (!pending && !rc)
		path = fs_node_path(fs, n);
	if (!pending && !rc) {
		n->refs++;
		op = calloc(1, sizeof(*op));
	}
	pthread_mutex_unlock(&fs->lock);
	if (pending) {
		/* The next commit carries them (the root has no blob: kept for this mount). */
		if (reply_attr)
			reply_node_attr(fs, req, n);
		else
			fs->r.err(req, 0);
		return;
	}
	if (!rc)
		rc = !path || !op ? -ENOMEM : fs_target_of(fs, path, &t);
	if (rc < 0)
		goto fail;
	op->fs = fs;
	op->req = req;
	op->n = n;
	op->reply_attr = reply_attr;
	if (n->a.type == CACHE_T_DIR && !marker) {
		/* A folder known only by its prefix gets a marker blob to hold its metadata. */
		o.content_type = "application/octet-stream";
		o.meta = &meta;
		rc = eng_put_small(fs->eng, t.container, t.blob, "", 0, &o, meta_stored, op);
	} else {
		rc = eng_set_meta(fs->eng, t.container, t.blob, &meta, NULL, meta_stored, op);
	}
	if (rc < 0)
		goto fail;
	op = NULL;
	goto out;
fail:
	fs_reply_err(fs, req, rc);
	if (op)
		node_unref(fs, n);
out:
	free(op);
	fs_target_release(&t);
	free(path);
	meta_list_release(&meta);
}

/* ---- setattr ---- */

static void apply_attrs(struct setattr_op *op)
{
	struct fs *fs = op->fs;
	struct fs_node *n = op->n;
	unsigned set = op->to_set;
	bool changed = false;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	uid_t owner = (n->a.flags & CACHE_F_UID) ? n->a.uid : fs->cfg.uid;
	mode_t cur = (n->a.flags & CACHE_F_MODE) ? n->a.mode : 0;
	/*
	 * A write or chown by anyone clears set-user-ID and set-group-ID: the
	 * kernel asks with a chmod that only drops those bits, which any
	 * caller may do. Other checks are the kernel's with
	 * default_permissions; without it, these are ours.
	 */
	bool drops_priv = (set & ~(unsigned)FS_SET_MODE) == 0 && (n->a.flags & CACHE_F_MODE) &&
			  (op->st.st_mode & 07777) == (cur & ~(mode_t)06000);
	if ((set & FS_SET_UID) && op->caller.uid != 0 && op->st.st_uid != owner)
		rc = -EPERM;
	if ((set & (FS_SET_MODE | FS_SET_GID)) && op->caller.uid != 0 && op->caller.uid != owner &&
	    !drops_priv)
		rc = -EPERM;
	if (!rc && (set & FS_SET_MODE)) {
		n->a.mode = op->st.st_mode & 07777;
		n->a.flags |= CACHE_F_MODE;
		changed = true;
	}
	if (!rc && (set & FS_SET_UID)) {
		n->a.uid = op->st.st_uid;
		n->a.flags |= CACHE_F_UID;
		changed = true;
	}
	if (!rc && (set & FS_SET_GID)) {
		n->a.gid = op->st.st_gid;
		n->a.flags |= CACHE_F_GID;
		changed = true;
	}
	if (!rc && (set & (FS_SET_MTIME | FS_SET_MTIME_NOW))) {
		if (set & FS_SET_MTIME_NOW)
			clock_gettime(CLOCK_REALTIME, &n->a.mtime);
		else
			n->a.mtime = op->st.st_mtim;
		n->a.flags |= CACHE_F_MTIME;
		n->local_mtime = (struct timespec){0}; /* what utimens says wins */
		changed = true;
	}
	if (!rc)
		fs_node_touch(n);
	pthread_mutex_unlock(&fs->lock);
	if (rc < 0)
		fs_reply_err(fs, op->req, rc);
	else if (changed)
		fs_node_store_meta(fs, op->req, n, true);
	else
		reply_node_attr(fs, op->req, n); /* atime alone: nowhere to keep it */
	node_unref(fs, n);
	free(op);
}

static void temp_committed(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct setattr_op *op = arg;

	(void)req;
	fs_node_writer_unuse(fs, n);
	if (err) {
		fs_reply_err(fs, op->req, err);
		node_unref(fs, n);
		free(op);
		return;
	}
	op->to_set &= ~(unsigned)FS_SET_SIZE;
	apply_attrs(op);
}

static void truncated(void *arg, int err)
{
	struct setattr_op *op = arg;
	struct fs *fs = op->fs;
	struct fs_node *n = op->n;

	if (!err) {
		pthread_mutex_lock(&fs->lock);
		n->a.size = (uint64_t)op->st.st_size;
		n->a.flags &= (uint16_t)~CACHE_F_MTIME;
		clock_gettime(CLOCK_REALTIME, &n->a.mtime);
		pthread_mutex_unlock(&fs->lock);
	}
	if (!err && op->temp_writer) {
		/* Nobody has the file open: the truncation is committed now (our use ends there).
		 */
		fs_node_commit(fs, op->req, n, temp_committed, op);
		return;
	}
	/* A failed truncate of a file nobody has open drops its temporary writer here. */
	fs_node_writer_unuse(fs, n);
	if (err) {
		fs_reply_err(fs, op->req, err);
		node_unref(fs, n);
		free(op);
		return;
	}
	op->to_set &= ~(unsigned)FS_SET_SIZE;
	apply_attrs(op);
}

static void truncate_loaded(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct setattr_op *op = arg;
	struct eng_writer *w = NULL;

	(void)req;
	if (!err) {
		pthread_mutex_lock(&fs->lock);
		op->temp_writer = !n->w;
		err = fs_node_attach_writer(fs, n, &n->a, op->st.st_size == 0, false);
		if (!err) {
			w = n->w;
			n->w_users++;
		}
		pthread_mutex_unlock(&fs->lock);
	}
	if (err) {
		fs_reply_err(fs, op->req, err);
		node_unref(fs, n);
		free(op);
		return;
	}
	eng_writer_truncate(w, (uint64_t)op->st.st_size, truncated, op);
}

static void truncate_attrs(struct fs *fs, void *req, struct fs_node *n, int err,
			   const struct cache_attr *a, void *arg)
{
	struct setattr_op *op = arg;

	if (!err && a->type != CACHE_T_FILE)
		err = a->type == CACHE_T_DIR ? -EISDIR : -EINVAL;
	if (err) {
		fs_reply_err(fs, req, err);
		node_unref(fs, op->n);
		free(op);
		return;
	}
	/* A rewrite keeps the blob's metadata: know all of it first. */
	fs_node_load_meta(fs, req, n, truncate_loaded, op);
}

void fs_setattr(struct fs *fs, void *req, uint64_t ino, const struct stat *st, unsigned to_set,
		const struct fs_caller *c)
{
	struct setattr_op *op;
	struct fs_node *n;

	if (fs->cfg.read_only && (to_set & ~(unsigned)(FS_SET_ATIME | FS_SET_ATIME_NOW))) {
		fs->r.err(req, EROFS);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n = fs_node_get(fs, ino);
	pthread_mutex_unlock(&fs->lock);
	if (!n) {
		fs->r.err(req, ENOENT);
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		node_unref(fs, n);
		fs->r.err(req, ENOMEM);
		return;
	}
	op->fs = fs;
	op->req = req;
	op->n = n;
	op->st = *st;
	op->to_set = to_set;
	op->caller = *c;
	op->reply_attr = true;
	if (!(to_set & FS_SET_SIZE)) {
		apply_attrs(op);
		return;
	}
	if (n->a.type == CACHE_T_DIR) {
		fs->r.err(req, EISDIR);
		node_unref(fs, n);
		free(op);
		return;
	}
	if (st->st_size < 0 || (uint64_t)st->st_size > ENG_MAX_FILE_SIZE) {
		fs->r.err(req, st->st_size < 0 ? EINVAL : EFBIG);
		node_unref(fs, n);
		free(op);
		return;
	}
	/* The current version first (renamed, or changed elsewhere since we looked). */
	fs_node_refresh(fs, req, n, truncate_attrs, op);
}
