/*
 * req.c - struct net_req helpers: headers and results. Thread-neutral:
 * whoever owns the request may call these.
 */
#include "azblobfs/common.h"
#include "azblobfs/net.h"
#include "net_i.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void net_req_init(struct net_req *r)
{
	memset(r, 0, sizeof(*r));
	r->body_fd = -1;
	r->body_dfd = -1;
	r->resp_max = 64 * KIB;
	buf_init(&r->resp, r->resp_max);
	list_init(&r->node);
}

void net_req_clear_response(struct net_req *r)
{
	for (unsigned i = 0; i < r->nrhdrs; i++)
		free(r->rhdrs[i]);
	r->nrhdrs = 0;
	buf_release(&r->resp);
	buf_init(&r->resp, r->resp_max);
	r->status = 0;
	r->err = 0;
	r->sink_len = 0;
}

void net_req_release(struct net_req *r)
{
	if (!r)
		return;
	free(r->url);
	r->url = NULL;
	for (unsigned i = 0; i < r->nhdrs; i++)
		free(r->hdrs[i]);
	free(r->hdrs);
	r->hdrs = NULL;
	r->nhdrs = r->hdrs_cap = 0;
	net_req_clear_response(r);
	buf_release(&r->resp);
}

void net_req_set_url(struct net_req *r, char *url)
{
	free(r->url);
	r->url = url;
}

/* Index of the header line named @name, or -1. */
static int find_header(char *const *lines, unsigned n, const char *name)
{
	size_t len = strlen(name);

	for (unsigned i = 0; i < n; i++)
		if (!strncasecmp(lines[i], name, len) && lines[i][len] == ':')
			return (int)i;
	return -1;
}

int net_req_set_header(struct net_req *r, const char *name, const char *fmt, ...)
{
	char *line = NULL;
	char *value = NULL;
	va_list ap;
	int i, n;

	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	n = *value ? asprintf(&line, "%s: %s", name, value) : asprintf(&line, "%s:", name);
	free(value);
	if (n < 0)
		return -ENOMEM;
	i = find_header(r->hdrs, r->nhdrs, name);
	if (i >= 0) {
		free(r->hdrs[i]);
		r->hdrs[i] = line;
		return 0;
	}
	if (r->nhdrs >= NET_MAX_HDRS) {
		free(line);
		return -E2BIG;
	}
	if (r->nhdrs == r->hdrs_cap) {
		unsigned cap = r->hdrs_cap ? r->hdrs_cap * 2 : 16;
		char **grown = realloc(r->hdrs, cap * sizeof(*grown));
		if (!grown) {
			free(line);
			return -ENOMEM;
		}
		r->hdrs = grown;
		r->hdrs_cap = cap;
	}
	r->hdrs[r->nhdrs++] = line;
	return 0;
}

static const char *header_value(char *const *lines, unsigned n, const char *name)
{
	int i = find_header(lines, n, name);
	const char *v;

	if (i < 0)
		return NULL;
	v = lines[i] + strlen(name) + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	return v;
}

const char *net_req_header(const struct net_req *r, const char *name)
{
	return header_value(r->hdrs, r->nhdrs, name);
}

const char *net_resp_header(const struct net_req *r, const char *name)
{
	return header_value(r->rhdrs, r->nrhdrs, name);
}

const char *net_outcome_name(enum net_outcome o)
{
	static const char *const names[] = {"ok", "client_error", "server_error", "network_error",
					    "cancelled"};

	return (unsigned)o < ARRAY_SIZE(names) ? names[o] : "unknown";
}

void net_req_add_resp_header(struct net_req *r, const char *line, size_t len)
{
	char *copy;

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new response (after 100 Continue or a redirect): start over. */
		for (unsigned i = 0; i < r->nrhdrs; i++)
			free(r->rhdrs[i]);
		r->nrhdrs = 0;
		return;
	}
	if (!len || len > NET_RESP_HDR_MAX || r->nrhdrs >= NET_MAX_RESP_HDRS || !memchr(line, ':', len))
		return;
	copy = strndup(line, len);
	if (copy)
		r->rhdrs[r->nrhdrs++] = copy;
}
