/*
 * check_creds.c - connection strings, keys, SAS, the environment, az_creds_finish().
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "check_main.h"
#include "az_test.h"

#include "../../src/azure/azure_i.h"

static void clear_env(void)
{
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
	unsetenv("AZURE_STORAGE_ACCOUNT");
	unsetenv("AZURE_STORAGE_KEY");
	unsetenv("AZURE_STORAGE_SAS_TOKEN");
	unsetenv("AZURE_STORAGE_BLOB_ENDPOINT");
}

/* The key as base64 again, to compare with what went in. */
static char *key_b64(const struct az_creds *c)
{
	ck_assert_ptr_nonnull(c->key);
	return az_b64_encode(c->key, c->key_len);
}

START_TEST(test_creds_cs_every_key)
{
	struct az_creds c = {0};
	struct az_error err;
	char *k;

	ck_assert_int_eq(
	    az_creds_parse_connection_string(
		"DefaultEndpointsProtocol=http;AccountName=myacct;AccountKey=" TEST_KEY_B64
		";EndpointSuffix=core.chinacloudapi.cn;QueueEndpoint=https://q/",
		&c, &err),
	    0);
	ck_assert_str_eq(c.account, "myacct");
	ck_assert_uint_eq(c.key_len, 64);
	ck_assert_uint_eq(c.key[0], 0);
	ck_assert_uint_eq(c.key[63], 63);
	k = key_b64(&c);
	ck_assert_str_eq(k, TEST_KEY_B64);
	free(k);
	ck_assert_str_eq(c.endpoint, "http://myacct.blob.core.chinacloudapi.cn");
	ck_assert_ptr_null(c.sas);

	/* BlobEndpoint wins over the suffix; its trailing '/' goes. */
	ck_assert_int_eq(az_creds_parse_connection_string(
			     "BlobEndpoint=https://files.example.com/;SharedAccessSignature="
			     "?sv=2025-11-05&ss=b&sig=a%2Bb%3D",
			     &c, &err),
			 0);
	ck_assert_str_eq(c.endpoint, "https://files.example.com");
	ck_assert_str_eq(c.sas, "sv=2025-11-05&ss=b&sig=a%2Bb%3D");
	/* Keys not present leave fields as they were. */
	ck_assert_str_eq(c.account, "myacct");
	ck_assert_uint_eq(c.key_len, 64);
	az_creds_release(&c);
	ck_assert_ptr_null(c.account);
	ck_assert_ptr_null(c.key);
}
END_TEST

START_TEST(test_creds_cs_case_whitespace_and_equals_in_values)
{
	struct az_creds c = {0};
	struct az_error err;
	char *k;

	ck_assert_int_eq(
	    az_creds_parse_connection_string(" accountname = abc ;;  ACCOUNTKEY=" TEST_KEY_B64 " ; "
					     "endpointsuffix=core.windows.net;",
					     &c, &err),
	    0);
	ck_assert_str_eq(c.account, "abc");
	k = key_b64(&c);
	ck_assert_str_eq(k, TEST_KEY_B64); /* the "==" survived */
	free(k);
	ck_assert_str_eq(c.endpoint, "https://abc.blob.core.windows.net");
	az_creds_release(&c);
}
END_TEST

START_TEST(test_creds_cs_dev_storage)
{
	struct az_creds c = {0};
	struct az_error err;
	char *k;

	ck_assert_int_eq(az_creds_parse_connection_string("UseDevelopmentStorage=true", &c, &err),
			 0);
	ck_assert_str_eq(c.account, AZ_DEV_ACCOUNT);
	ck_assert_str_eq(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	k = key_b64(&c);
	ck_assert_str_eq(k, TEST_DEV_KEY_B64);
	free(k);
	az_creds_release(&c);

	ck_assert_int_eq(az_creds_parse_connection_string(
			     "UseDevelopmentStorage=TRUE;BlobEndpoint=http://127.0.0.1:10999/"
			     "devstoreaccount1",
			     &c, &err),
			 0);
	ck_assert_str_eq(c.endpoint, "http://127.0.0.1:10999/devstoreaccount1");
	ck_assert_str_eq(c.account, AZ_DEV_ACCOUNT);
	az_creds_release(&c);

	ck_assert_int_eq(az_creds_parse_connection_string("UseDevelopmentStorage=false", &c, &err),
			 0);
	ck_assert_ptr_null(c.account);
	ck_assert_ptr_null(c.key);
}
END_TEST

START_TEST(test_creds_cs_malformed_never_quotes_values)
{
	static const char *const bad[] = {
	    "AccountName=a;SuperSecretValue",
	    "=SuperSecretValue",
	    "AccountName=",
	    "AccountKey=SuperSecretValue!!",
	    "AccountKey=SuperSecretValu",
	    "AccountName=SuperSecretValue;AccountKey=QQ==",
	    "DefaultEndpointsProtocol=SuperSecretValue;AccountName=a",
	    "UseDevelopmentStorage=SuperSecretValue",
	    "EndpointSuffix=Super/SecretValue;AccountName=a",
	    "BlobEndpoint=ftp://SuperSecretValue",
	    "BlobEndpoint=https://h/?SuperSecretValue",
	    "AccountName=a b;AccountKey=SuperSecretValue",
	};
	struct az_creds c = {0};
	struct az_error err;

	c.account = strdup("keep");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		az_error_clear(&err);
		ck_assert_msg(az_creds_parse_connection_string(bad[i], &c, &err) == -EINVAL, "%s",
			      bad[i]);
		ck_assert_msg(err.message[0], "no message for %s", bad[i]);
		ck_assert_msg(!strstr(err.message, "SuperSecret") && !strstr(err.message, "Secret"),
			      "message quotes a value: %s", err.message);
		/* A failed parse changes nothing. */
		ck_assert_str_eq(c.account, "keep");
		ck_assert_ptr_null(c.key);
	}
	/* The message names the key. */
	az_creds_parse_connection_string("AccountKey=abc", &c, &err);
	ck_assert_ptr_nonnull(strstr(err.message, "AccountKey"));
	az_creds_release(&c);
}
END_TEST

START_TEST(test_creds_set_key_base64_rules)
{
	struct az_creds c = {0};
	struct az_error err;

	ck_assert_int_eq(az_creds_set_key(&c, "QQ==", &err), 0);
	ck_assert_uint_eq(c.key_len, 1); /* not 3: EVP_DecodeBlock counts the padding */
	ck_assert_uint_eq(c.key[0], 'A');
	ck_assert_int_eq(az_creds_set_key(&c, "QUI=", &err), 0);
	ck_assert_uint_eq(c.key_len, 2);
	ck_assert_int_eq(az_creds_set_key(&c, "QUJD", &err), 0);
	ck_assert_uint_eq(c.key_len, 3);
	ck_assert_int_eq(memcmp(c.key, "ABC", 3), 0);
	ck_assert_int_eq(az_creds_set_key(&c, "", &err), -EINVAL);
	ck_assert_int_eq(az_creds_set_key(&c, "QUJ", &err), -EINVAL);
	ck_assert_int_eq(az_creds_set_key(&c, "Q=JD", &err), -EINVAL);
	ck_assert_int_eq(az_creds_set_key(&c, "QUJD====", &err), -EINVAL);
	ck_assert_int_eq(az_creds_set_key(&c, " QUJD", &err), -EINVAL);
	ck_assert_int_eq(az_creds_set_key(&c, "QU\nJD", &err), -EINVAL);
	ck_assert_ptr_null(strstr(err.message, "QU"));
	/* A failed set keeps the old key. */
	ck_assert_uint_eq(c.key_len, 3);
	az_creds_release(&c);
}
END_TEST

START_TEST(test_creds_set_sas_strips_question_mark)
{
	struct az_creds c = {0};

	ck_assert_int_eq(az_creds_set_sas(&c, "?sv=1&sig=x"), 0);
	ck_assert_str_eq(c.sas, "sv=1&sig=x");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=2"), 0);
	ck_assert_str_eq(c.sas, "sv=2");
	ck_assert_int_eq(az_creds_set_sas(&c, ""), 0);
	ck_assert_ptr_null(c.sas);
	az_creds_release(&c);
}
END_TEST

START_TEST(test_creds_env_connection_string_first)
{
	struct az_creds c = {0};
	struct az_error err;

	clear_env();
	setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=fromcs;AccountKey=" TEST_KEY_B64, 1);
	setenv("AZURE_STORAGE_ACCOUNT", "fromvar", 1);
	setenv("AZURE_STORAGE_SAS_TOKEN", "sv=1&sig=x", 1);
	setenv("AZURE_STORAGE_BLOB_ENDPOINT", "https://ep.example.com/", 1);
	ck_assert_int_eq(az_creds_from_env(&c, &err), 0);
	ck_assert_str_eq(c.account, "fromcs");
	ck_assert_uint_eq(c.key_len, 64);
	/* Credentials are a unit: with the key from the environment, no SAS too. */
	ck_assert_ptr_null(c.sas);
	ck_assert_str_eq(c.endpoint, "https://ep.example.com");
	az_creds_release(&c);
	clear_env();
}
END_TEST

START_TEST(test_creds_env_fills_only_missing)
{
	struct az_creds c = {0};
	struct az_error err;

	clear_env();
	setenv("AZURE_STORAGE_ACCOUNT", "envacct", 1);
	setenv("AZURE_STORAGE_KEY", TEST_KEY_B64, 1);
	setenv("AZURE_STORAGE_SAS_TOKEN", "", 1); /* empty counts as unset */

	/* A configured SAS is not joined by the environment's key. */
	c.account = strdup("envacct");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=9"), 0);
	ck_assert_int_eq(az_creds_from_env(&c, &err), 0);
	ck_assert_ptr_null(c.key);
	ck_assert_str_eq(c.sas, "sv=9");
	az_creds_release(&c);

	/* Another account's key is not taken. */
	c.account = strdup("other");
	ck_assert_int_eq(az_creds_from_env(&c, &err), 0);
	ck_assert_ptr_null(c.key);
	ck_assert_str_eq(c.account, "other");
	az_creds_release(&c);

	/* Nothing configured: everything from the environment. */
	ck_assert_int_eq(az_creds_from_env(&c, &err), 0);
	ck_assert_str_eq(c.account, "envacct");
	ck_assert_uint_eq(c.key_len, 64);
	ck_assert_ptr_null(c.sas);
	az_creds_release(&c);
	clear_env();
}
END_TEST

START_TEST(test_creds_env_errors_name_the_variable)
{
	struct az_creds c = {0};
	struct az_error err;

	clear_env();
	setenv("AZURE_STORAGE_KEY", "SuperSecret!", 1);
	ck_assert_int_eq(az_creds_from_env(&c, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "AZURE_STORAGE_KEY"));
	ck_assert_ptr_null(strstr(err.message, "SuperSecret"));
	clear_env();
	setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=a;AccountKey=SuperSecret!", 1);
	ck_assert_int_eq(az_creds_from_env(&c, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "AZURE_STORAGE_CONNECTION_STRING"));
	ck_assert_ptr_nonnull(strstr(err.message, "AccountKey"));
	ck_assert_ptr_null(strstr(err.message, "SuperSecret"));
	ck_assert_ptr_null(c.account);
	clear_env();
	ck_assert_int_eq(az_creds_from_env(&c, &err), 0);
	ck_assert_ptr_null(c.account);
}
END_TEST

START_TEST(test_creds_finish_defaults_and_derivations)
{
	struct az_creds c = {0};
	struct az_error err;

	c.account = strdup("abc");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=1"), 0);
	ck_assert_int_eq(az_creds_finish(&c, &err), 0);
	ck_assert_str_eq(c.endpoint, "https://abc.blob.core.windows.net");
	az_creds_release(&c);

	c.endpoint = strdup("https://xyz.blob.core.windows.net/");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=1"), 0);
	ck_assert_int_eq(az_creds_finish(&c, &err), 0);
	ck_assert_str_eq(c.account, "xyz");
	ck_assert_str_eq(c.endpoint, "https://xyz.blob.core.windows.net");
	az_creds_release(&c);

	c.endpoint = strdup("http://127.0.0.1:10000/devstoreaccount1");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=1"), 0);
	ck_assert_int_eq(az_creds_finish(&c, &err), 0);
	ck_assert_str_eq(c.account, "devstoreaccount1");
	az_creds_release(&c);

	/* A bare emulator endpoint gets the account path. */
	c.endpoint = strdup("http://localhost:10000");
	c.account = strdup("devstoreaccount1");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=1"), 0);
	ck_assert_int_eq(az_creds_finish(&c, &err), 0);
	ck_assert_str_eq(c.endpoint, "http://localhost:10000/devstoreaccount1");
	az_creds_release(&c);
}
END_TEST

START_TEST(test_creds_finish_failures)
{
	struct az_creds c = {0};
	struct az_error err;

	ck_assert_int_eq(az_creds_finish(&c, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "account"));
	c.account = strdup("abc");
	ck_assert_int_eq(az_creds_finish(&c, &err), -ENOKEY);
	ck_assert_ptr_nonnull(strstr(err.message, "'abc'"));
	az_creds_release(&c);

	c.account = strdup("Not_Valid");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=1"), 0);
	ck_assert_int_eq(az_creds_finish(&c, &err), -EINVAL);
	ck_assert_ptr_null(strstr(err.message, "Not_Valid"));
	az_creds_release(&c);

	c.endpoint = strdup("ftp://abc.example.com");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=1"), 0);
	ck_assert_int_eq(az_creds_finish(&c, &err), -EINVAL);
	az_creds_release(&c);

	c.endpoint = strdup("http://127.0.0.1:10000");
	ck_assert_int_eq(az_creds_set_sas(&c, "sv=1"), 0);
	ck_assert_int_eq(az_creds_finish(&c, &err), -EINVAL);
	az_creds_release(&c);
}
END_TEST

static Suite *creds_suite(void)
{
	Suite *s = suite_create("creds");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_creds_cs_every_key);
	tcase_add_test(tc, test_creds_cs_case_whitespace_and_equals_in_values);
	tcase_add_test(tc, test_creds_cs_dev_storage);
	tcase_add_test(tc, test_creds_cs_malformed_never_quotes_values);
	tcase_add_test(tc, test_creds_set_key_base64_rules);
	tcase_add_test(tc, test_creds_set_sas_strips_question_mark);
	tcase_add_test(tc, test_creds_env_connection_string_first);
	tcase_add_test(tc, test_creds_env_fills_only_missing);
	tcase_add_test(tc, test_creds_env_errors_name_the_variable);
	tcase_add_test(tc, test_creds_finish_defaults_and_derivations);
	tcase_add_test(tc, test_creds_finish_failures);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(creds_suite)
