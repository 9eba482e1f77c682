/*
 * check_props.c - blob properties from response headers, metadata lists.
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "check_main.h"
#include "az_test.h"

START_TEST(test_props_from_head_response)
{
	struct http_msg r;
	struct az_props p;

	/* Header lines as Azurite 3.35 sent them in the live check. */
	http_msg_init(&r);
	r.status = 200;
	test_add_rhdr(&r, "Server: Azurite-Blob/3.35.0");
	test_add_rhdr(&r, "last-modified: Wed, 25 Nov 2026 13:14:37 GMT");
	test_add_rhdr(&r, "x-ms-meta-hdi_isfolder: true");
	test_add_rhdr(&r, "x-ms-meta-Mode: 0644");
	test_add_rhdr(&r, "x-ms-meta-note:   spaced value  ");
	test_add_rhdr(&r, "x-ms-blob-type: BlockBlob");
	test_add_rhdr(&r, "content-length: 5368709120");
	test_add_rhdr(&r, "content-type: text/plain");
	test_add_rhdr(&r, "etag: \"0x247BCD195B54FA0\"");
	ck_assert_int_eq(az_props_from_response(&r, &p), 0);
	ck_assert_uint_eq(p.size, 5368709120ULL);
	ck_assert_int_eq(p.mtime.tv_sec, 1795612477); /* date -u -d '2026-11-25 13:14:37' +%s */
	ck_assert_str_eq(p.etag, "\"0x247BCD195B54FA0\"");
	ck_assert_str_eq(p.content_type, "text/plain");
	ck_assert_uint_eq(p.meta.n, 3);
	ck_assert_str_eq(p.meta.items[1].name, "Mode"); /* case as sent */
	ck_assert_str_eq(meta_get(&p.meta, "mode"), "0644");
	ck_assert_str_eq(meta_get(&p.meta, "HDI_ISFOLDER"), "true");
	ck_assert_str_eq(meta_get(&p.meta, "note"), "spaced value");
	ck_assert_ptr_null(meta_get(&p.meta, "blob-type"));
	az_props_release(&p);
	http_msg_release(&r);
}
END_TEST

START_TEST(test_props_ranged_get_uses_content_range_total)
{
	struct http_msg r;
	struct az_props p;

	http_msg_init(&r);
	r.status = 206;
	test_add_rhdr(&r, "Content-Length: 5\r\n");
	test_add_rhdr(&r, "Content-Range: bytes 2-6/11\r\n");
	test_add_rhdr(&r, "ETag: 0x8D1\r\n");
	ck_assert_int_eq(az_props_from_response(&r, &p), 0);
	ck_assert_uint_eq(p.size, 11);
	ck_assert_str_eq(p.etag, "\"0x8D1\"");
	ck_assert_int_eq(p.mtime.tv_sec, 0);
	az_props_release(&p);
	http_msg_release(&r);
}
END_TEST

static int props_with(const char *line1, const char *line2)
{
	struct http_msg r;
	struct az_props p;
	int rc;

	http_msg_init(&r);
	if (line1)
		test_add_rhdr(&r, line1);
	if (line2)
		test_add_rhdr(&r, line2);
	rc = az_props_from_response(&r, &p);
	if (rc < 0) {
		ck_assert_uint_eq(p.meta.n, 0);
		ck_assert_ptr_null(p.meta.items);
	}
	az_props_release(&p);
	http_msg_release(&r);
	return rc;
}

START_TEST(test_props_malformed_headers)
{
	ck_assert_int_eq(props_with("Content-Length: 1", NULL), 0);
	ck_assert_int_eq(props_with(NULL, NULL), -EBADMSG);
	ck_assert_int_eq(props_with("Content-Length: 1x", NULL), -EBADMSG);
	ck_assert_int_eq(props_with("Content-Length: -1", NULL), -EBADMSG);
	ck_assert_int_eq(props_with("Content-Length: 99999999999999999999", NULL), -EBADMSG);
	ck_assert_int_eq(props_with("Content-Range: bytes 0-1/*", NULL), -EBADMSG);
	ck_assert_int_eq(props_with("Content-Length: 1", "Last-Modified: never"), -EBADMSG);
	ck_assert_int_eq(props_with("Content-Length: 1", "x-ms-meta-a: b"), 0);
	ck_assert_int_eq(props_with("Content-Length: 1", "ETag: \"bad etag\""), -EBADMSG);
}
END_TEST

START_TEST(test_props_meta_list_operations)
{
	struct meta_list m = {0}, copy = {0};

	ck_assert_int_eq(meta_set(&m, "Mode", "0644"), 0);
	ck_assert_int_eq(meta_set(&m, "uid", "1000"), 0);
	ck_assert_int_eq(meta_set(&m, "MODE", "0755"), 0); /* replaces, case-insensitive */
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(meta_get(&m, "mode"), "0755");
	ck_assert_str_eq(m.items[0].name, "MODE");

	ck_assert_int_eq(meta_set(&m, "bad-name", "x"), -EINVAL);
	ck_assert_int_eq(meta_set(&m, "9lives", "x"), -EINVAL);
	ck_assert_int_eq(meta_set(&m, "", "x"), -EINVAL);
	ck_assert_int_eq(meta_set(&m, "empty", ""), -EINVAL);
	ck_assert_int_eq(meta_set(&m, "_ok_1", "v"), 0);
	ck_assert_uint_eq(m.n, 3);

	ck_assert_int_eq(meta_copy(&copy, &m), 0);
	meta_del(&m, "UID");
	ck_assert_uint_eq(m.n, 2);
	ck_assert_ptr_null(meta_get(&m, "uid"));
	ck_assert_str_eq(meta_get(&m, "_ok_1"), "v");
	ck_assert_str_eq(meta_get(&copy, "uid"), "1000"); /* the copy is deep */
	meta_del(&m, "absent");
	ck_assert_uint_eq(m.n, 2);
	ck_assert_ptr_null(meta_get(NULL, "x"));

	ck_assert_int_eq(meta_copy(&copy, NULL), 0);
	ck_assert_uint_eq(copy.n, 0);
	meta_list_release(&m);
	meta_list_release(&copy);
	ck_assert_ptr_null(m.items);
	ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(test_props_meta_count_cap)
{
	struct meta_list m = {0};
	char name[16];
	int rc = 0, i;

	for (i = 0; i < 1000 && rc == 0; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		rc = meta_set(&m, name, "v");
	}
	ck_assert_int_eq(rc, -E2BIG);
	ck_assert_uint_eq(m.n, 512);
	meta_list_release(&m);
}
END_TEST

START_TEST(test_props_commit_result_reads_etag_and_last_modified)
{
	struct http_msg r;
	struct az_commit c;
	struct timespec before;

	http_msg_init(&r);
	r.status = 201;
	test_add_rhdr(&r, "ETag: \"0x8DCAFE\"");
	test_add_rhdr(&r, "Last-Modified: Wed, 25 Nov 2026 13:14:37 GMT");
	az_commit_result(&r, &c);
	ck_assert_str_eq(c.etag, "\"0x8DCAFE\"");
	ck_assert_int_eq(c.mtime.tv_sec, 1795612477);
	http_msg_release(&r);

	/* No headers: no ETag, and the local clock stands in for Last-Modified. */
	http_msg_init(&r);
	clock_gettime(CLOCK_REALTIME, &before);
	az_commit_result(&r, &c);
	ck_assert_str_eq(c.etag, "");
	ck_assert_int_ge(c.mtime.tv_sec, before.tv_sec);
	http_msg_release(&r);
}
END_TEST

static int copy_status_with(const char *line)
{
	struct http_msg r;
	int rc;

	http_msg_init(&r);
	if (line)
		test_add_rhdr(&r, line);
	rc = az_copy_status(&r);
	http_msg_release(&r);
	return rc;
}

START_TEST(test_props_copy_status_states)
{
	ck_assert_int_eq(copy_status_with(NULL), 0);
	ck_assert_int_eq(copy_status_with("x-ms-copy-status: success"), 0);
	ck_assert_int_eq(copy_status_with("x-ms-copy-status: pending"), -EINPROGRESS);
	ck_assert_int_eq(copy_status_with("x-ms-copy-status: failed"), -EIO);
	ck_assert_int_eq(copy_status_with("x-ms-copy-status: aborted"), -EIO);
}
END_TEST

static Suite *props_suite(void)
{
	Suite *s = suite_create("props");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_props_from_head_response);
	tcase_add_test(tc, test_props_ranged_get_uses_content_range_total);
	tcase_add_test(tc, test_props_malformed_headers);
	tcase_add_test(tc, test_props_meta_list_operations);
	tcase_add_test(tc, test_props_meta_count_cap);
	tcase_add_test(tc, test_props_commit_result_reads_etag_and_last_modified);
	tcase_add_test(tc, test_props_copy_status_states);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(props_suite)
