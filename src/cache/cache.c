/*
 * cache.c - the metadata cache: one hash table of entries keyed by
 * (kind, path), one LRU list, one byte budget, one mutex.
 *
 * Tombstones record when a path was last invalidated, so that a fill
 * begun before that (an older generation) is refused. When a tombstone
 * is evicted its generation raises a floor below which every fill is
 * refused: eviction never lets a stale fill through.
 */
#include "azblobfs/common.h"
#include "azblobfs/cache.h"
#include "azblobfs/hmap.h"
#include "azblobfs/list.h"
#include "azblobfs/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ekind {
	E_ATTR = 0,
	E_LIST,
	E_NEG,
	E_TOMB,
};

/* Tombstones outlive any request that could still complete (deadlines are shorter). */
#define TOMB_TTL_MS (10 * 60 * 1000)

struct centry {
	struct hmap_node hnode;
	struct list_node lru;
	uint8_t kind;
	uint64_t expires_ms;
	uint64_t gen;
	size_t bytes;
	struct cache_attr attr;
	struct cache_listing *list;
	char key[];
};

struct cache {
	struct cache_config cfg;
	pthread_mutex_t lock;
	struct hmap map;       /* protected by lock */
	struct list_node lru;  /* protected by lock; most recent first */
	uint64_t bytes;        /* protected by lock */
	uint64_t gen;          /* protected by lock */
	uint64_t floor_gen;    /* protected by lock */
	struct cache_stats st; /* protected by lock */
};

static uint64_t key_hash(uint8_t kind, const char *path)
{
	return util_hash(path, strlen(path), UTIL_HASH_SEED ^ (kind * 0x9e3779b97f4a7c15ULL));
}

static struct centry *find(struct cache *c, uint8_t kind, const char *path)
{
	uint64_t h = key_hash(kind, path);

	for (struct hmap_node *n = hmap_first(&c->map, h); n; n = hmap_next(n)) {
		struct centry *e = container_of(n, struct centry, hnode);
		if (e->kind == kind && !strcmp(e->key, path))
			return e;
	}
	return NULL;
}

static void drop(struct cache *c, struct centry *e)
{
	hmap_remove(&c->map, &e->hnode);
	list_del(&e->lru);
	c->bytes -= e->bytes;
	c->st.entries--;
	if (e->kind == E_TOMB && e->gen > c->floor_gen)
		c->floor_gen = e->gen;
	cache_listing_unref(e->list);
	free(e);
}

static void evict(struct cache *c)
{
	while (c->bytes > c->cfg.max_bytes && !list_empty(&c->lru)) {
		drop(c, container_of(c->lru.prev, struct centry, lru));
		c->st.evictions++;
	}
}

/* A fresh entry, moved to the front; expired ones are dropped on the way. */
static struct centry *get(struct cache *c, uint8_t kind, const char *path)
{
	struct centry *e = find(c, kind, path);

	if (!e)
		return NULL;
	if (util_now_ms() >= e->expires_ms) {
		drop(c, e);
		return NULL;
	}
	list_del(&e->lru);
	list_add_head(&c->lru, &e->lru);
	return e;
}

static bool stale_fill(struct cache *c, const char *path, uint64_t gen)
{
	struct centry *t = find(c, E_TOMB, path);

	return gen < c->floor_gen || (t && t->gen > gen);
}

/* Insert or replace; takes ownership of @list. Returns 0 or -errno. */
static int put(struct cache *c, uint8_t kind, const char *path, uint64_t ttl_ms, uint64_t gen,
	       const struct cache_attr *a, struct cache_listing *list, size_t extra)
{
	size_t klen = strlen(path) + 1;
	struct centry *e, *old;

	if (!ttl_ms || (kind != E_TOMB && stale_fill(c, path, gen))) {
		cache_listing_unref(list);
		return kind == E_TOMB || !ttl_ms ? 0 : -ESTALE;
	}
	e = malloc(sizeof(*e) + klen);
	if (!e) {
		cache_listing_unref(list);
		return -ENOMEM;
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->key, path, klen);
	e->kind = kind;
	e->gen = gen;
	e->expires_ms = util_now_ms() + ttl_ms;
	e->bytes = sizeof(*e) + klen + extra + 64 /* allocator and table overhead */;
	if (a)
		e->attr = *a;
	e->list = list;
	if (e->bytes > c->cfg.max_bytes) {
		cache_listing_unref(list);
		free(e);
		return -E2BIG;
	}
	old = find(c, kind, path);
	if (old)
		drop(c, old);
	if (hmap_insert(&c->map, &e->hnode, key_hash(kind, path)) < 0) {
		cache_listing_unref(list);
		free(e);
		return -ENOMEM;
	}
	list_add_head(&c->lru, &e->lru);
	c->bytes += e->bytes;
	c->st.entries++;
	evict(c);
	return 0;
}

int cache_new(const struct cache_config *cfg, struct cache **out)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	pthread_mutex_init(&c->lock, NULL);
	hmap_init(&c->map);
	list_init(&c->lru);
	c->gen = 1;
	*out = c;
	return 0;
}

static void free_entry(struct hmap_node *n, void *arg)
{
	struct centry *e = container_of(n, struct centry, hnode);

	(void)arg;
	cache_listing_unref(e->list);
	free(e);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	hmap_each(&c->map, free_entry, NULL);
	hmap_release(&c->map);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const struct cache_config *cache_config(const struct cache *c)
{
	return &c->cfg;
}

uint64_t cache_generation(struct cache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->gen;
	pthread_mutex_unlock(&c->lock);
	return g;
}

int cache_put_listing(struct cache *c, const char *dir, struct cache_listing *l, uint64_t gen)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = put(c, E_LIST, dir, c->cfg.list_ttl_ms, gen, NULL, cache_listing_ref(l), l->bytes);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

struct cache_listing *cache_get_listing(struct cache *c, const char *dir)
{
	struct cache_listing *l = NULL;
	struct centry *e;

	pthread_mutex_lock(&c->lock);
	e = get(c, E_LIST, dir);
	if (e) {
		l = cache_listing_ref(e->list);
		c->st.hits[CACHE_K_LIST]++;
	} else {
		c->st.misses[CACHE_K_LIST]++;
	}
	pthread_mutex_unlock(&c->lock);
	return l;
}

uint64_t cache_listing_expiry(struct cache *c, const char *dir, const struct cache_listing *l)
{
	uint64_t until = 0;
	struct centry *e;

	pthread_mutex_lock(&c->lock);
	e = find(c, E_LIST, dir);
	if (e && e->list == l && util_now_ms() < e->expires_ms)
		until = e->expires_ms;
	pthread_mutex_unlock(&c->lock);
	return until;
}

enum cache_result cache_lookup(struct cache *c, const char *dir, const char *name,
			       struct cache_attr *out)
{
	enum cache_result res = CACHE_MISS;
	char *path = cache_key_join(dir, name);
	struct centry *e;

	if (!path)
		return CACHE_MISS;
	pthread_mutex_lock(&c->lock);
	e = get(c, E_LIST, dir);
	if (e) {
		const struct cache_dirent *d = cache_listing_find(e->list, name);
		c->st.hits[CACHE_K_LIST]++;
		if (d) {
			*out = d->a;
			res = CACHE_HIT;
		} else {
			res = CACHE_NEGATIVE;
		}
		goto out;
	}
	/* Each cache asked and unable to answer counts a miss of its own. */
	c->st.misses[CACHE_K_LIST]++;
	e = get(c, E_ATTR, path);
	if (e) {
		c->st.hits[CACHE_K_ATTR]++;
		*out = e->attr;
		res = CACHE_HIT;
		goto out;
	}
	c->st.misses[CACHE_K_ATTR]++;
	e = get(c, E_NEG, path);
	if (e) {
		c->st.hits[CACHE_K_NEG]++;
		res = CACHE_NEGATIVE;
		goto out;
	}
	c->st.misses[CACHE_K_NEG]++;
out:
	pthread_mutex_unlock(&c->lock);
	free(path);
	return res;
}

int cache_put_attr(struct cache *c, const char *path, const struct cache_attr *a, uint64_t gen)
{
	struct centry *neg;
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = put(c, E_ATTR, path, c->cfg.attr_ttl_ms, gen, a, NULL, 0);
	neg = rc ? NULL : find(c, E_NEG, path);
	if (neg)
		drop(c, neg);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_put_negative(struct cache *c, const char *path, uint64_t gen)
{
	struct centry *attr;
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = put(c, E_NEG, path, c->cfg.neg_ttl_ms, gen, NULL, NULL, 0);
	attr = rc ? NULL : find(c, E_ATTR, path);
	if (attr)
		drop(c, attr);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void invalidate_one(struct cache *c, const char *path, bool as_dir, bool as_name)
{
	static const uint8_t name_kinds[] = {E_ATTR, E_NEG};
	struct centry *e;

	if (as_name) {
		for (size_t i = 0; i < ARRAY_SIZE(name_kinds); i++) {
			e = find(c, name_kinds[i], path);
			if (e)
				drop(c, e);
		}
	}
	if (as_dir) {
		e = find(c, E_LIST, path);
		if (e)
			drop(c, e);
	}
	e = find(c, E_TOMB, path);
	if (e) {
		e->gen = c->gen;
		e->expires_ms = util_now_ms() + TOMB_TTL_MS;
		list_del(&e->lru);
		list_add_head(&c->lru, &e->lru);
	} else {
		(void)put(c, E_TOMB, path, TOMB_TTL_MS, c->gen, NULL, NULL, 0);
	}
}

void cache_invalidate_path(struct cache *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent = strndup(path, slash ? (size_t)(slash - path) : 0);

	pthread_mutex_lock(&c->lock);
	c->gen++;
	invalidate_one(c, path, true, true);
	if (*path && parent)
		invalidate_one(c, parent, true, false);
	/* Without memory for the parent's key, refuse every older fill instead. */
	if (!parent)
		c->floor_gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	free(parent);
}

void cache_note_change(struct cache *c, const char *path, const struct cache_attr *a)
{
	const char *slash = strrchr(path, '/');
	char *parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	const char *name = slash ? slash + 1 : path;
	struct cache_listing *patched = NULL;
	struct centry *e;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	/* In-flight fills of the name, of its listing and of its parent's are stale now. */
	invalidate_one(c, path, !a || a->type != CACHE_T_DIR, true);
	if (*path && parent) {
		invalidate_one(c, parent, false, false);
		e = get(c, E_LIST, parent);
		if (e && e->list->n <= CACHE_PATCH_MAX)
			patched = cache_listing_with(e->list, name, a);
		if (e && patched) {
			c->bytes -= e->list->bytes;
			e->bytes -= e->list->bytes;
			cache_listing_unref(e->list);
			e->list = patched;
			e->bytes += patched->bytes;
			c->bytes += patched->bytes;
			e->gen = c->gen;
		} else if (e) {
			drop(c, e);
		}
	}
	if (!parent)
		c->floor_gen = c->gen;
	if (a)
		(void)put(c, E_ATTR, path, c->cfg.attr_ttl_ms, c->gen, a, NULL, 0);
	else
		(void)put(c, E_NEG, path, c->cfg.neg_ttl_ms, c->gen, NULL, NULL, 0);
	evict(c);
	pthread_mutex_unlock(&c->lock);
	free(parent);
}

void cache_note_empty_dir(struct cache *c, const char *path)
{
	struct cache_listing *l = cache_listing_new();

	if (!l)
		return;
	cache_listing_seal(l);
	pthread_mutex_lock(&c->lock);
	(void)put(c, E_LIST, path, c->cfg.list_ttl_ms, c->gen, NULL, l, l->bytes);
	pthread_mutex_unlock(&c->lock);
}

void cache_invalidate_all(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	while (!list_empty(&c->lru))
		drop(c, container_of(c->lru.next, struct centry, lru));
	c->gen++;
	c->floor_gen = c->gen;
	pthread_mutex_unlock(&c->lock);
}

void cache_stats_get(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	out->bytes = c->bytes;
	pthread_mutex_unlock(&c->lock);
}

char *cache_key_join(const char *dir, const char *name)
{
	char *p = NULL;

	if (!*dir)
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}
