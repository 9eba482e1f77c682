/*
 * check_source.c - the mount SOURCE forms, and the ones refused.
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "check_main.h"
#include "az_test.h"

#define NUL_OR(s) ((s) ? (s) : "(null)")

static void expect(const char *src, const char *account, const char *container, const char *prefix,
		   const char *endpoint, const char *sas)
{
	struct az_source s;
	struct az_error err;

	az_error_clear(&err);
	ck_assert_msg(az_source_parse(src, &s, &err) == 0, "%s: %s", src, err.message);
	ck_assert_str_eq(NUL_OR(s.account), NUL_OR(account));
	ck_assert_str_eq(NUL_OR(s.container), NUL_OR(container));
	ck_assert_str_eq(NUL_OR(s.prefix), prefix);
	ck_assert_str_eq(NUL_OR(s.endpoint), NUL_OR(endpoint));
	ck_assert_str_eq(NUL_OR(s.sas), NUL_OR(sas));
	az_source_release(&s);
	ck_assert_ptr_null(s.account);
}

static void refuse(const char *src, int want)
{
	struct az_source s;
	struct az_error err;

	az_error_clear(&err);
	ck_assert_msg(az_source_parse(src, &s, &err) == want, "'%s' was not refused", src);
	ck_assert_msg(err.message[0], "no message for '%s'", src);
	ck_assert_ptr_null(s.account);
	ck_assert_ptr_null(s.container);
	ck_assert_ptr_null(s.prefix);
	ck_assert_ptr_null(s.sas);
}

START_TEST(test_source_container_alone)
{
	expect("photos", NULL, "photos", "", NULL, NULL);
	expect("a-b-9", NULL, "a-b-9", "", NULL, NULL);
	expect("$root", NULL, "$root", "", NULL, NULL);
	expect("$web", NULL, "$web", "", NULL, NULL);
}
END_TEST

START_TEST(test_source_account_container_prefix)
{
	expect("acct/photos", "acct", "photos", "", NULL, NULL);
	expect("acct/photos/", "acct", "photos", "", NULL, NULL);
	expect("acct/photos/2026", "acct", "photos", "2026/", NULL, NULL);
	expect("acct/photos/2026/march/", "acct", "photos", "2026/march/", NULL, NULL);
	expect("acct/photos/with space", "acct", "photos", "with space/", NULL, NULL);
}
END_TEST

START_TEST(test_source_whole_account)
{
	expect("acct/", "acct", NULL, "", NULL, NULL);
}
END_TEST

START_TEST(test_source_virtual_host_url)
{
	expect("https://acct.blob.core.windows.net", "acct", NULL, "",
	       "https://acct.blob.core.windows.net", NULL);
	expect("https://acct.blob.core.windows.net/", "acct", NULL, "",
	       "https://acct.blob.core.windows.net", NULL);
	expect("https://acct.blob.core.windows.net/data/a%20b/c?sv=2025-11-05&sig=x%2By", "acct",
	       "data", "a b/c/", "https://acct.blob.core.windows.net", "sv=2025-11-05&sig=x%2By");
	expect("https://acct.blob.core.windows.net:8443/data", "acct", "data", "",
	       "https://acct.blob.core.windows.net:8443", NULL);
}
END_TEST

START_TEST(test_source_path_style_url)
{
	expect("http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1", NULL, "",
	       "http://127.0.0.1:10000/devstoreaccount1", NULL);
	expect("http://127.0.0.1:10000/devstoreaccount1/data/x/y?sv=1", "devstoreaccount1", "data",
	       "x/y/", "http://127.0.0.1:10000/devstoreaccount1", "sv=1");
	expect("http://localhost:10000/devstoreaccount1/data", "devstoreaccount1", "data", "",
	       "http://localhost:10000/devstoreaccount1", NULL);
	expect("http://[::1]:10000/devstoreaccount1/data", "devstoreaccount1", "data", "",
	       "http://[::1]:10000/devstoreaccount1", NULL);
}
END_TEST

START_TEST(test_source_refused)
{
	refuse("", -EINVAL);
	refuse("ab", -EINVAL);     /* container too short */
	refuse("Photos", -EINVAL); /* uppercase */
	refuse("a--b", -EINVAL);   /* double hyphen */
	refuse("-ab", -EINVAL);
	refuse("abc-", -EINVAL);
	refuse("under_score", -EINVAL);
	refuse("$other", -EINVAL);
	refuse("Acct/photos", -EINVAL); /* account must be lowercase */
	refuse("/photos", -EINVAL);
	refuse("acct//photos", -EINVAL);
	refuse("acct/photos//x", -EINVAL); /* empty prefix component */
	refuse("acct/photos/./x", -EINVAL);
	refuse("acct/photos/../x", -EINVAL);
	refuse("ftp://acct.example.com/data", -EINVAL);
	refuse("https://acct.blob.core.windows.net/data#frag", -EINVAL);
	refuse("https://user@acct.blob.core.windows.net/data", -EINVAL);
	refuse("http://127.0.0.1:10000/", -EINVAL); /* path style needs the account */
	refuse("http://127.0.0.1:10000/Dev_Account/data", -EINVAL);
	refuse("https://acct.blob.core.windows.net/data/a%zz", -EINVAL);
	refuse("https://acct.blob.core.windows.net/data/a%00b", -EINVAL);
	refuse("https:///data", -EINVAL);
}
END_TEST

START_TEST(test_source_prefix_too_long)
{
	char src[AZ_MAX_BLOB_NAME + 32];

	memcpy(src, "acct/data/", 10);
	memset(src + 10, 'p', AZ_MAX_BLOB_NAME);
	src[10 + AZ_MAX_BLOB_NAME] = '\0';
	refuse(src, -ENAMETOOLONG);
}
END_TEST

static Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_source_container_alone);
	tcase_add_test(tc, test_source_account_container_prefix);
	tcase_add_test(tc, test_source_whole_account);
	tcase_add_test(tc, test_source_virtual_host_url);
	tcase_add_test(tc, test_source_path_style_url);
	tcase_add_test(tc, test_source_refused);
	tcase_add_test(tc, test_source_prefix_too_long);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(source_suite)
