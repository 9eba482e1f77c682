/*
 * azure.h - the Azure Blob Storage REST client: pure functions that build
 * signed requests (struct net_req) and parse what the service answers.
 *
 * Layer: azure (uses net for the request struct only, and util). The only
 * code that includes OpenSSL and libxml2 headers.
 *
 * Threads: every function is reentrant. A struct az_client is read-only
 * after az_client_init() and may be shared by all threads.
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
#include "net.h"
#include <time.h>

/* The one service version we speak; Azurite 3.35 accepts it. */
#define AZ_API_VERSION "2025-11-05"

#define AZ_MAX_BLOB_NAME 1024  /* characters in a blob name */
#define AZ_MAX_LIST_RESULTS 5000
#define AZ_ETAG_MAX 80
#define AZ_DEV_ACCOUNT "devstoreaccount1"
#define AZ_DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

/* Operation slots for the net counters (struct net_req.op). */
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
	int status;          /* HTTP status, 0 if none */
	char code[64];       /* service error code ("BlobNotFound") or "" */
	char message[256];   /* human-readable, never a secret */
};

void az_error_clear(struct az_error *e);

/* Format into e->message (truncating); returns @err for tail calls. */
int az_error_set(struct az_error *e, int err, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* ------------------------------------------------------------------ */
/* Credentials                                                         */
/* ------------------------------------------------------------------ */

struct az_creds {
	char *account;          /* account name, or NULL */
	unsigned char *key;     /* decoded account key, or NULL */
	size_t key_len;
	char *sas;              /* SAS query string without a leading '?', or NULL */
	char *endpoint;         /* blob endpoint without trailing '/', or NULL */
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
 * AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_BLOB_ENDPOINT.
 * Returns 0 or -EINVAL (bad connection string / key).
 */
int az_creds_from_env(struct az_creds *c, struct az_error *err);

/*
 * Complete and check: default endpoint https://ACCOUNT.blob.core.windows.net,
 * account derived from the endpoint host when missing. Fails with -EINVAL
 * when there is no account, or with -ENOKEY when there is neither a key
 * nor a SAS.
 */
int az_creds_finish(struct az_creds *c, struct az_error *err);

/* ------------------------------------------------------------------ */
/* Mount source                                                        */
/* ------------------------------------------------------------------ */

struct az_source {
	char *account;    /* NULL: from the credentials */
	char *container;  /* NULL: the whole account */
	char *prefix;     /* "" or a prefix ending in '/' */
	char *endpoint;   /* from a URL source, else NULL */
	char *sas;        /* query of a URL source, else NULL */
};

/*
 * Parse SOURCE:
 *   container                      a container of the configured account
 *   account/container[/prefix]     (prefix may have several components)
 *   account/                       the whole account
 *   https://host[/container[/prefix]][?sas]   virtual-host style
 *   http(s)://ip-or-localhost:port/account[/container[/prefix]][?sas]
 *                                  path style (Azurite, IP endpoints)
 * Container names are checked against the service's rules (3-63 chars,
 * lowercase letters, digits, single hyphens) and "$root"/"$web".
 * Returns 0 or -EINVAL with a message.
 */
int az_source_parse(const char *src, struct az_source *out, struct az_error *err);
void az_source_release(struct az_source *s);

/* ------------------------------------------------------------------ */
/* Client and request builders                                         */
/* ------------------------------------------------------------------ */

struct az_client {
	struct az_creds creds; /* owned */
	char *host_path;       /* endpoint path prefix used for signing ("" or "/account") */
};

/* Take ownership of @creds (left zeroed). Returns 0 or -ENOMEM. */
int az_client_init(struct az_client *c, struct az_creds *creds);
void az_client_release(struct az_client *c);

struct az_meta {
	char *name;   /* metadata name as on the wire (without x-ms-meta-) */
	char *value;
};

struct az_meta_list {
	struct az_meta *items;
	size_t n;
};

void az_meta_list_release(struct az_meta_list *m);
const char *az_meta_get(const struct az_meta_list *m, const char *name); /* case-insensitive */
int az_meta_set(struct az_meta_list *m, const char *name, const char *value) WARN_UNUSED;
void az_meta_del(struct az_meta_list *m, const char *name);
int az_meta_copy(struct az_meta_list *dst, const struct az_meta_list *src) WARN_UNUSED;

/* Options of requests that write a blob. Every field optional. */
struct az_write_opts {
	const char *content_type;
	const struct az_meta_list *meta;
	const char *if_match;      /* ETag (quoted) */
	const char *if_none_match; /* "*" to create only */
	const unsigned char *md5;  /* 16 bytes: Content-MD5 of the body */
};

/*
 * Each builder resets @r's url and headers, fills method, url (names
 * percent-encoded exactly once), headers, op and prio, and installs the
 * signing hook (Shared Key, or nothing when the SAS is in the URL). Body,
 * sink, done and arg are the caller's. Returns 0, -ENAMETOOLONG (blob name
 * over AZ_MAX_BLOB_NAME) or -ENOMEM.
 */
int az_req_list_containers(const struct az_client *c, struct net_req *r, const char *prefix,
			   const char *marker, unsigned maxresults);
/* delimiter NULL: flat listing. */
int az_req_list_blobs(const struct az_client *c, struct net_req *r, const char *container,
		      const char *prefix, const char *delimiter, const char *marker,
		      unsigned maxresults, bool include_metadata);
int az_req_get_container_props(const struct az_client *c, struct net_req *r,
			       const char *container);
int az_req_get_props(const struct az_client *c, struct net_req *r, const char *container,
		     const char *blob);
/* Ranged Get Blob: bytes [off, off+len). if_match may be NULL. */
int az_req_get_range(const struct az_client *c, struct net_req *r, const char *container,
		     const char *blob, uint64_t off, uint64_t len, const char *if_match);
/* Put Blob of a block blob; the body is set by the caller (body_len may be 0). */
int az_req_put_blob(const struct az_client *c, struct net_req *r, const char *container,
		    const char *blob, uint64_t len, const struct az_write_opts *o);
int az_req_put_block(const struct az_client *c, struct net_req *r, const char *container,
		     const char *blob, const char *block_id, uint64_t len, const unsigned char *md5);
/*
 * Put Block List committing @n ids, all "Latest". The XML body is built in
 * @body_out and r->body points into it: keep @body_out alive and unchanged
 * until the request is done.
 */
int az_req_put_block_list(const struct az_client *c, struct net_req *r, const char *container,
			  const char *blob, char *const *ids, size_t n, const struct az_write_opts *o,
			  struct buf *body_out);
/* Committed block list (blocklisttype=committed). */
int az_req_get_block_list(const struct az_client *c, struct net_req *r, const char *container,
			  const char *blob);
int az_req_delete_blob(const struct az_client *c, struct net_req *r, const char *container,
		       const char *blob, const char *if_match);
/*
 * Copy Blob within the account (x-ms-copy-source is the source's URL, with
 * the SAS when the client uses one). meta NULL keeps the source's metadata.
 */
int az_req_copy_blob(const struct az_client *c, struct net_req *r, const char *container,
		     const char *src_blob, const char *dst_blob, const struct az_meta_list *meta,
		     const char *src_if_match);
int az_req_set_metadata(const struct az_client *c, struct net_req *r, const char *container,
			const char *blob, const struct az_meta_list *meta, const char *if_match);

/*
 * Build a block id: base64 of 12 bytes (8-byte @nonce, 4-byte big-endian
 * @index), 16 characters, the same length for every block of a blob.
 */
#define AZ_BLOCK_ID_LEN 16
void az_block_id(uint64_t nonce, uint32_t index, char out[AZ_BLOCK_ID_LEN + 1]);

/* Content-Type for a file name from its extension ("application/octet-stream" default). */
const char *az_content_type(const char *name);

/* MD5 of a buffer (OpenSSL). */
void az_md5(const void *p, size_t n, unsigned char out[16]);

/* ------------------------------------------------------------------ */
/* Signing (exposed for tests)                                         */
/* ------------------------------------------------------------------ */

/*
 * The Shared Key string-to-sign of @r (method, standard headers, x-ms-*
 * headers canonicalised, canonicalised resource) for @account. The caller
 * frees the result. NULL on allocation failure.
 */
char *az_string_to_sign(const struct net_req *r, const char *account);

/* base64(HMAC-SHA256(key, s)) into out (at least 45 bytes). */
int az_hmac_sha256_b64(const unsigned char *key, size_t key_len, const char *s, char *out,
		       size_t outlen);

/* The prepare hook installed by the builders: sets x-ms-date and Authorization. */
int az_sign_prepare(struct net_req *r, void *client);

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

/*
 * The outcome of a finished request as 0 or -errno, filling @err:
 * transport errors pass through (r->err); HTTP errors go through
 * az_errno() with the code from x-ms-error-code or the XML body.
 */
int az_result(const struct net_req *r, struct az_error *err);

/* The one table from HTTP status + service error code to errno. */
int az_errno(int status, const char *code);

/* Parse <Error><Code/><Message/></Error>. Returns 0 or -EBADMSG. */
int az_parse_error(const char *xml, size_t len, struct az_error *err);

enum az_item_kind {
	AZ_ITEM_BLOB = 0,
	AZ_ITEM_PREFIX,     /* a BlobPrefix (virtual folder) */
	AZ_ITEM_CONTAINER,
};

struct az_item {
	char *name;                 /* full name as in the listing (decoded) */
	enum az_item_kind kind;
	uint64_t size;
	struct timespec mtime;      /* Last-Modified */
	struct timespec ctime;      /* Creation-Time, 0 when absent */
	char etag[AZ_ETAG_MAX];     /* quoted, as the ETag header has it */
	char content_type[128];
	struct az_meta_list meta;
};

struct az_list {
	struct az_item *items;
	size_t n;
	char *next_marker;          /* NULL or "" when this is the last page */
};

void az_list_release(struct az_list *l);

/*
 * Parse a List Blobs / List Containers page. Malformed, truncated or
 * hostile documents (a DOCTYPE, entities, absurd sizes) give -EBADMSG
 * with a message, never a crash. At most AZ_MAX_LIST_RESULTS + 1 items.
 */
int az_parse_list_blobs(const char *xml, size_t len, struct az_list *out, struct az_error *err);
int az_parse_list_containers(const char *xml, size_t len, struct az_list *out,
			     struct az_error *err);

/* Parse <BlockList><CommittedBlocks>: names (ids) and sizes. */
struct az_block {
	char *id;
	uint64_t size;
};
int az_parse_block_list(const char *xml, size_t len, struct az_block **out, size_t *n,
			struct az_error *err);

/* Properties from Get Blob Properties / Get Blob response headers. */
struct az_props {
	uint64_t size;              /* Content-Length, or the total of Content-Range */
	struct timespec mtime;
	char etag[AZ_ETAG_MAX];
	char content_type[128];
	struct az_meta_list meta;   /* x-ms-meta-* */
};

int az_props_from_response(const struct net_req *r, struct az_props *out);
void az_props_release(struct az_props *p);

#endif
