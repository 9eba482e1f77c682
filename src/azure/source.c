/*
 * source.c - the SOURCE argument of a mount, and the service's naming rules.
 */
#include "azblobfs/common.h"
#include "azure_i.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

bool az_account_name_valid(const char *s, size_t len)
{
	if (!len || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

bool az_container_name_valid(const char *s, size_t len)
{
	static const char *const special[] = {"$root", "$web", "$logs"};

	for (size_t i = 0; i < ARRAY_SIZE(special); i++)
		if (len == strlen(special[i]) && !memcmp(s, special[i], len))
			return true;
	if (len < 3 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-') {
			if (s[i + 1] == '-')
				return false;
		} else if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

void az_source_release(struct az_source *s)
{
	if (!s)
		return;
	free(s->account);
	free(s->container);
	free(s->prefix);
	free(s->endpoint);
	if (s->sas)
		OPENSSL_cleanse(s->sas, strlen(s->sas));
	free(s->sas);
	memset(s, 0, sizeof(*s));
}

/*
 * "container[/prefix]" (or "" for the whole account) into @out. A prefix
 * gets its trailing '/'; empty, "." and ".." components are refused since
 * no path can name them.
 */
static int parse_container_prefix(const char *p, struct az_source *out, struct az_error *err)
{
	size_t clen = strcspn(p, "/");
	const char *rest;
	size_t plen;

	if (!clen) {
		if (*p)
			return az_error_set(err, -EINVAL, "SOURCE: empty container name");
		return 0; /* the whole account */
	}
	if (!az_container_name_valid(p, clen))
		return az_error_set(err, -EINVAL,
				    "SOURCE: invalid container name (3-63 lowercase letters, "
				    "digits and single hyphens)");
	out->container = strndup(p, clen);
	if (!out->container)
		return -ENOMEM;
	rest = p[clen] ? p + clen + 1 : p + clen;
	plen = strlen(rest);
	for (const char *c = rest; *c;) {
		size_t n = strcspn(c, "/");

		if ((n == 0 && c[n]) || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return az_error_set(err, -EINVAL,
					    "SOURCE: empty, '.' or '..' component in the prefix");
		c += n;
		if (*c)
			c++;
	}
	if (plen >= AZ_MAX_BLOB_NAME)
		return az_error_set(err, -ENAMETOOLONG, "SOURCE: prefix too long");
	if (plen && rest[plen - 1] != '/') {
		if (asprintf(&out->prefix, "%s/", rest) < 0)
			out->prefix = NULL;
	} else {
		out->prefix = strdup(rest);
	}
	return out->prefix ? 0 : -ENOMEM;
}

static int parse_url(const char *src, struct az_source *out, struct az_error *err)
{
	struct az_url_parts u;
	size_t hlen;
	char *path = NULL;
	const char *rest;
	int rc;

	if (az_url_split(src, &u) < 0)
		return az_error_set(err, -EINVAL, "SOURCE: only http:// and https:// URLs");
	if (u.has_fragment)
		return az_error_set(err, -EINVAL, "SOURCE: a URL with a '#' fragment");
	if (u.host_len && u.host[0] == '[') {
		const char *b = memchr(u.host, ']', u.host_len);

		hlen = b ? (size_t)(b - u.host) + 1 : u.host_len;
	} else {
		const char *colon = memchr(u.host, ':', u.host_len);

		hlen = colon ? (size_t)(colon - u.host) : u.host_len;
	}
	if (memchr(u.host, '@', u.host_len))
		return az_error_set(err, -EINVAL, "SOURCE: user names in URLs are not supported");

	path = az_url_unescape(u.path_len ? u.path + 1 : "", u.path_len ? u.path_len - 1 : 0);
	if (!path)
		return az_error_set(err, -EINVAL, "SOURCE: malformed %%-escape in the URL path");
	if (az_host_is_path_style(u.host, hlen)) {
		size_t alen = strcspn(path, "/");

		if (!az_account_name_valid(path, alen)) {
			rc = az_error_set(
			    err, -EINVAL,
			    "SOURCE: a path-style URL must start with the account name");
			goto out;
		}
		out->account = strndup(path, alen);
		rc = asprintf(&out->endpoint, "%.*s/%.*s", (int)(u.host + u.host_len - src), src,
			      (int)alen, path);
		if (rc < 0)
			out->endpoint = NULL;
		rest = path + alen + (path[alen] == '/');
	} else {
		size_t alen = MIN(hlen, strcspn(u.host, "."));

		if (!az_account_name_valid(u.host, alen)) {
			rc = az_error_set(
			    err, -EINVAL,
			    "SOURCE: the host name does not start with an account name");
			goto out;
		}
		out->account = strndup(u.host, alen);
		out->endpoint = strndup(src, (size_t)(u.host + u.host_len - src));
		rest = path;
	}
	if (!out->account || !out->endpoint) {
		rc = -ENOMEM;
		goto out;
	}
	if (u.query_len && !(out->sas = strndup(u.query, u.query_len))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = parse_container_prefix(rest, out, err);
out:
	free(path);
	return rc;
}

int az_source_parse(const char *src, struct az_source *out, struct az_error *err)
{
	const char *slash;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!src || !*src)
		return az_error_set(err, -EINVAL, "SOURCE is empty");
	if (strstr(src, "://")) {
		rc = parse_url(src, out, err);
	} else if (!(slash = strchr(src, '/'))) {
		rc = parse_container_prefix(src, out, err);
	} else if (!az_account_name_valid(src, (size_t)(slash - src))) {
		rc =
		    az_error_set(err, -EINVAL, "SOURCE: invalid account name before the first '/'");
	} else {
		out->account = strndup(src, (size_t)(slash - src));
		rc = out->account ? parse_container_prefix(slash + 1, out, err) : -ENOMEM;
	}
	if (rc == 0 && !out->prefix && !(out->prefix = strdup("")))
		rc = -ENOMEM;
	if (rc == -ENOMEM)
		az_error_set(err, rc, "out of memory");
	if (rc < 0)
		az_source_release(out);
	return rc;
}
