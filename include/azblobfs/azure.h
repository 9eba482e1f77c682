/*
 * azure.h - the Azure Blob Storage REST client: pure functions that build
 * signed requests (struct http_msg) and parse what the service answers.
 *
 * Layer: azure (uses util only). It builds, signs and parses plain HTTP
 * messages (struct http_msg, httpmsg.h) and never sees net, which embeds
 * the message in its requests. The only code that includes OpenSSL and
 * libxml2 headers.
 *
 * Threads: every function is reentrant. A struct az_client is read-only
 * after az_client_init() and may be shared by all threads. libxml2 is
 * initialised once, on first use, under pthread_once().
 *
 * Secrets: the account key and SAS tokens live only in struct az_creds and
 * in the Authorization header / URL query of a request. No function here
 * puts them into an error message, and struct az_error never holds them.
 *
 * Errors: functions return 0 or -errno; struct az_error carries detail for
 * logs (HTTP status, the service's error code, a short message).
 */
#ifndef AZBLOBFS_AZURE_H
#define AZBLOBFS_AZURE_H

#include "common.h"
#include "buf.h"
#include "httpmsg.h"
#include "meta.h"
#include <time.h>

/* The one service version we speak; Azurite 3.35 accepts it. */
#define AZ_API_VERSION "2025-11-05"

#define AZ_MAX_BLOB_NAME 1024 /* characters in a blob name */

/* Characters (UTF-8 code points) of a blob name, the unit of AZ_MAX_BLOB_NAME. */
size_t az_name_chars(const char *name);
#define AZ_MAX_LIST_RESULTS 5000
#define AZ_ETAG_MAX 80
#define AZ_DEV_ACCOUNT "devstoreaccount1"
#define AZ_DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

/* Operation slots for the net counters (struct http_msg.op). */
enum az_op {
	AZ_OP_LIST_CONTAINERS = 0,
	AZ_OP_LIST_BLOBS,
	AZ_OP_GET_CONTAINER_PROPS,
	AZ_OP_GET_PROPS,
	AZ_OP_GET_BLOB,
	AZ_OP_PUT_BLOB,
	AZ_OP_PUT_BLOCK,
	AZ_OP_PUT_BLOCK_LIST,
	AZ_OP_GET_BLOCK_LIST,
	AZ_OP_DELETE_BLOB,
	AZ_OP_COPY_BLOB,
	AZ_OP_SET_METADATA,
	AZ_OP_SET_PROPERTIES,
	AZ_OP__COUNT,
};

/* "ListBlobs", "GetBlob", ... for the stats report. */
const char *az_op_name(enum az_op op);

struct az_error {
	int status;        /* HTTP status, 0 if none */
	char code[64];     /* service error code ("BlobNotFound") or "" */
	char message[256]; /* human-readable, never a secret */
};

void az_error_clear(struct az_error *e);

/* Format into e->message (truncating); returns @err for tail calls. */
int az_error_set(struct az_error *e, int err, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* ------------------------------------------------------------------ */
/* Credentials                                                         */
/* ------------------------------------------------------------------ */

struct az_creds {
	char *account;      /* account name, or NULL */
	unsigned char *key; /* decoded account key, or NULL */
	size_t key_len;
	char *sas;      /* SAS query string without a leading '?', or NULL */
	char *endpoint; /* blob endpoint without trailing '/', or NULL */
};

void az_creds_release(struct az_creds *c);

/*
 * Parse a storage connection string: AccountName, AccountKey, BlobEndpoint,
 * DefaultEndpointsProtocol, EndpointSuffix, SharedAccessSignature and
 * UseDevelopmentStorage=true (Azurite's well-known account at
 * AZ_DEV_ENDPOINT). Keys are case-insensitive; unknown keys are ignored.
 * Fields already set in @c are overwritten only by keys present.
 * Returns 0 or -EINVAL (message names the bad key, never its value).
 */
int az_creds_parse_connection_string(const char *cs, struct az_creds *c, struct az_error *err);

/* Decode and set a base64 account key. Returns 0, -EINVAL or -ENOMEM. */
int az_creds_set_key(struct az_creds *c, const char *b64, struct az_error *err);

/* Set the SAS token (a leading '?' is dropped). Returns 0 or -ENOMEM. */
int az_creds_set_sas(struct az_creds *c, const char *sas);

/*
 * Fill fields that are still NULL from the environment:
 * AZURE_STORAGE_CONNECTION_STRING, then AZURE_STORAGE_ACCOUNT,
 * AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_BLOB_ENDPOINT
 * (the connection string wins over the single variables). Credentials
 * travel as a unit: the environment offers one credential (the connection
 * string's, else AZURE_STORAGE_KEY, else AZURE_STORAGE_SAS_TOKEN), taken
 * only when @c has neither a key nor a SAS; key, SAS and endpoint are
 * taken only when the environment's account is unknown or equals
 * c->account. Empty variables count as unset. Returns 0 or -EINVAL (bad
 * connection string / key / account name; the message names the variable).
 */
int az_creds_from_env(struct az_creds *c, struct az_error *err);

/*
 * Complete and check: default endpoint https://ACCOUNT.blob.core.windows.net,
 * account derived from the endpoint when missing (the first path segment of
 * a path-style endpoint -- an IP literal or localhost -- otherwise the first
 * host label), "/ACCOUNT" appended to a path-style endpoint without a path,
 * trailing '/' dropped. Fails with -EINVAL when there is no valid account
 * or the endpoint is not an http(s) URL without query, or with -ENOKEY when
 * there is neither a key nor a SAS.
 */
int az_creds_finish(struct az_creds *c, struct az_error *err);

/* ------------------------------------------------------------------ */
/* Mount source                                                        */
/* ------------------------------------------------------------------ */

struct az_source {
	char *account;   /* NULL: from the credentials */
	char *container; /* NULL: the whole account */
	char *prefix;    /* "" or a prefix ending in '/' */
	char *endpoint;  /* from a URL source, else NULL */
	char *sas;       /* query of a URL source, else NULL */
};

/*
 * Parse SOURCE:
 *   container                      a container of the configured account
 *   account/container[/prefix]     (prefix may have several components)
 *   account/                       the whole account
 *   https://host[/container[/prefix]][?sas]   virtual-host style; the
 *                                  account is the first label of host
 *   http(s)://ip-or-localhost:port/account[/container[/prefix]][?sas]
 *                                  path style (Azurite, IP endpoints)
 * Container names are checked against the service's rules (3-63 chars,
 * lowercase letters, digits, single hyphens) and "$root"/"$web"/"$logs".
 * A URL's path is percent-decoded; its query is kept verbatim as the SAS.
 * Prefix components may not be empty, "." or ".."; the prefix gets a
 * trailing '/'. On failure @out is left empty. Returns 0, -EINVAL or
 * -ENAMETOOLONG with a message.
 */
int az_source_parse(const char *src, struct az_source *out, struct az_error *err);
void az_source_release(struct az_source *s);

/* ------------------------------------------------------------------ */
/* Client and request builders                                         */
/* ------------------------------------------------------------------ */

struct az_client {
	struct az_creds creds; /* owned */
	char *host_path;       /* endpoint path prefix ("" or "/account"); informative, the
				  signature uses the URL path exactly as sent */
};

/*
 * Take ownership of @creds (left zeroed), which az_creds_finish() accepted.
 * With a key every request is signed with Shared Key and the SAS, if any,
 * is ignored; without one the SAS is appended to every URL. Returns 0,
 * -EINVAL (no account or endpoint; @creds untouched) or -ENOMEM.
 */
int az_client_init(struct az_client *c, struct az_creds *creds);
void az_client_release(struct az_client *c);

/* Options of requests that write a blob. Every field optional. */
struct az_write_opts {
	const char *content_type;     /* NULL: az_content_type() of the blob name */
	const struct meta_list *meta; /* pairs with empty values are not sent */
	const char *if_match;         /* ETag (quoted) */
	const char *if_none_match;    /* "*" to create only */
	const unsigned char *md5;     /* 16 bytes: Put Blob: Content-MD5 of the body;
					 Put Block List: x-ms-blob-content-md5 of the whole blob */
};

/*
 * Each builder resets @r's url and headers, fills method, url (names
 * percent-encoded exactly once), headers, op and bulk (block transfers
 * and Put Blobs of 1 MiB or more), and installs az_sign_prepare() as the
 * sign hook (it sets x-ms-date on every
 * attempt and, with a key, the Shared Key Authorization; with a SAS the
 * SAS is in the URL and nothing is signed). Every PUT carries an explicit
 * Content-Length and Content-Type (empty when none, so curl adds none): the
 * net layer must send exactly these headers. The listing builders and Get
 * Block List raise r->resp_max (32 MiB, the most the XML parser accepts,
 * / 8 MiB) so that a full page fits.
 * The request body and the sink are the caller's. Returns 0, -ENAMETOOLONG (blob
 * name over AZ_MAX_BLOB_NAME characters), -EINVAL (invalid container
 * name, empty blob name, a value with control characters, a bad metadata
 * name, a zero-length range), -E2BIG (the headers would not fit in
 * HTTP_MAX_HDRS, i.e. too many metadata pairs) or -ENOMEM.
 */
int az_req_list_containers(const struct az_client *c, struct http_msg *r, const char *prefix,
			   const char *marker, unsigned maxresults);
/* delimiter NULL: flat listing. */
int az_req_list_blobs(const struct az_client *c, struct http_msg *r, const char *container,
		      const char *prefix, const char *delimiter, const char *marker,
		      unsigned maxresults, bool include_metadata);
int az_req_get_container_props(const struct az_client *c, struct http_msg *r,
			       const char *container);
int az_req_get_props(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *blob);
/* Ranged Get Blob: bytes [off, off+len). if_match may be NULL. */
int az_req_get_range(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *blob, uint64_t off, uint64_t len, const char *if_match);
/* Put Blob of a block blob; the body is set by the caller (body_len may be 0). */
int az_req_put_blob(const struct az_client *c, struct http_msg *r, const char *container,
		    const char *blob, uint64_t len, const struct az_write_opts *o);
int az_req_put_block(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *blob, const char *block_id, uint64_t len,
		     const unsigned char *md5);
/*
 * Put Block List committing @n ids (base64, at most AZ_MAX_BLOCKS = 50,000),
 * all "Latest". The XML body is built in @body_out (initialised or zeroed;
 * its old contents are freed); the caller sends it as the request body
 * (Content-Length is body_out->len), keeps it alive and unchanged until the
 * request is done, then buf_release()s it.
 * o->content_type and o->md5 become the blob's x-ms-blob-content-type and
 * x-ms-blob-content-md5.
 */
int az_req_put_block_list(const struct az_client *c, struct http_msg *r, const char *container,
			  const char *blob, char *const *ids, size_t n,
			  const struct az_write_opts *o, struct buf *body_out);
/* Committed block list (blocklisttype=committed). */
int az_req_get_block_list(const struct az_client *c, struct http_msg *r, const char *container,
			  const char *blob);
/* Delete Blob with its snapshots (x-ms-delete-snapshots: include), as blobfuse2 does. */
int az_req_delete_blob(const struct az_client *c, struct http_msg *r, const char *container,
		       const char *blob, const char *if_match);
/*
 * Copy Blob within the account (x-ms-copy-source is the source's URL, with
 * the SAS when the client uses one). meta NULL (or empty) keeps the
 * source's metadata. if_none_match "*" copies only when the destination
 * does not exist (NULL: replace). The copy may be asynchronous: on 202 ask
 * az_copy_status().
 */
int az_req_copy_blob(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *src_blob, const char *dst_blob, const struct meta_list *meta,
		     const char *src_if_match, const char *if_none_match);
int az_req_set_metadata(const struct az_client *c, struct http_msg *r, const char *container,
			const char *blob, const struct meta_list *meta, const char *if_match);

/*
 * Build a block id: base64 of 12 bytes (8-byte @nonce, 4-byte big-endian
 * @index), 16 characters, the same length for every block of a blob.
 */
#define AZ_BLOCK_ID_LEN 16
void az_block_id(uint64_t nonce, uint32_t index, char out[AZ_BLOCK_ID_LEN + 1]);

/* "OpenSSL x.y.z ...\nlibxml2 x.y.z" for --version. */
void az_library_versions(char *out, size_t n);

/* Content-Type for a file name from its extension ("application/octet-stream" default). */
const char *az_content_type(const char *name);

/* MD5 of a buffer (OpenSSL); all zeros if the digest is unavailable (FIPS). */
void az_md5(const void *p, size_t n, unsigned char out[16]);

/* ------------------------------------------------------------------ */
/* Signing (exposed for tests)                                         */
/* ------------------------------------------------------------------ */

/*
 * The Shared Key string-to-sign of @r (method, standard headers, x-ms-*
 * headers canonicalised, canonicalised resource) for @account. Header
 * values are trimmed; x-ms-* names lowercased and ordered as the service
 * orders them (the Azure SDKs' comparator, not byte order); the resource
 * is "/" + account + the URL path exactly as sent (for path-style URLs it
 * already starts with "/account", giving "/account/account/...") and then
 * "\nname:value" per query parameter, names lowercased and sorted, values
 * decoded. The caller frees the result. NULL on allocation failure or
 * when r->url is not an http(s) URL.
 */
char *az_string_to_sign(const struct http_msg *r, const char *account);

/* base64(HMAC-SHA256(key, s)) into out (at least 45 bytes). */
int az_hmac_sha256_b64(const unsigned char *key, size_t key_len, const char *s, char *out,
		       size_t outlen);

/*
 * The sign hook (http_sign_fn) installed by the builders (@client is the struct
 * az_client): sets x-ms-date to now and, when the client has a key,
 * Authorization: SharedKey account:signature. Returns 0, -ENOMEM or -E2BIG.
 */
int az_sign_prepare(struct http_msg *r, void *client);

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

/*
 * The outcome of a finished request as 0 or -errno, filling @err (may be
 * NULL): transport errors pass through (r->err); 2xx and 304 are 0; HTTP
 * errors go through az_errno() with the code from x-ms-error-code or the
 * XML body, except that 400 OutOfRangeInput about a name length is
 * -ENAMETOOLONG. err->message is "HTTP 404 BlobNotFound: The specified
 * blob does not exist." -- the first line of the service's Message, cut
 * before anything quoted or signature-like, never a secret.
 */
int az_result(const struct http_msg *r, struct az_error *err);

/*
 * az_result() of a ranged Get Blob of @len bytes at @off into a sink, and
 * then what a correct answer must be: 206 with a Content-Range that starts
 * at @off and ends at off + len - 1, and @len bytes received. Anything else
 * is -EIO with a message saying what was wrong, so that bytes from the
 * wrong place never pass for the file's.
 */
int az_range_result(const struct http_msg *r, uint64_t off, uint64_t len, struct az_error *err);

/*
 * The one table from HTTP status + service error code (may be NULL) to
 * 0 or -errno: 2xx/304 0; 404 ENOENT; 401/403 EACCES; 409 EEXIST for
 * *AlreadyExists, EBUSY for leases, pending copies and snapshots (the
 * default); 412 ESTALE (lease codes EBUSY); 413 EFBIG; 414 ENAMETOOLONG;
 * 400 and 416 EINVAL; 405/501 ENOTSUP; 429 and 5xx EIO (net/ already
 * retried them; EAGAIN would confuse blocking callers); anything else EIO.
 */
int az_errno(int status, const char *code);

/*
 * Parse <Error><Code/><Message/></Error> into err->code and err->message
 * (first line, printable ASCII; @err may be NULL). Returns 0 or -EBADMSG
 * (@err untouched).
 */
int az_parse_error(const char *xml, size_t len, struct az_error *err);

enum az_item_kind {
	AZ_ITEM_BLOB = 0,
	AZ_ITEM_PREFIX, /* a BlobPrefix (virtual folder) */
	AZ_ITEM_CONTAINER,
};

struct az_item {
	char *name; /* full name as in the listing (decoded) */
	enum az_item_kind kind;
	uint64_t size;
	struct timespec mtime;  /* Last-Modified */
	struct timespec ctime;  /* Creation-Time, 0 when absent */
	char etag[AZ_ETAG_MAX]; /* quoted, as the ETag header has it */
	char content_type[128];
	struct meta_list meta;
};

struct az_list {
	struct az_item *items;
	size_t n;
	char *next_marker;      /* NULL or "" when this is the last page */
	size_t undecodable;     /* entries left out: an Encoded name that decodes to no
				 * C string (a NUL byte, a bad escape) */
	char *undecodable_name; /* the first of them, as the service sent it */
};

void az_list_release(struct az_list *l);

/*
 * Parse a List Blobs / List Containers page. Items keep the document's
 * order; BlobPrefix entries are AZ_ITEM_PREFIX items with only a name.
 * Names with Encoded="true" are percent-decoded. Listing ETags (unquoted)
 * are stored quoted. A Content-Type longer than the field is dropped.
 * Malformed, truncated or hostile documents (a DOCTYPE, entities, absurd
 * sizes) give -EBADMSG with a message, never a crash; @out is then empty.
 * At most AZ_MAX_LIST_RESULTS + 1 items. Returns 0, -EBADMSG or -ENOMEM.
 */
int az_parse_list_blobs(const char *xml, size_t len, struct az_list *out, struct az_error *err);
int az_parse_list_containers(const char *xml, size_t len, struct az_list *out,
			     struct az_error *err);

/*
 * Parse <BlockList><CommittedBlocks>: names (ids) and sizes, at most
 * AZ_MAX_BLOCKS. *out (free with az_block_list_free) may be NULL when
 * *n is 0. Returns 0, -EBADMSG or -ENOMEM.
 */
struct az_block {
	char *id;
	uint64_t size;
};
int az_parse_block_list(const char *xml, size_t len, struct az_block **out, size_t *n,
			struct az_error *err);
void az_block_list_free(struct az_block *b, size_t n);

/* Properties from Get Blob Properties / Get Blob response headers. */
struct az_props {
	uint64_t size; /* Content-Length, or the total of Content-Range */
	struct timespec mtime;
	char etag[AZ_ETAG_MAX];
	char content_type[128];
	struct meta_list meta; /* x-ms-meta-* */
};

/*
 * Fill @out (overwritten, not released first) from r's response headers:
 * size from Content-Range's total when present (ranged GET), else
 * Content-Length; mtime from Last-Modified; ETag; Content-Type (dropped
 * when too long); x-ms-meta-* with the names' case as sent. Returns 0,
 * -EBADMSG (no size, a malformed size, date or ETag) or -ENOMEM; on
 * failure @out is left empty.
 */
int az_props_from_response(const struct http_msg *r, struct az_props *out);
void az_props_release(struct az_props *p);

/* What the service says about a blob it just wrote (Put Blob, Put Block List, Set Metadata). */
struct az_commit {
	char etag[AZ_ETAG_MAX]; /* the ETag header as sent, "" when absent or too long */
	struct timespec mtime;  /* Last-Modified; the local clock when absent or malformed */
};

/* Fill @out from the response headers of a successful write. Cannot fail. */
void az_commit_result(const struct http_msg *r, struct az_commit *out);

/*
 * The state of a Copy Blob from its x-ms-copy-status response header:
 * 0 when the copy is done ("success", or no header: a synchronous copy),
 * -EINPROGRESS when it is "pending" (ask again with Get Blob Properties),
 * -EIO when it failed or was aborted.
 */
int az_copy_status(const struct http_msg *r);

#endif
