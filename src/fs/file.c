/*
 * file.c - open files. A read-only open pins the blob version (ETag) its
 * reader reads. Opening for writing (or creating) gives the node a writer,
 * shared by every handle of the file, so that all of them read what any
 * of them wrote. flush (every close) and fsync commit; the last release
 * commits what is still pending and drops the writer.
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "fs_i.h"

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

struct open_file {
	struct list_node node;     /* on fs->handles (fs->lock) until released */
	struct fs_node *n;         /* referenced */
	struct eng_reader *reader; /* fs->lock: NULL while reads go to the node's writer */
	bool writable;
};

struct file_op {
	struct fs *fs;
	void *req;
	struct fs_node *n;
	struct open_file *h;
	int flags;
	uint64_t off;
	size_t size;
	struct fs_caller caller;
};

static void node_unref(struct fs *fs, struct fs_node *n)
{
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

/*
 * One need of n's writer ends: an open handle (@handle) or a call into it.
 * The writer goes when that was its last need. Takes fs->lock.
 */
static void writer_need_ends(struct fs *fs, struct fs_node *n, bool handle)
{
	struct eng_writer *w;
	bool discard;

	pthread_mutex_lock(&fs->lock);
	if (handle) {
		assert(n->writers > 0);
		n->writers--;
	} else {
		assert(n->w_users > 0);
		n->w_users--;
	}
	w = fs_node_writer_detach(fs, n);
	discard = n->unlinked;
	pthread_mutex_unlock(&fs->lock);
	/* A writer still dirty here failed to commit: freeing it keeps and logs its data. */
	if (w)
		eng_writer_free(w, discard);
}

/*
 * Answer an open with a new handle. A writable open arrives with
 * n->writers already counting it. A handle the kernel did not take (the
 * open was interrupted) is released here, as the kernel never will.
 */
static void reply_open(struct fs *fs, void *req, struct fs_node *n, struct eng_reader *reader,
		       bool writable, bool keep_cache)
{
	struct open_file *h = calloc(1, sizeof(*h));
	struct fs_open o = {0};

	if (!h) {
		eng_reader_free(reader);
		if (writable)
			writer_need_ends(fs, n, true); /* a handle that never was */
		fs->r.err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n->refs++;
	list_add_tail(&fs->handles, &h->node);
	pthread_mutex_unlock(&fs->lock);
	h->n = n;
	h->reader = reader;
	h->writable = writable;
	o.fh = (uint64_t)(uintptr_t)h;
	o.keep_cache = keep_cache;
	if (fs->r.open(req, &o) < 0)
		fs_release(fs, NULL, o.fh);
}

/*
 * Only regular files have content here. The kernel serves FIFOs and
 * sockets itself and opens devices through their rdev: it never asks.
 */
static int openable(const struct cache_attr *a)
{
	if (a->type == CACHE_T_DIR)
		return -EISDIR;
	return a->type == CACHE_T_FILE ? 0 : -ENXIO;
}

/* ---- read-only opens ---- */

/* A reader of @path's blob, of the version @a describes (size, ETag). */
static int path_reader(struct fs *fs, char *path, const struct cache_attr *a,
		       struct eng_reader **out)
{
	struct fs_target t = {0};
	int rc = path ? fs_target_of(fs, path, &t) : -ENOMEM;

	if (!rc)
		rc = eng_reader_new(fs->eng, t.container, t.blob, a->size, a->etag, out);
	fs_target_release(&t);
	free(path);
	return rc;
}

static void open_read_attrs(struct fs *fs, void *req, struct fs_node *n, int err,
			    const struct cache_attr *a, void *arg)
{
	struct eng_reader *reader = NULL;
	bool keep = false, writer;
	char *path = NULL;
	int rc = err;

	(void)arg;
	if (rc < 0)
		goto fail;
	rc = openable(a);
	if (rc < 0)
		goto fail;
	pthread_mutex_lock(&fs->lock);
	writer = n->w != NULL;
	/* Same ETag as the last open: what the page cache holds is still right. */
	keep = a->etag[0] && n->cached_tag == fs_etag_tag(a->etag);
	n->cached_tag = fs_etag_tag(a->etag);
	path = writer ? NULL : fs_node_path(fs, n);
	pthread_mutex_unlock(&fs->lock);
	if (writer) {
		reply_open(fs, req, n, NULL, false, true);
		return;
	}
	rc = path_reader(fs, path, a, &reader);
	if (rc < 0)
		goto fail;
	reply_open(fs, req, n, reader, false, keep);
	return;
fail:
	fs_reply_err(fs, req, rc);
}

/* ---- opens for writing ---- */

int fs_node_attach_writer(struct fs *fs, struct fs_node *n, const struct cache_attr *a, bool empty,
			  bool create_only)
{
	struct fs_target t = {0};
	struct eng_wbase base = {0};
	struct eng_writer *w;
	char *path;
	int rc;

	if (n->w)
		return 0;
	path = fs_node_path(fs, n);
	rc = path ? fs_target_of(fs, path, &t) : -ENOMEM;
	free(path);
	if (rc < 0)
		return rc;
	base.exists = a->etag[0] != '\0';
	base.create_only = create_only;
	base.size = a->size;
	memcpy(base.etag, a->etag, MIN(sizeof(base.etag), sizeof(a->etag)));
	rc = eng_writer_new(fs->eng, fs->staging, t.container, t.blob, &base, empty, &w);
	fs_target_release(&t);
	if (rc < 0)
		return rc;
	n->w = w;
	n->unlinked = false;
	list_add_tail(&fs->dirty, &n->dirty);
	n->refs++; /* fs->dirty's */
	if (empty) {
		n->a.size = 0;
		n->a.flags &= (uint16_t)~CACHE_F_MTIME;
		clock_gettime(CLOCK_REALTIME, &n->a.mtime);
	}
	return 0;
}

static void ignore_result(void *arg, int err)
{
	(void)arg;
	if (err)
		log_debug("truncation at open failed: %s", strerror(-err));
}

static void open_write_meta(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct file_op *op = arg;
	struct eng_writer *w = NULL;
	bool trunc = op->flags & O_TRUNC;
	int rc = err;

	if (rc < 0)
		goto out;
	pthread_mutex_lock(&fs->lock);
	if (n->w) {
		/* Another handle's writer: share it, and truncate through it. */
		w = trunc ? n->w : NULL;
		if (w)
			n->w_users++;
	} else {
		rc = fs_node_attach_writer(fs, n, &n->a, trunc, false);
	}
	if (!rc) {
		n->writers++;
		if (trunc)
			n->a.size = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	if (rc < 0)
		goto out;
	if (w) {
		/* The truncation is queued on the writer ahead of any write of this handle. */
		eng_writer_truncate(w, 0, ignore_result, NULL);
		fs_node_writer_unuse(fs, n);
	}
	reply_open(fs, req, n, NULL, true, !trunc);
out:
	if (rc < 0)
		fs_reply_err(fs, req, rc);
	free(op);
}

static void open_write_attrs(struct fs *fs, void *req, struct fs_node *n, int err,
			     const struct cache_attr *a, void *arg)
{
	struct file_op *op = arg;

	(void)a;
	if (err < 0 || (err = openable(a)) < 0) {
		fs_reply_err(fs, req, err);
		free(op);
		return;
	}
	/* A rewrite keeps the blob's metadata: know all of it first. */
	fs_node_load_meta(fs, req, n, open_write_meta, op);
}

void fs_open(struct fs *fs, void *req, uint64_t ino, int flags)
{
	bool wr = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	struct file_op *op = NULL;
	struct fs_node *n;

	if (wr && fs->cfg.read_only) {
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
	if (!wr) {
		fs_node_refresh(fs, req, n, open_read_attrs, NULL);
	} else if (!(op = calloc(1, sizeof(*op)))) {
		fs->r.err(req, ENOMEM);
	} else {
		op->flags = flags;
		fs_node_refresh(fs, req, n, open_write_attrs, op);
	}
	node_unref(fs, n);
}

void fs_create(struct fs *fs, void *req, uint64_t parent_ino, const char *name, mode_t mode,
	       int flags, const struct fs_caller *c)
{
	struct cache_attr a = {.type = CACHE_T_FILE};
	struct fs_node *parent, *n = NULL;
	struct fs_entry e;
	struct fs_open o = {0};
	struct open_file *h = NULL;
	char *path = NULL;
	int rc;

	if (fs->cfg.read_only) {
		fs->r.err(req, EROFS);
		return;
	}
	if (strlen(name) > FS_NAME_MAX) {
		fs->r.err(req, ENAMETOOLONG);
		return;
	}
	a.mode = mode & 07777;
	a.uid = c->uid;
	a.gid = c->gid;
	a.flags = CACHE_F_MODE | CACHE_F_UID | CACHE_F_GID;
	clock_gettime(CLOCK_REALTIME, &a.mtime);
	a.ctime = a.mtime;
	h = calloc(1, sizeof(*h));
	pthread_mutex_lock(&fs->lock);
	parent = fs_node_get(fs, parent_ino);
	rc = !parent ? -ENOENT : parent->a.type != CACHE_T_DIR ? -ENOTDIR : !h ? -ENOMEM : 0;
	if (!rc && parent == fs->root && !fs->container)
		rc = -EPERM; /* the account root holds containers, not blobs */
	if (!rc) {
		n = fs_node_child(fs, parent, name, &a);
		rc = n ? 0 : -ENOMEM;
	}
	if (!rc) {
		/* A name created anew: forget any writer of an earlier file of that name. */
		n->a = a;
		meta_list_release(&n->meta);
		n->meta_known = true;
		n->meta_tag = n->cached_tag = 0;
		free(n->content_type);
		n->content_type = NULL;
		/* Created believing the name absent: never over a blob made meanwhile. */
		rc = fs_node_attach_writer(fs, n, &a, true, (flags & O_EXCL) || !(flags & O_TRUNC));
	}
	if (!rc) {
		n->writers++;
		n->nlookup++;
		n->refs++; /* the handle's */
		list_add_tail(&fs->handles, &h->node);
		fs_dir_changed(parent); /* a file: no subdirectory count to race with */
		path = fs_node_path(fs, n);
		fs_fill_entry(fs, n, &e);
	}
	fs_node_put(fs, n);
	fs_node_put(fs, parent);
	pthread_mutex_unlock(&fs->lock);
	if (rc < 0) {
		free(h);
		fs_reply_err(fs, req, rc);
		return;
	}
	if (path)
		cache_note_change(fs->cache, path, &a);
	free(path);
	h->n = n;
	h->writable = true;
	o.fh = (uint64_t)(uintptr_t)h;
	if (fs->r.create(req, &e, &o) < 0) {
		/* Interrupted: the kernel holds neither the entry nor the handle. */
		pthread_mutex_lock(&fs->lock);
		fs_node_forget(fs, n, 1);
		pthread_mutex_unlock(&fs->lock);
		fs_release(fs, NULL, o.fh);
	}
}

/* ---- data ---- */

static void read_done(void *arg, int err, const struct iovec *iov, int iovcnt)
{
	struct file_op *op = arg;
	struct fs *fs = op->fs;

	if (err == -ESTALE && op->h) {
		/*
		 * Changed since this handle opened it: the next open must not meet
		 * the old version. (Before the reply: after it the handle may go.)
		 */
		char *path;
		pthread_mutex_lock(&fs->lock);
		path = fs_node_path(fs, op->h->n);
		pthread_mutex_unlock(&fs->lock);
		if (path)
			cache_invalidate_path(fs->cache, path);
		free(path);
	}
	if (err)
		fs_reply_err(fs, op->req, err);
	else
		fs->r.data(op->req, iov, iovcnt);
	if (op->n) {
		fs_node_writer_unuse(fs, op->n);
		node_unref(fs, op->n);
	}
	free(op);
}

/*
 * The reader of a handle opened while the file had a writer, made when
 * that writer has gone (committed and released: the kernel sends the
 * release after close returns, so an open right after a close often
 * meets it). It reads the version the commit made.
 */
static struct eng_reader *late_reader(struct fs *fs, struct open_file *h)
{
	struct eng_reader *r = NULL, *made = NULL;
	struct cache_attr a;
	char *path;

	pthread_mutex_lock(&fs->lock);
	a = h->n->a;
	path = fs_node_path(fs, h->n);
	pthread_mutex_unlock(&fs->lock);
	if (path_reader(fs, path, &a, &made) < 0)
		return NULL;
	pthread_mutex_lock(&fs->lock);
	if (!h->reader) { /* another read of this handle may have made one meanwhile */
		h->reader = made;
		made = NULL;
	}
	r = h->reader;
	pthread_mutex_unlock(&fs->lock);
	eng_reader_free(made);
	return r;
}

void fs_read(struct fs *fs, void *req, uint64_t fh, uint64_t off, size_t size)
{
	struct open_file *h = (struct open_file *)(uintptr_t)fh;
	struct file_op *op = calloc(1, sizeof(*op));
	struct eng_reader *reader;
	struct eng_writer *w;

	if (!op) {
		fs->r.err(req, ENOMEM);
		return;
	}
	op->fs = fs;
	op->req = req;
	op->h = h; /* valid until this read is answered: the kernel releases it after */

	pthread_mutex_lock(&fs->lock);
	w = h->n->w;
	if (w) {
		/* Read your writes: whatever handle wrote them. */
		h->n->w_users++;
		h->n->refs++;
		op->n = h->n;
	}
	reader = h->reader;
	pthread_mutex_unlock(&fs->lock);
	if (!w && !reader)
		reader = late_reader(fs, h);
	if (w)
		eng_writer_read(w, off, size, read_done, op);
	else if (reader)
		eng_read(reader, off, size, read_done, op);
	else
		read_done(op, -ENOMEM, NULL, 0);
}

static void write_done(void *arg, int err)
{
	struct file_op *op = arg;
	struct fs *fs = op->fs;

	if (!err) {
		pthread_mutex_lock(&fs->lock);
		op->n->a.size = MAX(op->n->a.size, op->off + op->size);
		/* A write makes the time "now" again, whatever utimens said before. */
		op->n->a.flags &= (uint16_t)~CACHE_F_MTIME;
		clock_gettime(CLOCK_REALTIME, &op->n->a.mtime);
		op->n->local_ctime = op->n->a.mtime;
		pthread_mutex_unlock(&fs->lock);
		fs->r.write(op->req, op->size);
	} else {
		fs_reply_err(fs, op->req, err);
	}
	free(op);
}

void fs_write(struct fs *fs, void *req, uint64_t fh, const void *buf, size_t size, uint64_t off)
{
	struct open_file *h = (struct open_file *)(uintptr_t)fh;
	struct file_op *op;
	struct eng_writer *w;

	if (off > ENG_MAX_FILE_SIZE || size > ENG_MAX_FILE_SIZE - off) {
		fs->r.err(req, EFBIG);
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		fs->r.err(req, ENOMEM);
		return;
	}
	op->fs = fs;
	op->req = req;
	op->n = h->n;
	op->off = off;
	op->size = size;
	pthread_mutex_lock(&fs->lock);
	w = h->writable ? h->n->w : NULL;
	pthread_mutex_unlock(&fs->lock);
	if (!w) {
		free(op);
		fs->r.err(req, EBADF);
		return;
	}
	/* The handle keeps the writer alive: n->writers counts it. */
	eng_writer_write(w, buf, size, off, write_done, op);
}

/* ---- commits ---- */

struct commit_op {
	struct fs *fs;
	void *req;
	struct fs_node *n;
	struct eng_writer *w;
	fs_node_fn cb;
	void *arg;
};

static void committed(void *arg, int err, const struct eng_commit_result *res)
{
	struct commit_op *op = arg;
	struct fs *fs = op->fs;
	struct fs_node *n = op->n;
	char *path;

	if (!err && res)
		fs_node_committed(fs, n, res, true);
	pthread_mutex_lock(&fs->lock);
	n->commit_failed = err != 0;
	path = err == -EEXIST ? fs_node_path(fs, n) : NULL;
	pthread_mutex_unlock(&fs->lock);
	/* Another client's blob holds the name: what we cached of ours is wrong. */
	if (path)
		cache_invalidate_path(fs->cache, path);
	free(path);
	fs_node_writer_unuse(fs, n);
	op->cb(fs, op->req, n, err, op->arg);
	node_unref(fs, n);
	free(op);
}

static void commit_with_meta(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct commit_op *op = arg;

	(void)req;
	struct eng_commit_opts o = {0};
	struct meta_list meta = {0};
	char *ctype = NULL;

	if (!err) {
		pthread_mutex_lock(&fs->lock);
		err = fs_node_build_meta(fs, n, &meta);
		ctype = n->content_type ? strdup(n->content_type) : NULL;
		pthread_mutex_unlock(&fs->lock);
	}
	if (err) {
		free(ctype);
		committed(op, err, NULL);
		return;
	}
	o.content_type = ctype;
	o.meta = &meta;
	eng_writer_commit(op->w, &o, committed, op);
	meta_list_release(&meta);
	free(ctype);
}

void fs_node_commit(struct fs *fs, void *req, struct fs_node *n, fs_node_fn cb, void *arg)
{
	struct commit_op *op;
	struct eng_writer *w;

	pthread_mutex_lock(&fs->lock);
	w = n->unlinked || (n->commit_failed && !n->writers) ? NULL : n->w;
	if (w) {
		n->w_users++;
		n->refs++;
	}
	pthread_mutex_unlock(&fs->lock);
	if (!w || !eng_writer_dirty(w) || !(op = calloc(1, sizeof(*op)))) {
		bool oom = w && eng_writer_dirty(w);
		if (w) {
			fs_node_writer_unuse(fs, n);
			node_unref(fs, n);
		}
		cb(fs, req, n, oom ? -ENOMEM : 0, arg);
		return;
	}
	op->fs = fs;
	op->req = req;
	op->n = n;
	op->w = w;
	op->cb = cb;
	op->arg = arg;
	fs_node_load_meta(fs, req, n, commit_with_meta, op);
}

struct eng_writer *fs_node_writer_detach(struct fs *fs, struct fs_node *n)
{
	struct eng_writer *w = n->w;

	(void)fs;
	if (!w || n->writers || n->w_users)
		return NULL;
	n->w = NULL;
	list_del(&n->dirty);
	assert(n->refs > 1); /* the caller's reference keeps it */
	n->refs--;
	return w;
}

void fs_node_writer_unuse(struct fs *fs, struct fs_node *n)
{
	writer_need_ends(fs, n, false);
}

static void reply_committed(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	(void)n;
	(void)arg;
	fs_reply_err(fs, req, err);
}

void fs_flush(struct fs *fs, void *req, uint64_t fh)
{
	struct open_file *h = (struct open_file *)(uintptr_t)fh;

	/* close() returns once the data is on the service (or with the error). */
	if (!h->writable) {
		fs->r.err(req, 0);
		return;
	}
	fs_node_commit(fs, req, h->n, reply_committed, NULL);
}

void fs_fsync(struct fs *fs, void *req, uint64_t fh)
{
	fs_flush(fs, req, fh);
}

static void release_finish(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct open_file *h = arg;
	struct eng_writer *w;
	bool discard;

	(void)err;
	pthread_mutex_lock(&fs->lock);
	w = fs_node_writer_detach(fs, n);
	discard = n->unlinked;
	list_del(&h->node);
	pthread_mutex_unlock(&fs->lock);
	/* A writer still dirty here failed to commit: freeing it keeps and logs its data. */
	if (w)
		eng_writer_free(w, discard);
	eng_reader_free(h->reader);
	node_unref(fs, n);
	free(h);
	if (req) /* NULL: a handle the kernel never took (reply_open) */
		fs->r.err(req, 0);
}

void fs_release(struct fs *fs, void *req, uint64_t fh)
{
	struct open_file *h = (struct open_file *)(uintptr_t)fh;
	bool last = false;

	if (!h) {
		fs->r.err(req, 0);
		return;
	}
	if (h->writable) {
		pthread_mutex_lock(&fs->lock);
		last = --h->n->writers == 0;
		pthread_mutex_unlock(&fs->lock);
	}
	/* The last writer gone: commit what is still pending (mmap write-back, say). */
	if (last)
		fs_node_commit(fs, req, h->n, release_finish, h);
	else
		release_finish(fs, req, h->n, 0, h);
}

void fs_handles_release(struct fs *fs)
{
	struct list_node *ln;

	/* Handles the kernel still held at exit (a file open at SIGTERM): its release never comes.
	 */
	while ((ln = list_pop(&fs->handles))) {
		struct open_file *h = container_of(ln, struct open_file, node);
		eng_reader_free(h->reader);
		free(h);
	}
}
