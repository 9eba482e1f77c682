/*
 * fs.c - the filesystem context: configuration, path mapping, attributes,
 * statfs, extended attributes and the stats report.
 */
#include "azblobfs/common.h"
#include <stdio.h>
#include "azblobfs/buf.h"
#include "azblobfs/log.h"
#include "azblobfs/timeutil.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fs_config_defaults(struct fs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->uid = getuid();
	cfg->gid = getgid();
	cfg->umask = 022;
	cfg->attr_timeout = 1.0;
	cfg->entry_timeout = 1.0;
	cfg->negative_timeout = 1.0;
	cfg->blksize = 1 << 20;
	cfg->cache_size = 10 * GIB;
}

int fs_new(const struct fs_config *cfg, const struct fs_replies *replies, struct eng *eng,
	   struct cache *cache, const char *container, const char *prefix, struct fs **out)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	int rc;

	if (!fs)
		return -ENOMEM;
	list_init(&fs->dirty);
	list_init(&fs->handles);
	fs->cfg = *cfg;
	fs->r = *replies;
	fs->eng = eng;
	fs->cache = cache;
	clock_gettime(CLOCK_REALTIME, &fs->mount_time);
	pthread_mutex_init(&fs->lock, NULL);
	fs->container = container ? strdup(container) : NULL;
	fs->prefix = strdup(prefix ? prefix : "");
	fs->cfg.cache_dir = cfg->cache_dir ? strdup(cfg->cache_dir) : NULL;
	if ((container && !fs->container) || !fs->prefix ||
	    (cfg->cache_dir && !fs->cfg.cache_dir)) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = fs_nodes_init(fs);
	if (rc < 0)
		goto fail;
	rc = eng_staging_new(fs->cfg.cache_dir ? fs->cfg.cache_dir : FS_DEFAULT_STAGING,
			     fs->cfg.cache_size, &fs->staging);
	if (rc < 0)
		goto fail;
	fs->root->a.mtime = fs->mount_time;
	*out = fs;
	return 0;
fail:
	fs_free(fs);
	return rc;
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	/* Writers left at exit: clean ones drop their staging files, dirty ones keep them. */
	while (!list_empty(&fs->dirty)) {
		struct fs_node *n = container_of(fs->dirty.next, struct fs_node, dirty);
		list_del(&n->dirty);
		n->refs--;
		eng_writer_free(n->w, n->unlinked);
		n->w = NULL;
	}
	fs_handles_release(fs);
	fs_nodes_release(fs);
	fs_walk_release(fs);
	eng_staging_free(fs->staging);
	pthread_mutex_destroy(&fs->lock);
	free(fs->container);
	free(fs->prefix);
	free(fs->cfg.cache_dir);
	free(fs);
}

void fs_set_read_only(struct fs *fs)
{
	__atomic_store_n(&fs->cfg.read_only, true, __ATOMIC_RELEASE);
}

const char *fs_staging_dir(const struct fs *fs)
{
	return eng_staging_dir(fs->staging);
}

int fs_target_of(const struct fs *fs, const char *path, struct fs_target *t)
{
	const char *rest = path;
	size_t len;
	int n;

	memset(t, 0, sizeof(*t));
	if (fs->container) {
		t->container = strdup(fs->container);
	} else if (*path) {
		const char *slash = strchr(path, '/');
		t->container = strndup(path, slash ? (size_t)(slash - path) : strlen(path));
		rest = slash ? slash + 1 : "";
	} else {
		rest = NULL; /* the account root: only containers below */
	}
	if (fs->container || *path) {
		if (!t->container)
			goto oom;
		/* The mount prefix only applies inside the mounted container. */
		const char *pfx = fs->container ? fs->prefix : "";
		n = asprintf(&t->blob, "%s%s", pfx, rest);
		if (n < 0) {
			t->blob = NULL;
			goto oom;
		}
		if (eng_blob_name_too_long(t->blob)) {
			fs_target_release(t);
			return -ENAMETOOLONG;
		}
		len = strlen(t->blob);
		n = !len || t->blob[len - 1] == '/' ? asprintf(&t->dir_prefix, "%s", t->blob)
						    : asprintf(&t->dir_prefix, "%s/", t->blob);
		if (n < 0) {
			t->dir_prefix = NULL;
			goto oom;
		}
	}
	return 0;
oom:
	fs_target_release(t);
	return -ENOMEM;
}

void fs_target_release(struct fs_target *t)
{
	free(t->container);
	free(t->blob);
	free(t->dir_prefix);
	memset(t, 0, sizeof(*t));
}

mode_t fs_type_bits(uint8_t type)
{
	switch (type) {
	case CACHE_T_DIR:
		return S_IFDIR;
	case CACHE_T_LINK:
		return S_IFLNK;
	case CACHE_T_FIFO:
		return S_IFIFO;
	case CACHE_T_SOCK:
		return S_IFSOCK;
	case CACHE_T_CHR:
		return S_IFCHR;
	case CACHE_T_BLK:
		return S_IFBLK;
	default:
		return S_IFREG;
	}
}

void fs_fill_stat(const struct fs *fs, uint64_t ino, const struct cache_attr *a, struct stat *st)
{
	mode_t perm;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_nlink = 1;
	st->st_uid = (a->flags & CACHE_F_UID) ? a->uid : fs->cfg.uid;
	st->st_gid = (a->flags & CACHE_F_GID) ? a->gid : fs->cfg.gid;
	st->st_blksize = fs->cfg.blksize;
	switch (a->type) {
	case CACHE_T_DIR:
		perm = (a->flags & CACHE_F_MODE) ? a->mode : (0777 & ~fs->cfg.umask);
		st->st_mode = S_IFDIR | (perm & 07777);
		break;
	case CACHE_T_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)a->size;
		break;
	case CACHE_T_FIFO:
	case CACHE_T_SOCK:
	case CACHE_T_CHR:
	case CACHE_T_BLK:
		/* No content: whatever bytes the blob holds are not the file's. */
		perm = (a->flags & CACHE_F_MODE) ? a->mode : (0666 & ~fs->cfg.umask);
		st->st_mode = fs_type_bits(a->type) | (perm & 07777);
		if (a->type == CACHE_T_CHR || a->type == CACHE_T_BLK)
			st->st_rdev = a->rdev;
		break;
	default:
		perm = (a->flags & CACHE_F_MODE) ? a->mode : (0666 & ~fs->cfg.umask);
		st->st_mode = S_IFREG | (perm & 07777);
		st->st_size = (off_t)a->size;
		break;
	}
	st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
	/* Virtual folders have no time of their own: the mount's stands in. */
	st->st_mtim = a->mtime.tv_sec ? a->mtime : fs->mount_time;
	st->st_atim = st->st_mtim;
	st->st_ctim = a->ctime.tv_sec && !(a->flags & CACHE_F_MTIME) ? a->ctime : st->st_mtim;
}

static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

nlink_t fs_node_nlink(const struct fs_node *n)
{
	/* 1 tells find(1) "unknown"; a count too low would hide directories from it. */
	if (n->a.type != CACHE_T_DIR || util_now_ms() >= n->subdirs_until)
		return 1;
	return 2 + (nlink_t)n->subdirs;
}

void fs_node_fill_stat(const struct fs *fs, const struct fs_node *n, struct stat *st)
{
	fs_fill_stat(fs, n->ino, &n->a, st);
	if (ts_after(n->local_mtime, st->st_mtim))
		st->st_mtim = st->st_atim = n->local_mtime;
	if (ts_after(n->local_ctime, st->st_ctim))
		st->st_ctim = n->local_ctime;
	if (ts_after(st->st_mtim, st->st_ctim))
		st->st_ctim = st->st_mtim;
	st->st_nlink = fs_node_nlink(n);
}

void fs_node_touch(struct fs_node *n)
{
	clock_gettime(CLOCK_REALTIME, &n->local_ctime);
}

void fs_dir_changed(struct fs_node *dir)
{
	clock_gettime(CLOCK_REALTIME, &dir->local_mtime);
	dir->local_ctime = dir->local_mtime;
	dir->subdirs_until = 0;
	dir->dir_gen++;
}

void fs_fill_entry(const struct fs *fs, const struct fs_node *n, struct fs_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = n->ino;
	fs_node_fill_stat(fs, n, &e->st);
	e->attr_timeout = fs->cfg.attr_timeout;
	e->entry_timeout = fs->cfg.entry_timeout;
}

int fs_reply_errno(int err)
{
	switch (err) {
	case 0:
		return 0;
	/* Network trouble is an I/O error to a program; the log has the detail. */
	case -ETIMEDOUT:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -EHOSTUNREACH:
	case -EPROTO:
	case -EOVERFLOW:
	case -ENOBUFS:
	case -ECANCELED:
	case -EBADMSG:
	case -ESHUTDOWN:
	case -EAGAIN:
		return EIO;
	default:
		return err < 0 ? -err : EIO;
	}
}

void fs_reply_err(struct fs *fs, void *req, int err)
{
	fs->r.err(req, fs_reply_errno(err));
}

int fs_node_parent_key(struct fs *fs, const struct fs_node *n, char **ppath, char **name)
{
	*ppath = fs_node_path(fs, n->parent);
	*name = strdup(n->name);
	if (!*ppath || !*name) {
		free(*ppath);
		free(*name);
		return -ENOMEM;
	}
	return 0;
}

/* ---- refresh: cache first, then one probe ---- */

struct refresh_op {
	struct fs *fs;
	void *req;
	struct fs_node *n;
	char *path;
	uint64_t gen;
	fs_attr_fn cb;
	void *arg;
};

static void refresh_finish(struct refresh_op *op, int err, const struct cache_attr *a)
{
	struct fs *fs = op->fs;

	if (a) {
		pthread_mutex_lock(&fs->lock);
		fs_node_set_attr(fs, op->n, a);
		pthread_mutex_unlock(&fs->lock);
	}
	op->cb(fs, op->req, op->n, err, a, op->arg);
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, op->n);
	pthread_mutex_unlock(&fs->lock);
	free(op->path);
	free(op);
}

static void refresh_probed(void *arg, int err, const struct cache_attr *a)
{
	struct refresh_op *op = arg;

	if (err == -ENOENT)
		(void)cache_put_negative(op->fs->cache, op->path, op->gen);
	else if (!err)
		(void)cache_put_attr(op->fs->cache, op->path, a, op->gen);
	refresh_finish(op, err, err ? NULL : a);
}

void fs_node_refresh(struct fs *fs, void *req, struct fs_node *n, fs_attr_fn cb, void *arg)
{
	struct refresh_op *op = calloc(1, sizeof(*op));
	struct fs_target pt = {0};
	struct cache_attr a;
	char *ppath = NULL, *name = NULL;
	int rc;

	if (!op) {
		cb(fs, req, n, -ENOMEM, NULL, arg);
		return;
	}
	op->fs = fs;
	op->req = req;
	op->cb = cb;
	op->arg = arg;
	pthread_mutex_lock(&fs->lock);
	n->refs++;
	op->n = n;
	if (n == fs->root || n->w) {
		/* The root, and a file being written: what we hold is the truth. */
		a = n->a;
		pthread_mutex_unlock(&fs->lock);
		return refresh_finish(op, 0, &a);
	}
	rc = fs_node_parent_key(fs, n, &ppath, &name);
	op->path = fs_node_path(fs, n);
	pthread_mutex_unlock(&fs->lock);
	if (rc < 0 || !op->path)
		goto fail_nomem;

	op->gen = cache_generation(fs->cache);
	switch (cache_lookup(fs->cache, ppath, name, &a)) {
	case CACHE_HIT:
		refresh_finish(op, 0, &a);
		goto out;
	case CACHE_NEGATIVE:
		refresh_finish(op, -ENOENT, NULL);
		goto out;
	case CACHE_MISS:
		break;
	}
	rc = fs_target_of(fs, ppath, &pt);
	if (rc < 0) {
		refresh_finish(op, rc, NULL);
		goto out;
	}
	rc = eng_probe(fs->eng, pt.container, pt.dir_prefix, name, refresh_probed, op);
	if (rc < 0)
		refresh_finish(op, rc, NULL);
	goto out;
fail_nomem:
	refresh_finish(op, -ENOMEM, NULL);
out:
	fs_target_release(&pt);
	free(ppath);
	free(name);
}

/* ---- committing everything (shutdown) ---- */

struct sync_all {
	pthread_mutex_t lock;
	unsigned pending;
	int err;
	void (*cb)(void *arg, int err);
	void *arg;
};

static void sync_one_done(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct sync_all *s = arg;
	bool last;

	(void)fs;
	(void)req;
	(void)n;
	pthread_mutex_lock(&s->lock);
	if (err && !s->err)
		s->err = err;
	last = --s->pending == 0;
	pthread_mutex_unlock(&s->lock);
	if (last) {
		s->cb(s->arg, s->err);
		pthread_mutex_destroy(&s->lock);
		free(s);
	}
}

void fs_sync_all(struct fs *fs, void (*cb)(void *arg, int err), void *arg)
{
	struct sync_all *s = calloc(1, sizeof(*s));
	struct fs_node **nodes = NULL;
	size_t n = 0, cap = 0;

	if (!s) {
		cb(arg, -ENOMEM);
		return;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->cb = cb;
	s->arg = arg;
	s->pending = 1; /* ours, until every commit is started */
	pthread_mutex_lock(&fs->lock);
	for (struct list_node *ln = fs->dirty.next; ln != &fs->dirty; ln = ln->next) {
		struct fs_node *node = container_of(ln, struct fs_node, dirty);
		if (n == cap) {
			size_t c2 = cap ? cap * 2 : 16;
			struct fs_node **grown = realloc(nodes, c2 * sizeof(*grown));
			if (!grown)
				break;
			nodes = grown;
			cap = c2;
		}
		node->refs++;
		nodes[n++] = node;
	}
	s->pending += (unsigned)n;
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; i < n; i++) {
		fs_node_commit(fs, NULL, nodes[i], sync_one_done, s);
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, nodes[i]);
		pthread_mutex_unlock(&fs->lock);
	}
	free(nodes);
	sync_one_done(fs, NULL, NULL, 0, s);
}

/* ---- statfs and extended attributes ---- */

void fs_statfs(struct fs *fs, void *req)
{
	struct statvfs st = {0};

	/* Blob storage has no fixed size: report plenty, as the peers do. */
	st.f_bsize = 4096;
	st.f_frsize = 4096;
	st.f_blocks = st.f_bfree = st.f_bavail = 1ULL << 38; /* 1 PiB */
	st.f_files = st.f_ffree = st.f_favail = 1ULL << 32;
	st.f_namemax = FS_NAME_MAX;
	fs->r.statfs(req, &st);
}

char *fs_stats_json(struct fs *fs)
{
	static const char *const kinds[] = {"attr", "list", "negative"};
	struct cache_stats cs;
	uint64_t nodes, writers = 0;
	struct buf b;
	int rc = 0;

	cache_stats_get(fs->cache, &cs);
	pthread_mutex_lock(&fs->lock);
	nodes = fs->nodes;
	for (struct list_node *ln = fs->dirty.next; ln != &fs->dirty; ln = ln->next)
		writers++;
	pthread_mutex_unlock(&fs->lock);
	buf_init(&b, 64 * KIB);
	rc |= buf_puts(&b, "{");
	rc |= eng_stats_json(fs->eng, &b);
	rc |= buf_puts(&b, "\"cache\":{");
	for (unsigned k = 0; k < CACHE_K__COUNT; k++)
		rc |= buf_printf(&b, "\"%s_hits\":%llu,\"%s_misses\":%llu,", kinds[k],
				 (unsigned long long)cs.hits[k], kinds[k],
				 (unsigned long long)cs.misses[k]);
	rc |= buf_printf(&b, "\"entries\":%llu,\"bytes\":%llu,\"evictions\":%llu},",
			 (unsigned long long)cs.entries, (unsigned long long)cs.bytes,
			 (unsigned long long)cs.evictions);
	rc |= buf_printf(&b, "\"inodes\":%llu,\"writers\":%llu,\"memory_budget_used\":%llu}\n",
			 (unsigned long long)nodes, (unsigned long long)writers,
			 (unsigned long long)eng_budget_used(fs->eng));
	if (rc) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}
