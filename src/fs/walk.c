/*
 * walk.c - tree walks (find, du, ls -R, rsync): when a folder is listed
 * right after one of its ancestors, list the ancestor's whole subtree
 * with one flat listing (no delimiter) and file a listing for every
 * folder in it, so the walk costs one request per 5,000 names instead of
 * one per folder.
 *
 * Names arrive sorted, and everything under "D/" is contiguous, so a
 * folder is complete as soon as a name past it arrives: its listing is
 * stored and its waiting opendirs answered while the walk goes on. A walk
 * stops after walk_max names (the subtree is too big to be worth it: that
 * root is not walked again for a while) and the folders it did not finish
 * are listed the ordinary way.
 *
 * Locking: fs->lock guards fs->walk's waiters and frontier, and the
 * recent-miss and refusal rings. The builder stack is touched only by the
 * engine thread, page after page.
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "azblobfs/timeutil.h"
#include "fs_i.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALK_WINDOW_MS 10000  /* misses this recent make a walk */
#define WALK_REFUSE_MS 600000 /* a root too big is not walked again for this long */
#define WALK_DEPTH 128

struct walk_waiter {
	struct list_node node;
	void *req;
	struct fs_node *dir; /* referenced */
	char *path;          /* mount-relative */
};

struct wdir {
	char *rel; /* relative to the walk root ("" for the root) */
	struct cache_listing *l;
};

struct fs_walk {
	struct fs *fs;
	char *root; /* mount-relative path of the walked folder */
	struct fs_target t;
	uint64_t gen;
	uint64_t names;
	struct wdir stack[WALK_DEPTH];
	unsigned depth;
	char *frontier;           /* protected by fs->lock: last name handled (relative) */
	struct list_node waiters; /* protected by fs->lock */
	bool failed;
};

static bool is_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!n)
		return true;
	return !strncmp(path, root, n) && (path[n] == '/' || !path[n]);
}

/* @rel relative to the walk root, or NULL when @path is not inside it. */
static const char *rel_of(const struct fs_walk *w, const char *path)
{
	size_t n = strlen(w->root);

	if (!is_under(path, w->root))
		return NULL;
	return n ? (path[n] ? path + n + 1 : "") : path;
}

/* Has the walk gone past folder @rel (all of "rel/" seen)? Lock held. */
static bool passed(const struct fs_walk *w, const char *rel)
{
	size_t n = strlen(rel);

	if (!w->frontier)
		return false;
	if (!n)
		return false; /* the root completes only at the end */
	return strncmp(w->frontier, rel, n) > 0 ||
	       (!strncmp(w->frontier, rel, n) && (unsigned char)w->frontier[n] > '/');
}

static char *join(const char *a, const char *b)
{
	return *a ? cache_key_join(a, b) : strdup(b);
}

static void free_walk(struct fs_walk *w)
{
	for (unsigned i = 0; i < w->depth; i++) {
		free(w->stack[i].rel);
		cache_listing_unref(w->stack[i].l);
	}
	fs_target_release(&w->t);
	free(w->root);
	free(w->frontier);
	free(w);
}

static void answer(struct fs *fs, struct walk_waiter *ww, struct cache_listing *l)
{
	if (l)
		fs_dir_reply_handle(fs, ww->req, ww->dir, cache_listing_ref(l));
	else
		fs_dir_list(fs, ww->req, ww->dir, ww->path); /* the ordinary way */
	free(ww->path);
	free(ww);
}

/* Folder @d is complete: file its listing and answer whoever waits for it. */
static void complete(struct fs_walk *w, struct wdir *d)
{
	struct fs *fs = w->fs;
	struct list_node done, *ln, *tmp;
	char *path = join(w->root, d->rel);

	cache_listing_seal(d->l);
	if (path)
		(void)cache_put_listing(fs->cache, path, d->l, w->gen);
	list_init(&done);
	pthread_mutex_lock(&fs->lock);
	list_for_each_safe(ln, tmp, &w->waiters)
	{
		struct walk_waiter *ww = container_of(ln, struct walk_waiter, node);
		if (path && !strcmp(ww->path, path)) {
			list_del(ln);
			list_add_tail(&done, ln);
		}
	}
	pthread_mutex_unlock(&fs->lock);
	while ((ln = list_pop(&done)))
		answer(fs, container_of(ln, struct walk_waiter, node), d->l);
	free(path);
}

static void pop(struct fs_walk *w)
{
	struct wdir *d = &w->stack[--w->depth];

	complete(w, d);
	free(d->rel);
	cache_listing_unref(d->l);
	d->rel = NULL;
	d->l = NULL;
}

static int push(struct fs_walk *w, const char *rel, const char *leaf)
{
	struct cache_attr a = {.type = CACHE_T_DIR, .flags = CACHE_F_PREFIX};
	struct wdir *d;

	if (w->depth == WALK_DEPTH)
		return -ENAMETOOLONG;
	if (w->depth && cache_listing_add(w->stack[w->depth - 1].l, leaf, &a) < 0)
		return -ENOMEM;
	d = &w->stack[w->depth];
	d->rel = strdup(rel);
	d->l = cache_listing_new();
	if (!d->rel || !d->l) {
		free(d->rel);
		cache_listing_unref(d->l);
		return -ENOMEM;
	}
	w->depth++;
	return 0;
}

/* Is stack folder @rel an ancestor-or-self of @dir (both relative)? */
static bool contains(const char *rel, const char *dir)
{
	size_t n = strlen(rel);

	return !n || (!strncmp(dir, rel, n) && (dir[n] == '/' || !dir[n]));
}

static int add_name(struct fs_walk *w, const struct eng_walk_item *it)
{
	char *name = strdup(it->name), *dir, *slash, *p;
	bool marker_of_dir;
	int rc = 0;

	if (!name)
		return -ENOMEM;
	/* A "dir/" blob marks its folder: a folder with no entry of its own. */
	marker_of_dir = name[strlen(name) - 1] == '/';
	if (marker_of_dir)
		name[strlen(name) - 1] = '\0';
	/*
	 * A name POSIX cannot show (an empty, "." or ".." or too long
	 * component) is left out, as in ordinary listings, but its folders up
	 * to that component exist there: the service lists them as prefixes.
	 */
	p = *name ? (char *)eng_bad_component(name, strlen(name)) : NULL;
	if (p == name)
		goto out;
	if (p) {
		p[-1] = '\0';
		marker_of_dir = true;
		for (unsigned i = 0; i < w->depth; i++)
			if (!strcmp(w->stack[i].rel, name))
				goto out; /* that folder is open already */
	}
	slash = strrchr(name, '/');
	dir = slash ? strndup(name, (size_t)(slash - name)) : strdup("");
	if (!dir) {
		rc = -ENOMEM;
		goto out;
	}
	/* Close the folders this name is not in: they are complete. */
	while (w->depth > 1 && !contains(w->stack[w->depth - 1].rel, dir))
		pop(w);
	/* Open the folders on the way down. */
	while (!rc && strcmp(w->stack[w->depth - 1].rel, dir)) {
		const char *top = w->stack[w->depth - 1].rel;
		const char *rest = dir + (*top ? strlen(top) + 1 : 0);
		const char *end = strchr(rest, '/');
		char *sub = strndup(dir, (size_t)((end ? end : rest + strlen(rest)) - dir));
		char *leaf = sub ? strrchr(sub, '/') : NULL;
		rc = sub ? push(w, sub, leaf ? leaf + 1 : sub) : -ENOMEM;
		free(sub);
	}
	if (!rc && marker_of_dir)
		rc = push(w, name, slash ? slash + 1 : name);
	else if (!rc)
		rc = cache_listing_add(w->stack[w->depth - 1].l, slash ? slash + 1 : name, &it->a);
	free(dir);
out:
	free(name);
	return rc;
}

static bool walk_page(void *arg, const struct eng_walk_item *items, size_t n)
{
	struct fs_walk *w = arg;
	struct fs *fs = w->fs;
	char *last = NULL;

	for (size_t i = 0; i < n; i++) {
		if (add_name(w, &items[i]) < 0) {
			w->failed = true;
			return false;
		}
	}
	w->names += n;
	if (n)
		last = strdup(items[n - 1].name);
	pthread_mutex_lock(&fs->lock);
	if (last) {
		free(w->frontier);
		w->frontier = last;
	}
	pthread_mutex_unlock(&fs->lock);
	return w->names < fs->cfg.walk_max;
}

static void refuse(struct fs *fs, const char *root)
{
	unsigned i = fs->walk_refused_head++ % FS_WALK_RING;

	free(fs->walk_refused[i]);
	fs->walk_refused[i] = strdup(root);
	fs->walk_refused_until[i] = util_now_ms() + WALK_REFUSE_MS;
}

static void walk_done(void *arg, int err, bool complete_walk)
{
	struct fs_walk *w = arg;
	struct fs *fs = w->fs;
	struct list_node left, *ln;

	if (!err && complete_walk && !w->failed) {
		while (w->depth)
			pop(w);
	} else {
		log_debug("walk of '%s' stopped after %llu names (%s)", w->root,
			  (unsigned long long)w->names, err ? strerror(-err) : "too many");
	}
	list_init(&left);
	pthread_mutex_lock(&fs->lock);
	if (!complete_walk && !err)
		refuse(fs, w->root);
	while ((ln = list_pop(&w->waiters)))
		list_add_tail(&left, ln);
	fs->walk = NULL;
	pthread_mutex_unlock(&fs->lock);
	/* Folders the walk did not finish are listed the ordinary way. */
	while ((ln = list_pop(&left)))
		answer(fs, container_of(ln, struct walk_waiter, node), NULL);
	free_walk(w);
}

/* The shallowest recent miss that is a proper ancestor of @path, or NULL. Lock held. */
static const char *walk_root_for(struct fs *fs, const char *path, uint64_t now)
{
	const char *best = NULL;

	for (unsigned i = 0; i < FS_WALK_RING; i++) {
		const char *r = fs->walk_recent[i];
		bool refused = false;
		if (!r || now - fs->walk_recent_at[i] > WALK_WINDOW_MS || !strcmp(r, path) ||
		    !is_under(path, r))
			continue;
		/* Whole-account mounts: walks stay inside one container. */
		if (!fs->container && !*r)
			continue;
		for (unsigned j = 0; j < FS_WALK_RING; j++)
			refused |= fs->walk_refused[j] && now < fs->walk_refused_until[j] &&
				   !strcmp(fs->walk_refused[j], r);
		if (!refused && (!best || strlen(r) < strlen(best)))
			best = r;
	}
	return best;
}

bool fs_walk_join(struct fs *fs, void *req, struct fs_node *dir, const char *path)
{
	struct walk_waiter *ww;
	struct fs_walk *w = NULL;
	const char *root;
	uint64_t now = util_now_ms();
	unsigned i;
	int rc;

	if (!fs->cfg.walk_max)
		return false;
	ww = calloc(1, sizeof(*ww));
	if (!ww || !(ww->path = strdup(path))) {
		free(ww);
		return false;
	}
	ww->req = req;
	ww->dir = dir;
	pthread_mutex_lock(&fs->lock);
	/* A walk under way that will reach this folder: wait for it. */
	if (fs->walk) {
		const char *rel = rel_of(fs->walk, path);
		if (rel && !passed(fs->walk, rel)) {
			list_add_tail(&fs->walk->waiters, &ww->node);
			pthread_mutex_unlock(&fs->lock);
			return true;
		}
	}
	root = fs->walk ? NULL : walk_root_for(fs, path, now);
	if (root && (w = calloc(1, sizeof(*w)))) {
		w->fs = fs;
		w->root = strdup(root);
		list_init(&w->waiters);
		list_add_tail(&w->waiters, &ww->node);
		fs->walk = w;
	}
	i = fs->walk_recent_head++ % FS_WALK_RING;
	free(fs->walk_recent[i]);
	fs->walk_recent[i] = strdup(path);
	fs->walk_recent_at[i] = now;
	pthread_mutex_unlock(&fs->lock);
	if (!w) {
		free(ww->path);
		free(ww);
		return false;
	}
	w->gen = cache_generation(fs->cache);
	rc = w->root ? fs_target_of(fs, w->root, &w->t) : -ENOMEM;
	if (!rc)
		rc = push(w, "", "");
	if (!rc) {
		log_debug("tree walk of '%s' (for '%s')", w->root, path);
		rc = eng_walk(fs->eng, w->t.container, w->t.dir_prefix, walk_page, walk_done, w);
	}
	if (rc < 0)
		walk_done(w, rc, false);
	return true;
}

void fs_walk_release(struct fs *fs)
{
	for (unsigned i = 0; i < FS_WALK_RING; i++) {
		free(fs->walk_recent[i]);
		free(fs->walk_refused[i]);
	}
}
