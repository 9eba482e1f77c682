/*
 * ops.c - libfuse low-level handlers. Each forwards to fs/ and ends in
 * exactly one fuse_reply_* (made by fs/ through the reply table below,
 * now or from the engine thread later).
 */
#define FUSE_USE_VERSION 312
#include "azblobfs/common.h"
#include "azblobfs/fuseops.h"
#include "azblobfs/log.h"

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct fs *fs_of(fuse_req_t req)
{
	return ((struct fuse_ops_ctx *)fuse_req_userdata(req))->fs;
}

/* ---- replies (any thread) ---- */

static void r_err(void *req, int err)
{
	fuse_reply_err(req, err);
}

static void to_fep(const struct fs_entry *e, struct fuse_entry_param *fep)
{
	memset(fep, 0, sizeof(*fep));
	fep->ino = e->ino;
	fep->generation = e->generation;
	fep->attr = e->st;
	fep->attr_timeout = e->attr_timeout;
	fep->entry_timeout = e->entry_timeout;
}

static void r_entry(void *req, const struct fs_entry *e)
{
	struct fuse_entry_param fep;

	to_fep(e, &fep);
	fuse_reply_entry(req, &fep);
}

static void to_fi(const struct fs_open *o, struct fuse_file_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	fi->fh = o->fh;
	fi->keep_cache = o->keep_cache;
	fi->direct_io = o->direct_io;
	fi->nonseekable = o->nonseekable;
}

static int r_create(void *req, const struct fs_entry *e, const struct fs_open *o)
{
	struct fuse_entry_param fep;
	struct fuse_file_info fi;

	to_fep(e, &fep);
	to_fi(o, &fi);
	/* Fails when the kernel lost interest meanwhile: fs/ then releases the handle. */
	return fuse_reply_create(req, &fep, &fi);
}

static void r_attr(void *req, const struct stat *st, double timeout)
{
	fuse_reply_attr(req, st, timeout);
}

static int r_open(void *req, const struct fs_open *o)
{
	struct fuse_file_info fi;

	to_fi(o, &fi);
	return fuse_reply_open(req, &fi);
}

static void r_data(void *req, const struct iovec *iov, int iovcnt)
{
	if (!iovcnt)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_iov(req, iov, iovcnt);
}

static void r_buf(void *req, const void *p, size_t n)
{
	fuse_reply_buf(req, p, n);
}

static void r_xattr_size(void *req, size_t n)
{
	fuse_reply_xattr(req, n);
}

static void r_write(void *req, size_t n)
{
	fuse_reply_write(req, n);
}

static void r_readlink(void *req, const char *target)
{
	fuse_reply_readlink(req, target);
}

static void r_statfs(void *req, const struct statvfs *st)
{
	fuse_reply_statfs(req, st);
}

/*
 * Kernel cache notifications go through a thread of their own: the kernel
 * may wait on pages that a read in flight holds, or on a directory lock
 * that the request being answered holds, and no request path may wait on
 * that. The queue is bounded; a notification that does not fit is dropped
 * (a hint only: the next open drops the pages anyway, keep_cache being off
 * then, and a name lives in the kernel at most entry_timeout).
 */
#define INVAL_QUEUE 256

struct inval_item {
	uint64_t ino; /* the inode, or the parent of `name` */
	char *name;   /* NULL: the inode's pages; else the entry */
};

struct fuse_ops_inval {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct inval_item items[INVAL_QUEUE]; /* protected by lock */
	unsigned head, n;                     /* protected by lock */
	bool stop;                            /* protected by lock */
	pthread_t thread;
	struct fuse_ops_ctx *ctx;
};

static void *inval_main(void *arg)
{
	struct fuse_ops_inval *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct inval_item it;
		while (!q->n && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->stop)
			break;
		it = q->items[q->head];
		q->head = (q->head + 1) % INVAL_QUEUE;
		q->n--;
		pthread_mutex_unlock(&q->lock);
		if (q->ctx->se && it.name)
			(void)fuse_lowlevel_notify_inval_entry(q->ctx->se, it.ino, it.name,
							       strlen(it.name));
		else if (q->ctx->se)
			(void)fuse_lowlevel_notify_inval_inode(q->ctx->se, it.ino, 0, 0);
		free(it.name);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* The context's notifier, started on first use; NULL when it cannot be. */
static struct fuse_ops_inval *inval_queue(struct fuse_ops_ctx *c)
{
	struct fuse_ops_inval *q = __atomic_load_n(&c->inval, __ATOMIC_ACQUIRE);
	struct fuse_ops_inval *fresh;

	if (q)
		return q;
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return NULL;
	pthread_mutex_init(&fresh->lock, NULL);
	pthread_cond_init(&fresh->cond, NULL);
	fresh->ctx = c;
	if (pthread_create(&fresh->thread, NULL, inval_main, fresh)) {
		free(fresh);
		return NULL;
	}
	if (__atomic_compare_exchange_n(&c->inval, &q, fresh, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return fresh;
	/* Another thread started one first: stop ours. */
	pthread_mutex_lock(&fresh->lock);
	fresh->stop = true;
	pthread_cond_signal(&fresh->cond);
	pthread_mutex_unlock(&fresh->lock);
	pthread_join(fresh->thread, NULL);
	free(fresh);
	return q;
}

static void inval_push(struct fuse_ops_ctx *c, uint64_t ino, const char *name)
{
	struct fuse_ops_inval *q = inval_queue(c);
	char *copy = NULL;

	if (!q || (name && !(copy = strdup(name))))
		return;
	pthread_mutex_lock(&q->lock);
	if (q->n < INVAL_QUEUE) {
		q->items[(q->head + q->n) % INVAL_QUEUE] = (struct inval_item){ino, copy};
		q->n++;
		copy = NULL;
		pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	free(copy);
}

static void r_inval_inode(void *ctx, uint64_t ino)
{
	inval_push(ctx, ino, NULL);
}

static void r_inval_entry(void *ctx, uint64_t parent, const char *name)
{
	inval_push(ctx, parent, name);
}

void fuse_ops_stop(struct fuse_ops_ctx *ctx)
{
	struct fuse_ops_inval *q = __atomic_exchange_n(&ctx->inval, NULL, __ATOMIC_ACQ_REL);

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	for (unsigned i = 0; i < q->n; i++)
		free(q->items[(q->head + i) % INVAL_QUEUE].name);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}

void fuse_ops_replies(struct fs_replies *out, struct fuse_ops_ctx *ctx)
{
	memset(out, 0, sizeof(*out));
	out->err = r_err;
	out->entry = r_entry;
	out->create = r_create;
	out->attr = r_attr;
	out->open = r_open;
	out->data = r_data;
	out->buf = r_buf;
	out->xattr_size = r_xattr_size;
	out->write = r_write;
	out->readlink = r_readlink;
	out->statfs = r_statfs;
	out->inval_inode = r_inval_inode;
	out->inval_entry = r_inval_entry;
	out->inval_ctx = ctx;
}

void fuse_ops_config_defaults(struct fuse_ops_config *cfg)
{
	cfg->max_write = 1 << 20;
	cfg->max_readahead = 4 << 20;
	cfg->max_background = 64;
}

/* ---- handlers ---- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fuse_ops_ctx *c = userdata;
	/* ATOMIC_O_TRUNC: O_TRUNC arrives with open, not as a separate truncate to 0. */
	unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_AUTO_INVAL_DATA |
			FUSE_CAP_READDIRPLUS | FUSE_CAP_ASYNC_DIO | FUSE_CAP_ATOMIC_O_TRUNC;

	conn->want |= want & conn->capable;
	/* Writeback caching makes partial-page writes read first; splice has no data to move. */
	conn->want &= ~(unsigned)(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_SPLICE_READ |
				  FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	/*
	 * READDIRPLUS_AUTO: the kernel asks for attributes only when lookups follow
	 * (ls -l, not ls), so a huge listing need not become an inode each. Either
	 * way costs no request: lookups are answered from the cached listing.
	 */
	if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
		conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
	conn->max_write = c->cfg.max_write;
	/* Must equal the max_read= mount option main passes to fuse_session_new(). */
	conn->max_read = c->cfg.max_write;
	conn->max_readahead = MIN(c->cfg.max_readahead,
				  conn->max_readahead ? conn->max_readahead : c->cfg.max_readahead);
	conn->max_background = c->cfg.max_background;
	conn->congestion_threshold = c->cfg.max_background * 3 / 4;
	conn->time_gran = 1;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_lookup(fs_of(req), req, parent, name);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_forget(fs_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);

	for (size_t i = 0; i < count; i++)
		fs_forget(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	fs_getattr(fs_of(req), req, ino);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	fs_opendir(fs_of(req), req, ino);
}

static void do_readdir(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = fs_of(req);
	size_t used = 0;
	char *buf;
	int rc = 0;

	size = MIN(size, (size_t)(1 << 20));
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (uint64_t i = (uint64_t)off;; i++) {
		struct fuse_entry_param fep;
		struct fs_entry e;
		const char *name;
		size_t need;

		rc = fs_dir_entry(fs, fi->fh, i, plus, &name, &e);
		if (rc <= 0)
			break;
		if (plus) {
			to_fep(&e, &fep);
			need = fuse_add_direntry_plus(req, buf + used, size - used, name, &fep,
						      (off_t)(i + 1));
		} else {
			need = fuse_add_direntry(req, buf + used, size - used, name, &e.st,
						 (off_t)(i + 1));
		}
		if (need > size - used) {
			/* Did not fit: give back the reference readdirplus took. */
			if (plus && i >= 2)
				fs_forget(fs, e.ino, 1);
			rc = 0;
			break;
		}
		used += need;
	}
	if (rc < 0 && !used)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fs_releasedir(fs_of(req), fi->fh);
	fuse_reply_err(req, 0);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_open(fs_of(req), req, ino, fi->flags);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	fs_read(fs_of(req), req, fi->fh, (uint64_t)off, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fs_flush(fs_of(req), req, fi->fh);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fs_release(fs_of(req), req, fi->fh);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	fs_statfs(fs_of(req), req);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	fs_getxattr(fs_of(req), req, ino, name, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	fs_listxattr(fs_of(req), req, ino, size);
}

/* ---- changes ---- */

static struct fs_caller caller_of(fuse_req_t req)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	struct fs_caller out = {.uid = c->uid, .gid = c->gid};

	return out;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs_caller c = caller_of(req);
	unsigned set = 0;

	(void)fi;
	set |= (to_set & FUSE_SET_ATTR_MODE) ? FS_SET_MODE : 0;
	set |= (to_set & FUSE_SET_ATTR_UID) ? FS_SET_UID : 0;
	set |= (to_set & FUSE_SET_ATTR_GID) ? FS_SET_GID : 0;
	set |= (to_set & FUSE_SET_ATTR_SIZE) ? FS_SET_SIZE : 0;
	set |= (to_set & FUSE_SET_ATTR_ATIME) ? FS_SET_ATIME : 0;
	set |= (to_set & FUSE_SET_ATTR_MTIME) ? FS_SET_MTIME : 0;
	set |= (to_set & FUSE_SET_ATTR_ATIME_NOW) ? FS_SET_ATIME_NOW : 0;
	set |= (to_set & FUSE_SET_ATTR_MTIME_NOW) ? FS_SET_MTIME_NOW : 0;
	fs_setattr(fs_of(req), req, ino, attr, set, &c);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs_caller c = caller_of(req);

	fs_mknod(fs_of(req), req, parent, name, mode, rdev, &c);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs_caller c = caller_of(req);

	fs_mkdir(fs_of(req), req, parent, name, mode, &c);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_unlink(fs_of(req), req, parent, name);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_rmdir(fs_of(req), req, parent, name);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	fs_rename(fs_of(req), req, parent, name, newparent, newname, flags);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fs_caller c = caller_of(req);

	fs_symlink(fs_of(req), req, link, parent, name, &c);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	fs_readlink(fs_of(req), req, ino);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	fs_link(fs_of(req), req, ino, newparent, newname);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs_caller c = caller_of(req);

	fs_create(fs_of(req), req, parent, name, mode, fi->flags, &c);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino;
	fs_write(fs_of(req), req, fi->fh, buf, size, (uint64_t)off);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	fs_fsync(fs_of(req), req, fi->fh);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	/* Namespace changes are on the service when their calls return. */
	fuse_reply_err(req, 0);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	fs_setxattr(fs_of(req), req, ino, name, value, size, flags);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fs_removexattr(fs_of(req), req, ino, name);
}

static const struct fuse_lowlevel_ops ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_releasedir,
    .open = op_open,
    .read = op_read,
    .flush = op_flush,
    .release = op_release,
    .statfs = op_statfs,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .readlink = op_readlink,
    .write = op_write,
    .fsync = op_fsync,
    .fsyncdir = op_fsyncdir,
    .rename = op_rename,
    .symlink = op_symlink,
    .link = op_link,
    .create = op_create,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
};

const struct fuse_lowlevel_ops *fuse_ops_table(void)
{
	return &ops;
}
