/*
 * check_attr.c - what a listed blob becomes: files, folders (prefixes,
 * hdi_isfolder markers), symlinks, and the POSIX metadata keys.
 */
#include "azblobfs/common.h"
#include "azblobfs/engine.h"
#include "check_main.h"

#include <string.h>

static struct az_item blob(const char *name, uint64_t size)
{
	struct az_item it = {.name = (char *)name, .kind = AZ_ITEM_BLOB, .size = size};

	strcpy(it.etag, "\"0x8DB\"");
	it.mtime.tv_sec = 1700000000;
	return it;
}

START_TEST(test_attr_plain_file)
{
	struct az_item it = blob("a.txt", 12);
	struct cache_attr a;

	eng_item_to_attr(&it, &a);
	ck_assert_int_eq(a.type, CACHE_T_FILE);
	ck_assert_uint_eq(a.size, 12);
	ck_assert_str_eq(a.etag, "\"0x8DB\"");
	ck_assert_int_eq(a.mtime.tv_sec, 1700000000);
	ck_assert_uint_eq(a.flags, 0);
}
END_TEST

START_TEST(test_attr_folder_forms)
{
	struct az_item p = {.name = (char *)"d/", .kind = AZ_ITEM_PREFIX};
	struct az_item m = blob("d", 0);
	struct cache_attr a;

	eng_item_to_attr(&p, &a);
	ck_assert_int_eq(a.type, CACHE_T_DIR);
	ck_assert(a.flags & CACHE_F_PREFIX);
	ck_assert_int_eq(meta_set(&m.meta, "hdi_isfolder", "TRUE"), 0);
	eng_item_to_attr(&m, &a);
	ck_assert_int_eq(a.type, CACHE_T_DIR);
	ck_assert(a.flags & CACHE_F_MARKER);
	ck_assert_uint_eq(a.size, 0);
	meta_list_release(&m.meta);
	/* hdi_isfolder=false is a plain file */
	m = blob("d", 0);
	ck_assert_int_eq(meta_set(&m.meta, "hdi_isfolder", "false"), 0);
	eng_item_to_attr(&m, &a);
	ck_assert_int_eq(a.type, CACHE_T_FILE);
	meta_list_release(&m.meta);
}
END_TEST

START_TEST(test_attr_symlink_and_posix_metadata)
{
	struct az_item it = blob("l", 5);
	struct cache_attr a;

	ck_assert_int_eq(meta_set(&it.meta, "is_symlink", "true"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "mode", "0750"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "uid", "1001"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "gid", "50"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "mtime", "2020-01-02T03:04:05.5Z"), 0);
	eng_item_to_attr(&it, &a);
	ck_assert_int_eq(a.type, CACHE_T_LINK);
	ck_assert_uint_eq(a.mode, 0750);
	ck_assert_uint_eq(a.uid, 1001);
	ck_assert_uint_eq(a.gid, 50);
	ck_assert_int_eq(a.mtime.tv_sec, 1577934245);
	ck_assert_int_eq(a.mtime.tv_nsec, 500000000);
	ck_assert_uint_eq(a.flags & (CACHE_F_MODE | CACHE_F_UID | CACHE_F_GID | CACHE_F_MTIME),
			  CACHE_F_MODE | CACHE_F_UID | CACHE_F_GID | CACHE_F_MTIME);
	ck_assert(!(a.flags & CACHE_F_XMETA));
	meta_list_release(&it.meta);
}
END_TEST

START_TEST(test_attr_bad_posix_metadata_ignored_and_extra_noted)
{
	struct az_item it = blob("f", 1);
	struct cache_attr a;

	ck_assert_int_eq(meta_set(&it.meta, "mode", "rwxr"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "uid", "-3"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "mtime", "yesterday"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "ux_color", "blue"), 0);
	eng_item_to_attr(&it, &a);
	ck_assert(!(a.flags & (CACHE_F_MODE | CACHE_F_UID | CACHE_F_MTIME)));
	ck_assert(a.flags & CACHE_F_XMETA);
	ck_assert_int_eq(a.mtime.tv_sec, 1700000000);
	meta_list_release(&it.meta);
}
END_TEST

START_TEST(test_attr_long_etag_dropped)
{
	struct az_item it = blob("f", 1);
	struct cache_attr a;

	memset(it.etag, 'x', AZ_ETAG_MAX - 1);
	it.etag[AZ_ETAG_MAX - 1] = '\0';
	eng_item_to_attr(&it, &a);
	ck_assert_str_eq(a.etag, "");
}
END_TEST

START_TEST(test_attr_special_files_from_file_type)
{
	static const struct {
		const char *v;
		uint8_t type;
	} cases[] = {{"fifo", CACHE_T_FIFO},
		     {"socket", CACHE_T_SOCK},
		     {"CHAR", CACHE_T_CHR},
		     {"block", CACHE_T_BLK},
		     {"door", CACHE_T_FILE}};
	struct cache_attr a;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct az_item it = blob("s", 0);
		ck_assert_int_eq(meta_set(&it.meta, "file_type", cases[i].v), 0);
		ck_assert_int_eq(meta_set(&it.meta, "rdev", "2049"), 0);
		eng_item_to_attr(&it, &a);
		ck_assert_int_eq(a.type, cases[i].type);
		/* Only devices have a number; the keys are ours, not extra metadata. */
		ck_assert_uint_eq(
		    a.rdev,
		    cases[i].type == CACHE_T_CHR || cases[i].type == CACHE_T_BLK ? 2049 : 0);
		ck_assert(!(a.flags & CACHE_F_XMETA));
		meta_list_release(&it.meta);
	}
	ck_assert_str_eq(eng_file_type_name(CACHE_T_FIFO), "fifo");
	ck_assert_str_eq(eng_file_type_name(CACHE_T_SOCK), "socket");
	ck_assert_str_eq(eng_file_type_name(CACHE_T_CHR), "char");
	ck_assert_str_eq(eng_file_type_name(CACHE_T_BLK), "block");
	ck_assert_ptr_null(eng_file_type_name(CACHE_T_FILE));
	ck_assert_ptr_null(eng_file_type_name(CACHE_T_LINK));
}
END_TEST

START_TEST(test_attr_bad_rdev_ignored_and_folder_wins)
{
	static const char *const bad[] = {"-1", "12x", "4294967296"};
	struct cache_attr a;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct az_item it = blob("c", 0);
		ck_assert_int_eq(meta_set(&it.meta, "file_type", "char"), 0);
		ck_assert_int_eq(meta_set(&it.meta, "rdev", bad[i]), 0);
		eng_item_to_attr(&it, &a);
		ck_assert_int_eq(a.type, CACHE_T_CHR);
		ck_assert_uint_eq(a.rdev, 0);
		meta_list_release(&it.meta);
	}
	struct az_item it = blob("d", 0);
	ck_assert_int_eq(meta_set(&it.meta, "hdi_isfolder", "true"), 0);
	ck_assert_int_eq(meta_set(&it.meta, "file_type", "fifo"), 0);
	eng_item_to_attr(&it, &a);
	ck_assert_int_eq(a.type, CACHE_T_DIR);
	meta_list_release(&it.meta);
}
END_TEST

static Suite *attr_suite(void)
{
	Suite *s = suite_create("engine_attr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_attr_plain_file);
	tcase_add_test(tc, test_attr_folder_forms);
	tcase_add_test(tc, test_attr_symlink_and_posix_metadata);
	tcase_add_test(tc, test_attr_bad_posix_metadata_ignored_and_extra_noted);
	tcase_add_test(tc, test_attr_long_etag_dropped);
	tcase_add_test(tc, test_attr_special_files_from_file_type);
	tcase_add_test(tc, test_attr_bad_rdev_ignored_and_folder_wins);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(attr_suite)
