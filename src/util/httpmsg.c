/*
 * httpmsg.c - struct http_msg: request header lines, response header
 * lines and results. Thread-neutral: whoever owns the message calls these.
 */
#include "azblobfs/common.h"
#include "azblobfs/httpmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_msg_init(struct http_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->resp_max = HTTP_RESP_MAX_DEFAULT;
	buf_init(&m->resp, m->resp_max);
}

void http_msg_clear_response(struct http_msg *m)
{
	for (unsigned i = 0; i < m->nrhdrs; i++)
		free(m->rhdrs[i]);
	m->nrhdrs = 0;
	buf_release(&m->resp);
	buf_init(&m->resp, m->resp_max);
	m->status = 0;
	m->err = 0;
	m->sink_len = 0;
}

void http_msg_reset_request(struct http_msg *m)
{
	for (unsigned i = 0; i < m->nhdrs; i++)
		free(m->hdrs[i]);
	m->nhdrs = 0;
	http_msg_set_url(m, NULL);
}

void http_msg_release(struct http_msg *m)
{
	if (!m)
		return;
	http_msg_reset_request(m);
	free(m->hdrs);
	m->hdrs = NULL;
	m->hdrs_cap = 0;
	http_msg_clear_response(m);
	buf_release(&m->resp);
}

void http_msg_set_url(struct http_msg *m, char *url)
{
	free(m->url);
	m->url = url;
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

int http_msg_set_header(struct http_msg *m, const char *name, const char *fmt, ...)
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
	i = find_header(m->hdrs, m->nhdrs, name);
	if (i >= 0) {
		free(m->hdrs[i]);
		m->hdrs[i] = line;
		return 0;
	}
	if (m->nhdrs >= HTTP_MAX_HDRS) {
		free(line);
		return -E2BIG;
	}
	if (m->nhdrs == m->hdrs_cap) {
		unsigned cap = m->hdrs_cap ? m->hdrs_cap * 2 : 16;
		char **grown = realloc(m->hdrs, cap * sizeof(*grown));
		if (!grown) {
			free(line);
			return -ENOMEM;
		}
		m->hdrs = grown;
		m->hdrs_cap = cap;
	}
	m->hdrs[m->nhdrs++] = line;
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

const char *http_msg_header(const struct http_msg *m, const char *name)
{
	return header_value(m->hdrs, m->nhdrs, name);
}

const char *http_msg_resp_header(const struct http_msg *m, const char *name)
{
	return header_value(m->rhdrs, m->nrhdrs, name);
}

void http_msg_add_resp_header(struct http_msg *m, const char *line, size_t len)
{
	char *copy;

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new response (after 100 Continue or a redirect): start over. */
		for (unsigned i = 0; i < m->nrhdrs; i++)
			free(m->rhdrs[i]);
		m->nrhdrs = 0;
		return;
	}
	if (!len || len > HTTP_RESP_HDR_MAX || m->nrhdrs >= HTTP_MAX_RESP_HDRS ||
	    !memchr(line, ':', len))
		return;
	copy = strndup(line, len);
	if (copy)
		m->rhdrs[m->nrhdrs++] = copy;
}
