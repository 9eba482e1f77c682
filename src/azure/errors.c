/*
 * errors.c - struct az_error, the HTTP status + error code -> errno table,
 * and az_result(), which turns a finished request into 0 or -errno.
 */
#include "azblobfs/common.h"
#include "azure_i.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *az_op_name(enum az_op op)
{
	static const char *const names[] = {
	    [AZ_OP_LIST_CONTAINERS] = "ListContainers",
	    [AZ_OP_LIST_BLOBS] = "ListBlobs",
	    [AZ_OP_GET_CONTAINER_PROPS] = "GetContainerProperties",
	    [AZ_OP_GET_PROPS] = "GetBlobProperties",
	    [AZ_OP_GET_BLOB] = "GetBlob",
	    [AZ_OP_PUT_BLOB] = "PutBlob",
	    [AZ_OP_PUT_BLOCK] = "PutBlock",
	    [AZ_OP_PUT_BLOCK_LIST] = "PutBlockList",
	    [AZ_OP_GET_BLOCK_LIST] = "GetBlockList",
	    [AZ_OP_DELETE_BLOB] = "DeleteBlob",
	    [AZ_OP_COPY_BLOB] = "CopyBlob",
	    [AZ_OP_SET_METADATA] = "SetBlobMetadata",
	    [AZ_OP_SET_PROPERTIES] = "SetBlobProperties",
	};

	return (unsigned)op < ARRAY_SIZE(names) && names[op] ? names[op] : "Unknown";
}

void az_error_clear(struct az_error *e)
{
	if (!e)
		return;
	e->status = 0;
	e->code[0] = '\0';
	e->message[0] = '\0';
}

int az_error_set(struct az_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * The table. A NULL code is the default of its status. Choices worth
 * knowing (the callers are POSIX file operations):
 *  - 5xx and 429 are EIO: net/ has already retried them with back-off, and
 *    EAGAIN from read()/close() on a blocking descriptor confuses programs.
 *    The code ("ServerBusy") stays in struct az_error for the logs.
 *  - every 403 is EACCES (wrong key, expired SAS, SAS without the permission,
 *    firewall); 409 defaults to EBUSY (a conflicting state: leases,
 *    pending copies, snapshots); 412 is ESTALE (the ETag we hold is old).
 *  - a name the service finds too long is ENAMETOOLONG (414, and 400
 *    OutOfRangeInput about a name: see az_result()).
 */
struct errno_entry {
	int status;
	const char *code;
	int err;
};

static const struct errno_entry errno_table[] = {
    {400, "InvalidResourceName", EINVAL},
    {400, "OutOfRangeInput", EINVAL},
    {400, "InvalidUri", EINVAL},
    {400, "InvalidBlockId", EINVAL},
    {400, "InvalidBlockList", EINVAL},
    {400, "InvalidBlobOrBlock", EINVAL},
    {400, "InvalidMetadata", EINVAL},
    {400, "EmptyMetadataKey", EINVAL},
    {400, "MetadataTooLarge", E2BIG},
    {400, "BlockListTooLong", EFBIG},
    {400, "InvalidMd5", EIO},
    {400, "Md5Mismatch", EIO},
    {400, "Crc64Mismatch", EIO},
    {400, NULL, EINVAL},
    {401, NULL, EACCES},
    {403, "AuthenticationFailed", EACCES},
    {403, "AuthorizationFailure", EACCES},
    {403, "AuthorizationPermissionMismatch", EACCES},
    {403, "AuthorizationProtocolMismatch", EACCES},
    {403, "AuthorizationResourceTypeMismatch", EACCES},
    {403, "AuthorizationServiceMismatch", EACCES},
    {403, "AuthorizationSourceIPMismatch", EACCES},
    {403, "InsufficientAccountPermissions", EACCES},
    {403, "AccountIsDisabled", EACCES},
    {403, NULL, EACCES},
    {404, "BlobNotFound", ENOENT},
    {404, "ContainerNotFound", ENOENT},
    {404, "ResourceNotFound", ENOENT},
    {404, NULL, ENOENT},
    {405, NULL, ENOTSUP},
    {409, "BlobAlreadyExists", EEXIST},
    {409, "ContainerAlreadyExists", EEXIST},
    {409, "LeaseAlreadyPresent", EBUSY},
    {409, "LeaseIdMissing", EBUSY},
    {409, "LeaseIsBreakingAndCannotBeAcquired", EBUSY},
    {409, "LeaseIsBrokenAndCannotBeRenewed", EBUSY},
    {409, "PendingCopyOperation", EBUSY},
    {409, "SnapshotsPresent", EBUSY},
    {409, "ContainerBeingDeleted", EBUSY},
    {409, "BlobBeingRehydrated", EBUSY},
    {409, "BlobArchived", EACCES},
    {409, "ContainerDisabled", EACCES},
    {409, "BlobImmutableDueToPolicy", EPERM},
    {409, "InvalidBlobType", ENOTSUP},
    {409, "BlockCountExceedsLimit", EFBIG},
    {409, NULL, EBUSY},
    {411, NULL, EINVAL},
    {412, "ConditionNotMet", ESTALE},
    {412, "SourceConditionNotMet", ESTALE},
    {412, "TargetConditionNotMet", ESTALE},
    {412, "LeaseIdMissing", EBUSY},
    {412, "LeaseIdMismatchWithBlobOperation", EBUSY},
    {412, "LeaseNotPresentWithBlobOperation", EBUSY},
    {412, "LeaseLost", EBUSY},
    {412, NULL, ESTALE},
    {413, NULL, EFBIG},
    {414, NULL, ENAMETOOLONG},
    {416, NULL, EINVAL},
    {429, NULL, EIO},
    {500, NULL, EIO},
    {501, NULL, ENOTSUP},
    {503, NULL, EIO},
};

int az_errno(int status, const char *code)
{
	const struct errno_entry *dflt = NULL;

	if ((status >= 200 && status < 300) || status == 304)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(errno_table); i++) {
		const struct errno_entry *e = &errno_table[i];

		if (e->status != status)
			continue;
		if (!e->code)
			dflt = e;
		else if (code && !strcmp(code, e->code))
			return -e->err;
	}
	if (dflt)
		return -dflt->err;
	/* Anything else (other 4xx/5xx, or a 1xx/3xx we never asked for) is an I/O error. */
	return -EIO;
}

/* Keep printable ASCII of the first line, which is all the logs need. */
static void first_line(char *s)
{
	char *p;

	for (p = s; *p && *p != '\n' && *p != '\r'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = ' ';
	*p = '\0';
	while (p > s && p[-1] == ' ')
		*--p = '\0';
}

/*
 * The service's Message holds no key, but details such as "The MAC
 * signature found in the HTTP request '...'" or "String to sign used was
 * ..." quote the request's signature. Cut the text where anything like
 * that starts; quoted values go too, whatever they are.
 */
static void scrub_message(char *m)
{
	static const char *const bad[] = {
	    "'", "\"", "SharedKey", "sig=", "MAC signature", "tring to sign", "Bearer"};
	char *cut = NULL;
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *p = strstr(m, bad[i]);

		if (p && (!cut || p < cut))
			cut = p;
	}
	if (cut)
		*cut = '\0';
	n = strlen(m);
	while (n && (m[n - 1] == ' ' || m[n - 1] == ':'))
		m[--n] = '\0';
}

static void copy_code(struct az_error *err, const char *code)
{
	size_t n = 0;

	/* Codes are identifiers; anything else is not worth keeping. */
	for (; code[n] && n < sizeof(err->code) - 1; n++) {
		unsigned char c = (unsigned char)code[n];

		if (c <= 0x20 || c >= 0x7f)
			break;
		err->code[n] = (char)c;
	}
	err->code[n] = '\0';
}

int az_result(const struct http_msg *r, struct az_error *err)
{
	struct az_error body;
	struct az_error tmp;
	const char *hcode;
	int rc;

	if (!err)
		err = &tmp;
	az_error_clear(err);
	err->status = r->status;
	if (r->err == -ENOBUFS)
		return az_error_set(err, r->err,
				    "the reply is larger than the %zu KiB this request takes",
				    r->resp_max / 1024);
	if (r->err == -EOVERFLOW)
		return az_error_set(err, r->err, "the reply is larger than the %zu bytes asked for",
				    r->sink_cap);
	if (r->err < 0)
		return az_error_set(err, r->err, "transport: %s", strerror(-r->err));
	if (r->status == 0)
		return az_error_set(err, -EIO, "no HTTP response");
	if ((r->status >= 200 && r->status < 300) || r->status == 304)
		return 0;

	az_error_clear(&body);
	if (r->resp.len && r->resp.data && memchr(r->resp.data, '<', MIN(r->resp.len, 64)))
		(void)az_parse_error(r->resp.data, r->resp.len, &body);
	hcode = http_msg_resp_header(r, "x-ms-error-code");
	copy_code(err, hcode && *hcode ? hcode : body.code);
	first_line(body.message);
	scrub_message(body.message);

	rc = az_errno(r->status, err->code[0] ? err->code : NULL);
	if (r->status == 400 && !strcmp(err->code, "OutOfRangeInput") &&
	    strstr(body.message, "name length"))
		rc = -ENAMETOOLONG;

	if (err->code[0] && body.message[0])
		az_error_set(err, rc, "HTTP %d %s: %s", r->status, err->code, body.message);
	else if (err->code[0])
		az_error_set(err, rc, "HTTP %d %s", r->status, err->code);
	else
		az_error_set(err, rc, "HTTP %d", r->status);
	return rc;
}

int az_range_result(const struct http_msg *r, uint64_t off, uint64_t len, struct az_error *err)
{
	unsigned long long start, last, total;
	const char *cr;
	int rc = az_result(r, err);

	if (rc < 0)
		return rc;
	if (r->status != 206)
		return az_error_set(err, -EIO, "HTTP %d to a ranged read (expected 206)",
				    r->status);
	cr = http_msg_resp_header(r, "Content-Range");
	if (!cr || sscanf(cr, "bytes %llu-%llu/%llu", &start, &last, &total) != 3)
		return az_error_set(err, -EIO, "ranged read without a valid Content-Range");
	if (start != off || last + 1 != off + len)
		return az_error_set(
		    err, -EIO, "ranged read of %llu-%llu answered with bytes %llu-%llu",
		    (unsigned long long)off, (unsigned long long)(off + len - 1), start, last);
	if (r->sink_len != len)
		return az_error_set(err, -EIO, "ranged read got %zu of %llu bytes", r->sink_len,
				    (unsigned long long)len);
	return 0;
}
