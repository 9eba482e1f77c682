/*
 * check_options.c - the command line and the config file.
 */
#include "azblobfs/common.h"
#include "azblobfs/options.h"
#include "check_main.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[512];

static int parse(struct azb_opts *o, int argc, const char **argv)
{
	return opts_parse(argc, (char **)argv, o, err, sizeof(err));
}

static bool has_fuse_arg(const struct azb_opts *o, const char *needle)
{
	for (int i = 0; i < o->fuse_argc; i++)
		if (strstr(o->fuse_argv[i], needle))
			return true;
	return false;
}

static char *write_config(const char *text, mode_t mode)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/azbfs-opt-%d.conf", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

/* Parse "-o config=PATH [-o EXTRA] c /m". */
static int parse_with_config(struct azb_opts *o, const char *path, const char *extra)
{
	char cfg[128];

	snprintf(cfg, sizeof(cfg), "config=%s", path);
	if (extra) {
		const char *argv[] = {"azblobfs", "-o", cfg, "-o", extra, "c", "/m"};
		return parse(o, 7, argv);
	}
	{
		const char *argv[] = {"azblobfs", "-o", cfg, "c", "/m"};
		return parse(o, 5, argv);
	}
}

/* Found by fuzzing: a config file naming another freed the path being read. */
START_TEST(test_options_config_cannot_name_another)
{
	struct azb_opts o;
	char *path =
	    write_config("timeout = 10\nconfig = /nonexistent/other.conf\nretries = 2\n", 0600);

	ck_assert_int_eq(parse_with_config(&o, path, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "line 2"));
	ck_assert_ptr_nonnull(strstr(err, "cannot name another"));
	opts_release(&o);
	unlink(path);
}
END_TEST

START_TEST(test_options_allow_other_turns_on_default_permissions)
{
	struct azb_opts o;
	{
		const char *argv[] = {"azblobfs", "-o", "allow_other", "c", "/m"};
		ck_assert_int_eq(parse(&o, 5, argv), 0);
		ck_assert(has_fuse_arg(&o, "allow_other"));
		ck_assert(has_fuse_arg(&o, "default_permissions"));
		opts_release(&o);
	}
	{
		/* Only when asked in so many words: no checks at all. */
		const char *argv[] = {"azblobfs", "-o", "allow_other,no_default_permissions", "c",
				      "/m"};
		ck_assert_int_eq(parse(&o, 5, argv), 0);
		ck_assert(has_fuse_arg(&o, "allow_other"));
		ck_assert(!has_fuse_arg(&o, "default_permissions"));
		ck_assert(o.no_default_permissions);
		opts_release(&o);
	}
	{
		const char *argv[] = {"azblobfs", "c", "/m"};
		ck_assert_int_eq(parse(&o, 3, argv), 0);
		ck_assert(!has_fuse_arg(&o, "default_permissions"));
		opts_release(&o);
	}
	{
		const char *argv[] = {"azblobfs", "-o",
				      "default_permissions,no_default_permissions", "c", "/m"};
		ck_assert_int_eq(parse(&o, 5, argv), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "conflict"));
		opts_release(&o);
	}
}
END_TEST

START_TEST(test_options_positional_and_values)
{
	const char *argv[] = {
	    "azblobfs",      "-o",     "uid=1000,gid=100,umask=027,attr_timeout=2.5",
	    "acct/cont/pre", "/mnt/x", "-f"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 6, argv), 0);
	ck_assert_str_eq(o.source, "acct/cont/pre");
	ck_assert_str_eq(o.mountpoint, "/mnt/x");
	ck_assert(o.foreground);
	ck_assert_uint_eq(o.uid, 1000);
	ck_assert(o.uid_set);
	ck_assert_uint_eq(o.gid, 100);
	ck_assert_uint_eq(o.umask, 027);
	ck_assert(o.attr_timeout > 2.49 && o.attr_timeout < 2.51);
	ck_assert(has_fuse_arg(&o, "fsname=acct/cont/pre"));
	ck_assert(has_fuse_arg(&o, "subtype=azblobfs"));
	opts_release(&o);
}
END_TEST

START_TEST(test_options_defaults)
{
	const char *argv[] = {"azblobfs", "c", "/m"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 3, argv), 0);
	ck_assert(!o.foreground);
	ck_assert(!o.read_only);
	ck_assert_uint_eq(o.umask, 022);
	ck_assert_uint_eq(o.metadata_ttl, 30);
	ck_assert(!o.uid_set);
	opts_release(&o);
}
END_TEST

START_TEST(test_options_unknown_and_bad_values_fail_with_one_line)
{
	const char *bad[][4] = {
	    {"azblobfs", "-o", "bogus", "c"},     {"azblobfs", "-o", "uid=abc", "c"},
	    {"azblobfs", "-o", "umask=999", "c"}, {"azblobfs", "-o", "attr_timeout=-1", "c"},
	    {"azblobfs", "-o", "uid", "c"},       {"azblobfs", "--frobnicate", "c", "/m"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *argv[] = {bad[i][0], bad[i][1], bad[i][2], bad[i][3], "/m"};
		struct azb_opts o;
		ck_assert_int_eq(parse(&o, 5, argv), -EINVAL);
		ck_assert_uint_gt(strlen(err), 0);
		ck_assert_ptr_null(strchr(err, '\n'));
		opts_release(&o);
	}
}
END_TEST

START_TEST(test_options_missing_mountpoint_is_usage)
{
	const char *argv[] = {"azblobfs", "c"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 2, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "usage"));
	opts_release(&o);
}
END_TEST

START_TEST(test_options_mount_only_options_ignored)
{
	const char *argv[] = {"azblobfs", "c", "/m", "-o",
			      "_netdev,nofail,x-systemd.automount,noauto,defaults,rw,dev,suid"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 5, argv), 0);
	ck_assert(!has_fuse_arg(&o, "_netdev"));
	ck_assert(!has_fuse_arg(&o, "x-systemd"));
	opts_release(&o);
}
END_TEST

START_TEST(test_options_ro_and_allow_other_reach_libfuse)
{
	const char *argv[] = {"azblobfs", "-o", "ro,allow_other", "c", "/m"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 5, argv), 0);
	ck_assert(o.read_only);
	ck_assert(has_fuse_arg(&o, "allow_other"));
	ck_assert(has_fuse_arg(&o, "ro"));
	opts_release(&o);
}
END_TEST

START_TEST(test_options_secret_refused_on_command_line_without_echo)
{
	const char *argv[] = {"azblobfs", "-o", "account_key=SECRETKEY", "c", "/m"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 5, argv), -EINVAL);
	ck_assert_ptr_null(strstr(err, "SECRETKEY"));
	ck_assert_ptr_nonnull(strstr(err, "account_key"));
	opts_release(&o);
}
END_TEST

START_TEST(test_options_config_file_values_and_override)
{
	char *path = write_config("# comment\n\n  metadata_ttl = 7\nuid=5\naccount_key = abc==\n"
				  "allow_other\nlog_level = debug\n",
				  0600);
	struct azb_opts o;

	ck_assert_int_eq(parse_with_config(&o, path, "uid=9"), 0);
	ck_assert_uint_eq(o.metadata_ttl, 7);
	ck_assert_uint_eq(o.uid, 9); /* the command line wins */
	ck_assert_str_eq(o.account_key, "abc==");
	ck_assert_str_eq(o.log_level, "debug");
	ck_assert(has_fuse_arg(&o, "allow_other"));
	opts_release(&o);
	unlink(path);
}
END_TEST

START_TEST(test_options_config_with_secret_must_be_private)
{
	char *path = write_config("sas = sv=2020&sig=SECRET\n", 0644);
	struct azb_opts o;

	ck_assert_int_eq(parse_with_config(&o, path, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "readable by group or others"));
	ck_assert_ptr_null(strstr(err, "SECRET"));
	opts_release(&o);
	unlink(path);
}
END_TEST

START_TEST(test_options_rw_on_command_line_undoes_ro_in_config)
{
	char *path = write_config("ro\n", 0600);
	struct azb_opts o;

	ck_assert_int_eq(parse_with_config(&o, path, NULL), 0);
	ck_assert(o.read_only);
	ck_assert(has_fuse_arg(&o, "ro"));
	opts_release(&o);
	ck_assert_int_eq(parse_with_config(&o, path, "rw"), 0);
	ck_assert(!o.read_only);
	ck_assert(!has_fuse_arg(&o, "ro")); /* the kernel mount is read-write as well */
	opts_release(&o);
	unlink(path);
}
END_TEST

START_TEST(test_options_config_errors_name_the_line)
{
	char *path = write_config("metadata_ttl = 1\nnonsense = 3\n", 0600);
	struct azb_opts o;

	ck_assert_int_eq(parse_with_config(&o, path, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "line 2:"));
	ck_assert_ptr_nonnull(strstr(err, "nonsense"));
	opts_release(&o);
	unlink(path);
}
END_TEST

START_TEST(test_options_conflicting_credentials)
{
	const char *argv[] = {"azblobfs", "-o", "key_file=/k,connection_string_file=/c", "c", "/m"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 5, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "conflict"));
	opts_release(&o);
}
END_TEST

START_TEST(test_options_missing_config_file)
{
	const char *argv[] = {"azblobfs", "-o", "config=/nonexistent/azbfs.conf", "c", "/m"};
	struct azb_opts o;

	ck_assert_int_eq(parse(&o, 5, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/azbfs.conf"));
	opts_release(&o);
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_options_positional_and_values);
	tcase_add_test(tc, test_options_defaults);
	tcase_add_test(tc, test_options_unknown_and_bad_values_fail_with_one_line);
	tcase_add_test(tc, test_options_missing_mountpoint_is_usage);
	tcase_add_test(tc, test_options_mount_only_options_ignored);
	tcase_add_test(tc, test_options_ro_and_allow_other_reach_libfuse);
	tcase_add_test(tc, test_options_secret_refused_on_command_line_without_echo);
	tcase_add_test(tc, test_options_config_file_values_and_override);
	tcase_add_test(tc, test_options_config_with_secret_must_be_private);
	tcase_add_test(tc, test_options_rw_on_command_line_undoes_ro_in_config);
	tcase_add_test(tc, test_options_config_errors_name_the_line);
	tcase_add_test(tc, test_options_conflicting_credentials);
	tcase_add_test(tc, test_options_missing_config_file);
	tcase_add_test(tc, test_options_allow_other_turns_on_default_permissions);
	tcase_add_test(tc, test_options_config_cannot_name_another);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(options_suite)
