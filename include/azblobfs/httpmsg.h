/*
 * httpmsg.h - the description of one HTTP exchange as plain data: method,
 * URL, request header lines, and what came back (status, response header
 * lines, a body that was not sunk elsewhere, or a transport error).
 *
 * Layer: util. azure builds, signs and parses this type and nothing else;
 * net embeds it in struct net_req and does the transfer (curl, request
 * bodies, retries, deadlines, priorities). So azure never sees net.
 *
 * Threads: none of its own. Whoever owns the message (the owner of the
 * struct net_req it is embedded in) may call these functions.
 *
 * Ownership: url, the request header lines, the response header lines and
 * resp are owned by the message and freed by http_msg_release(). method is
 * a static string; sink is the caller's buffer.
 */
#ifndef AZBLOBFS_HTTPMSG_H
#define AZBLOBFS_HTTPMSG_H

#include "common.h"
#include "buf.h"

#define HTTP_MAX_HDRS 1024     /* request header lines (metadata travels as headers) */
#define HTTP_MAX_RESP_HDRS 64  /* response header lines kept */
#define HTTP_RESP_HDR_MAX 4096 /* longest response header line kept */
#define HTTP_RESP_MAX_DEFAULT (64 * KIB)
#define HTTP_OP_MAX 24 /* operation tags (struct http_msg.op) for counters */

struct http_msg;

/*
 * Called before every attempt, after the previous attempt's results were
 * cleared, to set the headers that change per attempt (date, signature).
 * Returns 0 or -errno (the exchange then fails with it).
 */
typedef int (*http_sign_fn)(struct http_msg *m, void *arg);

struct http_msg {
	/* ---- the request, set by a builder ---- */
	const char *method; /* "GET", "PUT", "HEAD", "DELETE", ...: static string */
	char *url;          /* owned */
	char **hdrs;        /* owned "Name: value" lines, at most HTTP_MAX_HDRS */
	unsigned nhdrs;
	unsigned hdrs_cap;
	unsigned op;       /* the operation, a counter slot for reports, < HTTP_OP_MAX */
	bool bulk;         /* a block transfer (large, throughput-bound), not metadata */
	http_sign_fn sign; /* NULL: nothing changes per attempt */
	void *sign_arg;

	/*
	 * Response body: when sink is set, a 2xx body is written there (at
	 * most sink_cap bytes; more fails with -EOVERFLOW); any other body,
	 * and every body without a sink, goes to resp, which grows to
	 * resp_max bytes (more fails with -ENOBUFS).
	 */
	char *sink;
	size_t sink_cap;
	size_t resp_max;

	/* ---- the response of the final attempt ---- */
	int status;                      /* final HTTP status, 0 when none arrived */
	int err;                         /* 0, or -errno of a transport failure */
	bool connected;                  /* the final attempt had a connection to the server
					  * (a timeout then means no answer, not no route) */
	size_t sink_len;                 /* bytes written to sink */
	struct buf resp;                 /* body when not sunk (always NUL-terminated) */
	char *rhdrs[HTTP_MAX_RESP_HDRS]; /* response header lines */
	unsigned nrhdrs;
};

/* Zero the message and set resp_max to HTTP_RESP_MAX_DEFAULT. */
void http_msg_init(struct http_msg *m);

/* Free url, header lines, response headers and resp. NULL-safe. */
void http_msg_release(struct http_msg *m);

/* Drop the URL and every request header line (a builder starting over). */
void http_msg_reset_request(struct http_msg *m);

/* Take ownership of @url (malloc'd) and free any previous one. */
void http_msg_set_url(struct http_msg *m, char *url);

/*
 * Set header @name to the formatted value, replacing a header of the same
 * name (case-insensitive). An empty value sends "Name:", which means: send
 * no such header. Returns 0, -ENOMEM or -E2BIG (too many headers).
 */
int http_msg_set_header(struct http_msg *m, const char *name, const char *fmt, ...)
    PRINTF_LIKE(3, 4) WARN_UNUSED;

/* Value of request header @name, or NULL. */
const char *http_msg_header(const struct http_msg *m, const char *name);

/* Value of response header @name (case-insensitive), trimmed of leading blanks, or NULL. */
const char *http_msg_resp_header(const struct http_msg *m, const char *name);

/* Forget what a previous attempt received: headers, body, status, err, sink_len. */
void http_msg_clear_response(struct http_msg *m);

/*
 * Store one raw response header line (CRLF stripped; lines without ':',
 * longer than HTTP_RESP_HDR_MAX or past HTTP_MAX_RESP_HDRS are dropped).
 * A status line ("HTTP/...") starts a new response: the lines kept so far
 * are forgotten.
 */
void http_msg_add_resp_header(struct http_msg *m, const char *line, size_t len);

#endif
