/*
 * client.c - struct az_client and the request builders.
 *
 * A builder turns one REST operation into a struct http_msg: method, URL
 * (names percent-encoded once, query values fully encoded), the headers
 * that are signed, and the sign hook that dates and signs each attempt.
 * Every header that takes part in the signature is set here explicitly --
 * Content-Length for every PUT, Content-Type (empty when there is none, so
 * curl adds none) -- so what az_string_to_sign() sees is what curl sends.
 */
#include "azblobfs/common.h"
#include "azblobfs/buf.h"
#include "azblobfs/cleanup.h"
#include "azure_i.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Headers a builder may leave for az_sign_prepare(): x-ms-date and Authorization. */
#define SIGN_HDRS 2

int az_client_init(struct az_client *c, struct az_creds *creds)
{
	struct az_url_parts u;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (!creds->account || !creds->endpoint || az_url_split(creds->endpoint, &u) < 0)
		return -EINVAL;
	n = u.path_len;
	while (n && u.path[n - 1] == '/')
		n--;
	c->host_path = strndup(u.path, n);
	if (!c->host_path)
		return -ENOMEM;
	c->creds = *creds;
	memset(creds, 0, sizeof(*creds));
	return 0;
}

void az_client_release(struct az_client *c)
{
	if (!c)
		return;
	az_creds_release(&c->creds);
	free(c->host_path);
	c->host_path = NULL;
}

/* The SAS goes into URLs only when there is no key to sign with. */
static const char *url_sas(const struct az_client *c)
{
	return !c->creds.key && c->creds.sas ? c->creds.sas : NULL;
}

size_t az_name_chars(const char *name)
{
	size_t chars = 0;

	/* Count UTF-8 lead bytes. */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		chars += (*p & 0xc0) != 0x80;
	return chars;
}

static int check_blob_name(const char *blob)
{
	if (!blob || !*blob)
		return -EINVAL;
	return az_name_chars(blob) > AZ_MAX_BLOB_NAME ? -ENAMETOOLONG : 0;
}

/* Query parameters in the order given (the signature sorts them itself). */
struct query {
	struct buf b;
};

static int query_add(struct query *q, const char *name, const char *value)
{
	_cleanup_free_ char *e = NULL;

	if (!value || !*value)
		return 0; /* an absent parameter, not an empty one */
	e = az_url_escape_query(value);
	if (!e)
		return -ENOMEM;
	return buf_printf(&q->b, "%s%s=%s", q->b.len ? "&" : "", name, e);
}

/*
 * endpoint[/container[/blob]][?query][&sas]. @blob is percent-encoded here
 * and nowhere else.
 */
static int make_url(const struct az_client *c, const char *container, const char *blob,
		    const struct query *q, bool with_sas, char **out)
{
	_cleanup_free_ char *eblob = NULL;
	const char *sas = with_sas ? url_sas(c) : NULL;
	const char *query = q && q->b.len ? q->b.data : "";
	struct buf u;
	int rc;

	if (blob && !(eblob = az_url_escape_path(blob)))
		return -ENOMEM;
	buf_init(&u, 64 * KIB);
	rc = buf_printf(&u, "%s/%s%s%s", c->creds.endpoint, container ? container : "",
			eblob ? "/" : "", eblob ? eblob : "");
	if (rc == 0 && (*query || sas))
		rc = buf_printf(&u, "?%s%s%s", query, *query && sas ? "&" : "", sas ? sas : "");
	if (rc < 0) {
		buf_release(&u);
		return rc == -ENOBUFS ? -ENAMETOOLONG : rc;
	}
	*out = buf_detach(&u);
	return *out ? 0 : -ENOMEM;
}

/* Reset @r's URL and headers and fill what every request has. */
static int begin(const struct az_client *c, struct http_msg *r, const char *method, enum az_op op,
		 bool bulk, const char *container, const char *blob, struct query *q)
{
	char *url = NULL;
	int rc;

	if (container && !az_container_name_valid(container, strlen(container)))
		rc = -EINVAL;
	else
		rc = blob ? check_blob_name(blob) : 0;
	if (rc == 0)
		rc = make_url(c, container, blob, q, true, &url);
	buf_release(&q->b);
	if (rc < 0)
		return rc;
	http_msg_reset_request(r);
	http_msg_set_url(r, url);
	r->method = method;
	r->op = op;
	r->bulk = bulk;
	r->sign = az_sign_prepare;
	r->sign_arg = (void *)c;
	return http_msg_set_header(r, "x-ms-version", "%s", AZ_API_VERSION);
}

/* Set a header whose value comes from a caller; refuse what cannot be sent as is. */
static int set_value(struct http_msg *r, const char *name, const char *value)
{
	if (!value)
		return 0;
	if (!*value || !meta_value_valid(value))
		return -EINVAL;
	return http_msg_set_header(r, name, "%s", value);
}

static int set_body_headers(struct http_msg *r, uint64_t len, const char *content_type)
{
	int rc = http_msg_set_header(r, "Content-Length", "%" PRIu64, len);

	if (rc < 0)
		return rc;
	if (content_type && !meta_value_valid(content_type))
		return -EINVAL;
	/* An empty value sends no Content-Type at all, and signs as empty. */
	return http_msg_set_header(r, "Content-Type", "%s", content_type ? content_type : "");
}

static int set_md5(struct http_msg *r, const char *name, const unsigned char *md5)
{
	_cleanup_free_ char *b = NULL;

	if (!md5)
		return 0;
	b = az_b64_encode(md5, 16);
	return b ? http_msg_set_header(r, name, "%s", b) : -ENOMEM;
}

/*
 * x-ms-meta-* headers. Empty values are skipped: curl cannot send an empty
 * header line, and signing one it does not send would fail every request.
 */
static int set_meta(struct http_msg *r, const struct meta_list *m)
{
	char name[300];
	int rc;

	for (size_t i = 0; m && i < m->n; i++) {
		if (!meta_name_valid(m->items[i].name) || !meta_value_valid(m->items[i].value))
			return -EINVAL;
		if (!*m->items[i].value)
			continue;
		snprintf(name, sizeof(name), "x-ms-meta-%s", m->items[i].name);
		rc = http_msg_set_header(r, name, "%s", m->items[i].value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Fail at build time, not at the first attempt, when signing would not fit. */
static int finish(struct http_msg *r, int rc)
{
	if (rc == 0 && r->nhdrs + SIGN_HDRS > HTTP_MAX_HDRS)
		rc = -E2BIG;
	return rc;
}

static void want_resp(struct http_msg *r, size_t max)
{
	r->resp_max = max;
	if (!r->resp.len) {
		buf_release(&r->resp);
		buf_init(&r->resp, max);
	}
}

int az_req_list_containers(const struct az_client *c, struct http_msg *r, const char *prefix,
			   const char *marker, unsigned maxresults)
{
	struct query q;
	char num[16];
	int rc;

	buf_init(&q.b, 16 * KIB);
	snprintf(num, sizeof(num), "%u", MIN(maxresults, AZ_MAX_LIST_RESULTS));
	if ((rc = query_add(&q, "comp", "list")) < 0 ||
	    (rc = query_add(&q, "marker", marker)) < 0 ||
	    (rc = query_add(&q, "maxresults", maxresults ? num : NULL)) < 0 ||
	    (rc = query_add(&q, "prefix", prefix)) < 0) {
		buf_release(&q.b);
		return rc;
	}
	rc = begin(c, r, "GET", AZ_OP_LIST_CONTAINERS, false, NULL, NULL, &q);
	want_resp(r, AZ_LIST_RESP_MAX);
	return finish(r, rc);
}

int az_req_list_blobs(const struct az_client *c, struct http_msg *r, const char *container,
		      const char *prefix, const char *delimiter, const char *marker,
		      unsigned maxresults, bool include_metadata)
{
	struct query q;
	char num[16];
	int rc;

	if (!container)
		return -EINVAL;
	buf_init(&q.b, 16 * KIB);
	snprintf(num, sizeof(num), "%u", MIN(maxresults, AZ_MAX_LIST_RESULTS));
	if ((rc = query_add(&q, "restype", "container")) < 0 ||
	    (rc = query_add(&q, "comp", "list")) < 0 ||
	    (rc = query_add(&q, "prefix", prefix)) < 0 ||
	    (rc = query_add(&q, "delimiter", delimiter)) < 0 ||
	    (rc = query_add(&q, "marker", marker)) < 0 ||
	    (rc = query_add(&q, "maxresults", maxresults ? num : NULL)) < 0 ||
	    (rc = query_add(&q, "include", include_metadata ? "metadata" : NULL)) < 0) {
		buf_release(&q.b);
		return rc;
	}
	rc = begin(c, r, "GET", AZ_OP_LIST_BLOBS, false, container, NULL, &q);
	want_resp(r, AZ_LIST_RESP_MAX);
	return finish(r, rc);
}

int az_req_get_container_props(const struct az_client *c, struct http_msg *r, const char *container)
{
	struct query q;
	int rc;

	if (!container)
		return -EINVAL;
	buf_init(&q.b, KIB);
	if ((rc = query_add(&q, "restype", "container")) < 0) {
		buf_release(&q.b);
		return rc;
	}
	rc = begin(c, r, "HEAD", AZ_OP_GET_CONTAINER_PROPS, false, container, NULL, &q);
	return finish(r, rc);
}

int az_req_get_props(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *blob)
{
	struct query q;
	int rc;

	if (!container || !blob)
		return -EINVAL;
	buf_init(&q.b, KIB);
	rc = begin(c, r, "HEAD", AZ_OP_GET_PROPS, false, container, blob, &q);
	return finish(r, rc);
}

int az_req_get_range(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *blob, uint64_t off, uint64_t len, const char *if_match)
{
	struct query q;
	int rc;

	if (!container || !blob || !len || off > UINT64_MAX - len)
		return -EINVAL;
	buf_init(&q.b, KIB);
	rc = begin(c, r, "GET", AZ_OP_GET_BLOB, true, container, blob, &q);
	if (rc == 0)
		rc = http_msg_set_header(r, "x-ms-range", "bytes=%" PRIu64 "-%" PRIu64, off,
					 off + len - 1);
	if (rc == 0)
		rc = set_value(r, "If-Match", if_match);
	return finish(r, rc);
}

/* Conditions and metadata shared by the writes. */
static int set_write_opts(struct http_msg *r, const struct az_write_opts *o)
{
	int rc;

	if (!o)
		return 0;
	if ((rc = set_value(r, "If-Match", o->if_match)) < 0 ||
	    (rc = set_value(r, "If-None-Match", o->if_none_match)) < 0)
		return rc;
	return set_meta(r, o->meta);
}

int az_req_put_blob(const struct az_client *c, struct http_msg *r, const char *container,
		    const char *blob, uint64_t len, const struct az_write_opts *o)
{
	struct query q;
	const char *type;
	int rc;

	if (!container || !blob)
		return -EINVAL;
	buf_init(&q.b, KIB);
	rc = begin(c, r, "PUT", AZ_OP_PUT_BLOB, len >= MIB, container, blob, &q);
	type = o && o->content_type ? o->content_type : az_content_type(blob);
	if (rc == 0)
		rc = set_body_headers(r, len, type);
	if (rc == 0)
		rc = http_msg_set_header(r, "x-ms-blob-type", "BlockBlob");
	if (rc == 0)
		rc = set_md5(r, "Content-MD5", o ? o->md5 : NULL);
	if (rc == 0)
		rc = set_write_opts(r, o);
	return finish(r, rc);
}

int az_req_put_block(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *blob, const char *block_id, uint64_t len, const unsigned char *md5)
{
	struct query q;
	int rc;

	if (!container || !blob || !block_id || !az_b64_valid(block_id) || strlen(block_id) > 88)
		return -EINVAL;
	buf_init(&q.b, KIB);
	if ((rc = query_add(&q, "comp", "block")) < 0 ||
	    (rc = query_add(&q, "blockid", block_id)) < 0) {
		buf_release(&q.b);
		return rc;
	}
	rc = begin(c, r, "PUT", AZ_OP_PUT_BLOCK, true, container, blob, &q);
	if (rc == 0)
		rc = set_body_headers(r, len, NULL);
	if (rc == 0)
		rc = set_md5(r, "Content-MD5", md5);
	return finish(r, rc);
}

int az_req_put_block_list(const struct az_client *c, struct http_msg *r, const char *container,
			  const char *blob, char *const *ids, size_t n,
			  const struct az_write_opts *o, struct buf *body_out)
{
	struct query q;
	const char *type;
	int rc;

	if (!container || !blob || (n && !ids) || n > AZ_MAX_BLOCKS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!ids[i] || !az_b64_valid(ids[i]) || strlen(ids[i]) > 88)
			return -EINVAL;

	buf_release(body_out);
	buf_init(body_out, 128 + n * (88 + 20));
	rc = buf_puts(body_out, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = buf_printf(body_out, "<Latest>%s</Latest>", ids[i]);
	if (rc == 0)
		rc = buf_puts(body_out, "</BlockList>");
	if (rc < 0)
		return rc;

	buf_init(&q.b, KIB);
	if ((rc = query_add(&q, "comp", "blocklist")) < 0) {
		buf_release(&q.b);
		return rc;
	}
	rc = begin(c, r, "PUT", AZ_OP_PUT_BLOCK_LIST, false, container, blob, &q);
	type = o && o->content_type ? o->content_type : az_content_type(blob);
	if (rc == 0)
		rc = set_body_headers(r, body_out->len, "application/xml");
	if (rc == 0)
		rc = set_value(r, "x-ms-blob-content-type", type);
	if (rc == 0)
		rc = set_md5(r, "x-ms-blob-content-md5", o ? o->md5 : NULL);
	if (rc == 0)
		rc = set_write_opts(r, o);
	return finish(r, rc);
}

int az_req_get_block_list(const struct az_client *c, struct http_msg *r, const char *container,
			  const char *blob)
{
	struct query q;
	int rc;

	if (!container || !blob)
		return -EINVAL;
	buf_init(&q.b, KIB);
	if ((rc = query_add(&q, "comp", "blocklist")) < 0 ||
	    (rc = query_add(&q, "blocklisttype", "committed")) < 0) {
		buf_release(&q.b);
		return rc;
	}
	rc = begin(c, r, "GET", AZ_OP_GET_BLOCK_LIST, false, container, blob, &q);
	want_resp(r, AZ_BLOCKLIST_RESP_MAX);
	return finish(r, rc);
}

int az_req_delete_blob(const struct az_client *c, struct http_msg *r, const char *container,
		       const char *blob, const char *if_match)
{
	struct query q;
	int rc;

	if (!container || !blob)
		return -EINVAL;
	buf_init(&q.b, KIB);
	rc = begin(c, r, "DELETE", AZ_OP_DELETE_BLOB, false, container, blob, &q);
	/* unlink() removes the file, whatever snapshots it has (as blobfuse2 does). */
	if (rc == 0)
		rc = http_msg_set_header(r, "x-ms-delete-snapshots", "include");
	if (rc == 0)
		rc = set_value(r, "If-Match", if_match);
	return finish(r, rc);
}

int az_req_copy_blob(const struct az_client *c, struct http_msg *r, const char *container,
		     const char *src_blob, const char *dst_blob, const struct meta_list *meta,
		     const char *src_if_match, const char *if_none_match)
{
	_cleanup_free_ char *src = NULL;
	struct query q;
	int rc;

	if (!container || !src_blob || !dst_blob)
		return -EINVAL;
	rc = check_blob_name(src_blob);
	if (rc < 0)
		return rc;
	if (!az_container_name_valid(container, strlen(container)))
		return -EINVAL;
	rc = make_url(c, container, src_blob, NULL, true, &src);
	if (rc < 0)
		return rc;
	buf_init(&q.b, KIB);
	rc = begin(c, r, "PUT", AZ_OP_COPY_BLOB, false, container, dst_blob, &q);
	if (rc == 0)
		rc = set_body_headers(r, 0, NULL);
	if (rc == 0)
		rc = http_msg_set_header(r, "x-ms-copy-source", "%s", src);
	if (rc == 0)
		rc = set_value(r, "x-ms-source-if-match", src_if_match);
	if (rc == 0)
		rc = set_meta(r, meta);
	if (rc == 0)
		rc = set_value(r, "If-None-Match", if_none_match);
	return finish(r, rc);
}

int az_req_set_metadata(const struct az_client *c, struct http_msg *r, const char *container,
			const char *blob, const struct meta_list *meta, const char *if_match)
{
	struct query q;
	int rc;

	if (!container || !blob)
		return -EINVAL;
	buf_init(&q.b, KIB);
	if ((rc = query_add(&q, "comp", "metadata")) < 0) {
		buf_release(&q.b);
		return rc;
	}
	rc = begin(c, r, "PUT", AZ_OP_SET_METADATA, false, container, blob, &q);
	if (rc == 0)
		rc = set_body_headers(r, 0, NULL);
	if (rc == 0)
		rc = set_meta(r, meta);
	if (rc == 0)
		rc = set_value(r, "If-Match", if_match);
	return finish(r, rc);
}
