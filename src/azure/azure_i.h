/*
 * azure_i.h - helpers shared by the files of src/azure; not part of the API.
 *
 * Everything here is reentrant. Strings returned as char * are malloc'd and
 * owned by the caller; NULL means out of memory unless said otherwise.
 */
#ifndef AZBLOBFS_AZURE_I_H
#define AZBLOBFS_AZURE_I_H

#include "azblobfs/common.h"
#include "azblobfs/azure.h"

/* Largest XML document any parser accepts (a 5,000-entry listing with metadata is a few MiB). */
#define AZ_XML_MAX (32 * MIB)
/* resp_max the list builders set: a full listing page, as much as the parser takes. */
#define AZ_LIST_RESP_MAX AZ_XML_MAX
/* resp_max of Get Block List: 50,000 committed blocks. */
#define AZ_BLOCKLIST_RESP_MAX (8 * MIB)
/* Committed blocks per blob (service limit). */
#define AZ_MAX_BLOCKS 50000
/* Metadata pairs per blob or listing item (the service's 8 KiB allow a few hundred). */
/* Bytes of one metadata value (the service allows 8 KiB for all of them). */

/* ---- base64 (crypto.c, OpenSSL) ---- */

/* base64 of @n bytes into a new string. */
char *az_b64_encode(const void *p, size_t n);

/*
 * Decode standard base64 (with '=' padding, length a multiple of 4).
 * Returns 0 with *out (malloc'd, caller frees) and *outlen, -EINVAL for
 * input that is not base64 (empty included), or -ENOMEM.
 */
int az_b64_decode(const char *s, unsigned char **out, size_t *outlen);

/* True when @s is non-empty, canonical standard base64. */
bool az_b64_valid(const char *s);

/* ---- URLs (url.c, libxml2) ---- */

/*
 * Percent-encode a blob name for a URL path: RFC 3986 unreserved characters,
 * "!*()" and '/' stay, everything else (including '%', '#', '?', '+', '&',
 * '=', '\'', '@', spaces and every byte >= 0x80) is encoded -- the set the
 * Azure SDKs send, so signatures computed over the path match the service.
 */
char *az_url_escape_path(const char *name);

/* Percent-encode a query value: like the path, but '/' is encoded too. */
char *az_url_escape_query(const char *value);

/*
 * Decode %XX escapes of @n bytes of @s. '+' stays '+'. Returns NULL on
 * allocation failure or when the result would contain a NUL byte (%00) or
 * a malformed escape ("%4", "%zz").
 */
char *az_url_unescape(const char *s, size_t n);

/*
 * Split an absolute http(s) URL: *scheme_len (up to "://"), the host[:port]
 * part and the path (from the first '/' after the host up to '?' or '#',
 * may be empty), and the query (after '?', up to '#', may be empty).
 * Returns 0 or -EINVAL when @url is not http:// or https://.
 */
struct az_url_parts {
	const char *scheme;
	size_t scheme_len;
	const char *host; /* host[:port], IPv6 literals keep their brackets */
	size_t host_len;
	const char *path;
	size_t path_len;
	const char *query;
	size_t query_len;
	bool has_fragment;
};
int az_url_split(const char *url, struct az_url_parts *out);

/* True for a host (without port) that is an IP literal or "localhost": path-style URLs. */
bool az_host_is_path_style(const char *host, size_t len);

/* ---- names (source.c) ---- */

/* Account names: 1-63 of [a-z0-9-] (Azure: 3-24 of [a-z0-9]; emulators are laxer). */
bool az_account_name_valid(const char *s, size_t len);

/* Container names per the service's rules, plus "$root", "$web" and "$logs". */
bool az_container_name_valid(const char *s, size_t len);

/* ---- XML (xml.c) ---- */

struct _xmlDoc;

/*
 * Parse @len bytes with libxml2 safely: size cap, no network, no entity
 * substitution, and any document with a DOCTYPE or declarations refused.
 * @what names the document in messages ("List Blobs"). Returns 0 and
 * *doc (free with xmlFreeDoc) or -EBADMSG/-ENOMEM with @err set.
 */
int az_xml_read(const char *xml, size_t len, const char *what, struct _xmlDoc **doc,
		struct az_error *err);

/* ---- properties (props.c) ---- */

/*
 * Store the ETag @v (@n bytes, quoted or not) quoted into @out, as the ETag
 * header has it and If-Match wants it. Returns 0 or -EBADMSG (empty, too
 * long, or not printable ASCII).
 */
int az_etag_store(char out[AZ_ETAG_MAX], const char *v, size_t n);

/* ---- signing (sign.c) ---- */

/*
 * Order of two lowercase header names as the service sorts them for Shared
 * Key (the comparator of the Azure SDKs: hyphens ignored first, then case,
 * then hyphens). Negative when @a sorts first.
 */
int az_header_cmp(const char *a, const char *b);

#endif
