/*
 * check_fs.c - path mapping (mount path -> container, blob, listing
 * prefix), attributes as stat(2) shows them, and the xattr <-> metadata
 * encoding.
 */
#include "azblobfs/common.h"
#include "azblobfs/timeutil.h"
#include "fs/fs_i.h"
#include "check_main.h"

#include <stdlib.h>
#include <string.h>

static struct fs *mk(const char *container, const char *prefix, struct cache **c)
{
	struct cache_config cc = {
	    .max_bytes = 1 << 20, .attr_ttl_ms = 1000, .list_ttl_ms = 1000, .neg_ttl_ms = 1000};
	struct fs_config cfg;
	struct fs_replies r = {0};
	struct fs *fs;

	fs_config_defaults(&cfg);
	cfg.uid = 1000;
	cfg.gid = 100;
	cfg.umask = 027;
	cfg.cache_dir = (char *)"/tmp";
	ck_assert_int_eq(cache_new(&cc, c), 0);
	ck_assert_int_eq(fs_new(&cfg, &r, NULL, *c, container, prefix, &fs), 0);
	return fs;
}

static void done(struct fs *fs, struct cache *c)
{
	fs_free(fs);
	cache_free(c);
}

START_TEST(test_fs_target_container_mount)
{
	struct cache *c;
	struct fs *fs = mk("cont", "", &c);
	struct fs_target t;

	ck_assert_int_eq(fs_target_of(fs, "", &t), 0);
	ck_assert_str_eq(t.container, "cont");
	ck_assert_str_eq(t.blob, "");
	ck_assert_str_eq(t.dir_prefix, "");
	fs_target_release(&t);
	ck_assert_int_eq(fs_target_of(fs, "a/b c/d", &t), 0);
	ck_assert_str_eq(t.blob, "a/b c/d");
	ck_assert_str_eq(t.dir_prefix, "a/b c/d/");
	fs_target_release(&t);
	done(fs, c);
}
END_TEST

START_TEST(test_fs_target_prefix_mount)
{
	struct cache *c;
	struct fs *fs = mk("cont", "pre/fix/", &c);
	struct fs_target t;

	ck_assert_int_eq(fs_target_of(fs, "", &t), 0);
	ck_assert_str_eq(t.blob, "pre/fix/");
	ck_assert_str_eq(t.dir_prefix, "pre/fix/");
	fs_target_release(&t);
	ck_assert_int_eq(fs_target_of(fs, "x", &t), 0);
	ck_assert_str_eq(t.container, "cont");
	ck_assert_str_eq(t.blob, "pre/fix/x");
	ck_assert_str_eq(t.dir_prefix, "pre/fix/x/");
	fs_target_release(&t);
	done(fs, c);
}
END_TEST

START_TEST(test_fs_target_account_mount)
{
	struct cache *c;
	struct fs *fs = mk(NULL, "", &c);
	struct fs_target t;

	ck_assert_int_eq(fs_target_of(fs, "", &t), 0);
	ck_assert_ptr_null(t.container);
	fs_target_release(&t);
	ck_assert_int_eq(fs_target_of(fs, "photos", &t), 0);
	ck_assert_str_eq(t.container, "photos");
	ck_assert_str_eq(t.blob, "");
	ck_assert_str_eq(t.dir_prefix, "");
	fs_target_release(&t);
	ck_assert_int_eq(fs_target_of(fs, "photos/2024/a.jpg", &t), 0);
	ck_assert_str_eq(t.container, "photos");
	ck_assert_str_eq(t.blob, "2024/a.jpg");
	fs_target_release(&t);
	done(fs, c);
}
END_TEST

START_TEST(test_fs_target_blob_name_too_long)
{
	struct cache *c;
	struct fs *fs = mk("cont", "", &c);
	struct fs_target t;
	char path[1100];

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_eq(fs_target_of(fs, path, &t), -ENAMETOOLONG);
	path[1024] = '\0';
	ck_assert_int_eq(fs_target_of(fs, path, &t), 0);
	fs_target_release(&t);
	done(fs, c);
}
END_TEST

START_TEST(test_fs_stat_defaults_and_metadata)
{
	struct cache *c;
	struct fs *fs = mk("cont", "", &c);
	struct cache_attr a = {.type = CACHE_T_FILE, .size = 1000};
	struct stat st;

	a.mtime.tv_sec = 1700000000;
	fs_fill_stat(fs, 42, &a, &st);
	ck_assert_uint_eq(st.st_ino, 42);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0640); /* 0666 & ~027 */
	ck_assert_uint_eq(st.st_uid, 1000);
	ck_assert_uint_eq(st.st_gid, 100);
	ck_assert_int_eq(st.st_size, 1000);
	ck_assert_int_eq(st.st_blocks, 2);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1700000000);

	a.flags = CACHE_F_MODE | CACHE_F_UID;
	a.mode = 0751;
	a.uid = 7;
	fs_fill_stat(fs, 42, &a, &st);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0751);
	ck_assert_uint_eq(st.st_uid, 7);
	ck_assert_uint_eq(st.st_gid, 100);

	a.type = CACHE_T_DIR;
	a.flags = 0;
	fs_fill_stat(fs, 43, &a, &st);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0750);
	ck_assert_int_eq(st.st_size, 0);

	a.type = CACHE_T_LINK;
	a.size = 12;
	fs_fill_stat(fs, 44, &a, &st);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(st.st_size, 12);
	done(fs, c);
}
END_TEST

START_TEST(test_fs_stat_special_files)
{
	static const struct {
		uint8_t type;
		mode_t bits;
	} cases[] = {{CACHE_T_FIFO, S_IFIFO},
		     {CACHE_T_SOCK, S_IFSOCK},
		     {CACHE_T_CHR, S_IFCHR},
		     {CACHE_T_BLK, S_IFBLK}};
	struct cache *c;
	struct fs *fs = mk("cont", "", &c);
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cache_attr a = {.type = cases[i].type, .size = 7, .rdev = 0x801};
		bool dev = cases[i].bits == S_IFCHR || cases[i].bits == S_IFBLK;

		fs_fill_stat(fs, 50, &a, &st);
		ck_assert_uint_eq(st.st_mode, cases[i].bits | 0640);
		ck_assert_int_eq(st.st_size, 0); /* whatever the blob holds is not content */
		ck_assert_int_eq(st.st_blocks, 0);
		ck_assert_uint_eq(st.st_rdev, dev ? 0x801 : 0);
		ck_assert_uint_eq(fs_type_bits(cases[i].type), cases[i].bits);
	}
	done(fs, c);
}
END_TEST

START_TEST(test_fs_build_meta_records_special_type)
{
	struct cache *c;
	struct fs *fs = mk("cont", "", &c);
	struct fs_node n = {0};
	struct meta_list m;

	n.a.type = CACHE_T_BLK;
	n.a.rdev = 2049;
	ck_assert_int_eq(fs_node_build_meta(fs, &n, &m), 0);
	ck_assert_str_eq(meta_get(&m, "file_type"), "block");
	ck_assert_str_eq(meta_get(&m, "rdev"), "2049");
	meta_list_release(&m);
	n.a.type = CACHE_T_SOCK;
	ck_assert_int_eq(fs_node_build_meta(fs, &n, &m), 0);
	ck_assert_str_eq(meta_get(&m, "file_type"), "socket");
	ck_assert_ptr_null(meta_get(&m, "rdev"));
	meta_list_release(&m);
	n.a.type = CACHE_T_FILE;
	ck_assert_int_eq(fs_node_build_meta(fs, &n, &m), 0);
	ck_assert_ptr_null(meta_get(&m, "file_type"));
	meta_list_release(&m);
	done(fs, c);
}
END_TEST

START_TEST(test_fs_node_stat_local_times_and_nlink)
{
	struct cache *c;
	struct fs *fs = mk("cont", "", &c);
	struct fs_node n = {.ino = 9};
	struct stat st;

	n.a.type = CACHE_T_DIR;
	n.a.mtime.tv_sec = n.a.ctime.tv_sec = 1000;
	fs_node_fill_stat(fs, &n, &st);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1000);
	ck_assert_uint_eq(st.st_nlink, 1); /* listing unknown: find(1) must not count */

	/* A name changed here: this mount's times are later than the service's. */
	fs_dir_changed(&n);
	fs_node_fill_stat(fs, &n, &st);
	ck_assert_int_gt(st.st_mtim.tv_sec, 1000);
	ck_assert_int_eq(st.st_ctim.tv_sec, st.st_mtim.tv_sec);

	/* Known subdirectories count only while the listing behind them is cached. */
	n.subdirs = 3;
	n.subdirs_until = util_now_ms() + 60000;
	ck_assert_uint_eq(fs_node_nlink(&n), 5);
	fs_dir_changed(&n);
	ck_assert_uint_eq(fs_node_nlink(&n), 1);
	n.subdirs = 3;
	n.subdirs_until = util_now_ms() - 1;
	ck_assert_uint_eq(fs_node_nlink(&n), 1);

	/* A file: ctime moves with chmod and friends, mtime stays what utimens set. */
	memset(&n, 0, sizeof(n));
	n.a.type = CACHE_T_FILE;
	n.a.flags = CACHE_F_MTIME;
	n.a.mtime.tv_sec = 500;
	fs_node_fill_stat(fs, &n, &st);
	ck_assert_int_eq(st.st_ctim.tv_sec, 500);
	fs_node_touch(&n);
	fs_node_fill_stat(fs, &n, &st);
	ck_assert_int_eq(st.st_mtim.tv_sec, 500);
	ck_assert_int_gt(st.st_ctim.tv_sec, 500);
	ck_assert_uint_eq(st.st_nlink, 1);
	done(fs, c);
}
END_TEST

START_TEST(test_fs_xattr_names_round_trip)
{
	const char *names[] = {"user.a",   "user.mime_type", "user.Mixed.Case",
			       "user.ünï", "user.x y=z",     "user.0"};
	char key[256], back[256];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		ck_assert_int_eq(fs_xattr_key(names[i], key, sizeof(key)), 0);
		/* a valid, case-free metadata name */
		ck_assert(!strncmp(key, "ux_", 3));
		for (const char *p = key; *p; p++)
			ck_assert((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
				  *p == '_');
		ck_assert_int_eq(fs_xattr_name(key, back, sizeof(back)), 0);
		ck_assert_str_eq(back, names[i]);
	}
	ck_assert_int_eq(fs_xattr_key("user.mime_type", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "ux_mime_5ftype");
	/* the service may return keys upper-cased */
	ck_assert_int_eq(fs_xattr_name("UX_MIME_5FTYPE", back, sizeof(back)), 0);
	ck_assert_str_eq(back, "user.mime_type");
	ck_assert_int_eq(fs_xattr_key("security.selinux", key, sizeof(key)), -ENOTSUP);
	ck_assert_int_eq(fs_xattr_key("user.", key, sizeof(key)), -EINVAL);
	ck_assert_int_eq(fs_xattr_name("mode", back, sizeof(back)), -EINVAL);
}
END_TEST

START_TEST(test_fs_xattr_values_round_trip)
{
	const char bin[] = {'a', 0, '%', ' ', (char)0xff, '\n', 'z'};
	char *e;

	e = fs_xattr_encode(bin, sizeof(bin));
	ck_assert_str_eq(e, "a%00%25%20%ff%0az");
	ck_assert_int_eq(fs_xattr_decode(e), (ssize_t)sizeof(bin));
	ck_assert_int_eq(memcmp(e, bin, sizeof(bin)), 0);
	free(e);
	e = fs_xattr_encode("", 0);
	ck_assert_str_eq(e, "%");
	ck_assert_int_eq(fs_xattr_decode(e), 0);
	free(e);
	e = strdup("bad%zz");
	ck_assert_int_eq(fs_xattr_decode(e), -EINVAL);
	free(e);
}
END_TEST

static Suite *fs_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fs_target_container_mount);
	tcase_add_test(tc, test_fs_target_prefix_mount);
	tcase_add_test(tc, test_fs_target_account_mount);
	tcase_add_test(tc, test_fs_target_blob_name_too_long);
	tcase_add_test(tc, test_fs_stat_defaults_and_metadata);
	tcase_add_test(tc, test_fs_stat_special_files);
	tcase_add_test(tc, test_fs_build_meta_records_special_type);
	tcase_add_test(tc, test_fs_node_stat_local_times_and_nlink);
	tcase_add_test(tc, test_fs_xattr_names_round_trip);
	tcase_add_test(tc, test_fs_xattr_values_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fs_suite)
