/*
 * check_mime.c - content types by extension, block ids, MD5 and base64.
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "check_main.h"
#include "az_test.h"

#include "../../src/azure/azure_i.h"

START_TEST(test_mime_content_types)
{
	static const struct {
		const char *name, *type;
	} t[] = {
	    {"a.txt", "text/plain"},
	    {"a.html", "text/html"},
	    {"a.htm", "text/html"},
	    {"a.css", "text/css"},
	    {"a.js", "text/javascript"},
	    {"a.json", "application/json"},
	    {"a.xml", "application/xml"},
	    {"a.csv", "text/csv"},
	    {"a.md", "text/markdown"},
	    {"a.png", "image/png"},
	    {"a.jpg", "image/jpeg"},
	    {"a.jpeg", "image/jpeg"},
	    {"a.gif", "image/gif"},
	    {"a.svg", "image/svg+xml"},
	    {"a.webp", "image/webp"},
	    {"a.ico", "image/vnd.microsoft.icon"},
	    {"a.pdf", "application/pdf"},
	    {"a.zip", "application/zip"},
	    {"a.gz", "application/gzip"},
	    {"a.tgz", "application/gzip"},
	    {"a.tar", "application/x-tar"},
	    {"a.bz2", "application/x-bzip2"},
	    {"a.xz", "application/x-xz"},
	    {"a.zst", "application/zstd"},
	    {"a.mp3", "audio/mpeg"},
	    {"a.mp4", "video/mp4"},
	    {"a.wav", "audio/wav"},
	    {"a.webm", "video/webm"},
	    {"a.sh", "application/x-sh"},
	    {"a.py", "text/x-python"},
	    {"a.c", "text/x-c"},
	    {"a.h", "text/x-c"},
	    {"a.yaml", "application/yaml"},
	    {"a.yml", "application/yaml"},
	    {"a.log", "text/plain"},
	    {"a.wasm", "application/wasm"},
	    /* case, paths, and names that are not extensions */
	    {"DIR/PHOTO.JPG", "image/jpeg"},
	    {"archive.tar.gz", "application/gzip"},
	    {"dir.d/Makefile", "application/octet-stream"},
	    {".bashrc", "application/octet-stream"},
	    {"dir/.hidden", "application/octet-stream"},
	    {"trailing.", "application/octet-stream"},
	    {"a.unknownext", "application/octet-stream"},
	    {"", "application/octet-stream"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		ck_assert_msg(!strcmp(az_content_type(t[i].name), t[i].type), "%s -> %s", t[i].name,
			      az_content_type(t[i].name));
	ck_assert_str_eq(az_content_type(NULL), "application/octet-stream");
}
END_TEST

START_TEST(test_mime_block_ids)
{
	char a[AZ_BLOCK_ID_LEN + 1], b[AZ_BLOCK_ID_LEN + 1];
	unsigned char *raw;
	size_t n;

	/* base64 of 11 22 33 44 55 66 77 88 00 00 00 01:
	 * printf '\x11\x22\x33\x44\x55\x66\x77\x88\x00\x00\x00\x01' | base64 */
	az_block_id(0x1122334455667788ULL, 1, a);
	ck_assert_str_eq(a, "ESIzRFVmd4gAAAAB");
	ck_assert_uint_eq(strlen(a), AZ_BLOCK_ID_LEN);

	/* Same length for every index, distinct, valid base64 of 12 bytes. */
	for (uint32_t i = 0; i < 50000; i += 997) {
		az_block_id(UINT64_MAX, i, a);
		az_block_id(UINT64_MAX, i + 1, b);
		ck_assert_uint_eq(strlen(a), AZ_BLOCK_ID_LEN);
		ck_assert_str_ne(a, b);
		ck_assert_int_eq(az_b64_decode(a, &raw, &n), 0);
		ck_assert_uint_eq(n, 12);
		ck_assert_uint_eq(raw[8] << 24 | raw[9] << 16 | raw[10] << 8 | raw[11], i);
		free(raw);
	}
	az_block_id(1, 0, a);
	az_block_id(2, 0, b);
	ck_assert_str_ne(a, b);
	az_block_id(0, UINT32_MAX, a);
	ck_assert_str_eq(a, "AAAAAAAAAAD/////");
}
END_TEST

START_TEST(test_mime_md5)
{
	unsigned char md5[16];
	char *b;

	/* RFC 1321 appendix A.5: MD5("abc") = 900150983cd24fb0d6963f7d28e17f72 */
	az_md5("abc", 3, md5);
	ck_assert_uint_eq(md5[0], 0x90);
	ck_assert_uint_eq(md5[15], 0x72);
	b = az_b64_encode(md5, 16);
	ck_assert_str_eq(b, "kAFQmDzST7DWlj99KOF/cg==");
	free(b);
	az_md5("", 0, md5); /* d41d8cd98f00b204e9800998ecf8427e */
	ck_assert_uint_eq(md5[0], 0xd4);
	ck_assert_uint_eq(md5[15], 0x7e);
}
END_TEST

START_TEST(test_mime_base64_strict)
{
	unsigned char *raw;
	size_t n;

	ck_assert(az_b64_valid("QUJD"));
	ck_assert(az_b64_valid("QQ=="));
	ck_assert(!az_b64_valid(""));
	ck_assert(!az_b64_valid("QQ="));
	ck_assert(!az_b64_valid("Q==="));
	ck_assert(!az_b64_valid("QU-D"));
	ck_assert(!az_b64_valid("QU=D"));
	ck_assert_int_eq(az_b64_decode("QUJDRA==", &raw, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(memcmp(raw, "ABCD", 4), 0);
	free(raw);
	ck_assert_int_eq(az_b64_decode("====", &raw, &n), -EINVAL);
}
END_TEST

static Suite *mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_mime_content_types);
	tcase_add_test(tc, test_mime_block_ids);
	tcase_add_test(tc, test_mime_md5);
	tcase_add_test(tc, test_mime_base64_strict);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(mime_suite)
