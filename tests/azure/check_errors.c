/*
 * check_errors.c - the status + code -> errno table, az_result() on
 * finished requests (filled by hand), struct az_error helpers.
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "check_main.h"
#include "az_test.h"

START_TEST(test_errors_errno_table)
{
	static const struct {
		int status;
		const char *code;
		int want;
	} t[] = {
	    {200, NULL, 0},
	    {201, "anything", 0},
	    {206, NULL, 0},
	    {304, NULL, 0},
	    {404, "BlobNotFound", -ENOENT},
	    {404, "ContainerNotFound", -ENOENT},
	    {404, "ResourceNotFound", -ENOENT},
	    {404, NULL, -ENOENT},
	    {403, "AuthenticationFailed", -EACCES},
	    {403, "AuthorizationFailure", -EACCES},
	    {403, "AuthorizationPermissionMismatch", -EACCES},
	    {403, "AuthorizationSourceIPMismatch", -EACCES},
	    {403, NULL, -EACCES},
	    {401, NULL, -EACCES},
	    {409, "BlobAlreadyExists", -EEXIST},
	    {409, "ContainerAlreadyExists", -EEXIST},
	    {409, "LeaseIdMissing", -EBUSY},
	    {409, "LeaseAlreadyPresent", -EBUSY},
	    {409, "PendingCopyOperation", -EBUSY},
	    {409, "SnapshotsPresent", -EBUSY},
	    {409, "BlobArchived", -EACCES},
	    {409, "BlobImmutableDueToPolicy", -EPERM},
	    {409, "InvalidBlobType", -ENOTSUP},
	    {409, "BlockCountExceedsLimit", -EFBIG},
	    {409, "SomethingNew", -EBUSY},
	    {412, "ConditionNotMet", -ESTALE},
	    {412, "LeaseNotPresentWithBlobOperation", -EBUSY},
	    {412, NULL, -ESTALE},
	    {413, "RequestBodyTooLarge", -EFBIG},
	    {414, NULL, -ENAMETOOLONG},
	    {400, "InvalidResourceName", -EINVAL},
	    {400, "OutOfRangeInput", -EINVAL},
	    {400, "InvalidUri", -EINVAL},
	    {400, "MetadataTooLarge", -E2BIG},
	    {400, "Md5Mismatch", -EIO},
	    {400, "BlockListTooLong", -EFBIG},
	    {400, NULL, -EINVAL},
	    {416, "InvalidRange", -EINVAL},
	    {405, NULL, -ENOTSUP},
	    {501, NULL, -ENOTSUP},
	    {429, NULL, -EIO},
	    {500, "InternalError", -EIO},
	    {500, "OperationTimedOut", -EIO},
	    {503, "ServerBusy", -EIO},
	    {502, NULL, -EIO},
	    {418, NULL, -EIO},
	    {302, NULL, -EIO},
	    {0, NULL, -EIO},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		ck_assert_msg(az_errno(t[i].status, t[i].code) == t[i].want,
			      "%d %s: got %d want %d", t[i].status, t[i].code ? t[i].code : "-",
			      az_errno(t[i].status, t[i].code), t[i].want);
}
END_TEST

static void body(struct http_msg *r, const char *s)
{
	buf_release(&r->resp);
	buf_init(&r->resp, 64 * KIB);
	ck_assert_int_eq(buf_puts(&r->resp, s), 0);
}

START_TEST(test_errors_result_transport_error_passes_through)
{
	struct http_msg r;
	struct az_error err;

	http_msg_init(&r);
	r.err = -ECONNRESET;
	ck_assert_int_eq(az_result(&r, &err), -ECONNRESET);
	ck_assert_int_eq(err.status, 0);
	ck_assert_ptr_nonnull(strstr(err.message, "transport"));
	r.err = 0;
	ck_assert_int_eq(az_result(&r, &err), -EIO);
	r.status = 206;
	ck_assert_int_eq(az_result(&r, &err), 0);
	ck_assert_str_eq(err.message, "");
	r.status = 304;
	ck_assert_int_eq(az_result(&r, NULL), 0);
	http_msg_release(&r);
}
END_TEST

START_TEST(test_errors_result_oversized_reply_says_so)
{
	struct http_msg r;
	struct az_error err;

	http_msg_init(&r);
	r.resp_max = 32 * MIB;
	r.err = -ENOBUFS;
	ck_assert_int_eq(az_result(&r, &err), -ENOBUFS);
	ck_assert_str_eq(err.message, "the reply is larger than the 32768 KiB this request takes");
	r.err = -EOVERFLOW;
	r.sink_cap = 4096;
	ck_assert_int_eq(az_result(&r, &err), -EOVERFLOW);
	ck_assert_str_eq(err.message, "the reply is larger than the 4096 bytes asked for");
	http_msg_release(&r);
}
END_TEST

START_TEST(test_errors_result_code_from_header)
{
	struct http_msg r;
	struct az_error err;

	/* HEAD: no body, the code only in the header. */
	http_msg_init(&r);
	r.status = 404;
	test_add_rhdr(&r, "x-ms-request-id: 1");
	test_add_rhdr(&r, "x-ms-error-code: BlobNotFound");
	ck_assert_int_eq(az_result(&r, &err), -ENOENT);
	ck_assert_int_eq(err.status, 404);
	ck_assert_str_eq(err.code, "BlobNotFound");
	ck_assert_str_eq(err.message, "HTTP 404 BlobNotFound");
	http_msg_release(&r);
}
END_TEST

START_TEST(test_errors_result_code_and_message_from_body)
{
	struct http_msg r;
	struct az_error err;
	size_t len;
	char *xml = test_slurp(TEST_DATA("az_error_blob_not_found.xml"), &len);

	http_msg_init(&r);
	r.status = 404;
	body(&r, xml);
	ck_assert_int_eq(az_result(&r, &err), -ENOENT);
	ck_assert_str_eq(err.code, "BlobNotFound");
	ck_assert_str_eq(err.message, "HTTP 404 BlobNotFound: The specified blob does not exist.");
	/* The header wins over the body. */
	test_add_rhdr(&r, "x-ms-error-code: ContainerNotFound");
	ck_assert_int_eq(az_result(&r, &err), -ENOENT);
	ck_assert_str_eq(err.code, "ContainerNotFound");
	free(xml);
	http_msg_release(&r);
}
END_TEST

START_TEST(test_errors_result_messages_hold_no_secrets)
{
	struct http_msg r;
	struct az_error err;
	size_t len;
	char *xml = test_slurp(TEST_DATA("az_error_auth.xml"), &len);

	http_msg_init(&r);
	r.status = 403;
	body(&r, xml);
	ck_assert_int_eq(az_result(&r, &err), -EACCES);
	ck_assert_str_eq(err.code, "AuthenticationFailed");
	ck_assert_ptr_nonnull(strstr(err.message, "HTTP 403 AuthenticationFailed: Server failed"));
	ck_assert_ptr_null(strstr(err.message, "TAbX"));
	ck_assert_ptr_null(strstr(err.message, "RequestId"));
	free(xml);

	xml = test_slurp(TEST_DATA("az_error_sas_quoted.xml"), &len);
	body(&r, xml);
	ck_assert_int_eq(az_result(&r, &err), -EACCES);
	ck_assert_ptr_null(strstr(err.message, "c2VjcmV0"));
	ck_assert_ptr_null(strstr(err.message, "sig="));
	ck_assert_ptr_nonnull(strstr(err.message, "not authorized"));
	free(xml);
	http_msg_release(&r);
}
END_TEST

START_TEST(test_errors_result_name_too_long)
{
	struct http_msg r;
	struct az_error err;

	http_msg_init(&r);
	r.status = 400;
	/* Azurite's answer to a 1,025-character name (StorageErrorFactory). */
	body(&r, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Error><Code>"
		 "OutOfRangeInput</Code><Message>The specified resource name length is not within "
		 "the permissible limits.\nRequestId:x</Message></Error>");
	ck_assert_int_eq(az_result(&r, &err), -ENAMETOOLONG);
	body(&r, "<Error><Code>OutOfRangeInput</Code><Message>One of the request inputs is out of "
		 "range.</Message></Error>");
	ck_assert_int_eq(az_result(&r, &err), -EINVAL);
	http_msg_release(&r);
}
END_TEST

START_TEST(test_errors_result_garbage_body)
{
	struct http_msg r;
	struct az_error err;

	http_msg_init(&r);
	r.status = 502;
	body(&r, "<html><body>Bad Gateway</body></html>");
	ck_assert_int_eq(az_result(&r, &err), -EIO);
	ck_assert_str_eq(err.code, "");
	ck_assert_str_eq(err.message, "HTTP 502");
	/* A header code with junk after it keeps only the code. */
	test_add_rhdr(&r, "x-ms-error-code: ServerBusy\r\n");
	r.status = 503;
	ck_assert_int_eq(az_result(&r, &err), -EIO);
	ck_assert_str_eq(err.code, "ServerBusy");
	http_msg_release(&r);
}
END_TEST

START_TEST(test_errors_error_helpers)
{
	struct az_error err;
	char longs[600];

	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	ck_assert_int_eq(az_error_set(&err, -EINVAL, "%s", longs), -EINVAL);
	ck_assert_uint_eq(strlen(err.message), sizeof(err.message) - 1);
	ck_assert_int_eq(az_error_set(NULL, -ENOENT, "x"), -ENOENT);
	az_error_clear(&err);
	ck_assert_str_eq(err.message, "");
	ck_assert_str_eq(err.code, "");
	ck_assert_int_eq(err.status, 0);
	ck_assert_str_eq(az_op_name(AZ_OP_LIST_BLOBS), "ListBlobs");
	ck_assert_str_eq(az_op_name(AZ_OP_PUT_BLOCK_LIST), "PutBlockList");
	ck_assert_str_eq(az_op_name(AZ_OP__COUNT), "Unknown");
	for (int op = 0; op < AZ_OP__COUNT; op++)
		ck_assert_str_ne(az_op_name((enum az_op)op), "Unknown");
	ck_assert_int_le(AZ_OP__COUNT, HTTP_OP_MAX);
}
END_TEST

static Suite *errors_suite(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_errors_errno_table);
	tcase_add_test(tc, test_errors_result_transport_error_passes_through);
	tcase_add_test(tc, test_errors_result_oversized_reply_says_so);
	tcase_add_test(tc, test_errors_result_code_from_header);
	tcase_add_test(tc, test_errors_result_code_and_message_from_body);
	tcase_add_test(tc, test_errors_result_messages_hold_no_secrets);
	tcase_add_test(tc, test_errors_result_name_too_long);
	tcase_add_test(tc, test_errors_result_garbage_body);
	tcase_add_test(tc, test_errors_error_helpers);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(errors_suite)
