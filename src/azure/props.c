/*
 * props.c - blob properties from the response headers of Get Blob
 * Properties (HEAD) and Get Blob (GET, possibly ranged).
 */
#include "azblobfs/common.h"
#include "azblobfs/timeutil.h"
#include "azure_i.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Strict decimal: digits only, no sign, no overflow. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > 20)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Length of a header value without trailing blanks or line end. */
static size_t value_len(const char *v)
{
	size_t n = strcspn(v, "\r\n");

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n;
}

/* "bytes 0-99/1234" -> 1234. "*" (unknown total) is malformed for a blob. */
static int content_range_total(const char *v, uint64_t *out)
{
	size_t n = value_len(v);
	const char *slash = memrchr(v, '/', n);

	if (strncasecmp(v, "bytes ", 6) || !slash)
		return -EBADMSG;
	return parse_u64(slash + 1, n - (size_t)(slash + 1 - v), out);
}

int az_etag_store(char out[AZ_ETAG_MAX], const char *v, size_t n)
{
	bool quoted = n >= 2 && v[0] == '"' && v[n - 1] == '"';
	size_t need = quoted ? n : n + 2;

	if (!n || need >= AZ_ETAG_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] >= 0x7f)
			return -EBADMSG;
	if (quoted)
		snprintf(out, AZ_ETAG_MAX, "%.*s", (int)n, v);
	else
		snprintf(out, AZ_ETAG_MAX, "\"%.*s\"", (int)n, v);
	return 0;
}

int az_props_from_response(const struct http_msg *r, struct az_props *out)
{
	const char *v;
	time_t t;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((v = http_msg_resp_header(r, "Content-Range"))) {
		rc = content_range_total(v, &out->size);
	} else if ((v = http_msg_resp_header(r, "Content-Length"))) {
		rc = parse_u64(v, value_len(v), &out->size);
	} else {
		rc = -EBADMSG;
	}
	if (rc < 0)
		goto out;
	if ((v = http_msg_resp_header(r, "Last-Modified"))) {
		rc = util_parse_http_date(v, &t);
		if (rc < 0) {
			rc = -EBADMSG;
			goto out;
		}
		out->mtime.tv_sec = t;
	}
	if ((v = http_msg_resp_header(r, "ETag")) && *v) {
		rc = az_etag_store(out->etag, v, value_len(v));
		if (rc < 0)
			goto out;
	}
	if ((v = http_msg_resp_header(r, "Content-Type")) &&
	    value_len(v) < sizeof(out->content_type))
		snprintf(out->content_type, sizeof(out->content_type), "%.*s", (int)value_len(v),
			 v);

	for (unsigned i = 0; i < r->nrhdrs; i++) {
		const char *line = r->rhdrs[i], *colon, *val;
		size_t vlen;

		if (strncasecmp(line, "x-ms-meta-", 10) || !(colon = strchr(line, ':')))
			continue;
		val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		vlen = value_len(val);
		rc = meta_append(&out->meta, line + 10, (size_t)(colon - line - 10), val, vlen);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		az_props_release(out);
	return rc;
}

void az_props_release(struct az_props *p)
{
	if (!p)
		return;
	meta_list_release(&p->meta);
	memset(p, 0, sizeof(*p));
}

void az_commit_result(const struct http_msg *r, struct az_commit *out)
{
	const char *v = http_msg_resp_header(r, "ETag");

	memset(out, 0, sizeof(*out));
	if (v && strlen(v) < sizeof(out->etag))
		strcpy(out->etag, v);
	v = http_msg_resp_header(r, "Last-Modified");
	if (!v || util_parse_http_date(v, &out->mtime.tv_sec) < 0)
		clock_gettime(CLOCK_REALTIME, &out->mtime);
}

int az_copy_status(const struct http_msg *r)
{
	const char *status = http_msg_resp_header(r, "x-ms-copy-status");

	if (!status || !strcmp(status, "success"))
		return 0;
	return strcmp(status, "pending") ? -EIO : -EINPROGRESS;
}
