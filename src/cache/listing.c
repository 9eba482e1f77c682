/*
 * listing.c - immutable, reference-counted directory listings.
 */
#include "azblobfs/common.h"
#include "azblobfs/cache.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (64 * 1024)

struct cache_listing *cache_listing_new(void)
{
	struct cache_listing *l = calloc(1, sizeof(*l));

	if (l) {
		l->refs = 1;
		l->bytes = sizeof(*l);
	}
	return l;
}

static char *store_name(struct cache_listing *l, const char *name)
{
	size_t len = strlen(name) + 1;
	char *p;

	if (!l->nchunks || l->chunk_used + len > l->chunk_cap) {
		size_t cap = MAX((size_t)CHUNK_SIZE, len);
		char **chunks = realloc(l->chunks, (l->nchunks + 1) * sizeof(*chunks));
		if (!chunks)
			return NULL;
		l->chunks = chunks;
		chunks[l->nchunks] = malloc(cap);
		if (!chunks[l->nchunks])
			return NULL;
		l->nchunks++;
		l->chunk_used = 0;
		l->chunk_cap = cap;
		l->bytes += cap + sizeof(char *);
	}
	p = l->chunks[l->nchunks - 1] + l->chunk_used;
	memcpy(p, name, len);
	l->chunk_used += len;
	return p;
}

int cache_listing_add(struct cache_listing *l, const char *name, const struct cache_attr *a)
{
	struct cache_dirent *e;

	if (l->sealed)
		return -EINVAL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct cache_dirent *ents = realloc(l->ents, cap * sizeof(*ents));
		if (!ents)
			return -ENOMEM;
		l->bytes += (cap - l->cap) * sizeof(*ents);
		l->ents = ents;
		l->cap = cap;
	}
	e = &l->ents[l->n];
	e->name = store_name(l, name);
	if (!e->name)
		return -ENOMEM;
	e->a = *a;
	l->n++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct cache_dirent *)a)->name,
		      ((const struct cache_dirent *)b)->name);
}

/* Keep one entry per name: a directory wins; a marker's attributes win. */
static void merge(struct cache_dirent *keep, const struct cache_dirent *other)
{
	struct cache_attr a = keep->a, b = other->a;
	uint16_t flags = a.flags | b.flags;

	if (b.type == CACHE_T_DIR && (a.type != CACHE_T_DIR || (b.flags & CACHE_F_MARKER)))
		a = b;
	a.type = (keep->a.type == CACHE_T_DIR || b.type == CACHE_T_DIR) ? CACHE_T_DIR : a.type;
	a.flags = flags;
	if (a.type == CACHE_T_DIR)
		a.size = 0;
	keep->a = a;
}

void cache_listing_seal(struct cache_listing *l)
{
	size_t o = 0;

	if (l->sealed)
		return;
	if (l->n > 1)
		qsort(l->ents, l->n, sizeof(*l->ents), by_name);
	for (size_t i = 0; i < l->n; i++) {
		if (o && !strcmp(l->ents[o - 1].name, l->ents[i].name))
			merge(&l->ents[o - 1], &l->ents[i]);
		else
			l->ents[o++] = l->ents[i];
	}
	l->n = o;
	l->ndirs = 0;
	for (size_t i = 0; i < l->n; i++)
		l->ndirs += l->ents[i].a.type == CACHE_T_DIR;
	l->sealed = true;
}

struct cache_listing *cache_listing_ref(struct cache_listing *l)
{
	__atomic_fetch_add(&l->refs, 1, __ATOMIC_RELAXED);
	return l;
}

void cache_listing_unref(struct cache_listing *l)
{
	if (!l || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (size_t i = 0; i < l->nchunks; i++)
		free(l->chunks[i]);
	free(l->chunks);
	free(l->ents);
	free(l);
}

struct cache_listing *cache_listing_with(const struct cache_listing *l, const char *name,
					 const struct cache_attr *a)
{
	struct cache_listing *m = cache_listing_new();

	if (!m)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->ents[i].name, name))
			continue;
		if (cache_listing_add(m, l->ents[i].name, &l->ents[i].a) < 0)
			goto fail;
	}
	if (a && cache_listing_add(m, name, a) < 0)
		goto fail;
	cache_listing_seal(m);
	return m;
fail:
	cache_listing_unref(m);
	return NULL;
}

const struct cache_dirent *cache_listing_find(const struct cache_listing *l, const char *name)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, l->ents[mid].name);
		if (!c)
			return &l->ents[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
