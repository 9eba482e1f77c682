#include "azblobfs/common.h"
#include "azblobfs/hmap.h"

#include <stdlib.h>

void hmap_init(struct hmap *m)
{
	m->buckets = NULL;
	m->mask = 0;
	m->count = 0;
}

void hmap_release(struct hmap *m)
{
	free(m->buckets);
	hmap_init(m);
}

static int resize(struct hmap *m, size_t nb)
{
	struct hmap_node **nbk = calloc(nb, sizeof(*nbk));

	if (!nbk)
		return -ENOMEM;
	if (m->buckets) {
		for (size_t i = 0; i <= m->mask; i++) {
			struct hmap_node *n = m->buckets[i];
			while (n) {
				struct hmap_node *next = n->next;
				size_t j = n->hash & (nb - 1);
				n->next = nbk[j];
				nbk[j] = n;
				n = next;
			}
		}
	}
	free(m->buckets);
	m->buckets = nbk;
	m->mask = nb - 1;
	return 0;
}

int hmap_insert(struct hmap *m, struct hmap_node *n, uint64_t hash)
{
	size_t i;

	if (!m->buckets || m->count >= m->mask + 1) {
		size_t nb = m->buckets ? (m->mask + 1) * 2 : 64;
		int r = resize(m, nb);
		/* A failed grow still leaves a usable table, just a fuller one. */
		if (r < 0 && !m->buckets)
			return r;
	}
	n->hash = hash;
	i = hash & m->mask;
	n->next = m->buckets[i];
	m->buckets[i] = n;
	m->count++;
	return 0;
}

void hmap_remove(struct hmap *m, struct hmap_node *n)
{
	struct hmap_node **pp = &m->buckets[n->hash & m->mask];

	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		m->count--;
	}
	n->next = NULL;
}

struct hmap_node *hmap_first(const struct hmap *m, uint64_t hash)
{
	struct hmap_node *n;

	if (!m->buckets)
		return NULL;
	for (n = m->buckets[hash & m->mask]; n; n = n->next)
		if (n->hash == hash)
			return n;
	return NULL;
}

struct hmap_node *hmap_next(const struct hmap_node *n)
{
	uint64_t h = n->hash;

	for (n = n->next; n; n = n->next)
		if (n->hash == h)
			return (struct hmap_node *)n;
	return NULL;
}

void hmap_each(struct hmap *m, void (*fn)(struct hmap_node *n, void *arg), void *arg)
{
	if (!m->buckets)
		return;
	for (size_t i = 0; i <= m->mask; i++) {
		struct hmap_node *n = m->buckets[i];
		while (n) {
			struct hmap_node *next = n->next;
			fn(n, arg);
			n = next;
		}
	}
}

uint64_t util_hash(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t util_hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	v ^= v >> 33;
	return v;
}
