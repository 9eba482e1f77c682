/*
 * dir.c - open directories: a handle holds one immutable listing (from the
 * cache, or fetched whole at opendir) so that readdir never waits on the
 * network and offsets stay stable while the directory is open.
 */
#include "azblobfs/common.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>

struct dir_handle {
	struct fs_node *dir;     /* referenced */
	struct cache_listing *l; /* referenced */
};

struct opendir_op {
	struct fs *fs;
	void *req;
	struct fs_node *dir;
	char *path;
	uint64_t gen;
};

/*
 * Files being written here that the service does not list yet (or lists
 * with old attributes) belong in the listing too: a new listing when any.
 */
static struct cache_listing *merge_pending(struct fs *fs, struct fs_node *dir,
					   struct cache_listing *l)
{
	struct cache_listing *m = NULL;
	struct {
		char *name;
		struct cache_attr a;
	} *extra = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;

	pthread_mutex_lock(&fs->lock);
	for (struct list_node *ln = fs->dirty.next; ln != &fs->dirty && ok; ln = ln->next) {
		struct fs_node *c = container_of(ln, struct fs_node, dirty);
		if (c->parent != dir || c->unlinked || !fs_node_named(c))
			continue;
		if (n == cap) {
			size_t c2 = cap ? cap * 2 : 8;
			void *grown = realloc(extra, c2 * sizeof(*extra));
			if (!grown) {
				ok = false;
				break;
			}
			extra = grown;
			cap = c2;
		}
		extra[n].name = strdup(c->name);
		extra[n].a = c->a;
		ok = extra[n].name != NULL;
		n += ok;
	}
	pthread_mutex_unlock(&fs->lock);
	if (ok && n)
		m = cache_listing_new();
	for (size_t i = 0; m && i < l->n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < n; j++)
			replaced |= !strcmp(extra[j].name, l->ents[i].name);
		if (!replaced && cache_listing_add(m, l->ents[i].name, &l->ents[i].a) < 0) {
			cache_listing_unref(m);
			m = NULL;
		}
	}
	for (size_t j = 0; m && j < n; j++) {
		if (cache_listing_add(m, extra[j].name, &extra[j].a) < 0) {
			cache_listing_unref(m);
			m = NULL;
		}
	}
	for (size_t j = 0; j < n; j++)
		free(extra[j].name);
	free(extra);
	if (!m)
		return l;
	cache_listing_seal(m);
	cache_listing_unref(l);
	return m;
}

/*
 * readdir of @dir will serve @served, made from @l: while the cache holds
 * @l, st_nlink of @dir counts its subdirectories. A change of names here
 * since @gen (taken before asking the cache) leaves the count unknown.
 */
static void count_subdirs(struct fs *fs, struct fs_node *dir, uint64_t gen, const char *path,
			  const struct cache_listing *l, const struct cache_listing *served)
{
	uint64_t until = path ? cache_listing_expiry(fs->cache, path, l) : 0;
	nlink_t before;

	pthread_mutex_lock(&fs->lock);
	if (dir->dir_gen == gen) {
		before = fs_node_nlink(dir);
		dir->subdirs = (uint32_t)MIN(served->ndirs, (size_t)UINT32_MAX - 2);
		dir->subdirs_until = until;
		/* The kernel may hold the old count for attr_timeout: have it ask again. */
		if (fs_node_nlink(dir) != before && fs->r.inval_inode)
			fs->r.inval_inode(fs->r.inval_ctx, dir->ino);
	}
	pthread_mutex_unlock(&fs->lock);
}

void fs_dir_reply_handle(struct fs *fs, void *req, struct fs_node *dir, struct cache_listing *l)
{
	struct dir_handle *h = calloc(1, sizeof(*h));
	struct fs_open o = {0};
	struct cache_listing *cached = l;
	uint64_t gen;
	char *path;

	if (!h) {
		cache_listing_unref(l);
		l = NULL;
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, dir);
		pthread_mutex_unlock(&fs->lock);
		fs->r.err(req, ENOMEM);
		return;
	}
	h->dir = dir;
	pthread_mutex_lock(&fs->lock);
	gen = dir->dir_gen;
	path = fs_node_path(fs, dir);
	pthread_mutex_unlock(&fs->lock);
	h->l = merge_pending(fs, dir, cache_listing_ref(l));
	count_subdirs(fs, dir, gen, path, cached, h->l);
	cache_listing_unref(cached);
	free(path);
	o.fh = (uint64_t)(uintptr_t)h;
	if (fs->r.open(req, &o) < 0)
		fs_releasedir(fs, o.fh); /* interrupted: the kernel will never release it */
}

/*
 * A listing fresh from the service: names the kernel may still hold that it
 * no longer has were deleted elsewhere; have the kernel drop them now rather
 * than after entry_timeout.
 */
static void forget_gone_names(struct fs *fs, struct fs_node *dir, const struct cache_listing *l)
{
	if (!fs->r.inval_entry)
		return;
	pthread_mutex_lock(&fs->lock);
	for (struct list_node *ln = dir->children.next; ln != &dir->children; ln = ln->next) {
		struct fs_node *n = container_of(ln, struct fs_node, sibling);
		if (!n->w && !cache_listing_find(l, n->name))
			fs->r.inval_entry(fs->r.inval_ctx, dir->ino, n->name);
	}
	pthread_mutex_unlock(&fs->lock);
}

static void opendir_listed(void *arg, int err, struct cache_listing *l)
{
	struct opendir_op *op = arg;
	struct fs *fs = op->fs;

	if (err) {
		fs_reply_err(fs, op->req, err);
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, op->dir);
		pthread_mutex_unlock(&fs->lock);
	} else {
		/* Too big for the cache or raced with a change: still good for this handle. */
		(void)cache_put_listing(fs->cache, op->path, l, op->gen);
		forget_gone_names(fs, op->dir, l);
		fs_dir_reply_handle(fs, op->req, op->dir, l);
	}
	free(op->path);
	free(op);
}

void fs_dir_list(struct fs *fs, void *req, struct fs_node *dir, const char *path)
{
	struct fs_target t = {0};
	struct opendir_op *op;
	int rc;

	op = calloc(1, sizeof(*op));
	rc = op ? fs_target_of(fs, path, &t) : -ENOMEM;
	if (!rc && !(op->path = strdup(path)))
		rc = -ENOMEM;
	if (!rc) {
		op->fs = fs;
		op->req = req;
		op->dir = dir;
		op->gen = cache_generation(fs->cache);
		rc = eng_list_dir(fs->eng, t.container, t.dir_prefix, opendir_listed, op);
	}
	fs_target_release(&t);
	if (rc < 0) {
		if (op)
			free(op->path);
		free(op);
		fs_reply_err(fs, req, rc);
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, dir);
		pthread_mutex_unlock(&fs->lock);
	}
}

void fs_opendir(struct fs *fs, void *req, uint64_t ino)
{
	struct cache_listing *l;
	struct fs_node *dir;
	char *path = NULL;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	dir = fs_node_get(fs, ino);
	if (dir)
		path = fs_node_path(fs, dir);
	pthread_mutex_unlock(&fs->lock);
	if (!dir) {
		fs->r.err(req, ENOENT);
		return;
	}
	if (dir->a.type != CACHE_T_DIR)
		rc = -ENOTDIR;
	else if (!path)
		rc = -ENOMEM;
	if (rc < 0) {
		free(path);
		fs_reply_err(fs, req, rc);
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, dir);
		pthread_mutex_unlock(&fs->lock);
		return;
	}
	l = cache_get_listing(fs->cache, path);
	if (l)
		fs_dir_reply_handle(fs, req, dir, l);
	else if (!fs_walk_join(fs, req, dir, path))
		fs_dir_list(fs, req, dir, path);
	free(path);
}

void fs_releasedir(struct fs *fs, uint64_t fh)
{
	struct dir_handle *h = (struct dir_handle *)(uintptr_t)fh;

	if (!h)
		return;
	cache_listing_unref(h->l);
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, h->dir);
	pthread_mutex_unlock(&fs->lock);
	free(h);
}

int fs_dir_entry(struct fs *fs, uint64_t fh, uint64_t index, bool plus, const char **name,
		 struct fs_entry *e)
{
	struct dir_handle *h = (struct dir_handle *)(uintptr_t)fh;
	const struct cache_dirent *d;
	struct fs_node *n;

	memset(e, 0, sizeof(*e));
	if (index < 2) {
		/* "." and ".." carry no lookup reference, even in readdirplus. */
		pthread_mutex_lock(&fs->lock);
		n = index == 0 || !h->dir->parent ? h->dir : h->dir->parent;
		fs_fill_entry(fs, n, e);
		pthread_mutex_unlock(&fs->lock);
		*name = index == 0 ? "." : "..";
		return 1;
	}
	if (index - 2 >= h->l->n)
		return 0;
	d = &h->l->ents[index - 2];
	*name = d->name;
	if (!plus) {
		/* A known inode keeps its number; others get a stand-in that is never 0. */
		pthread_mutex_lock(&fs->lock);
		n = fs_node_find_child(fs, h->dir, d->name);
		e->ino = n ? n->ino : (1ULL << 62) + index;
		pthread_mutex_unlock(&fs->lock);
		e->st.st_mode = fs_type_bits(d->a.type);
		e->st.st_ino = (ino_t)e->ino;
		return 1;
	}
	pthread_mutex_lock(&fs->lock);
	n = fs_node_child(fs, h->dir, d->name, &d->a);
	if (n) {
		n->nlookup++;
		fs_fill_entry(fs, n, e);
		fs_node_put(fs, n);
	}
	pthread_mutex_unlock(&fs->lock);
	return n ? 1 : -ENOMEM;
}
