/*
 * check_client.c - URL encoding and the request builders: exact URLs and
 * header lines, limits, and what is refused.
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "check_main.h"
#include "az_test.h"

#include "../../src/azure/azure_i.h"

#define EP "https://acct.blob.core.windows.net"

/* The SDK's encoding of the same name (tests/azure/sign_vectors.js, "nasty encoded"). */
#define NASTY                                                                                      \
	"dir/sp ace/\xc3\xbcn\xc3\xaf"                                                             \
	"c\xc3\xb6"                                                                                \
	"d\xc3\xa9/100%/#hash?q+plus&a=b'@!*().txt"
#define NASTY_ENC                                                                                  \
	"dir/sp%20ace/%C3%BCn%C3%AFc%C3%B6d%C3%A9/100%25/%23hash%3Fq%2Bplus%26a%3Db%27%40!*().txt"

static struct az_client cli;
static struct http_msg req;

static void setup(void)
{
	test_client(&cli, "acct", EP, TEST_KEY_B64, NULL);
	http_msg_init(&req);
}

static void teardown(void)
{
	http_msg_release(&req);
	az_client_release(&cli);
}

START_TEST(test_client_escape_path_matches_sdk)
{
	char *e = az_url_escape_path(NASTY);

	ck_assert_str_eq(e, NASTY_ENC);
	free(e);
	e = az_url_escape_path("a=b&c d");
	ck_assert_str_eq(e, "a%3Db%26c%20d");
	free(e);
	e = az_url_escape_path("");
	ck_assert_str_eq(e, "");
	free(e);
}
END_TEST

START_TEST(test_client_escape_query_encodes_slash)
{
	char *e = az_url_escape_query("dir/sub x+&=%");

	ck_assert_str_eq(e, "dir%2Fsub%20x%2B%26%3D%25");
	free(e);
}
END_TEST

START_TEST(test_client_unescape_roundtrip_and_rejects)
{
	char *d = az_url_unescape(NASTY_ENC, strlen(NASTY_ENC));

	ck_assert_str_eq(d, NASTY);
	free(d);
	d = az_url_unescape("a+b", 3);
	ck_assert_str_eq(d, "a+b");
	free(d);
	ck_assert_ptr_null(az_url_unescape("a%00b", 5));
	ck_assert_ptr_null(az_url_unescape("a%4", 3));
	ck_assert_ptr_null(az_url_unescape("a%zz", 4));
	/* Only the first @n bytes count. */
	d = az_url_unescape("ab%41cd", 5);
	ck_assert_str_eq(d, "abA");
	free(d);
}
END_TEST

START_TEST(test_client_list_blobs_url)
{
	ck_assert_int_eq(az_req_list_blobs(&cli, &req, "data", "a b/", "/", "2!x=", 7000, true), 0);
	ck_assert_str_eq(req.url,
			 EP "/data?restype=container&comp=list&prefix=a%20b%2F"
			    "&delimiter=%2F&marker=2!x%3D&maxresults=5000&include=metadata");
	ck_assert_str_eq(req.method, "GET");
	ck_assert_uint_eq(req.op, AZ_OP_LIST_BLOBS);
	ck_assert(!req.bulk);
	ck_assert(test_has_line(&req, "x-ms-version: " AZ_API_VERSION));
	ck_assert_ptr_null(http_msg_header(&req, "Content-Length"));
	ck_assert_uint_ge(req.resp_max, 16 * MIB);
	ck_assert_uint_ge(req.resp.max, 16 * MIB);
}
END_TEST

START_TEST(test_client_list_blobs_omits_absent_params)
{
	ck_assert_int_eq(az_req_list_blobs(&cli, &req, "data", "", NULL, NULL, 0, false), 0);
	ck_assert_str_eq(req.url, EP "/data?restype=container&comp=list");
	ck_assert_int_eq(az_req_list_blobs(&cli, &req, NULL, NULL, NULL, NULL, 0, false), -EINVAL);
	ck_assert_int_eq(az_req_list_blobs(&cli, &req, "Bad_Name", NULL, NULL, NULL, 0, false),
			 -EINVAL);
}
END_TEST

START_TEST(test_client_list_containers_url)
{
	ck_assert_int_eq(az_req_list_containers(&cli, &req, "pre", "m/1", 10), 0);
	ck_assert_str_eq(req.url, EP "/?comp=list&marker=m%2F1&maxresults=10&prefix=pre");
	ck_assert_uint_eq(req.op, AZ_OP_LIST_CONTAINERS);
}
END_TEST

START_TEST(test_client_put_blob_headers)
{
	unsigned char md5[16];
	struct az_write_opts o = {.content_type = "text/plain", .if_match = "\"0x1\"", .md5 = md5};

	az_md5("hello world", 11, md5);
	ck_assert_int_eq(az_req_put_blob(&cli, &req, "data", "d/f.txt", 11, &o), 0);
	ck_assert_str_eq(req.url, EP "/data/d/f.txt");
	ck_assert_str_eq(req.method, "PUT");
	ck_assert(test_has_line(&req, "Content-Length: 11"));
	ck_assert(test_has_line(&req, "Content-Type: text/plain"));
	ck_assert(test_has_line(&req, "x-ms-blob-type: BlockBlob"));
	ck_assert(test_has_line(&req, "If-Match: \"0x1\""));
	/* md5("hello world") in base64 (echo -n 'hello world' | openssl md5 -binary | base64). */
	ck_assert(test_has_line(&req, "Content-MD5: XrY7u+Ae7tCTyyK7j1rNww=="));
	ck_assert_uint_eq(req.op, AZ_OP_PUT_BLOB);
}
END_TEST

START_TEST(test_client_put_blob_empty_body_and_default_type)
{
	ck_assert_int_eq(az_req_put_blob(&cli, &req, "data", "dir/", 0, NULL), 0);
	ck_assert(test_has_line(&req, "Content-Length: 0"));
	ck_assert(test_has_line(&req, "Content-Type: application/octet-stream"));
	ck_assert_int_eq(az_req_put_blob(&cli, &req, "data", "x/page.HTML", 5, NULL), 0);
	ck_assert(test_has_line(&req, "Content-Type: text/html"));
	ck_assert(test_has_line(&req, "Content-Length: 5"));
}
END_TEST

START_TEST(test_client_put_block_sends_no_content_type)
{
	ck_assert_int_eq(
	    az_req_put_block(&cli, &req, "data", "big", "AAAAAAAAAAEAAAAC", 8 * MIB, NULL), 0);
	ck_assert_str_eq(req.url, EP "/data/big?comp=block&blockid=AAAAAAAAAAEAAAAC");
	ck_assert(test_has_line(&req, "Content-Length: 8388608"));
	/* "Content-Type:" tells curl to send none; it is signed as empty. */
	ck_assert(test_has_line(&req, "Content-Type:"));
	ck_assert(req.bulk);
	/* Ids with '+', '/' and '=' are encoded in the query. */
	ck_assert_int_eq(az_req_put_block(&cli, &req, "data", "big", "ab+/cd==", 1, NULL), 0);
	ck_assert_str_eq(req.url, EP "/data/big?comp=block&blockid=ab%2B%2Fcd%3D%3D");
	ck_assert_int_eq(az_req_put_block(&cli, &req, "data", "big", "not base64!", 1, NULL),
			 -EINVAL);
}
END_TEST

START_TEST(test_client_put_block_list_body)
{
	char id0[AZ_BLOCK_ID_LEN + 1], id1[AZ_BLOCK_ID_LEN + 1];
	char *ids[] = {id0, id1};
	unsigned char md5[16] = {0};
	struct az_write_opts o = {.if_none_match = "*", .md5 = md5};
	struct buf body = {0};

	az_block_id(1, 0, id0);
	az_block_id(1, 1, id1);
	ck_assert_int_eq(az_req_put_block_list(&cli, &req, "data", "v.mp4", ids, 2, &o, &body), 0);
	ck_assert_str_eq(body.data,
			 "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
			 "<Latest>AAAAAAAAAAEAAAAA</Latest><Latest>AAAAAAAAAAEAAAAB</Latest>"
			 "</BlockList>");
	/* The caller sends body_out as the request body; Content-Length announces it (below). */
	ck_assert_uint_eq(body.len, strlen(body.data));
	ck_assert_str_eq(req.url, EP "/data/v.mp4?comp=blocklist");
	ck_assert(test_has_line(&req, "x-ms-blob-content-type: video/mp4"));
	ck_assert(test_has_line(&req, "x-ms-blob-content-md5: AAAAAAAAAAAAAAAAAAAAAA=="));
	ck_assert(test_has_line(&req, "If-None-Match: *"));
	ck_assert(test_has_line(&req, "Content-Type: application/xml"));
	ck_assert_ptr_nonnull(http_msg_header(&req, "Content-Length"));
	ck_assert_uint_eq(strtoull(http_msg_header(&req, "Content-Length"), NULL, 10), body.len);
	ids[1] = (char *)"bad<id>";
	ck_assert_int_eq(az_req_put_block_list(&cli, &req, "data", "v.mp4", ids, 2, &o, &body),
			 -EINVAL);
	buf_release(&body);
}
END_TEST

START_TEST(test_client_get_range_uses_x_ms_range)
{
	ck_assert_int_eq(az_req_get_range(&cli, &req, "data", "f", 8 * MIB, 4 * MIB, "\"0x2\""), 0);
	ck_assert(test_has_line(&req, "x-ms-range: bytes=8388608-12582911"));
	ck_assert_ptr_null(http_msg_header(&req, "Range"));
	ck_assert(test_has_line(&req, "If-Match: \"0x2\""));
	ck_assert(req.bulk);
	ck_assert_int_eq(az_req_get_range(&cli, &req, "data", "f", 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(az_req_get_range(&cli, &req, "data", "f", UINT64_MAX, 2, NULL), -EINVAL);
}
END_TEST

START_TEST(test_client_props_and_delete)
{
	ck_assert_int_eq(az_req_get_props(&cli, &req, "data", "a b"), 0);
	ck_assert_str_eq(req.method, "HEAD");
	ck_assert_str_eq(req.url, EP "/data/a%20b");
	ck_assert_int_eq(az_req_get_container_props(&cli, &req, "data"), 0);
	ck_assert_str_eq(req.url, EP "/data?restype=container");
	ck_assert_int_eq(az_req_delete_blob(&cli, &req, "data", "x", "\"0x9\""), 0);
	ck_assert_str_eq(req.method, "DELETE");
	ck_assert(test_has_line(&req, "x-ms-delete-snapshots: include"));
	ck_assert(test_has_line(&req, "If-Match: \"0x9\""));
	ck_assert_int_eq(az_req_get_block_list(&cli, &req, "data", "x"), 0);
	ck_assert_str_eq(req.url, EP "/data/x?comp=blocklist&blocklisttype=committed");
}
END_TEST

START_TEST(test_client_copy_source_is_full_url)
{
	struct az_client sas;
	struct meta_list m = {0};

	ck_assert_int_eq(meta_set(&m, "k", "v"), 0);
	ck_assert_int_eq(az_req_copy_blob(&cli, &req, "data", "s p#", "d?", &m, "\"0x5\"", "*"), 0);
	ck_assert_str_eq(req.url, EP "/data/d%3F");
	ck_assert(test_has_line(&req, "x-ms-copy-source: " EP "/data/s%20p%23"));
	ck_assert(test_has_line(&req, "x-ms-source-if-match: \"0x5\""));
	ck_assert(test_has_line(&req, "x-ms-meta-k: v"));
	ck_assert(test_has_line(&req, "Content-Length: 0"));
	ck_assert(test_has_line(&req, "If-None-Match: *"));

	test_client(&sas, "acct", EP, NULL, "sv=2025&sig=s%2B");
	ck_assert_int_eq(az_req_copy_blob(&sas, &req, "data", "a", "b", NULL, NULL, NULL), 0);
	ck_assert_str_eq(req.url, EP "/data/b?sv=2025&sig=s%2B");
	ck_assert(test_has_line(&req, "x-ms-copy-source: " EP "/data/a?sv=2025&sig=s%2B"));
	ck_assert_ptr_null(http_msg_header(&req, "x-ms-meta-k"));
	ck_assert_ptr_null(http_msg_header(&req, "If-None-Match"));
	az_client_release(&sas);
	meta_list_release(&m);
}
END_TEST

START_TEST(test_client_sas_joins_existing_query)
{
	struct az_client sas;

	test_client(&sas, "acct", EP, NULL, "?sv=1&sig=z");
	ck_assert_int_eq(az_req_list_blobs(&sas, &req, "data", NULL, NULL, NULL, 0, false), 0);
	ck_assert_str_eq(req.url, EP "/data?restype=container&comp=list&sv=1&sig=z");
	ck_assert_int_eq(az_req_set_metadata(&sas, &req, "data", "x", NULL, NULL), 0);
	ck_assert_str_eq(req.url, EP "/data/x?comp=metadata&sv=1&sig=z");
	az_client_release(&sas);
}
END_TEST

START_TEST(test_client_name_length_limit_counts_characters)
{
	char name[4 * AZ_MAX_BLOB_NAME + 8];

	memset(name, 'a', AZ_MAX_BLOB_NAME);
	name[AZ_MAX_BLOB_NAME] = '\0';
	ck_assert_int_eq(az_req_get_props(&cli, &req, "data", name), 0);
	name[AZ_MAX_BLOB_NAME] = 'a';
	name[AZ_MAX_BLOB_NAME + 1] = '\0';
	ck_assert_int_eq(az_req_get_props(&cli, &req, "data", name), -ENAMETOOLONG);
	ck_assert_int_eq(az_req_copy_blob(&cli, &req, "data", name, "b", NULL, NULL, NULL),
			 -ENAMETOOLONG);
	/* 1,024 three-byte characters are 1,024 characters. */
	for (int i = 0; i < AZ_MAX_BLOB_NAME; i++)
		memcpy(name + 3 * i, "\xe2\x82\xac", 3);
	name[3 * AZ_MAX_BLOB_NAME] = '\0';
	ck_assert_int_eq(az_req_get_props(&cli, &req, "data", name), 0);
	ck_assert_int_eq(az_req_get_props(&cli, &req, "data", ""), -EINVAL);
}
END_TEST

START_TEST(test_client_refuses_header_injection)
{
	struct meta_list m = {0};
	struct az_write_opts o = {.if_match = "\"x\"\r\nX-Evil: 1"};

	ck_assert_int_eq(az_req_put_blob(&cli, &req, "data", "f", 1, &o), -EINVAL);
	o.if_match = NULL;
	o.content_type = "text/plain\r\nX-Evil: 1";
	ck_assert_int_eq(az_req_put_blob(&cli, &req, "data", "f", 1, &o), -EINVAL);
	ck_assert_int_eq(meta_set(&m, "k", "a\nb"), -EINVAL);
	/* A list that bypassed meta_set() is checked again by the builder. */
	ck_assert_int_eq(meta_append(&m, "bad-name", 8, "v", 1), 0);
	ck_assert_int_eq(az_req_set_metadata(&cli, &req, "data", "f", &m, NULL), -EINVAL);
	meta_list_release(&m);
}
END_TEST

START_TEST(test_client_metadata_count_capped_below_header_cap)
{
	struct meta_list m = {0};
	char name[16];
	int i, rc = 0;

	/* The list refuses to grow past its cap, which leaves room in the request. */
	for (i = 0; i < HTTP_MAX_HDRS + 1 && !rc; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		rc = meta_set(&m, name, "v");
	}
	ck_assert_int_eq(rc, -E2BIG);
	ck_assert_int_lt(i, HTTP_MAX_HDRS);
	ck_assert_int_eq(az_req_set_metadata(&cli, &req, "data", "f", &m, NULL), 0);
	ck_assert(test_has_line(&req, "x-ms-meta-k0: v"));
	meta_list_release(&m);
}
END_TEST

START_TEST(test_client_empty_metadata_value_not_sent)
{
	struct meta_list m = {0};

	ck_assert_int_eq(meta_append(&m, "empty", 5, "", 0), 0);
	ck_assert_int_eq(meta_set(&m, "full", "1"), 0);
	ck_assert_int_eq(az_req_set_metadata(&cli, &req, "data", "f", &m, NULL), 0);
	ck_assert_ptr_null(http_msg_header(&req, "x-ms-meta-empty"));
	ck_assert(test_has_line(&req, "x-ms-meta-full: 1"));
	meta_list_release(&m);
}
END_TEST

START_TEST(test_client_builder_resets_headers)
{
	unsigned n;

	ck_assert_int_eq(az_req_put_blob(&cli, &req, "data", "f", 1, NULL), 0);
	ck_assert_int_eq(req.sign(&req, req.sign_arg), 0);
	ck_assert_int_eq(az_req_get_props(&cli, &req, "data", "f"), 0);
	n = req.nhdrs;
	ck_assert_uint_eq(n, 1); /* x-ms-version only: nothing left from the PUT */
	ck_assert_ptr_null(http_msg_header(&req, "Authorization"));
	ck_assert_ptr_null(http_msg_header(&req, "x-ms-blob-type"));
}
END_TEST

START_TEST(test_client_init_host_path)
{
	struct az_client c;
	struct az_creds cr = {0};

	test_client(&c, "devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1/", NULL,
		    "s=1");
	ck_assert_str_eq(c.host_path, "/devstoreaccount1");
	ck_assert_str_eq(c.creds.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	az_client_release(&c);
	ck_assert_str_eq(cli.host_path, "");
	ck_assert_int_eq(az_client_init(&c, &cr), -EINVAL);
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_client_escape_path_matches_sdk);
	tcase_add_test(tc, test_client_escape_query_encodes_slash);
	tcase_add_test(tc, test_client_unescape_roundtrip_and_rejects);
	tcase_add_test(tc, test_client_list_blobs_url);
	tcase_add_test(tc, test_client_list_blobs_omits_absent_params);
	tcase_add_test(tc, test_client_list_containers_url);
	tcase_add_test(tc, test_client_put_blob_headers);
	tcase_add_test(tc, test_client_put_blob_empty_body_and_default_type);
	tcase_add_test(tc, test_client_put_block_sends_no_content_type);
	tcase_add_test(tc, test_client_put_block_list_body);
	tcase_add_test(tc, test_client_get_range_uses_x_ms_range);
	tcase_add_test(tc, test_client_props_and_delete);
	tcase_add_test(tc, test_client_copy_source_is_full_url);
	tcase_add_test(tc, test_client_sas_joins_existing_query);
	tcase_add_test(tc, test_client_name_length_limit_counts_characters);
	tcase_add_test(tc, test_client_refuses_header_injection);
	tcase_add_test(tc, test_client_metadata_count_capped_below_header_cap);
	tcase_add_test(tc, test_client_empty_metadata_value_not_sent);
	tcase_add_test(tc, test_client_builder_resets_headers);
	tcase_add_test(tc, test_client_init_host_path);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(client_suite)
