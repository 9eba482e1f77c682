/*
 * file.c - open files: open pins the blob version (ETag) the reader will
 * read, read goes to the engine's reader, release frees it.
 */
#include "azblobfs/common.h"
#include "fs_i.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

struct open_file {
	struct fs *fs;
	struct fs_node *n;            /* referenced */
	struct eng_reader *reader;
	int flags;
};

struct read_op {
	struct fs *fs;
	void *req;
};

static void open_attrs(struct fs *fs, void *req, struct fs_node *n, int err,
		       const struct cache_attr *a, void *arg)
{
	struct open_file *h = NULL;
	struct fs_target t = {0};
	struct fs_open o = {0};
	int flags = (int)(intptr_t)arg;
	char *path = NULL;
	int rc = err;

	if (rc < 0)
		goto fail;
	if (a->type == CACHE_T_DIR) {
		rc = -EISDIR;
		goto fail;
	}
	pthread_mutex_lock(&fs->lock);
	path = fs_node_path(fs, n);
	/* Same ETag as the last open: what the page cache holds is still right. */
	o.keep_cache = a->etag[0] && !strcmp(n->cached_etag, a->etag);
	memcpy(n->cached_etag, a->etag, sizeof(n->cached_etag));
	pthread_mutex_unlock(&fs->lock);
	if (!path) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = fs_target_of(fs, path, &t);
	if (rc < 0)
		goto fail;
	h = calloc(1, sizeof(*h));
	if (!h) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = eng_reader_new(fs->eng, t.container, t.blob, a->size, a->etag, &h->reader);
	if (rc < 0)
		goto fail;
	h->fs = fs;
	h->flags = flags;
	pthread_mutex_lock(&fs->lock);
	n->refs++;
	pthread_mutex_unlock(&fs->lock);
	h->n = n;
	o.fh = (uint64_t)(uintptr_t)h;
	fs_target_release(&t);
	free(path);
	fs->r.open(req, &o);
	return;
fail:
	free(h);
	fs_target_release(&t);
	free(path);
	fs_reply_err(fs, req, rc);
}

void fs_open(struct fs *fs, void *req, uint64_t ino, int flags)
{
	struct fs_node *n;

	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) {
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
	fs_node_refresh(fs, req, n, open_attrs, (void *)(intptr_t)flags);
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

static void read_done(void *arg, int err, const struct iovec *iov, int iovcnt)
{
	struct read_op *op = arg;

	if (err)
		fs_reply_err(op->fs, op->req, err);
	else
		op->fs->r.data(op->req, iov, iovcnt);
	free(op);
}

void fs_read(struct fs *fs, void *req, uint64_t fh, uint64_t off, size_t size)
{
	struct open_file *h = (struct open_file *)(uintptr_t)fh;
	struct read_op *op = malloc(sizeof(*op));

	if (!op) {
		fs->r.err(req, ENOMEM);
		return;
	}
	op->fs = fs;
	op->req = req;
	eng_read(h->reader, off, size, read_done, op);
}

void fs_release(struct fs *fs, void *req, uint64_t fh)
{
	struct open_file *h = (struct open_file *)(uintptr_t)fh;

	if (h) {
		eng_reader_free(h->reader);
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, h->n);
		pthread_mutex_unlock(&fs->lock);
		free(h);
	}
	fs->r.err(req, 0);
}
