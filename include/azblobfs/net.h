/*
 * net.h - the async request layer: one engine thread owns a libcurl multi
 * handle, every easy handle, every connection and every timer.
 *
 * Layer: net (uses util). The only code that includes <curl/curl.h>.
 *
 * Threads:
 *  - net_submit(), net_cancel(), net_task_schedule() and net_stats_get()
 *    may be called from any thread. They only queue work and wake the
 *    engine (curl_multi_wakeup); they never block on the network.
 *  - Everything else about a request happens on the engine thread: the
 *    sign hook before each attempt, retries, and the done callback.
 *  - A done callback or a task must not block. It may submit new requests
 *    and schedule tasks.
 *
 * Ownership: the caller allocates a struct net_req (usually embedded in
 * its own operation), fills it, and hands it to net_submit(). From then
 * until its done callback starts, the request belongs to the engine and
 * the caller must not touch it. In done() the caller owns it again and
 * releases it with net_req_release() (or re-submits it).
 *
 * Retries: transport failures (timeouts, resets, refused connections) and
 * HTTP 408, 429, 500, 502, 503 and 504 are retried with exponential back-off
 * and full jitter, honouring Retry-After, until max_retries or the
 * request's deadline, whichever comes first; a request marked `persist`
 * (one that carries the user's data to the service) ignores max_retries
 * and goes on until its deadline, so that an outage of a few seconds
 * does not fail a close. Nothing retries forever.
 */
#ifndef AZBLOBFS_NET_H
#define AZBLOBFS_NET_H

#include "common.h"
#include "buf.h"
#include "httpmsg.h"
#include "list.h"

#define NET_OP_MAX HTTP_OP_MAX /* operation slots for the counters: msg.op */

enum net_prio {
	NET_PRIO_META = 0, /* listings, properties, commits: small and latency-bound */
	NET_PRIO_BULK,     /* block transfers */
};

enum net_outcome {
	NET_OUT_OK = 0,     /* 1xx-3xx */
	NET_OUT_CLIENT_ERR, /* 4xx, final */
	NET_OUT_SERVER_ERR, /* 5xx, final after retries */
	NET_OUT_NET_ERR,    /* transport failure or deadline, final after retries */
	NET_OUT_CANCELLED,
	NET_OUT__COUNT,
};

struct net_config {
	unsigned max_connections;    /* transfers in flight and open connections */
	unsigned max_retries;        /* attempts after the first */
	unsigned retry_base_ms;      /* first back-off interval */
	unsigned retry_max_ms;       /* cap on one back-off interval */
	unsigned connect_timeout_ms; /* one TCP/TLS connect */
	unsigned stall_timeout_ms;   /* an attempt that moves no byte for this long fails */
	unsigned deadline_ms;        /* default deadline of a request, from submission */
	unsigned max_queued;         /* requests waiting for a connection; beyond: -EAGAIN */
	const char *cainfo;          /* CA bundle path, or NULL for the system default */
};

/* Defaults: max(16, 4 x CPUs) connections capped at 256, 5 retries, ... */
void net_config_defaults(struct net_config *cfg);

struct net;
struct net_req;

typedef void (*net_done_fn)(struct net_req *r);

struct net_req {
	/*
	 * The HTTP exchange: method, URL, header lines, the sign hook, where
	 * the response body goes, and (valid in done()) status, response
	 * headers, body and transport error (httpmsg.h). Usually filled by an
	 * azure request builder. msg.op is the counter slot (< NET_OP_MAX);
	 * msg.bulk puts the request in NET_PRIO_BULK whatever prio says.
	 * msg.sign is called on the engine thread before every attempt, after
	 * the previous attempt's results were cleared.
	 */
	struct http_msg msg;

	/* ---- set by the caller before net_submit() ---- */
	enum net_prio prio;
	uint64_t deadline_ms; /* absolute util_now_ms(); 0: now + config default */
	unsigned max_retries; /* 0: config default; use NET_NO_RETRY for none */
	bool persist;         /* retry until the deadline, past max_retries (not with
			       * NET_NO_RETRY): commits and their blocks */

	/*
	 * Request body: memory (body) or a file (body_fd >= 0), not owned.
	 * body_dfd, when >= 0, is the same file opened with O_DIRECT, for a
	 * body whose bytes were written through it: read that way, they skip
	 * the page cache, which costs several times the copy here. A file
	 * body is read off the engine thread, which never waits on a disk.
	 */
	const void *body;
	int body_fd;
	int body_dfd;
	uint64_t body_off;
	uint64_t body_len;

	net_done_fn done; /* engine thread; must not block */
	void *arg;        /* the caller's */

	/* ---- results, valid in done() (the rest is in msg) ---- */
	unsigned attempts;

	/* ---- private to net ---- */
	struct list_node node;
	struct net *net;
	void *easy;
	void *slist;
	uint64_t due_ms;
	uint64_t sent;
	void *chunk; /* a file body's read buffer (bodyread.c) */
	unsigned state;
	bool cancel;
};

#define NET_NO_RETRY (~0U)

/*
 * msg.err values: -ETIMEDOUT (deadline or stall), -ECONNREFUSED, -ECONNRESET,
 * -EHOSTUNREACH (DNS or route), -EPROTO (TLS or HTTP framing),
 * -EOVERFLOW (sink too small), -ENOBUFS (resp_max exceeded), -ECANCELED,
 * -ENOMEM, -EIO (anything else).
 */

/* Zero the request (http_msg_init() of msg), set body_fd and body_dfd to -1. */
void net_req_init(struct net_req *r);

/* http_msg_release() of msg. NULL-safe. */
void net_req_release(struct net_req *r);

/*
 * Start the engine thread. Returns 0 and *out, or -errno (nothing started).
 */
int net_new(const struct net_config *cfg, struct net **out) WARN_UNUSED;

/*
 * Stop the engine: requests still queued or in flight complete with
 * -ECANCELED (their done callbacks run on the engine thread before it
 * exits), then the thread is joined and everything freed. NULL-safe.
 * Must not be called from the engine thread.
 */
void net_free(struct net *n);

/*
 * Queue @r. Returns 0 (done will be called exactly once), -ESHUTDOWN once
 * net_free() has begun, or -EAGAIN when max_queued requests already wait;
 * on failure done is not called and the caller still owns @r.
 */
int net_submit(struct net *n, struct net_req *r) WARN_UNUSED;

/*
 * Ask that @r finish early with -ECANCELED. Safe from any thread while @r
 * is submitted; a request that already completed is not affected only if
 * the caller can guarantee it is still owned by the engine (call it from
 * the engine thread, or hold a reference that done() checks).
 */
void net_cancel(struct net *n, struct net_req *r);

/* True when called on the engine thread. */
bool net_on_engine(const struct net *n);

/* A function run on the engine thread at a given time; embedded by the caller. */
struct net_task {
	struct list_node node;
	uint64_t due_ms;
	void (*fn)(struct net_task *t);
	bool queued; /* private */
};

void net_task_init(struct net_task *t, void (*fn)(struct net_task *t));

/*
 * Run @t on the engine thread after @delay_ms (0: as soon as possible).
 * Scheduling a task that is already scheduled moves it. Returns 0 or
 * -ESHUTDOWN (the task will not run).
 */
int net_task_schedule(struct net *n, struct net_task *t, uint64_t delay_ms);

/* Unschedule @t if it has not started. Engine thread only. */
void net_task_cancel(struct net *n, struct net_task *t);

struct net_stats {
	uint64_t requests[NET_OP_MAX][NET_OUT__COUNT];
	uint64_t bytes_in;  /* response bodies received */
	uint64_t bytes_out; /* request bodies sent */
	uint64_t retries;
	uint64_t inflight;
	uint64_t inflight_peak; /* the most requests in flight at once */
	uint64_t queued;
	uint64_t connections; /* new connections opened */
};

/* Copy the counters (any thread; each counter is read atomically). */
void net_stats_get(struct net *n, struct net_stats *out);

/* libcurl's version string ("8.5.0"). */
const char *net_library_version(void);

/* Short names of the outcomes for reports: "ok", "client_error", ... */
const char *net_outcome_name(enum net_outcome o);

#endif
