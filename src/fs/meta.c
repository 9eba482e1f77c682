/*
 * meta.c - a node's blob metadata: loading it when the listing said there
 * is more than our POSIX keys, building what a write sends, and taking in
 * what a successful change returned.
 *
 * Keys written: mode (octal), uid, gid (decimal) when they differ from the
 * mount's defaults or were set, mtime (RFC 3339 UTC, as rclone writes it)
 * only when set by utimens; hdi_isfolder=true on folder markers and
 * is_symlink=true on symlinks (the blobfuse2 conventions);
 * file_type=fifo|socket|char|block on special files, with rdev (decimal,
 * the device number as FUSE carries it) on devices.
 */
#include "azblobfs/common.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>

struct meta_op {
	struct fs *fs;
	void *req;
	struct fs_node *n;
	char etag[CACHE_ETAG_MAX];
	fs_node_fn cb;
	void *arg;
};

static void meta_loaded(void *arg, int err, const struct az_props *p)
{
	struct meta_op *op = arg;
	struct fs *fs = op->fs;
	struct fs_node *n = op->n;

	if (!err) {
		pthread_mutex_lock(&fs->lock);
		meta_list_release(&n->meta);
		err = meta_copy(&n->meta, &p->meta);
		if (!err) {
			n->meta_known = true;
			n->meta_tag = fs_etag_tag(p->etag);
			free(n->content_type);
			n->content_type = p->content_type[0] ? strdup(p->content_type) : NULL;
		}
		pthread_mutex_unlock(&fs->lock);
	}
	op->cb(fs, op->req, n, err, op->arg);
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, n);
	pthread_mutex_unlock(&fs->lock);
	free(op);
}

void fs_node_load_meta(struct fs *fs, void *req, struct fs_node *n, fs_node_fn cb, void *arg)
{
	struct fs_target t = {0};
	struct meta_op *op;
	char *path;
	int rc;

	pthread_mutex_lock(&fs->lock);
	if ((n->meta_known && n->meta_tag == fs_etag_tag(n->a.etag)) || n->w || n == fs->root ||
	    !n->a.etag[0] || !(n->a.flags & CACHE_F_XMETA)) {
		/* Nothing beyond our own keys, or we wrote it last: what we hold is all of it. */
		if (!n->meta_known || n->meta_tag != fs_etag_tag(n->a.etag)) {
			if (!n->w)
				meta_list_release(&n->meta);
			n->meta_known = true;
			n->meta_tag = fs_etag_tag(n->a.etag);
		}
		n->refs++;
		pthread_mutex_unlock(&fs->lock);
		cb(fs, req, n, 0, arg);
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, n);
		pthread_mutex_unlock(&fs->lock);
		return;
	}
	n->refs++;
	path = fs_node_path(fs, n);
	pthread_mutex_unlock(&fs->lock);
	op = calloc(1, sizeof(*op));
	rc = !path || !op ? -ENOMEM : fs_target_of(fs, path, &t);
	if (!rc) {
		op->fs = fs;
		op->req = req;
		op->n = n;
		op->cb = cb;
		op->arg = arg;
		rc = eng_get_props(fs->eng, t.container, t.blob, meta_loaded, op);
	}
	fs_target_release(&t);
	free(path);
	if (rc < 0) {
		free(op);
		cb(fs, req, n, rc, arg);
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, n);
		pthread_mutex_unlock(&fs->lock);
	}
}

int fs_node_build_meta(struct fs *fs, const struct fs_node *n, struct meta_list *out)
{
	return eng_posix_meta_encode(&n->a, &n->meta, fs->cfg.uid, fs->cfg.gid, out);
}

void fs_node_committed(struct fs *fs, struct fs_node *n, const struct eng_commit_result *res,
		       bool data_changed)
{
	struct cache_attr a;
	char *path;
	bool xmeta = false;

	pthread_mutex_lock(&fs->lock);
	if (data_changed || n->cached_tag == fs_etag_tag(n->a.etag))
		n->cached_tag = fs_etag_tag(res->etag);
	if (data_changed)
		n->a.size = res->size;
	cache_etag_copy(n->a.etag, res->etag);
	if (!(n->a.flags & CACHE_F_MTIME))
		n->a.mtime = res->mtime;
	n->a.ctime = res->mtime;
	/* What we sent is the blob's metadata now. */
	for (size_t i = 0; i < n->meta.n; i++)
		xmeta |= !eng_meta_is_own(n->meta.items[i].name);
	if (xmeta)
		n->a.flags |= CACHE_F_XMETA;
	else
		n->a.flags &= (uint16_t)~CACHE_F_XMETA;
	n->meta_known = true;
	n->meta_tag = fs_etag_tag(res->etag);
	a = n->a;
	path = n->unlinked ? NULL : fs_node_path(fs, n);
	pthread_mutex_unlock(&fs->lock);
	if (!path)
		return;
	cache_note_change(fs->cache, path, &a);
	free(path);
}
