/*
 * check_cache.c - listings, lookups, TTLs, generations and the byte budget.
 */
#include "azblobfs/common.h"
#include "azblobfs/cache.h"
#include "azblobfs/timeutil.h"
#include "check_main.h"

#include <stdio.h>
#include <string.h>

static struct cache_attr file_attr(uint64_t size)
{
	struct cache_attr a = {.type = CACHE_T_FILE, .size = size};

	snprintf(a.etag, sizeof(a.etag), "\"0x%llu\"", (unsigned long long)size);
	return a;
}

static struct cache_attr dir_attr(uint16_t flags)
{
	struct cache_attr a = {.type = CACHE_T_DIR, .flags = flags};

	return a;
}

static struct cache *new_cache(uint64_t max_bytes, uint32_t ttl)
{
	struct cache_config cfg = {
	    .max_bytes = max_bytes, .attr_ttl_ms = ttl, .list_ttl_ms = ttl, .neg_ttl_ms = ttl};
	struct cache *c;

	ck_assert_int_eq(cache_new(&cfg, &c), 0);
	return c;
}

static struct cache_listing *listing_of(int n, const char *prefix)
{
	struct cache_listing *l = cache_listing_new();
	char name[64];

	for (int i = 0; i < n; i++) {
		struct cache_attr a = file_attr((uint64_t)i);
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		ck_assert_int_eq(cache_listing_add(l, name, &a), 0);
	}
	cache_listing_seal(l);
	return l;
}

START_TEST(test_listing_sorts_and_finds)
{
	struct cache_listing *l = listing_of(1000, "f");
	const struct cache_dirent *d;

	ck_assert_uint_eq(l->n, 1000);
	for (size_t i = 1; i < l->n; i++)
		ck_assert_int_lt(strcmp(l->ents[i - 1].name, l->ents[i].name), 0);
	d = cache_listing_find(l, "f777");
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->a.size, 777);
	ck_assert_ptr_null(cache_listing_find(l, "f1000"));
	ck_assert_ptr_null(cache_listing_find(l, ""));
	cache_listing_unref(l);
}
END_TEST

START_TEST(test_listing_each_name_once_dir_wins)
{
	struct cache_listing *l = cache_listing_new(), *m2;
	struct cache_attr f = file_attr(0), p = dir_attr(CACHE_F_PREFIX),
			  m = dir_attr(CACHE_F_MARKER);
	const struct cache_dirent *d;

	m.mtime.tv_sec = 1234;
	/* "a": a file and a prefix; "b": a prefix and a marker blob; "c": a file. */
	ck_assert_int_eq(cache_listing_add(l, "a", &f), 0);
	ck_assert_int_eq(cache_listing_add(l, "b", &p), 0);
	ck_assert_int_eq(cache_listing_add(l, "c", &f), 0);
	ck_assert_int_eq(cache_listing_add(l, "a", &p), 0);
	ck_assert_int_eq(cache_listing_add(l, "b", &m), 0);
	cache_listing_seal(l);
	ck_assert_uint_eq(l->n, 3);
	d = cache_listing_find(l, "a");
	ck_assert_int_eq(d->a.type, CACHE_T_DIR);
	d = cache_listing_find(l, "b");
	ck_assert_int_eq(d->a.type, CACHE_T_DIR);
	ck_assert_uint_eq(d->a.flags & (CACHE_F_MARKER | CACHE_F_PREFIX),
			  CACHE_F_MARKER | CACHE_F_PREFIX);
	ck_assert_int_eq(d->a.mtime.tv_sec, 1234);
	ck_assert_int_eq(cache_listing_find(l, "c")->a.type, CACHE_T_FILE);
	/* Directories are counted once each, also in patched copies. */
	ck_assert_uint_eq(l->ndirs, 2);
	m2 = cache_listing_with(l, "d", &p);
	ck_assert_uint_eq(m2->ndirs, 3);
	cache_listing_unref(m2);
	m2 = cache_listing_with(l, "a", NULL);
	ck_assert_uint_eq(m2->ndirs, 1);
	cache_listing_unref(m2);
	cache_listing_unref(l);
}
END_TEST

START_TEST(test_cache_lookup_hit_negative_miss)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_listing *l = listing_of(10, "n");
	struct cache_attr a;

	ck_assert_int_eq(cache_lookup(c, "d", "n3", &a), CACHE_MISS);
	ck_assert_int_eq(cache_put_listing(c, "d", l, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "d", "n3", &a), CACHE_HIT);
	ck_assert_uint_eq(a.size, 3);
	/* A complete listing also knows what is absent. */
	ck_assert_int_eq(cache_lookup(c, "d", "zz", &a), CACHE_NEGATIVE);
	ck_assert_int_eq(cache_lookup(c, "other", "n3", &a), CACHE_MISS);
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_attr_and_negative_entries)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_attr a = file_attr(42), out;
	struct cache_stats st;

	ck_assert_int_eq(cache_put_attr(c, "x/y", &a, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "x", "y", &out), CACHE_HIT);
	ck_assert_uint_eq(out.size, 42);
	ck_assert_int_eq(cache_put_negative(c, "x/y", cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "x", "y", &out), CACHE_NEGATIVE);
	ck_assert_int_eq(cache_put_attr(c, "x/y", &a, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "x", "y", &out), CACHE_HIT);
	cache_stats_get(c, &st);
	ck_assert_uint_eq(st.hits[CACHE_K_ATTR], 2);
	ck_assert_uint_eq(st.hits[CACHE_K_NEG], 1);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_entries_expire_after_ttl)
{
	struct cache *c = new_cache(1 << 20, 30);
	struct cache_attr a = file_attr(1), out;
	uint64_t t0;

	ck_assert_int_eq(cache_put_attr(c, "f", &a, cache_generation(c)), 0);
	t0 = util_now_ms();
	ck_assert_int_eq(cache_lookup(c, "", "f", &out), CACHE_HIT);
	/* The TTL itself is under test: let the clock pass it. */
	while (util_now_ms() < t0 + 31)
		;
	ck_assert_int_eq(cache_lookup(c, "", "f", &out), CACHE_MISS);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_zero_ttl_stores_nothing)
{
	struct cache *c = new_cache(1 << 20, 0);
	struct cache_attr a = file_attr(1), out;

	ck_assert_int_eq(cache_put_attr(c, "f", &a, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "", "f", &out), CACHE_MISS);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_late_fill_after_invalidation_refused)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_listing *l = listing_of(3, "n");
	struct cache_attr a = file_attr(7), out;
	uint64_t gen = cache_generation(c);

	/* The mount changes d/new while a listing of d is on the wire. */
	cache_invalidate_path(c, "d/new");
	ck_assert_int_eq(cache_put_listing(c, "d", l, gen), -ESTALE);
	ck_assert_int_eq(cache_put_attr(c, "d/new", &a, gen), -ESTALE);
	ck_assert_int_eq(cache_lookup(c, "d", "n1", &out), CACHE_MISS);
	/* A fill that started after the change is fine. */
	ck_assert_int_eq(cache_put_listing(c, "d", l, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "d", "n1", &out), CACHE_HIT);
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_invalidate_drops_parent_listing)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_listing *l = listing_of(3, "n");
	struct cache_attr out;

	ck_assert_int_eq(cache_put_listing(c, "a/b", l, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "a/b", "n0", &out), CACHE_HIT);
	cache_invalidate_path(c, "a/b/n0");
	ck_assert_int_eq(cache_lookup(c, "a/b", "n0", &out), CACHE_MISS);
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_budget_evicts_least_recently_used)
{
	struct cache *c = new_cache(400 * 1024, 60000);
	struct cache_listing *first = listing_of(100, "a");
	struct cache_listing *keep = listing_of(100, "k");
	struct cache_stats st;
	char dir[32];

	ck_assert_int_eq(cache_put_listing(c, "first", first, cache_generation(c)), 0);
	ck_assert_int_eq(cache_put_listing(c, "keep", keep, cache_generation(c)), 0);
	for (int i = 0; i < 40; i++) {
		struct cache_listing *l = listing_of(100, "x");
		struct cache_listing *k = cache_get_listing(c, "keep"); /* touch */
		ck_assert_ptr_nonnull(k);
		cache_listing_unref(k);
		snprintf(dir, sizeof(dir), "d%d", i);
		ck_assert_int_eq(cache_put_listing(c, dir, l, cache_generation(c)), 0);
		cache_listing_unref(l);
		cache_stats_get(c, &st);
		ck_assert_uint_le(st.bytes, 400 * 1024);
	}
	cache_stats_get(c, &st);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_ptr_null(cache_get_listing(c, "first"));
	{
		struct cache_listing *k = cache_get_listing(c, "keep");
		ck_assert_ptr_nonnull(k);
		cache_listing_unref(k);
	}
	cache_listing_unref(first);
	cache_listing_unref(keep);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_listing_over_budget_not_stored)
{
	struct cache *c = new_cache(16 * 1024, 60000);
	struct cache_listing *l = listing_of(2000, "big");

	ck_assert_int_eq(cache_put_listing(c, "d", l, cache_generation(c)), -E2BIG);
	ck_assert_ptr_null(cache_get_listing(c, "d"));
	/* The caller's reference is still good. */
	ck_assert_ptr_nonnull(cache_listing_find(l, "big1999"));
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_evicted_tombstone_still_refuses_old_fill)
{
	struct cache *c = new_cache(8 * 1024, 60000);
	struct cache_attr a = file_attr(1);
	uint64_t gen = cache_generation(c);
	char p[32];

	cache_invalidate_path(c, "victim");
	/* Push the tombstone out with other entries. */
	for (int i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "filler%d", i);
		ck_assert_int_eq(cache_put_attr(c, p, &a, cache_generation(c)), 0);
	}
	ck_assert_int_eq(cache_put_attr(c, "victim", &a, gen), -ESTALE);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_stats_count_hits_and_misses_per_cache)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_attr a = file_attr(7), got;
	struct cache_listing *l = listing_of(3, "f");
	struct cache_stats st;

	/* Nothing known: the listing, attribute and negative caches each miss. */
	ck_assert_int_eq(cache_lookup(c, "d", "x", &got), CACHE_MISS);
	cache_stats_get(c, &st);
	ck_assert_uint_eq(st.misses[CACHE_K_LIST], 1);
	ck_assert_uint_eq(st.misses[CACHE_K_ATTR], 1);
	ck_assert_uint_eq(st.misses[CACHE_K_NEG], 1);
	ck_assert_uint_eq(st.hits[CACHE_K_LIST] + st.hits[CACHE_K_ATTR] + st.hits[CACHE_K_NEG], 0);

	ck_assert_int_eq(cache_put_negative(c, "d/x", cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "d", "x", &got), CACHE_NEGATIVE);
	cache_stats_get(c, &st);
	ck_assert_uint_eq(st.hits[CACHE_K_NEG], 1);
	ck_assert_uint_eq(st.misses[CACHE_K_ATTR], 2);

	ck_assert_int_eq(cache_put_attr(c, "d/y", &a, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "d", "y", &got), CACHE_HIT);
	cache_stats_get(c, &st);
	ck_assert_uint_eq(st.hits[CACHE_K_ATTR], 1);
	ck_assert_uint_eq(st.misses[CACHE_K_NEG], 1); /* not asked: the attribute answered */

	ck_assert_int_eq(cache_put_listing(c, "e", l, cache_generation(c)), 0);
	ck_assert_int_eq(cache_lookup(c, "e", "f1", &got), CACHE_HIT);
	ck_assert_int_eq(cache_lookup(c, "e", "nope", &got), CACHE_NEGATIVE);
	cache_stats_get(c, &st);
	ck_assert_uint_eq(st.hits[CACHE_K_LIST], 2);
	ck_assert_uint_eq(st.misses[CACHE_K_LIST], 3);
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_key_join)
{
	char *k = cache_key_join("", "a");

	ck_assert_str_eq(k, "a");
	free(k);
	k = cache_key_join("x/y", "a b");
	ck_assert_str_eq(k, "x/y/a b");
	free(k);
}
END_TEST

START_TEST(test_cache_note_change_patches_listing)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_listing *l = listing_of(3, "n");
	struct cache_attr a = file_attr(99), out;
	uint64_t gen = cache_generation(c);

	ck_assert_int_eq(cache_put_listing(c, "d", l, gen), 0);
	cache_note_change(c, "d/new", &a);
	/* The listing is still cached, and knows the new name: no request needed. */
	ck_assert_int_eq(cache_lookup(c, "d", "new", &out), CACHE_HIT);
	ck_assert_uint_eq(out.size, 99);
	ck_assert_int_eq(cache_lookup(c, "d", "n1", &out), CACHE_HIT);
	cache_note_change(c, "d/n1", NULL);
	ck_assert_int_eq(cache_lookup(c, "d", "n1", &out), CACHE_NEGATIVE);
	/* A fill that began before the change is refused. */
	ck_assert_int_eq(cache_put_listing(c, "d", l, gen), -ESTALE);
	ck_assert_int_eq(cache_put_attr(c, "d/new", &a, gen), -ESTALE);
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_note_change_without_listing_stores_attr)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_attr a = file_attr(5), out;

	cache_note_change(c, "x/y", &a);
	ck_assert_int_eq(cache_lookup(c, "x", "y", &out), CACHE_HIT);
	ck_assert_uint_eq(out.size, 5);
	cache_note_change(c, "x/y", NULL);
	ck_assert_int_eq(cache_lookup(c, "x", "y", &out), CACHE_NEGATIVE);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_note_empty_dir)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_attr d = dir_attr(CACHE_F_MARKER), out;

	cache_note_change(c, "newdir", &d);
	cache_note_empty_dir(c, "newdir");
	ck_assert_int_eq(cache_lookup(c, "newdir", "anything", &out), CACHE_NEGATIVE);
	ck_assert_int_eq(cache_lookup(c, "", "newdir", &out), CACHE_HIT);
	ck_assert_int_eq(out.type, CACHE_T_DIR);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_note_change_drops_huge_listing)
{
	struct cache *c = new_cache(64 << 20, 60000);
	struct cache_listing *l = listing_of(CACHE_PATCH_MAX + 1, "f");
	struct cache_attr a = file_attr(1), out;

	ck_assert_int_eq(cache_put_listing(c, "big", l, cache_generation(c)), 0);
	cache_note_change(c, "big/zz", &a);
	/* Too big to copy on every change: dropped, but the name itself is known. */
	ck_assert_ptr_null(cache_get_listing(c, "big"));
	ck_assert_int_eq(cache_lookup(c, "big", "zz", &out), CACHE_HIT);
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

START_TEST(test_cache_listing_expiry_only_for_the_cached_listing)
{
	struct cache *c = new_cache(1 << 20, 60000);
	struct cache_listing *l = listing_of(2, "n"), *other = listing_of(1, "o");
	struct cache_attr a = file_attr(3);
	uint64_t now = util_now_ms();
	struct cache_listing *patched;

	ck_assert_uint_eq(cache_listing_expiry(c, "d", l), 0);
	ck_assert_int_eq(cache_put_listing(c, "d", l, cache_generation(c)), 0);
	ck_assert_uint_ge(cache_listing_expiry(c, "d", l), now + 60000);
	ck_assert_uint_eq(cache_listing_expiry(c, "d", other), 0);
	ck_assert_uint_eq(cache_listing_expiry(c, "e", l), 0);
	/* A change here replaces the cached listing: the old one is not it any more. */
	cache_note_change(c, "d/x", &a);
	ck_assert_uint_eq(cache_listing_expiry(c, "d", l), 0);
	patched = cache_get_listing(c, "d");
	ck_assert_ptr_nonnull(patched);
	ck_assert_uint_gt(cache_listing_expiry(c, "d", patched), 0);
	cache_listing_unref(patched);
	cache_listing_unref(other);
	cache_listing_unref(l);
	cache_free(c);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_listing_sorts_and_finds);
	tcase_add_test(tc, test_listing_each_name_once_dir_wins);
	tcase_add_test(tc, test_cache_lookup_hit_negative_miss);
	tcase_add_test(tc, test_cache_attr_and_negative_entries);
	tcase_add_test(tc, test_cache_entries_expire_after_ttl);
	tcase_add_test(tc, test_cache_zero_ttl_stores_nothing);
	tcase_add_test(tc, test_cache_late_fill_after_invalidation_refused);
	tcase_add_test(tc, test_cache_invalidate_drops_parent_listing);
	tcase_add_test(tc, test_cache_budget_evicts_least_recently_used);
	tcase_add_test(tc, test_cache_listing_over_budget_not_stored);
	tcase_add_test(tc, test_cache_evicted_tombstone_still_refuses_old_fill);
	tcase_add_test(tc, test_cache_stats_count_hits_and_misses_per_cache);
	tcase_add_test(tc, test_cache_key_join);
	tcase_add_test(tc, test_cache_note_change_patches_listing);
	tcase_add_test(tc, test_cache_note_change_without_listing_stores_attr);
	tcase_add_test(tc, test_cache_note_empty_dir);
	tcase_add_test(tc, test_cache_note_change_drops_huge_listing);
	tcase_add_test(tc, test_cache_listing_expiry_only_for_the_cached_listing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cache_suite)
