/*
 * hmap.h - intrusive chained hash table keyed by a caller-computed hash.
 *
 * Layer: util. Not thread-safe; the owner's lock guards it. The table never
 * owns its nodes. Lookups walk the nodes that share a hash and let the
 * caller compare keys:
 *
 *	for (n = hmap_first(m, h); n; n = hmap_next(n))
 *		if (key_equal(container_of(n, ...), key)) ...
 */
#ifndef AZBLOBFS_HMAP_H
#define AZBLOBFS_HMAP_H

#include "common.h"

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **buckets;
	size_t mask; /* nbuckets - 1; nbuckets is a power of two */
	size_t count;
};

void hmap_init(struct hmap *m);

/* Free the bucket array (not the nodes). */
void hmap_release(struct hmap *m);

/* Insert @n with @hash; grows the table. Returns 0 or -ENOMEM (nothing inserted). */
int hmap_insert(struct hmap *m, struct hmap_node *n, uint64_t hash) WARN_UNUSED;

/* Remove @n, which must be in @m. */
void hmap_remove(struct hmap *m, struct hmap_node *n);

/* First node with @hash, or NULL. */
struct hmap_node *hmap_first(const struct hmap *m, uint64_t hash);

/* Next node after @n with the same hash, or NULL. */
struct hmap_node *hmap_next(const struct hmap_node *n);

/*
 * Visit every node; @fn may not modify the table except by removing the
 * node it is given.
 */
void hmap_each(struct hmap *m, void (*fn)(struct hmap_node *n, void *arg), void *arg);

/* 64-bit FNV-1a of @n bytes, continuing from @seed (use UTIL_HASH_SEED). */
#define UTIL_HASH_SEED 0xcbf29ce484222325ULL
uint64_t util_hash(const void *p, size_t n, uint64_t seed);

/* Mix a 64-bit integer into a well-spread hash. */
uint64_t util_hash_u64(uint64_t v);

#endif
