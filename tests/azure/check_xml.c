/*
 * check_xml.c - List Blobs / List Containers / Get Block List / Error
 * parsing from the fixtures in tests/data, and every way a document can
 * be wrong or hostile. Epoch values: date -u -d '2026-03-03 10:00:00' +%s.
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "azblobfs/buf.h"
#include "check_main.h"
#include "az_test.h"

static int parse_blobs_file(const char *path, struct az_list *l, struct az_error *err)
{
	size_t len;
	char *xml = test_slurp(path, &len);
	int rc = az_parse_list_blobs(xml, len, l, err);

	free(xml);
	return rc;
}

static void expect_badmsg(const char *path)
{
	struct az_list l;
	struct az_error err;
	struct az_block *b;
	size_t len, n;
	char *xml = test_slurp(path, &len);

	az_error_clear(&err);
	ck_assert_msg(az_parse_list_blobs(xml, len, &l, &err) == -EBADMSG, "%s", path);
	ck_assert_msg(err.message[0], "no message for %s", path);
	ck_assert_ptr_null(l.items);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_int_eq(az_parse_list_containers(xml, len, &l, &err), -EBADMSG);
	ck_assert_int_eq(az_parse_block_list(xml, len, &b, &n, &err), -EBADMSG);
	ck_assert_int_eq(az_parse_error(xml, len, &err), -EBADMSG);
	free(xml);
}

START_TEST(test_xml_list_blobs_normal)
{
	struct az_list l;
	struct az_error err;
	const struct az_item *it;

	ck_assert_int_eq(parse_blobs_file(TEST_DATA("az_list_blobs.xml"), &l, &err), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_ptr_null(l.next_marker);

	it = &l.items[0];
	ck_assert_str_eq(it->name, "hello.txt");
	ck_assert_int_eq(it->kind, AZ_ITEM_BLOB);
	ck_assert_uint_eq(it->size, 11);
	ck_assert_int_eq(it->mtime.tv_sec, 1772532000);
	ck_assert_int_eq(it->ctime.tv_sec, 1772443800);
	ck_assert_str_eq(it->etag, "\"0x8DC2A1B2C3D4E5F\""); /* stored quoted */
	ck_assert_str_eq(it->content_type, "text/plain");
	ck_assert_uint_eq(it->meta.n, 3);
	ck_assert_str_eq(meta_get(&it->meta, "mode"), "0100644");
	ck_assert_str_eq(meta_get(&it->meta, "UID"), "1000");
	ck_assert_str_eq(meta_get(&it->meta, "author"), "J\xc3\xb6rg & co");

	it = &l.items[1];
	ck_assert_str_eq(it->name, "big.bin");
	ck_assert_uint_eq(it->size, 5368709120ULL);
	ck_assert_int_eq(it->mtime.tv_sec, 1772623353);
	ck_assert_int_eq(it->ctime.tv_sec, 0);
	ck_assert_uint_eq(it->meta.n, 0);

	it = &l.items[2];
	ck_assert_str_eq(it->name, "caf\xc3\xa9 & <menu>.json");
	ck_assert_str_eq(it->etag, "\"0x8DC2A1B2C3D4E61\""); /* already quoted: not twice */
	ck_assert_str_eq(it->content_type, "application/json");
	ck_assert_uint_eq(it->size, 0);
	az_list_release(&l);
	ck_assert_ptr_null(l.items);
}
END_TEST

START_TEST(test_xml_list_blobs_paged)
{
	struct az_list l;
	struct az_error err;

	ck_assert_int_eq(parse_blobs_file(TEST_DATA("az_list_blobs_paged.xml"), &l, &err), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.items[1].name, "2026/b.log");
	ck_assert_str_eq(
	    l.next_marker,
	    "2!72!MDAwMDEwITIwMjYvYi5sb2chMDAwMDI4ITk5OTktMTItMzFUMjM6NTk6NTkuOTk5OTk5OVoh");
	az_list_release(&l);
}
END_TEST

START_TEST(test_xml_list_blobs_prefixes_and_folder_markers)
{
	static const struct {
		const char *name;
		enum az_item_kind kind;
	} want[] = {
	    {"top/docs/", AZ_ITEM_PREFIX},   {"top/docs/", AZ_ITEM_BLOB},
	    {"top/photos", AZ_ITEM_BLOB},    {"top/photos/", AZ_ITEM_PREFIX},
	    {"top/readme.md", AZ_ITEM_BLOB},
	};
	struct az_list l;
	struct az_error err;

	ck_assert_int_eq(parse_blobs_file(TEST_DATA("az_list_blobs_dirs.xml"), &l, &err), 0);
	ck_assert_uint_eq(l.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		ck_assert_str_eq(l.items[i].name, want[i].name);
		ck_assert_int_eq(l.items[i].kind, want[i].kind);
	}
	ck_assert_str_eq(meta_get(&l.items[2].meta, "hdi_isfolder"), "true");
	ck_assert_uint_eq(l.items[1].size, 0);
	ck_assert_str_eq(l.items[4].content_type, "text/markdown");
	ck_assert_uint_eq(l.items[4].size, 42);
	az_list_release(&l);
}
END_TEST

START_TEST(test_xml_list_blobs_encoded_names)
{
	struct az_list l;
	struct az_error err;

	ck_assert_int_eq(parse_blobs_file(TEST_DATA("az_list_blobs_encoded.xml"), &l, &err), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.items[0].name, "bad\xef\xbf\xbename\n.txt");
	ck_assert_str_eq(l.items[1].name, "100%25 plain.txt"); /* Encoded="false" */
	ck_assert_str_eq(l.items[2].name, "dir\x01x/");
	ck_assert_int_eq(l.items[2].kind, AZ_ITEM_PREFIX);
	az_list_release(&l);
}
END_TEST

START_TEST(test_xml_list_blobs_azurite_capture)
{
	struct az_list l;
	struct az_error err;

	ck_assert_int_eq(parse_blobs_file(TEST_DATA("az_list_blobs_azurite.xml"), &l, &err), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.items[0].name, "dir/sp ace/");
	ck_assert_int_eq(l.items[0].kind, AZ_ITEM_PREFIX);
	ck_assert_str_eq(l.items[1].name, "dir/file.txt");
	ck_assert_int_eq(l.items[1].mtime.tv_sec, 1795612477);
	ck_assert_str_eq(l.items[1].etag, "\"0x1C4CF12D5C03040\"");
	ck_assert_uint_eq(l.items[1].meta.n, 4);
	ck_assert_str_eq(l.items[1].meta.items[3].name, "Mode");
	ck_assert_str_eq(meta_get(&l.items[1].meta, "a_1"), "two");
	az_list_release(&l);
}
END_TEST

START_TEST(test_xml_list_containers)
{
	struct az_list l;
	struct az_error err;
	size_t len;
	char *xml = test_slurp(TEST_DATA("az_list_containers.xml"), &len);

	ck_assert_int_eq(az_parse_list_containers(xml, len, &l, &err), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.items[0].name, "alpha");
	ck_assert_int_eq(l.items[0].kind, AZ_ITEM_CONTAINER);
	ck_assert_str_eq(l.items[0].etag, "\"0x8DC000000000001\"");
	ck_assert_int_eq(l.items[0].mtime.tv_sec, 1772532000);
	ck_assert_str_eq(meta_get(&l.items[0].meta, "owner"), "ops");
	ck_assert_str_eq(l.items[1].name, "$web");
	ck_assert_str_eq(l.items[1].etag, "\"0x8DC000000000002\"");
	ck_assert_str_eq(l.next_marker, "/myaccount/beta");
	az_list_release(&l);
	free(xml);
}
END_TEST

START_TEST(test_xml_error_bodies)
{
	struct az_error err;
	size_t len;
	char *xml = test_slurp(TEST_DATA("az_error_blob_not_found.xml"), &len);

	az_error_clear(&err);
	ck_assert_int_eq(az_parse_error(xml, len, &err), 0);
	ck_assert_str_eq(err.code, "BlobNotFound");
	ck_assert_str_eq(err.message, "The specified blob does not exist.");
	free(xml);

	xml = test_slurp(TEST_DATA("az_error_auth.xml"), &len);
	ck_assert_int_eq(az_parse_error(xml, len, &err), 0);
	ck_assert_str_eq(err.code, "AuthenticationFailed");
	/* The detail quoting the signature is never read. */
	ck_assert_ptr_null(strstr(err.message, "TAbX"));
	ck_assert_ptr_nonnull(strstr(err.message, "Server failed to authenticate"));
	free(xml);

	/* Not an <Error>: nothing is changed. */
	xml = test_slurp(TEST_DATA("az_block_list.xml"), &len);
	ck_assert_int_eq(az_parse_error(xml, len, &err), -EBADMSG);
	ck_assert_str_eq(err.code, "AuthenticationFailed");
	free(xml);
}
END_TEST

START_TEST(test_xml_block_list)
{
	struct az_block *b;
	struct az_error err;
	size_t len, n;
	char *xml = test_slurp(TEST_DATA("az_block_list.xml"), &len);

	ck_assert_int_eq(az_parse_block_list(xml, len, &b, &n, &err), 0);
	ck_assert_uint_eq(n, 2); /* uncommitted blocks are not part of the blob */
	ck_assert_str_eq(b[0].id, "ESIzRFVmd4gAAAAA");
	ck_assert_uint_eq(b[0].size, 8388608);
	ck_assert_str_eq(b[1].id, "ESIzRFVmd4gAAAAB");
	ck_assert_uint_eq(b[1].size, 11);
	az_block_list_free(b, n);
	free(xml);

	ck_assert_int_eq(az_parse_block_list("<BlockList/>", 12, &b, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	az_block_list_free(b, n);
}
END_TEST

START_TEST(test_xml_broken_documents_fail_cleanly)
{
	expect_badmsg(TEST_DATA("az_truncated.xml"));
	expect_badmsg(TEST_DATA("az_garbage.bin"));
	expect_badmsg(TEST_DATA("az_billion_laughs.xml"));
	expect_badmsg(TEST_DATA("az_xxe.xml"));
	expect_badmsg(TEST_DATA("az_utf16_doctype.xml"));
	expect_badmsg(TEST_DATA("az_deep.xml"));
}
END_TEST

START_TEST(test_xml_hostile_messages_say_why)
{
	struct az_list l;
	struct az_error err;

	ck_assert_int_eq(parse_blobs_file(TEST_DATA("az_billion_laughs.xml"), &l, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "DOCTYPE"));
	ck_assert_int_eq(az_parse_list_blobs("", 0, &l, &err), -EBADMSG);
	ck_assert_int_eq(az_parse_list_blobs(NULL, 0, &l, &err), -EBADMSG);
	ck_assert_int_eq(az_parse_list_blobs("<Other/>", 8, &l, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "EnumerationResults"));
}
END_TEST

static int parse_one_blob(const char *body)
{
	struct az_list l;
	struct az_error err;
	char *xml;
	int rc;

	ck_assert_int_ge(asprintf(&xml,
				  "<EnumerationResults><Blobs><Blob>%s</Blob></Blobs>"
				  "</EnumerationResults>",
				  body),
			 0);
	rc = az_parse_list_blobs(xml, strlen(xml), &l, &err);
	if (rc == 0)
		az_list_release(&l);
	free(xml);
	return rc;
}

START_TEST(test_xml_bad_fields)
{
	ck_assert_int_eq(
	    parse_one_blob("<Name>ok</Name><Properties><Content-Length>1</Content-Length>"
			   "</Properties>"),
	    0);
	ck_assert_int_eq(parse_one_blob("<Properties/>"), -EBADMSG);
	ck_assert_int_eq(parse_one_blob("<Name></Name>"), -EBADMSG);
	ck_assert_int_eq(parse_one_blob("<Name>x</Name><Properties><Content-Length>12a"
					"</Content-Length></Properties>"),
			 -EBADMSG);
	ck_assert_int_eq(parse_one_blob("<Name>x</Name><Properties><Content-Length>-1"
					"</Content-Length></Properties>"),
			 -EBADMSG);
	ck_assert_int_eq(parse_one_blob("<Name>x</Name><Properties><Content-Length>"
					"18446744073709551616</Content-Length></Properties>"),
			 -EBADMSG);
	ck_assert_int_eq(parse_one_blob("<Name>x</Name><Properties><Last-Modified>yesterday"
					"</Last-Modified></Properties>"),
			 -EBADMSG);
	ck_assert_int_eq(
	    parse_one_blob("<Name>x</Name><Properties><Etag>0x1 2</Etag></Properties>"), -EBADMSG);
}
END_TEST

START_TEST(test_xml_undecodable_name_is_skipped)
{
	static const char xml[] = "<EnumerationResults><Blobs>"
				  "<Blob><Name>a</Name></Blob>"
				  "<Blob><Name Encoded=\"true\">b%00c</Name></Blob>"
				  "<Blob><Name Encoded=\"true\">e%2</Name></Blob>"
				  "<Blob><Name Encoded=\"true\">d%0A</Name></Blob>"
				  "</Blobs></EnumerationResults>";
	struct az_list l;
	struct az_error err;

	/* One name no path can hold leaves the rest of its folder listed. */
	ck_assert_int_eq(az_parse_list_blobs(xml, strlen(xml), &l, &err), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.items[0].name, "a");
	ck_assert_str_eq(l.items[1].name, "d\n");
	ck_assert_uint_eq(l.undecodable, 2);
	ck_assert_str_eq(l.undecodable_name, "b%00c");
	az_list_release(&l);
}
END_TEST

/* A listing of @n blobs, built in memory. */
static char *many_blobs(size_t n, size_t *len)
{
	struct buf b;

	buf_init(&b, 64 * MIB);
	ck_assert_int_eq(buf_puts(&b, "<EnumerationResults><Blobs>"), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(buf_printf(&b,
					    "<Blob><Name>f%zu</Name><Properties><Content-Length>"
					    "%zu</Content-Length></Properties></Blob>",
					    i, i),
				 0);
	ck_assert_int_eq(buf_puts(&b, "</Blobs><NextMarker/></EnumerationResults>"), 0);
	*len = b.len;
	return buf_detach(&b);
}

START_TEST(test_xml_item_count_cap)
{
	struct az_list l;
	struct az_error err;
	size_t len;
	char *xml = many_blobs(AZ_MAX_LIST_RESULTS + 1, &len);

	ck_assert_int_eq(az_parse_list_blobs(xml, len, &l, &err), 0);
	ck_assert_uint_eq(l.n, AZ_MAX_LIST_RESULTS + 1);
	ck_assert_str_eq(l.items[5000].name, "f5000");
	ck_assert_uint_eq(l.items[5000].size, 5000);
	az_list_release(&l);
	free(xml);

	xml = many_blobs(AZ_MAX_LIST_RESULTS + 2, &len);
	ck_assert_int_eq(az_parse_list_blobs(xml, len, &l, &err), -EBADMSG);
	ck_assert_ptr_null(l.items);
	free(xml);
}
END_TEST

START_TEST(test_xml_huge_text_and_document)
{
	struct az_list l;
	struct az_error err;
	struct buf b;
	char *big;

	/* A 12 MiB name: over libxml2's text limit and ours. */
	buf_init(&b, 64 * MIB);
	ck_assert_int_eq(buf_puts(&b, "<EnumerationResults><Blobs><Blob><Name>"), 0);
	big = malloc(12 * MIB);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 12 * MIB);
	ck_assert_int_eq(buf_append(&b, big, 12 * MIB), 0);
	ck_assert_int_eq(buf_puts(&b, "</Name></Blob></Blobs></EnumerationResults>"), 0);
	ck_assert_int_eq(az_parse_list_blobs(b.data, b.len, &l, &err), -EBADMSG);
	buf_release(&b);

	/* A name over 4 KiB is no blob name. */
	memcpy(big, "<Name>", 6);
	memcpy(big + 5000, "</Name>", 8);
	ck_assert_int_eq(parse_one_blob(big), -EBADMSG);
	memcpy(big + 4000, "</Name>", 8);
	ck_assert_int_eq(parse_one_blob(big), 0);
	free(big);

	/* Over the document cap: refused before parsing. */
	ck_assert_int_eq(az_parse_list_blobs("<x/>", 33 * MIB, &l, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "larger"));
}
END_TEST

START_TEST(test_xml_metadata_and_block_caps)
{
	struct buf b;
	struct az_block *blk;
	size_t n;
	struct az_error err;

	buf_init(&b, 64 * MIB);
	ck_assert_int_eq(buf_puts(&b, "<Name>x</Name><Metadata>"), 0);
	for (int i = 0; i < 513; i++)
		ck_assert_int_eq(buf_printf(&b, "<m%d>v</m%d>", i, i), 0);
	ck_assert_int_eq(buf_puts(&b, "</Metadata>"), 0);
	ck_assert_int_eq(parse_one_blob(b.data), -EBADMSG);
	buf_release(&b);

	buf_init(&b, 64 * MIB);
	ck_assert_int_eq(buf_puts(&b, "<BlockList><CommittedBlocks>"), 0);
	for (int i = 0; i < 50001; i++)
		ck_assert_int_eq(buf_puts(&b, "<Block><Name>QUFBQQ==</Name><Size>1</Size></Block>"),
				 0);
	ck_assert_int_eq(buf_puts(&b, "</CommittedBlocks></BlockList>"), 0);
	ck_assert_int_eq(az_parse_block_list(b.data, b.len, &blk, &n, &err), -EBADMSG);
	ck_assert_ptr_null(blk);
	ck_assert_uint_eq(n, 0);
	buf_release(&b);

	/* A block without a size. */
	{
		const char *x = "<BlockList><CommittedBlocks><Block><Name>a</Name>"
				"</Block></CommittedBlocks></BlockList>";

		ck_assert_int_eq(az_parse_block_list(x, strlen(x), &blk, &n, &err), -EBADMSG);
	}
}
END_TEST

static Suite *xml_suite(void)
{
	Suite *s = suite_create("xml");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_xml_list_blobs_normal);
	tcase_add_test(tc, test_xml_list_blobs_paged);
	tcase_add_test(tc, test_xml_list_blobs_prefixes_and_folder_markers);
	tcase_add_test(tc, test_xml_list_blobs_encoded_names);
	tcase_add_test(tc, test_xml_list_blobs_azurite_capture);
	tcase_add_test(tc, test_xml_list_containers);
	tcase_add_test(tc, test_xml_error_bodies);
	tcase_add_test(tc, test_xml_block_list);
	tcase_add_test(tc, test_xml_broken_documents_fail_cleanly);
	tcase_add_test(tc, test_xml_hostile_messages_say_why);
	tcase_add_test(tc, test_xml_bad_fields);
	tcase_add_test(tc, test_xml_undecodable_name_is_skipped);
	tcase_add_test(tc, test_xml_item_count_cap);
	tcase_add_test(tc, test_xml_huge_text_and_document);
	tcase_add_test(tc, test_xml_metadata_and_block_caps);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(xml_suite)
