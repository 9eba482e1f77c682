/*
 * check_util.c - the util layer: buffers, hash map, range sets, dates,
 * URL redaction and log levels.
 */
#include "azblobfs/common.h"
#include "azblobfs/buf.h"
#include "azblobfs/hmap.h"
#include "azblobfs/log.h"
#include "azblobfs/rangeset.h"
#include "azblobfs/timeutil.h"
#include "check_main.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_buf_append_respects_cap)
{
	struct buf b;

	buf_init(&b, 10);
	ck_assert_int_eq(buf_puts(&b, "hello"), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 1234), 0);
	ck_assert_str_eq(b.data, "hello1234");
	ck_assert_int_eq(buf_puts(&b, "xy"), -ENOBUFS);
	ck_assert_str_eq(b.data, "hello1234"); /* unchanged after a refused append */
	ck_assert_int_eq(buf_puts(&b, "z"), 0);
	ck_assert_uint_eq(b.len, 10);
	buf_release(&b);
}
END_TEST

START_TEST(test_buf_detach_hands_over)
{
	struct buf b;
	char *s;

	buf_init(&b, 100);
	s = buf_detach(&b);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_int_eq(buf_puts(&b, "abc"), 0);
	s = buf_detach(&b);
	ck_assert_str_eq(s, "abc");
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

struct item {
	struct hmap_node node;
	int key;
};

START_TEST(test_hmap_insert_find_remove_many)
{
	enum { N = 5000 };
	struct item *items = calloc(N, sizeof(*items));
	struct hmap m;

	hmap_init(&m);
	for (int i = 0; i < N; i++) {
		items[i].key = i;
		ck_assert_int_eq(hmap_insert(&m, &items[i].node, util_hash_u64((uint64_t)i)), 0);
	}
	ck_assert_uint_eq(m.count, N);
	for (int i = 0; i < N; i += 7) {
		struct hmap_node *n;
		bool found = false;
		for (n = hmap_first(&m, util_hash_u64((uint64_t)i)); n; n = hmap_next(n))
			if (container_of(n, struct item, node)->key == i)
				found = true;
		ck_assert(found);
	}
	for (int i = 0; i < N; i += 2)
		hmap_remove(&m, &items[i].node);
	ck_assert_uint_eq(m.count, N / 2);
	for (int i = 0; i < 4; i++) {
		bool found = false;
		for (struct hmap_node *n = hmap_first(&m, util_hash_u64((uint64_t)i)); n;
		     n = hmap_next(n))
			found |= container_of(n, struct item, node)->key == i;
		ck_assert_int_eq(found, i % 2); /* the even ones were removed */
	}
	hmap_release(&m);
	free(items);
}
END_TEST

/* Compare a range set with a byte map after random operations. */
START_TEST(test_rangeset_matches_bitmap)
{
	enum { SIZE = 512 };
	unsigned char map[SIZE];
	struct rangeset s;
	unsigned seed = 12345;

	rangeset_init(&s);
	memset(map, 0, sizeof(map));
	for (int step = 0; step < 3000; step++) {
		uint64_t a = (uint64_t)(rand_r(&seed) % SIZE), b = (uint64_t)(rand_r(&seed) % SIZE);
		uint64_t lo = MIN(a, b), hi = MAX(a, b);
		if (rand_r(&seed) % 10 == 0) {
			rangeset_truncate(&s, hi);
			memset(map + hi, 0, SIZE - hi);
		} else {
			ck_assert_int_eq(rangeset_add(&s, lo, hi), 0);
			memset(map + lo, 1, hi - lo);
		}
		/* invariants: sorted, disjoint, not touching */
		for (size_t i = 0; i < s.n; i++) {
			ck_assert_uint_lt(s.r[i].start, s.r[i].end);
			if (i)
				ck_assert_uint_lt(s.r[i - 1].end, s.r[i].start);
		}
		a = (uint64_t)(rand_r(&seed) % SIZE);
		b = a + (uint64_t)(rand_r(&seed) % (SIZE - a)) + 1;
		bool all = true, any = false;
		for (uint64_t i = a; i < b; i++) {
			all &= map[i];
			any |= map[i];
		}
		ck_assert_int_eq(rangeset_covers(&s, a, b), all);
		ck_assert_int_eq(rangeset_overlaps(&s, a, b), any);
		uint64_t gs, ge;
		bool gap = rangeset_first_gap(&s, a, b, &gs, &ge);
		ck_assert_int_eq(gap, !all);
		if (gap) {
			uint64_t first = a;
			while (map[first])
				first++;
			ck_assert_uint_eq(gs, first);
			ck_assert(!map[ge - 1]);
			ck_assert(ge == b || map[ge]);
		}
		uint64_t total = 0;
		for (int i = 0; i < SIZE; i++)
			total += map[i];
		ck_assert_uint_eq(rangeset_bytes(&s), total);
	}
	rangeset_release(&s);
}
END_TEST

START_TEST(test_http_date_round_trip_and_locale_free)
{
	char out[UTIL_HTTP_DATE_LEN];
	time_t t;

	util_http_date(0, out);
	ck_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	util_http_date(1764075600, out);
	ck_assert_str_eq(out, "Tue, 25 Nov 2025 13:00:00 GMT");
	ck_assert_int_eq(util_parse_http_date(out, &t), 0);
	ck_assert_int_eq(t, 1764075600);
	ck_assert_int_eq(util_parse_http_date("Tue, 25 Foo 2025 13:00:00 GMT", &t), -EINVAL);
	ck_assert_int_eq(util_parse_http_date("garbage", &t), -EINVAL);
}
END_TEST

START_TEST(test_iso8601_format_round_trips)
{
	struct timespec t = {.tv_sec = 1772532000, .tv_nsec = 123456789}, back;
	char buf[UTIL_ISO8601_LEN];

	util_format_iso8601(&t, buf);
	ck_assert_str_eq(buf, "2026-03-03T10:00:00.123456789Z");
	ck_assert_int_eq(util_parse_iso8601(buf, &back), 0);
	ck_assert_int_eq(back.tv_sec, t.tv_sec);
	ck_assert_int_eq(back.tv_nsec, t.tv_nsec);
}
END_TEST

START_TEST(test_iso8601_with_fraction)
{
	struct timespec ts;

	ck_assert_int_eq(util_parse_iso8601("2026-03-03T10:00:00.1234567Z", &ts), 0);
	ck_assert_int_eq(ts.tv_sec, 1772532000);
	ck_assert_int_eq(ts.tv_nsec, 123456700);
	ck_assert_int_eq(util_parse_iso8601("2026-03-03T10:00:00Z", &ts), 0);
	ck_assert_int_eq(ts.tv_nsec, 0);
	ck_assert_int_eq(util_parse_iso8601("2026-13-03T10:00:00Z", &ts), -EINVAL);
	ck_assert_int_eq(util_parse_iso8601("2026-03-03T10:00:00+01:00", &ts), -EINVAL);
}
END_TEST

START_TEST(test_redact_url_hides_sas_signature)
{
	char out[256];

	util_redact_url("https://a.blob.core.windows.net/c/b?sv=2020&sig=SECRET%2Fx&se=1", out,
			sizeof(out));
	ck_assert_str_eq(out, "https://a.blob.core.windows.net/c/b?sv=2020&sig=REDACTED&se=1");
	ck_assert_ptr_null(strstr(out, "SECRET"));
	util_redact_url("http://h/p?sig=abc", out, sizeof(out));
	ck_assert_str_eq(out, "http://h/p?sig=REDACTED");
	/* a blob named sig= in the path is not a query parameter */
	util_redact_url("http://h/sig=1", out, sizeof(out));
	ck_assert_str_eq(out, "http://h/sig=1");
	util_redact_url("http://h/p?sig=abcdef", out, 12);
	ck_assert_uint_eq(strlen(out), 11);
}
END_TEST

START_TEST(test_log_level_parse)
{
	enum log_level l;

	ck_assert_int_eq(util_log_level_parse("debug", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_DEBUG);
	ck_assert_int_eq(util_log_level_parse("WARNING", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_WARN);
	ck_assert_int_eq(util_log_level_parse("0", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_ERR);
	ck_assert_int_eq(util_log_level_parse("loud", &l), -EINVAL);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buf_append_respects_cap);
	tcase_add_test(tc, test_buf_detach_hands_over);
	tcase_add_test(tc, test_hmap_insert_find_remove_many);
	tcase_add_test(tc, test_rangeset_matches_bitmap);
	tcase_add_test(tc, test_http_date_round_trip_and_locale_free);
	tcase_add_test(tc, test_iso8601_with_fraction);
	tcase_add_test(tc, test_iso8601_format_round_trips);
	tcase_add_test(tc, test_redact_url_hides_sas_signature);
	tcase_add_test(tc, test_log_level_parse);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(util_suite)
