/*
 * cache.h - the metadata cache: directory listings, attributes of single
 * names, and negative entries, each with a TTL, under one byte budget
 * with least-recently-used eviction.
 *
 * Layer: cache (uses util only). Keys are mount-relative paths without
 * leading or trailing '/' ("" is the mount root; in whole-account mounts
 * the first component is the container).
 *
 * Threads: every function may be called from any thread; one mutex
 * guards the whole cache and is never held across a call out of it.
 *
 * Ownership: a listing is immutable once sealed and reference-counted;
 * cache_put_listing() takes its own reference, getters return a new one
 * that the caller drops with cache_listing_unref().
 *
 * Races: take cache_generation() before asking the service; a fill made
 * with that generation is dropped when the key (or everything) was
 * invalidated after it, so a late reply never overwrites newer state.
 */
#ifndef AZBLOBFS_CACHE_H
#define AZBLOBFS_CACHE_H

#include "common.h"
#include <time.h>

#define CACHE_ETAG_MAX 48

enum cache_type {
	CACHE_T_FILE = 0,
	CACHE_T_DIR,
	CACHE_T_LINK,
	CACHE_T_FIFO, /* the special files: 0-byte blobs, type in metadata */
	CACHE_T_SOCK,
	CACHE_T_CHR,
	CACHE_T_BLK,
};

enum cache_flags {
	CACHE_F_MARKER = 1 << 0, /* a directory backed by a marker blob */
	CACHE_F_SLASH = 1 << 1,  /* ... named "dir/" rather than hdi_isfolder */
	CACHE_F_MODE = 1 << 2,   /* mode came from metadata */
	CACHE_F_UID = 1 << 3,
	CACHE_F_GID = 1 << 4,
	CACHE_F_MTIME = 1 << 5,     /* mtime came from metadata */
	CACHE_F_CONTAINER = 1 << 6, /* a container of a whole-account mount */
	CACHE_F_PREFIX = 1 << 7,    /* the name is (also) a blob-name prefix */
	CACHE_F_XMETA = 1 << 8,     /* metadata beyond the POSIX keys (user xattrs, others') */
};

/* What the service told us about one name. */
struct cache_attr {
	uint8_t type;      /* enum cache_type */
	uint16_t flags;    /* enum cache_flags */
	uint32_t mode;     /* permission bits when CACHE_F_MODE */
	uint32_t uid, gid; /* when CACHE_F_UID / CACHE_F_GID */
	uint32_t rdev;     /* CACHE_T_CHR / CACHE_T_BLK: the device (as FUSE carries it) */
	uint64_t size;
	struct timespec mtime;
	struct timespec ctime;
	char etag[CACHE_ETAG_MAX]; /* "" for virtual folders */
};

/* Copy an ETag that fits, else store "" (an ETag too long to keep is as good as none). */
static inline void cache_etag_copy(char dst[CACHE_ETAG_MAX], const char *src)
{
	size_t n = __builtin_strlen(src);

	if (n < CACHE_ETAG_MAX)
		__builtin_memcpy(dst, src, n + 1);
	else
		dst[0] = '\0';
}

struct cache_dirent {
	const char *name; /* points into the listing's arena */
	struct cache_attr a;
};

struct cache_listing {
	unsigned refs; /* atomic */
	size_t n;
	size_t cap;
	struct cache_dirent *ents; /* sorted by name after sealing */
	size_t bytes;              /* memory it accounts for */
	size_t ndirs;              /* entries that are directories, counted when sealed */
	bool sealed;
	char **chunks; /* name storage */
	size_t nchunks, chunk_used, chunk_cap;
};

/* ---- listings ---- */

struct cache_listing *cache_listing_new(void);

/*
 * Add a name (copied). A name added twice is kept once: a directory wins
 * over a file of the same name (its marker flags and metadata are merged).
 * Returns 0 or -ENOMEM. Not thread-safe: build, then seal, then share.
 */
int cache_listing_add(struct cache_listing *l, const char *name,
		      const struct cache_attr *a) WARN_UNUSED;

/* Sort and merge duplicates; the listing is immutable afterwards. */
void cache_listing_seal(struct cache_listing *l);

struct cache_listing *cache_listing_ref(struct cache_listing *l);
void cache_listing_unref(struct cache_listing *l);

/*
 * A sealed copy of @l with @name set to @a, or removed when @a is NULL.
 * NULL on allocation failure.
 */
struct cache_listing *cache_listing_with(const struct cache_listing *l, const char *name,
					 const struct cache_attr *a);

/* Binary search in a sealed listing. NULL when absent. */
const struct cache_dirent *cache_listing_find(const struct cache_listing *l, const char *name);

/* ---- the cache ---- */

struct cache_config {
	uint64_t max_bytes;   /* budget for all entries and listings */
	uint32_t attr_ttl_ms; /* attributes of single names */
	uint32_t list_ttl_ms; /* directory listings */
	uint32_t neg_ttl_ms;  /* negative entries */
};

enum cache_kind {
	CACHE_K_ATTR = 0,
	CACHE_K_LIST,
	CACHE_K_NEG,
	CACHE_K__COUNT,
};

struct cache_stats {
	uint64_t hits[CACHE_K__COUNT];
	uint64_t misses[CACHE_K__COUNT];
	uint64_t evictions;
	uint64_t entries;
	uint64_t bytes;
};

struct cache;

int cache_new(const struct cache_config *cfg, struct cache **out) WARN_UNUSED;
void cache_free(struct cache *c);
const struct cache_config *cache_config(const struct cache *c);

uint64_t cache_generation(struct cache *c);

/*
 * Store @l (sealed) as the listing of directory @dir. Also drops the
 * attribute and negative entries of its children, which the listing
 * supersedes. Returns 0, -ESTALE (invalidated since @gen: not stored),
 * -E2BIG (larger than the budget: not stored) or -ENOMEM.
 */
int cache_put_listing(struct cache *c, const char *dir, struct cache_listing *l, uint64_t gen);

/* The fresh listing of @dir with a reference for the caller, or NULL. */
struct cache_listing *cache_get_listing(struct cache *c, const char *dir);

/*
 * Until when (util_now_ms() clock) @l is the fresh listing of @dir: 0 when
 * the cache holds another listing of @dir, or none. Counts no hit or miss.
 */
uint64_t cache_listing_expiry(struct cache *c, const char *dir, const struct cache_listing *l);

enum cache_result {
	CACHE_MISS = 0,
	CACHE_HIT,
	CACHE_NEGATIVE,
};

/*
 * Look @name up in directory @dir: first in the fresh listing of @dir
 * (a complete listing also answers "absent"), then in the attribute and
 * negative entries of the path. Fills @out on a hit.
 */
enum cache_result cache_lookup(struct cache *c, const char *dir, const char *name,
			       struct cache_attr *out);

/* Attribute / negative entry of one path. Same gen rule as listings. */
int cache_put_attr(struct cache *c, const char *path, const struct cache_attr *a, uint64_t gen);
int cache_put_negative(struct cache *c, const char *path, uint64_t gen);

/*
 * This mount changed @path: drop its attribute/negative entries, its own
 * listing (if a directory) and the listing of its parent.
 */
void cache_invalidate_path(struct cache *c, const char *path);

/*
 * This mount changed @path: @a is what it is now, NULL when it is gone.
 * Fills begun before are refused as after cache_invalidate_path(), but a
 * fresh cached listing of the parent is updated rather than dropped (when
 * it holds at most CACHE_PATCH_MAX names), and the path's attributes (or
 * its absence) are stored, so the next lookup or listing needs no request.
 */
#define CACHE_PATCH_MAX 20000
void cache_note_change(struct cache *c, const char *path, const struct cache_attr *a);

/* This mount made folder @path: it is empty, its listing is known. */
void cache_note_empty_dir(struct cache *c, const char *path);

/* Drop everything and refuse fills begun before now (directory renames). */
void cache_invalidate_all(struct cache *c);

void cache_stats_get(struct cache *c, struct cache_stats *out);

/* Join @dir and @name into a key: "" + "a" = "a", "x" + "a" = "x/a". Caller frees. */
char *cache_key_join(const char *dir, const char *name);

#endif
