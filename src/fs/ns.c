/*
 * ns.c - the namespace: unlink, mkdir, rmdir, rename, symlink, readlink,
 * mknod and link.
 *
 * Folders made here are blobfuse2 marker blobs (0 bytes, hdi_isfolder=true).
 * A file rename is a server-side Copy Blob then a Delete; a folder rename
 * copies every blob under it before deleting any original (engine's
 * eng_rename_tree), so a failure never loses a blob.
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "fs_i.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>

#define LINK_MAX_TARGET 4096

struct ns_op {
	struct fs *fs;
	void *req;
	struct fs_node *parent, *child;  /* referenced */
	struct fs_node *newparent, *dst; /* rename: referenced */
	char *name, *newname;
	char *path, *newpath; /* mount-relative */
	struct fs_target t, nt;
	unsigned flags;
	mode_t mode;
	struct fs_caller caller;
	char *target;       /* symlink */
	uint8_t type;       /* what create_blob makes */
	uint32_t rdev;      /* mknod of a device */
	char *slash_marker; /* rmdir: the "dir/" blob, if any */
	bool dst_exists;    /* rename: onto an existing (empty) folder */
	unsigned pending;
	int err;
};

static void ns_free(struct ns_op *op)
{
	struct fs *fs = op->fs;

	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, op->parent);
	fs_node_put(fs, op->child);
	fs_node_put(fs, op->newparent);
	fs_node_put(fs, op->dst);
	pthread_mutex_unlock(&fs->lock);
	fs_target_release(&op->t);
	fs_target_release(&op->nt);
	free(op->name);
	free(op->newname);
	free(op->path);
	free(op->newpath);
	free(op->target);
	free(op->slash_marker);
	free(op);
}

static void ns_reply(struct ns_op *op, int err)
{
	fs_reply_err(op->fs, op->req, err);
	ns_free(op);
}

/* A new op on @parent_ino / @name, with the checks every change needs. */
static struct ns_op *ns_new(struct fs *fs, void *req, uint64_t parent_ino, const char *name)
{
	struct ns_op *op;
	int rc = 0;

	if (fs->cfg.read_only) {
		fs->r.err(req, EROFS);
		return NULL;
	}
	if (strlen(name) > FS_NAME_MAX) {
		fs->r.err(req, ENAMETOOLONG);
		return NULL;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		fs->r.err(req, ENOMEM);
		return NULL;
	}
	op->fs = fs;
	op->req = req;
	op->name = strdup(name);
	pthread_mutex_lock(&fs->lock);
	op->parent = fs_node_get(fs, parent_ino);
	if (op->parent && op->parent->a.type == CACHE_T_DIR) {
		char *ppath = fs_node_path(fs, op->parent);
		op->path = ppath ? cache_key_join(ppath, name) : NULL;
		free(ppath);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!op->parent)
		rc = -ENOENT;
	else if (op->parent->a.type != CACHE_T_DIR)
		rc = -ENOTDIR;
	else if (!op->name || !op->path)
		rc = -ENOMEM;
	else if (op->parent == fs->root && !fs->container)
		rc = -EPERM; /* containers are not created or removed through the mount */
	else
		rc = fs_target_of(fs, op->path, &op->t);
	if (rc < 0) {
		ns_reply(op, rc);
		return NULL;
	}
	return op;
}

/* Reply with the entry of a name just made on the service. */
static void reply_new_entry(struct ns_op *op, const struct cache_attr *a)
{
	struct fs *fs = op->fs;
	struct fs_node *n;
	struct fs_entry e;

	cache_note_change(fs->cache, op->path, a);
	if (a->type == CACHE_T_DIR)
		cache_note_empty_dir(fs->cache, op->path);
	pthread_mutex_lock(&fs->lock);
	fs_dir_changed(op->parent);
	n = fs_node_child(fs, op->parent, op->name, a);
	if (n) {
		n->nlookup++;
		n->meta_known = false;
		fs_fill_entry(fs, n, &e);
		fs_node_put(fs, n);
	}
	pthread_mutex_unlock(&fs->lock);
	if (n)
		fs->r.entry(op->req, &e);
	else
		fs->r.err(op->req, ENOMEM);
	ns_free(op);
}

static void new_attr(const struct ns_op *op, uint8_t type, uint64_t size, mode_t mode,
		     const struct eng_commit_result *res, struct cache_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->size = size;
	a->mode = mode & 07777;
	a->uid = op->caller.uid;
	a->gid = op->caller.gid;
	a->flags = CACHE_F_MODE | CACHE_F_UID | CACHE_F_GID;
	if (type == CACHE_T_DIR)
		a->flags |= CACHE_F_MARKER;
	a->mtime = a->ctime = res->mtime;
	cache_etag_copy(a->etag, res->etag);
}

static void created(void *arg, int err, const struct eng_commit_result *res)
{
	struct ns_op *op = arg;
	struct cache_attr a;

	if (err) {
		ns_reply(op, err == -ESTALE ? -EEXIST : err);
		return;
	}
	new_attr(op, op->type, op->target ? strlen(op->target) : 0, op->mode, res, &a);
	a.rdev = op->rdev;
	reply_new_entry(op, &a);
}

/* Put a small blob for a new name: a folder marker, a symlink, a special or an empty file. */
static void create_blob(struct ns_op *op, uint8_t type)
{
	struct fs *fs = op->fs;
	struct fs_node tmp = {0};
	struct meta_list meta = {0};
	struct az_write_opts o = {0};
	const char *body = op->target ? op->target : "";
	int rc;

	op->type = type;
	tmp.a.type = type;
	tmp.a.rdev = op->rdev;
	tmp.a.mode = op->mode & 07777;
	tmp.a.uid = op->caller.uid;
	tmp.a.gid = op->caller.gid;
	tmp.a.flags = CACHE_F_MODE | CACHE_F_UID | CACHE_F_GID;
	rc = fs_node_build_meta(fs, &tmp, &meta);
	if (rc < 0) {
		ns_reply(op, rc);
		return;
	}
	o.meta = &meta;
	o.if_none_match = "*";
	o.content_type = type == CACHE_T_FILE ? NULL : "application/octet-stream";
	/* Always "" for a special file: its content is never read. */
	rc = eng_put_small(fs->eng, op->t.container, op->t.blob, body, strlen(body), &o, created,
			   op);
	meta_list_release(&meta);
	if (rc < 0)
		ns_reply(op, rc);
}

void fs_mkdir(struct fs *fs, void *req, uint64_t parent, const char *name, mode_t mode,
	      const struct fs_caller *c)
{
	struct ns_op *op = ns_new(fs, req, parent, name);

	if (!op)
		return;
	op->mode = S_IFDIR | (mode & 07777);
	op->caller = *c;
	create_blob(op, CACHE_T_DIR);
}

void fs_symlink(struct fs *fs, void *req, const char *target, uint64_t parent, const char *name,
		const struct fs_caller *c)
{
	struct ns_op *op;

	if (strlen(target) >= LINK_MAX_TARGET) {
		fs->r.err(req, ENAMETOOLONG);
		return;
	}
	op = ns_new(fs, req, parent, name);
	if (!op)
		return;
	op->mode = S_IFLNK | 0777;
	op->caller = *c;
	op->target = strdup(target);
	if (!op->target) {
		ns_reply(op, -ENOMEM);
		return;
	}
	create_blob(op, CACHE_T_LINK);
}

void fs_mknod(struct fs *fs, void *req, uint64_t parent, const char *name, mode_t mode,
	      uint64_t rdev, const struct fs_caller *c)
{
	struct ns_op *op;
	uint8_t type;

	switch (mode & S_IFMT) {
	case S_IFREG:
		type = CACHE_T_FILE;
		break;
	case S_IFIFO:
		type = CACHE_T_FIFO;
		break;
	case S_IFSOCK:
		type = CACHE_T_SOCK;
		break;
	case S_IFCHR:
		type = CACHE_T_CHR;
		break;
	case S_IFBLK:
		type = CACHE_T_BLK;
		break;
	default:
		fs->r.err(req, EINVAL);
		return;
	}
	/* FUSE carries device numbers in 32 bits; only devices have one. */
	if ((type == CACHE_T_CHR || type == CACHE_T_BLK) && rdev > UINT32_MAX) {
		fs->r.err(req, EOVERFLOW);
		return;
	}
	op = ns_new(fs, req, parent, name);
	if (!op)
		return;
	op->mode = mode;
	op->caller = *c;
	if (type == CACHE_T_CHR || type == CACHE_T_BLK)
		op->rdev = (uint32_t)rdev;
	create_blob(op, type);
}

void fs_link(struct fs *fs, void *req, uint64_t ino, uint64_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	/* No hard links on blobs: POSIX's answer for a filesystem without them. */
	fs->r.err(req, fs->cfg.read_only ? EROFS : EPERM);
}

/* ---- readlink ---- */

static void link_read(void *arg, int err, const char *data, size_t len)
{
	struct ns_op *op = arg;
	struct fs *fs = op->fs;
	char *target = err ? NULL : strndup(data, len);

	if (!err && !target)
		err = -ENOMEM;
	if (err) {
		ns_reply(op, err);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	free(op->child->link_target);
	op->child->link_target = strdup(target);
	pthread_mutex_unlock(&fs->lock);
	fs->r.readlink(op->req, target);
	free(target);
	ns_free(op);
}

void fs_readlink(struct fs *fs, void *req, uint64_t ino)
{
	struct ns_op *op = calloc(1, sizeof(*op));
	char *target = NULL;
	int rc = 0;

	if (!op) {
		fs->r.err(req, ENOMEM);
		return;
	}
	op->fs = fs;
	op->req = req;
	pthread_mutex_lock(&fs->lock);
	op->child = fs_node_get(fs, ino);
	if (op->child && op->child->link_target)
		target = strdup(op->child->link_target);
	if (op->child)
		op->path = fs_node_path(fs, op->child);
	pthread_mutex_unlock(&fs->lock);
	if (!op->child)
		rc = -ENOENT;
	else if (op->child->a.type != CACHE_T_LINK)
		rc = -EINVAL;
	if (rc || target) {
		if (target)
			fs->r.readlink(req, target);
		else
			fs_reply_err(fs, req, rc);
		free(target);
		ns_free(op);
		return;
	}
	rc = op->path ? fs_target_of(fs, op->path, &op->t) : -ENOMEM;
	if (!rc)
		rc = eng_get_small(fs->eng, op->t.container, op->t.blob, LINK_MAX_TARGET, link_read,
				   op);
	if (rc < 0)
		ns_reply(op, rc);
}

/* ---- unlink ---- */

static void forget_name(struct ns_op *op, struct fs_node *n, const char *path)
{
	struct fs *fs = op->fs;

	pthread_mutex_lock(&fs->lock);
	if (n->w)
		n->unlinked = true; /* its writer must never commit now */
	fs_node_unname(fs, n);
	pthread_mutex_unlock(&fs->lock);
	cache_note_change(fs->cache, path, NULL);
	pthread_mutex_lock(&fs->lock);
	fs_dir_changed(op->parent);
	pthread_mutex_unlock(&fs->lock);
}

static void unlinked(void *arg, int err)
{
	struct ns_op *op = arg;
	bool had_writer;

	pthread_mutex_lock(&op->fs->lock);
	had_writer = op->child->w != NULL;
	pthread_mutex_unlock(&op->fs->lock);
	/* A file created here but never committed has no blob to delete. */
	if (err == -ENOENT && had_writer)
		err = 0;
	if (!err)
		forget_name(op, op->child, op->path);
	ns_reply(op, err);
}

static void unlink_resolved(struct fs *fs, void *req, struct fs_node *parent, const char *name,
			    int err, struct fs_node *child, void *arg)
{
	struct ns_op *op = arg;
	bool never_committed;

	(void)req;
	(void)parent;
	(void)name;
	if (err) {
		ns_reply(op, err);
		return;
	}
	if (child->a.type == CACHE_T_DIR) {
		ns_reply(op, -EISDIR);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	child->refs++;
	op->child = child;
	never_committed = child->w && !child->a.etag[0];
	pthread_mutex_unlock(&fs->lock);
	if (never_committed) {
		forget_name(op, child, op->path);
		ns_reply(op, 0);
		return;
	}
	err = eng_delete(fs->eng, op->t.container, op->t.blob, NULL, unlinked, op);
	if (err < 0)
		ns_reply(op, err);
}

void fs_unlink(struct fs *fs, void *req, uint64_t parent, const char *name)
{
	struct ns_op *op = ns_new(fs, req, parent, name);

	if (op)
		fs_resolve(fs, req, op->parent, name, unlink_resolved, op);
}

/* ---- rmdir ---- */

static bool has_pending_children(struct fs *fs, struct fs_node *dir)
{
	bool found = false;

	pthread_mutex_lock(&fs->lock);
	for (struct list_node *ln = fs->dirty.next; ln != &fs->dirty && !found; ln = ln->next) {
		struct fs_node *n = container_of(ln, struct fs_node, dirty);
		for (struct fs_node *p = n->parent; p && !found; p = p->parent)
			found = p == dir && !n->unlinked;
	}
	pthread_mutex_unlock(&fs->lock);
	return found;
}

static void marker_deleted(void *arg, int err)
{
	struct ns_op *op = arg;

	if (err && err != -ENOENT && !op->err)
		op->err = err;
	if (--op->pending)
		return;
	if (!op->err)
		forget_name(op, op->child, op->path);
	ns_reply(op, op->err);
}

static void rmdir_listed(void *arg, int err, char **names, size_t n)
{
	struct ns_op *op = arg;
	struct fs *fs = op->fs;
	bool marker, empty = true;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], op->t.dir_prefix))
			op->slash_marker = strdup(names[i]); /* the folder's own "dir/" blob */
		else
			empty = false;
		free(names[i]);
	}
	free(names);
	if (err || !empty) {
		ns_reply(op, err ? err : -ENOTEMPTY);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	marker = (op->child->a.flags & CACHE_F_MARKER) && !(op->child->a.flags & CACHE_F_SLASH);
	pthread_mutex_unlock(&fs->lock);
	op->pending = 1 + (marker ? 1 : 0) + (op->slash_marker ? 1 : 0);
	if (marker &&
	    eng_delete(fs->eng, op->t.container, op->t.blob, NULL, marker_deleted, op) < 0)
		marker_deleted(op, -ENOMEM);
	if (op->slash_marker &&
	    eng_delete(fs->eng, op->t.container, op->slash_marker, NULL, marker_deleted, op) < 0)
		marker_deleted(op, -ENOMEM);
	marker_deleted(op, 0); /* our own count */
}

static void rmdir_resolved(struct fs *fs, void *req, struct fs_node *parent, const char *name,
			   int err, struct fs_node *child, void *arg)
{
	struct ns_op *op = arg;

	(void)req;
	(void)parent;
	(void)name;
	if (err) {
		ns_reply(op, err);
		return;
	}
	if (child->a.type != CACHE_T_DIR) {
		ns_reply(op, -ENOTDIR);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	child->refs++;
	op->child = child;
	pthread_mutex_unlock(&fs->lock);
	if (has_pending_children(fs, child)) {
		ns_reply(op, -ENOTEMPTY);
		return;
	}
	/* Two names are enough to tell: the folder's own "dir/" marker and one more. */
	err = eng_list_flat(fs->eng, op->t.container, op->t.dir_prefix, NULL, 2, rmdir_listed, op);
	if (err < 0)
		ns_reply(op, err);
}

void fs_rmdir(struct fs *fs, void *req, uint64_t parent, const char *name)
{
	struct ns_op *op = ns_new(fs, req, parent, name);

	if (op)
		fs_resolve(fs, req, op->parent, name, rmdir_resolved, op);
}

/* ---- rename ---- */

static void rename_done(struct ns_op *op, int err)
{
	struct fs *fs = op->fs;
	bool dir = op->child->a.type == CACHE_T_DIR;

	struct cache_attr a;

	if (!err) {
		pthread_mutex_lock(&fs->lock);
		err = fs_node_move(fs, op->child, op->newparent, op->newname);
		if (!err && op->child->w)
			err = eng_writer_rename(op->child->w, op->nt.container, op->nt.blob);
		a = op->child->a;
		/* The copy is a new blob: its ETag is not the original's. */
		a.etag[0] = '\0';
		pthread_mutex_unlock(&fs->lock);
	}
	/* Even a rename that failed half way changed names on the service. */
	if (dir) {
		cache_invalidate_all(fs->cache);
	} else if (!err) {
		cache_note_change(fs->cache, op->path, NULL);
		cache_note_change(fs->cache, op->newpath, &a);
	} else {
		cache_invalidate_path(fs->cache, op->path);
		cache_invalidate_path(fs->cache, op->newpath);
	}
	if (!err) {
		pthread_mutex_lock(&fs->lock);
		fs_dir_changed(op->parent);
		fs_dir_changed(op->newparent);
		fs_node_touch(op->child);
		pthread_mutex_unlock(&fs->lock);
	}
	ns_reply(op, err);
}

static void rename_src_deleted(void *arg, int err)
{
	struct ns_op *op = arg;

	if (err && err != -ENOENT) {
		/* Both names exist now: nothing is lost, but the rename is not whole. */
		log_err("rename '%s' to '%s': copied, but the original could not be deleted",
			op->path, op->newpath);
		rename_done(op, err == -EBUSY ? -EBUSY : -EIO);
		return;
	}
	rename_done(op, 0);
}

static void rename_copied(void *arg, int err)
{
	struct ns_op *op = arg;

	if (err) {
		ns_reply(op, err == -ESTALE ? -EEXIST : err);
		return;
	}
	err = eng_delete(op->fs->eng, op->t.container, op->t.blob, NULL, rename_src_deleted, op);
	if (err < 0)
		rename_src_deleted(op, err);
}

static void rename_tree_done(void *arg, int err)
{
	rename_done(arg, err);
}

static void rename_file(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct ns_op *op = arg;

	(void)req;
	(void)n;
	if (!err)
		err = eng_copy(fs->eng, op->t.container, op->t.blob, op->nt.blob,
			       op->flags & RENAME_NOREPLACE, rename_copied, op);
	if (err < 0)
		ns_reply(op, err);
}

static void rename_start(struct ns_op *op)
{
	struct fs *fs = op->fs;
	struct fs_node *src = op->child;
	bool marker;
	int rc;

	if (strcmp(op->t.container, op->nt.container)) {
		ns_reply(op, -EXDEV);
		return;
	}
	if (src->a.type != CACHE_T_DIR) {
		/* Pending data first, so the copy carries it. */
		fs_node_commit(fs, op->req, src, rename_file, op);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	marker = (src->a.flags & CACHE_F_MARKER) && !(src->a.flags & CACHE_F_SLASH);
	pthread_mutex_unlock(&fs->lock);
	if (has_pending_children(fs, src)) {
		/* Files being written inside would land under the old name: not now. */
		ns_reply(op, -EBUSY);
		return;
	}
	rc = eng_rename_tree(fs->eng, op->t.container, op->t.dir_prefix, op->nt.dir_prefix,
			     marker ? op->t.blob : NULL, op->dst_exists, rename_tree_done, op);
	if (rc < 0)
		ns_reply(op, rc);
}

static void rename_dst_listed(void *arg, int err, char **names, size_t n)
{
	struct ns_op *op = arg;
	bool empty = true;

	for (size_t i = 0; i < n; i++) {
		empty &= !strcmp(names[i], op->nt.dir_prefix);
		free(names[i]);
	}
	free(names);
	if (err || !empty) {
		ns_reply(op, err ? err : -ENOTEMPTY);
		return;
	}
	rename_start(op);
}

static void rename_dst_resolved(struct fs *fs, void *req, struct fs_node *parent, const char *name,
				int err, struct fs_node *dst, void *arg)
{
	struct ns_op *op = arg;
	bool src_dir = op->child->a.type == CACHE_T_DIR;

	(void)req;
	(void)parent;
	(void)name;
	if (err && err != -ENOENT) {
		ns_reply(op, err);
		return;
	}
	if (!err) {
		if (op->flags & RENAME_NOREPLACE)
			err = -EEXIST;
		else if (dst == op->child)
			err = 1; /* the same name: nothing to do */
		else if (src_dir && dst->a.type != CACHE_T_DIR)
			err = -ENOTDIR;
		else if (!src_dir && dst->a.type == CACHE_T_DIR)
			err = -EISDIR;
		if (err) {
			ns_reply(op, err > 0 ? 0 : err);
			return;
		}
		if (src_dir) {
			/* Over a folder only if it is empty. */
			op->dst_exists = true;
			err = eng_list_flat(fs->eng, op->nt.container, op->nt.dir_prefix, NULL, 2,
					    rename_dst_listed, op);
			if (err < 0)
				ns_reply(op, err);
			return;
		}
	}
	rename_start(op);
}

static void rename_src_resolved(struct fs *fs, void *req, struct fs_node *parent, const char *name,
				int err, struct fs_node *src, void *arg)
{
	struct ns_op *op = arg;

	(void)parent;
	(void)name;
	if (err) {
		ns_reply(op, err);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	src->refs++;
	op->child = src;
	pthread_mutex_unlock(&fs->lock);
	fs_resolve(fs, req, op->newparent, op->newname, rename_dst_resolved, op);
}

void fs_rename(struct fs *fs, void *req, uint64_t parent, const char *name, uint64_t newparent,
	       const char *newname, unsigned flags)
{
	struct ns_op *op;
	int rc = 0;

	if (flags & ~(unsigned)RENAME_NOREPLACE) {
		/* RENAME_EXCHANGE cannot be made atomic with copies; RENAME_WHITEOUT is overlayfs'.
		 */
		fs->r.err(req, EINVAL);
		return;
	}
	if (strlen(newname) > FS_NAME_MAX) {
		fs->r.err(req, ENAMETOOLONG);
		return;
	}
	op = ns_new(fs, req, parent, name);
	if (!op)
		return;
	op->flags = flags;
	op->newname = strdup(newname);
	pthread_mutex_lock(&fs->lock);
	op->newparent = fs_node_get(fs, newparent);
	if (op->newparent && op->newparent->a.type == CACHE_T_DIR) {
		char *ppath = fs_node_path(fs, op->newparent);
		op->newpath = ppath ? cache_key_join(ppath, newname) : NULL;
		free(ppath);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!op->newparent)
		rc = -ENOENT;
	else if (op->newparent->a.type != CACHE_T_DIR)
		rc = -ENOTDIR;
	else if (!op->newname || !op->newpath)
		rc = -ENOMEM;
	else if (op->newparent == fs->root && !fs->container)
		rc = -EPERM;
	else
		rc = fs_target_of(fs, op->newpath, &op->nt);
	if (rc < 0) {
		ns_reply(op, rc);
		return;
	}
	fs_resolve(fs, req, op->parent, name, rename_src_resolved, op);
}
