/*
 * engine.c - the engine thread: one curl multi handle, every easy handle,
 * retries and timers. See net.h for the contract.
 *
 * Lists: n->incoming and n->tasks are shared (n->lock); n->wait[],
 * n->retry and n->active belong to the engine thread. A request is on at
 * most one list at a time, through r->node.
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "azblobfs/net.h"
#include "azblobfs/timeutil.h"
#include "net_i.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define POOL_MAX 256
#define POLL_MAX_MS 1000

enum req_state {
	RS_IDLE = 0,
	RS_QUEUED,  /* on incoming or a wait list */
	RS_ACTIVE,  /* in the multi handle */
	RS_BACKOFF, /* on the retry list */
};

struct net {
	struct net_config cfg;
	CURLM *multi;
	pthread_t thread;

	pthread_mutex_t lock;
	struct list_node incoming; /* protected by lock */
	struct list_node tasks;    /* protected by lock; sorted by due_ms */
	unsigned nqueued;          /* protected by lock: incoming + waiting */
	bool stopping;             /* protected by lock */
	bool cancels;              /* protected by lock: some request wants cancelling */

	/* engine thread only */
	struct list_node wait[2]; /* by enum net_prio */
	struct list_node retry;   /* sorted by due_ms */
	struct list_node active;
	unsigned inflight;
	unsigned bulk_inflight;
	CURL *pool[POOL_MAX];
	unsigned npool;
	unsigned seed;
	struct body_reader *reader; /* started at the first file body */
	bool no_reader;             /* ...which failed: read them here */

	struct net_stats stats; /* updated with atomics */
};

#define STAT_ADD(n, field, v) __atomic_fetch_add(&(n)->stats.field, (v), __ATOMIC_RELAXED)

void net_config_defaults(struct net_config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned conns = cpus > 0 ? (unsigned)cpus * 4 : 16;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_connections = MIN(MAX(conns, 16U), 256U);
	cfg->max_retries = 5;
	cfg->retry_base_ms = 200;
	cfg->retry_max_ms = 10000;
	cfg->connect_timeout_ms = 10000;
	cfg->stall_timeout_ms = 30000;
	cfg->deadline_ms = 60000;
	cfg->max_queued = 65536;
	cfg->cainfo = NULL;
}

bool net_on_engine(const struct net *n)
{
	return pthread_equal(pthread_self(), n->thread);
}

static void wake(struct net *n)
{
	curl_multi_wakeup(n->multi);
}

/* ---------------------------------------------------------------- */
/* curl callbacks (engine thread)                                    */
/* ---------------------------------------------------------------- */

static size_t on_header(char *buffer, size_t size, size_t nitems, void *arg)
{
	struct net_req *r = arg;

	http_msg_add_resp_header(&r->msg, buffer, size * nitems);
	return size * nitems;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct net_req *r = arg;
	size_t n = size * nmemb;
	long status = 0;
	int rc;

	curl_easy_getinfo((CURL *)r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->msg.sink && status >= 200 && status < 300) {
		if (n > r->msg.sink_cap - r->msg.sink_len) {
			r->msg.err = -EOVERFLOW;
			return 0;
		}
		memcpy(r->msg.sink + r->msg.sink_len, ptr, n);
		r->msg.sink_len += n;
		return n;
	}
	rc = buf_append(&r->msg.resp, ptr, n);
	if (rc < 0) {
		r->msg.err = rc;
		return 0;
	}
	return n;
}

#define UPLOAD_BUFFER (512 * KIB)

static size_t on_read(char *buffer, size_t size, size_t nitems, void *arg)
{
	struct net_req *r = arg;
	uint64_t left = r->body_len - r->sent;
	size_t n = MIN((uint64_t)(size * nitems), left);

	if (!n)
		return 0;
	if (r->body_fd >= 0) {
		struct net *net = r->net;
		if (!net->reader && !net->no_reader && body_reader_new(net, &net->reader) < 0) {
			log_warn("cannot start the thread that reads upload bodies; reading them "
				 "on the request thread");
			net->no_reader = true;
		}
		return body_read(net->reader, r, buffer, n);
	}
	memcpy(buffer, (const char *)r->body + r->sent, n);
	r->sent += n;
	return n;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct net_req *r = arg;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->sent = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* ---------------------------------------------------------------- */
/* attempts                                                          */
/* ---------------------------------------------------------------- */

static int curl_to_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return -ECONNRESET;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_WEIRD_SERVER_REPLY:
		return -EPROTO;
	case CURLE_UNSUPPORTED_PROTOCOL: /* also "HTTP/0.9 when not allowed": not HTTP */
		return -EPROTO;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

static bool retryable_err(int err)
{
	return err == -ETIMEDOUT || err == -ECONNREFUSED || err == -ECONNRESET ||
	       err == -EHOSTUNREACH || err == -EIO;
}

static bool retryable_status(int status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

static CURL *get_easy(struct net *n)
{
	if (n->npool)
		return n->pool[--n->npool];
	return curl_easy_init();
}

static void put_easy(struct net *n, CURL *e)
{
	if (n->npool < POOL_MAX) {
		curl_easy_reset(e);
		n->pool[n->npool++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static void finish(struct net *n, struct net_req *r, int err)
{
	enum net_outcome o;

	if (err)
		r->msg.err = err;
	if (r->msg.err == -ECANCELED)
		o = NET_OUT_CANCELLED;
	else if (r->msg.err)
		o = NET_OUT_NET_ERR;
	else if (r->msg.status >= 500)
		o = NET_OUT_SERVER_ERR;
	else if (r->msg.status >= 400)
		o = NET_OUT_CLIENT_ERR;
	else
		o = NET_OUT_OK;
	STAT_ADD(n, requests[r->msg.op < NET_OP_MAX ? r->msg.op : 0][o], 1);
	/* The URL without its query: a SAS never reaches the log. */
	log_debug("%s %.*s: %s %d after %u attempt(s)", r->msg.method,
		  r->msg.url ? (int)strcspn(r->msg.url, "?") : 0, r->msg.url ? r->msg.url : "",
		  r->msg.err ? "error" : "HTTP", r->msg.err ? r->msg.err : r->msg.status,
		  r->attempts);
	body_release(n->reader, r);
	r->state = RS_IDLE;
	r->done(r);
}

/* Set up and add one attempt. On failure the request is finished. */
static void start_attempt(struct net *n, struct net_req *r)
{
	struct curl_slist *sl = NULL, *tmp;
	uint64_t now = util_now_ms();
	CURL *e;
	int rc;

	http_msg_clear_response(&r->msg);
	r->attempts++;
	r->sent = 0;
	if (__atomic_load_n(&r->cancel, __ATOMIC_RELAXED))
		return finish(n, r, -ECANCELED);
	if (now >= r->deadline_ms)
		return finish(n, r, -ETIMEDOUT);
	if (r->msg.sign) {
		rc = r->msg.sign(&r->msg, r->msg.sign_arg);
		if (rc < 0)
			return finish(n, r, rc);
	}
	e = get_easy(n);
	if (!e)
		return finish(n, r, -ENOMEM);
	for (unsigned i = 0; i < r->msg.nhdrs; i++) {
		tmp = curl_slist_append(sl, r->msg.hdrs[i]);
		if (!tmp)
			goto oom;
		sl = tmp;
	}
	/* Never wait for 100 Continue: the service answers errors promptly anyway. */
	tmp = curl_slist_append(sl, "Expect:");
	if (!tmp)
		goto oom;
	sl = tmp;

	curl_easy_setopt(e, CURLOPT_URL, r->msg.url);
	/* Blob names may hold "." or ".." segments: send the path exactly as signed. */
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)n->cfg.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)MAX(r->deadline_ms - now, 1));
	if (n->cfg.stall_timeout_ms) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
				 (long)MAX(n->cfg.stall_timeout_ms / 1000, 1U));
	}
	if (n->cfg.cainfo)
		curl_easy_setopt(e, CURLOPT_CAINFO, n->cfg.cainfo);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);

	if (!strcmp(r->msg.method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(r->msg.method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->msg.method, "PUT") || r->body_len) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLOAD_BUFFER);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
		if (strcmp(r->msg.method, "PUT"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->msg.method);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->msg.method);
	}

	r->easy = e;
	r->slist = sl;
	if (curl_multi_add_handle(n->multi, e) != CURLM_OK) {
		r->easy = r->slist = NULL;
		curl_slist_free_all(sl);
		put_easy(n, e);
		return finish(n, r, -ENOMEM);
	}
	r->state = RS_ACTIVE;
	list_add_tail(&n->active, &r->node);
	n->inflight++;
	__atomic_store_n(&n->stats.inflight, n->inflight, __ATOMIC_RELAXED);
	if (n->inflight > __atomic_load_n(&n->stats.inflight_peak, __ATOMIC_RELAXED))
		__atomic_store_n(&n->stats.inflight_peak, n->inflight, __ATOMIC_RELAXED);
	if (r->prio == NET_PRIO_BULK)
		n->bulk_inflight++;
	return;
oom:
	curl_slist_free_all(sl);
	put_easy(n, e);
	finish(n, r, -ENOMEM);
}

/* Milliseconds to wait before the next attempt, honouring Retry-After. */
static uint64_t backoff_ms(struct net *n, struct net_req *r)
{
	const char *ra = http_msg_resp_header(&r->msg, "Retry-After");
	uint64_t cap, base;

	if (ra) {
		char *end;
		unsigned long secs = strtoul(ra, &end, 10);
		if (end != ra && !*end)
			return (uint64_t)secs * 1000;
	}
	cap = n->cfg.retry_max_ms;
	base = (uint64_t)n->cfg.retry_base_ms << MIN(r->attempts - 1, 20U);
	base = MIN(base, cap);
	/* Equal jitter: half fixed, half random, so retries of a burst spread out. */
	return base / 2 + (uint64_t)rand_r(&n->seed) % (base / 2 + 1);
}

static void insert_sorted(struct list_node *head, struct net_req *r)
{
	struct list_node *pos = head->prev;

	while (pos != head && container_of(pos, struct net_req, node)->due_ms > r->due_ms)
		pos = pos->prev;
	list_insert_after(pos, &r->node);
}

static void attempt_done(struct net *n, struct net_req *r, CURLcode code)
{
	CURL *e = r->easy;
	curl_off_t down = 0, up = 0, connect_us = 0;
	long status = 0, conns = 0;
	unsigned max_retries;
	int err;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect_us);
	/* A new connection that completed, or one reused (which had). */
	r->msg.connected = connect_us > 0 || (conns == 0 && code != CURLE_COULDNT_CONNECT &&
					      code != CURLE_COULDNT_RESOLVE_HOST);
	STAT_ADD(n, bytes_in, (uint64_t)down);
	STAT_ADD(n, bytes_out, (uint64_t)up);
	STAT_ADD(n, connections, (uint64_t)conns);
	curl_multi_remove_handle(n->multi, e);
	curl_slist_free_all(r->slist);
	r->slist = NULL;
	r->easy = NULL;
	put_easy(n, e);
	list_del(&r->node);
	n->inflight--;
	__atomic_store_n(&n->stats.inflight, n->inflight, __ATOMIC_RELAXED);
	if (r->prio == NET_PRIO_BULK)
		n->bulk_inflight--;

	/* A callback's own verdict (sink overflow, read error) beats curl's. */
	err = r->msg.err ? r->msg.err : curl_to_errno(code);
	if (__atomic_load_n(&r->cancel, __ATOMIC_RELAXED))
		err = -ECANCELED;
	r->msg.status = err ? 0 : (int)status;
	r->msg.err = err;
	if (err == -ETIMEDOUT && util_now_ms() >= r->deadline_ms)
		return finish(n, r, 0);

	max_retries = r->max_retries == NET_NO_RETRY ? 0
		      : r->max_retries               ? r->max_retries
						     : n->cfg.max_retries;
	if ((retryable_err(err) || (!err && retryable_status(r->msg.status))) &&
	    (r->attempts <= max_retries || (r->persist && r->max_retries != NET_NO_RETRY))) {
		uint64_t due = util_now_ms() + backoff_ms(n, r);
		if (due < r->deadline_ms) {
			log_debug("retrying %s (attempt %u): %s %d", r->msg.method, r->attempts,
				  err ? "error" : "HTTP", err ? err : r->msg.status);
			STAT_ADD(n, retries, 1);
			r->due_ms = due;
			r->state = RS_BACKOFF;
			insert_sorted(&n->retry, r);
			return;
		}
	}
	finish(n, r, 0);
}

/* ---------------------------------------------------------------- */
/* the loop                                                          */
/* ---------------------------------------------------------------- */

static unsigned bulk_limit(const struct net *n)
{
	/* Keep a few connections for metadata so a listing never waits behind reads. */
	unsigned reserve = MAX(n->cfg.max_connections / 8, 2U);

	return n->cfg.max_connections > reserve ? n->cfg.max_connections - reserve : 1;
}

static void start_waiting(struct net *n)
{
	struct list_node *ln;

	while (n->inflight < n->cfg.max_connections) {
		struct net_req *r;
		if (!list_empty(&n->wait[NET_PRIO_META]))
			ln = list_pop(&n->wait[NET_PRIO_META]);
		else if (!list_empty(&n->wait[NET_PRIO_BULK]) && n->bulk_inflight < bulk_limit(n))
			ln = list_pop(&n->wait[NET_PRIO_BULK]);
		else
			break;
		r = container_of(ln, struct net_req, node);
		pthread_mutex_lock(&n->lock);
		n->nqueued--;
		pthread_mutex_unlock(&n->lock);
		start_attempt(n, r);
	}
}

static void cancel_flagged(struct net *n, struct list_node *head, bool all)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, head)
	{
		struct net_req *r = container_of(pos, struct net_req, node);
		if (!all && !__atomic_load_n(&r->cancel, __ATOMIC_RELAXED))
			continue;
		if (r->state == RS_ACTIVE) {
			/* Finishing through attempt_done keeps the accounting in one place. */
			__atomic_store_n(&r->cancel, true, __ATOMIC_RELAXED);
			attempt_done(n, r, CURLE_ABORTED_BY_CALLBACK);
			continue;
		}
		list_del(&r->node);
		if (r->state == RS_QUEUED) {
			pthread_mutex_lock(&n->lock);
			n->nqueued--;
			pthread_mutex_unlock(&n->lock);
		}
		finish(n, r, -ECANCELED);
	}
}

static void run_tasks(struct net *n, uint64_t now)
{
	for (;;) {
		struct net_task *t = NULL;

		pthread_mutex_lock(&n->lock);
		if (!list_empty(&n->tasks)) {
			t = container_of(n->tasks.next, struct net_task, node);
			if (t->due_ms <= now) {
				list_del(&t->node);
				t->queued = false;
			} else {
				t = NULL;
			}
		}
		pthread_mutex_unlock(&n->lock);
		if (!t)
			return;
		t->fn(t);
	}
}

static uint64_t next_due(struct net *n, uint64_t now)
{
	uint64_t due = now + POLL_MAX_MS;

	if (!list_empty(&n->retry))
		due = MIN(due, container_of(n->retry.next, struct net_req, node)->due_ms);
	pthread_mutex_lock(&n->lock);
	if (!list_empty(&n->tasks))
		due = MIN(due, container_of(n->tasks.next, struct net_task, node)->due_ms);
	pthread_mutex_unlock(&n->lock);
	return due;
}

static void *engine_main(void *arg)
{
	struct net *n = arg;
	struct list_node got;
	bool stopping = false;

	list_init(&got);
	while (!stopping) {
		struct list_node *ln;
		CURLMsg *msg;
		uint64_t now;
		bool cancels;
		long ctimeout = -1;
		int running, left;

		pthread_mutex_lock(&n->lock);
		while ((ln = list_pop(&n->incoming)))
			list_add_tail(&got, ln);
		stopping = n->stopping;
		cancels = n->cancels;
		n->cancels = false;
		pthread_mutex_unlock(&n->lock);
		while ((ln = list_pop(&got))) {
			struct net_req *r = container_of(ln, struct net_req, node);
			list_add_tail(&n->wait[r->prio == NET_PRIO_BULK], ln);
		}
		if (stopping)
			break;

		now = util_now_ms();
		run_tasks(n, now);
		if (cancels) {
			cancel_flagged(n, &n->wait[0], false);
			cancel_flagged(n, &n->wait[1], false);
			cancel_flagged(n, &n->retry, false);
			cancel_flagged(n, &n->active, false);
		}
		while (!list_empty(&n->retry)) {
			struct net_req *r = container_of(n->retry.next, struct net_req, node);
			if (r->due_ms > now)
				break;
			list_del(&r->node);
			/* A retry goes ahead of new work: it has waited already. */
			start_attempt(n, r);
		}
		start_waiting(n);

		curl_multi_perform(n->multi, &running);
		while ((msg = curl_multi_info_read(n->multi, &left))) {
			struct net_req *r = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			attempt_done(n, r, msg->data.result);
		}
		/* Completions may have freed slots or queued work: start it before sleeping. */
		start_waiting(n);

		now = util_now_ms();
		curl_multi_timeout(n->multi, &ctimeout);
		{
			uint64_t due = next_due(n, now);
			long wait = due > now ? (long)(due - now) : 0;
			if (ctimeout >= 0 && ctimeout < wait)
				wait = ctimeout;
			if (wait > 0)
				curl_multi_poll(n->multi, NULL, 0, (int)wait, NULL);
		}
	}

	/* Shutting down: everything still owned by the engine completes cancelled. */
	cancel_flagged(n, &n->active, true);
	cancel_flagged(n, &n->retry, true);
	cancel_flagged(n, &n->wait[0], true);
	cancel_flagged(n, &n->wait[1], true);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* public API                                                        */
/* ---------------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int net_new(const struct net_config *cfg, struct net **out)
{
	struct net *n;
	int rc;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -ENOMEM;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->cfg = *cfg;
	if (!n->cfg.max_connections)
		n->cfg.max_connections = 16;
	if (!n->cfg.max_queued)
		n->cfg.max_queued = 65536;
	n->seed = (unsigned)util_now_ns() ^ (unsigned)getpid();
	pthread_mutex_init(&n->lock, NULL);
	list_init(&n->incoming);
	list_init(&n->tasks);
	list_init(&n->wait[0]);
	list_init(&n->wait[1]);
	list_init(&n->retry);
	list_init(&n->active);
	n->multi = curl_multi_init();
	if (!n->multi) {
		rc = -ENOMEM;
		goto fail;
	}
	curl_multi_setopt(n->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n->cfg.max_connections);
	curl_multi_setopt(n->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n->cfg.max_connections);
	curl_multi_setopt(n->multi, CURLMOPT_MAXCONNECTS, (long)n->cfg.max_connections);
	rc = -pthread_create(&n->thread, NULL, engine_main, n);
	if (rc < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	if (n->multi)
		curl_multi_cleanup(n->multi);
	pthread_mutex_destroy(&n->lock);
	free(n);
	return rc;
}

void net_free(struct net *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	pthread_mutex_unlock(&n->lock);
	wake(n);
	pthread_join(n->thread, NULL);
	/* Requests submitted after the loop's last look at incoming. */
	for (;;) {
		struct list_node *ln = list_pop(&n->incoming);
		struct net_req *r;
		if (!ln)
			break;
		r = container_of(ln, struct net_req, node);
		finish(n, r, -ECANCELED);
	}
	for (unsigned i = 0; i < n->npool; i++)
		curl_easy_cleanup(n->pool[i]);
	curl_multi_cleanup(n->multi);
	body_reader_free(n->reader);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

int net_submit(struct net *n, struct net_req *r)
{
	if (!r->done || !r->msg.url || !r->msg.method)
		return -EINVAL;
	r->net = n;
	r->attempts = 0;
	__atomic_store_n(&r->cancel, false, __ATOMIC_RELAXED);
	if (!r->deadline_ms)
		r->deadline_ms = util_now_ms() + n->cfg.deadline_ms;
	if (r->msg.resp.max != r->msg.resp_max)
		buf_init(&r->msg.resp, r->msg.resp_max);
	/* The builder's word that this is a block transfer. */
	if (r->msg.bulk)
		r->prio = NET_PRIO_BULK;
	pthread_mutex_lock(&n->lock);
	if (n->stopping) {
		pthread_mutex_unlock(&n->lock);
		return -ESHUTDOWN;
	}
	if (n->nqueued >= n->cfg.max_queued) {
		pthread_mutex_unlock(&n->lock);
		return -EAGAIN;
	}
	n->nqueued++;
	r->state = RS_QUEUED;
	list_add_tail(&n->incoming, &r->node);
	pthread_mutex_unlock(&n->lock);
	wake(n);
	return 0;
}

void net_cancel(struct net *n, struct net_req *r)
{
	__atomic_store_n(&r->cancel, true, __ATOMIC_RELAXED);
	pthread_mutex_lock(&n->lock);
	n->cancels = true;
	pthread_mutex_unlock(&n->lock);
	wake(n);
}

void net_task_init(struct net_task *t, void (*fn)(struct net_task *t))
{
	memset(t, 0, sizeof(*t));
	list_init(&t->node);
	t->fn = fn;
}

int net_task_schedule(struct net *n, struct net_task *t, uint64_t delay_ms)
{
	struct list_node *pos;

	pthread_mutex_lock(&n->lock);
	if (n->stopping) {
		pthread_mutex_unlock(&n->lock);
		return -ESHUTDOWN;
	}
	if (t->queued)
		list_del(&t->node);
	t->due_ms = util_now_ms() + delay_ms;
	t->queued = true;
	pos = n->tasks.prev;
	while (pos != &n->tasks && container_of(pos, struct net_task, node)->due_ms > t->due_ms)
		pos = pos->prev;
	list_insert_after(pos, &t->node);
	pthread_mutex_unlock(&n->lock);
	if (!net_on_engine(n))
		wake(n);
	return 0;
}

void net_task_cancel(struct net *n, struct net_task *t)
{
	pthread_mutex_lock(&n->lock);
	if (t->queued) {
		list_del(&t->node);
		t->queued = false;
	}
	pthread_mutex_unlock(&n->lock);
}

void net_stats_get(struct net *n, struct net_stats *out)
{
	uint64_t *dst = (uint64_t *)out;
	const uint64_t *src = (const uint64_t *)&n->stats;

	/* struct net_stats is all uint64_t: copy it counter by counter. */
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	pthread_mutex_lock(&n->lock);
	out->queued = n->nqueued;
	pthread_mutex_unlock(&n->lock);
}

const char *net_library_version(void)
{
	return curl_version_info(CURLVERSION_NOW)->version;
}
