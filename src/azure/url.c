/*
 * url.c - percent-encoding of names and query values, URL splitting.
 *
 * Encoding goes through libxml2's xmlURIEscapeStr(); decoding through
 * xmlURIUnescapeString() after a validity check of every escape.
 */
#include "azblobfs/common.h"
#include "azure_i.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/uri.h>
#include <libxml/xmlmemory.h>

/*
 * xmlURIEscapeStr() keeps RFC 2396 "marks" and '@' as they are. The Azure
 * SDKs (encodeURIComponent plus "'") encode '\'' and '@', so do the same:
 * the two then produce byte-identical paths, which is what gets signed.
 */
static char *escape(const char *s, const char *keep)
{
	xmlChar *e = xmlURIEscapeStr((const xmlChar *)s, (const xmlChar *)keep);
	size_t extra = 0, n;
	char *out, *o;

	if (!e)
		return NULL;
	for (const xmlChar *p = e; *p; p++)
		if (*p == '\'' || *p == '@')
			extra += 2;
	n = strlen((const char *)e);
	out = malloc(n + extra + 1);
	if (out) {
		o = out;
		for (const xmlChar *p = e; *p; p++) {
			if (*p == '\'') {
				memcpy(o, "%27", 3);
				o += 3;
			} else if (*p == '@') {
				memcpy(o, "%40", 3);
				o += 3;
			} else {
				*o++ = (char)*p;
			}
		}
		*o = '\0';
	}
	xmlFree(e);
	return out;
}

char *az_url_escape_path(const char *name)
{
	/* xmlURIEscapeStr() returns NULL for "", which is a valid (empty) value here. */
	return *name ? escape(name, "/") : strdup("");
}

char *az_url_escape_query(const char *value)
{
	return *value ? escape(value, "") : strdup("");
}

char *az_url_unescape(const char *s, size_t n)
{
	char *out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			return NULL;
		if (s[i] != '%')
			continue;
		if (i + 2 >= n)
			return NULL;
		if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
			return NULL;
		if (s[i + 1] == '0' && s[i + 2] == '0')
			return NULL;
		i += 2;
	}
	/* A NULL target makes libxml2 allocate with its allocator: copy to ours. */
	out = malloc(n + 1);
	if (!out)
		return NULL;
	if (!n) {
		*out = '\0';
		return out;
	}
	if (!xmlURIUnescapeString(s, (int)n, out)) {
		free(out);
		return NULL;
	}
	return out;
}

int az_url_split(const char *url, struct az_url_parts *out)
{
	const char *p, *h, *end;

	memset(out, 0, sizeof(*out));
	if (!strncasecmp(url, "https://", 8))
		out->scheme_len = 5;
	else if (!strncasecmp(url, "http://", 7))
		out->scheme_len = 4;
	else
		return -EINVAL;
	out->scheme = url;
	h = url + out->scheme_len + 3;
	p = h + strcspn(h, "/?#");
	if (p == h)
		return -EINVAL;
	out->host = h;
	out->host_len = (size_t)(p - h);
	if (*p == '/') {
		end = p + strcspn(p, "?#");
		out->path = p;
		out->path_len = (size_t)(end - p);
		p = end;
	} else {
		out->path = p;
	}
	if (*p == '?') {
		end = p + 1 + strcspn(p + 1, "#");
		out->query = p + 1;
		out->query_len = (size_t)(end - p - 1);
		p = end;
	} else {
		out->query = p;
	}
	out->has_fragment = *p == '#';
	return 0;
}

bool az_host_is_path_style(const char *host, size_t len)
{
	size_t dots = 0;

	if (len && host[0] == '[')
		return true; /* IPv6 literal */
	if (len == 9 && !strncasecmp(host, "localhost", 9))
		return true;
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (host[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)host[i]))
			return false;
	}
	return dots == 3;
}
