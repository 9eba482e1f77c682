/*
 * check_engine.c - the engine thread against a scripted HTTP server on
 * 127.0.0.1 (a thread of this test): retries, Retry-After, deadlines,
 * resets, bounded concurrency, sinks, uploads, cancellation, counters.
 */
#include "azblobfs/common.h"
#include "azblobfs/net.h"
#include "azblobfs/timeutil.h"
#include "check_main.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* scripted server                                                     */
/* ------------------------------------------------------------------ */

static int srv_fd = -1;
static int srv_port;
static int hits_flaky, hits_reset, hits_retry_after, hits_sum_drop;
static int concurrent, peak;
static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t srv_cond = PTHREAD_COND_INITIALIZER;
static bool hold_release;

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int status, const char *extra, const char *body, size_t blen)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%sConnection: keep-alive\r\n\r\n",
			 status, blen, extra ? extra : "");
	send_all(fd, head, (size_t)n);
	if (blen)
		send_all(fd, body, blen);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

/* Returns false when the connection must be dropped. */
static bool serve_one(int fd, char *req, size_t hlen, size_t clen)
{
	char path[256] = "";
	char method[16] = "";
	int n;

	(void)hlen;
	sscanf(req, "%15s %255s", method, path);
	if (!strcmp(path, "/ok")) {
		respond(fd, 200, "x-test: yes\r\n", "hello", 5);
	} else if (!strcmp(path, "/flaky")) {
		pthread_mutex_lock(&srv_lock);
		n = ++hits_flaky;
		pthread_mutex_unlock(&srv_lock);
		if (n <= 2)
			respond(fd, 503, "x-ms-error-code: ServerBusy\r\n", "", 0);
		else
			respond(fd, 200, NULL, "fine", 4);
	} else if (!strcmp(path, "/always503")) {
		respond(fd, 503, NULL, "", 0);
	} else if (!strcmp(path, "/reset")) {
		pthread_mutex_lock(&srv_lock);
		n = ++hits_reset;
		pthread_mutex_unlock(&srv_lock);
		if (n <= 1)
			return false;
		respond(fd, 200, NULL, "back", 4);
	} else if (!strcmp(path, "/retry-after")) {
		pthread_mutex_lock(&srv_lock);
		n = ++hits_retry_after;
		pthread_mutex_unlock(&srv_lock);
		if (n <= 1)
			respond(fd, 503, "Retry-After: 1\r\n", "", 0);
		else
			respond(fd, 200, NULL, "", 0);
	} else if (!strcmp(path, "/404")) {
		respond(fd, 404, "x-ms-error-code: BlobNotFound\r\n", "<Error/>", 8);
	} else if (!strcmp(path, "/big")) {
		char big[100000];
		memset(big, 'b', sizeof(big));
		respond(fd, 200, NULL, big, sizeof(big));
	} else if (!strcmp(path, "/echo-len")) {
		char body[64];
		int bl = snprintf(body, sizeof(body), "%s %zu", method, clen);
		respond(fd, 200, NULL, body, (size_t)bl);
	} else if (!strcmp(path, "/echo-sum") || !strcmp(path, "/sum-drop-first")) {
		/* The body's length and hash; the second path drops its first request unanswered.
		 */
		char body[64];
		int bl;
		if (!strcmp(path, "/sum-drop-first")) {
			pthread_mutex_lock(&srv_lock);
			n = ++hits_sum_drop;
			pthread_mutex_unlock(&srv_lock);
			if (n <= 1)
				return false;
		}
		bl = snprintf(body, sizeof(body), "%zu %016llx", clen,
			      (unsigned long long)fnv1a((unsigned char *)req + hlen, clen));
		respond(fd, 200, NULL, body, (size_t)bl);
	} else if (!strcmp(path, "/hold")) {
		/* Counts concurrent requests; answers when the test releases it. */
		pthread_mutex_lock(&srv_lock);
		concurrent++;
		if (concurrent > peak)
			peak = concurrent;
		pthread_cond_broadcast(&srv_cond);
		while (!hold_release)
			pthread_cond_wait(&srv_cond, &srv_lock);
		concurrent--;
		pthread_mutex_unlock(&srv_lock);
		respond(fd, 200, NULL, "", 0);
	} else if (!strcmp(path, "/never")) {
		char c;
		/* Hold the request until the client gives up and closes. */
		while (recv(fd, &c, 1, 0) > 0)
			;
		return false;
	} else {
		respond(fd, 400, NULL, "", 0);
	}
	return true;
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static __thread char buf[1 << 20];
	size_t have = 0;

	for (;;) {
		char *end;
		size_t hlen, clen = 0;
		const char *cl;
		ssize_t got;

		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end) {
			if (have >= sizeof(buf) - 1)
				break;
			got = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
			if (got <= 0)
				break;
			have += (size_t)got;
			continue;
		}
		hlen = (size_t)(end - buf) + 4;
		cl = strcasestr(buf, "\r\nContent-Length:");
		if (cl && cl < end)
			clen = strtoul(cl + 17, NULL, 10);
		while (have < hlen + clen && clen < sizeof(buf) - hlen) {
			got = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
			if (got <= 0)
				goto out;
			have += (size_t)got;
		}
		if (!serve_one(fd, buf, hlen, clen))
			break;
		memmove(buf, buf + hlen + clen, have - hlen - clen);
		have -= hlen + clen;
	}
out:
	close(fd);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		int fd = accept(srv_fd, NULL, NULL);
		if (fd < 0)
			return NULL;
		pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
}

static void start_server(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	pthread_t t;
	int one = 1;

	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(srv_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(srv_fd, 64), 0);
	getsockname(srv_fd, (struct sockaddr *)&a, &len);
	srv_port = ntohs(a.sin_port);
	pthread_create(&t, NULL, accept_main, NULL);
	pthread_detach(t);
}

/* A port with nothing listening: bind, read the port, close. */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

/* ------------------------------------------------------------------ */
/* client side helpers                                                 */
/* ------------------------------------------------------------------ */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	bool on_engine;
};

static struct net *net;

static void on_done(struct net_req *r)
{
	struct waiter *w = r->arg;

	pthread_mutex_lock(&w->lock);
	w->done++;
	w->on_engine = net_on_engine(net);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = 0;
}

static void wait_for(struct waiter *w, int count)
{
	pthread_mutex_lock(&w->lock);
	while (w->done < count)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static void req_for(struct net_req *r, struct waiter *w, const char *method, const char *path)
{
	char *url;

	net_req_init(r);
	ck_assert_int_ge(asprintf(&url, "http://127.0.0.1:%d%s", srv_port, path), 0);
	http_msg_set_url(&r->msg, url);
	r->msg.method = method;
	r->done = on_done;
	r->arg = w;
	r->msg.op = 1;
}

static int run_one(struct net_req *r, struct waiter *w, const char *method, const char *path)
{
	waiter_init(w);
	req_for(r, w, method, path);
	ck_assert_int_eq(net_submit(net, r), 0);
	wait_for(w, 1);
	return r->msg.err;
}

static void setup(void)
{
	struct net_config cfg;

	if (srv_fd < 0)
		start_server();
	net_config_defaults(&cfg);
	cfg.retry_base_ms = 20;
	cfg.retry_max_ms = 100;
	cfg.max_connections = 4;
	cfg.deadline_ms = 5000;
	ck_assert_int_eq(net_new(&cfg, &net), 0);
}

static void teardown(void)
{
	net_free(net);
	net = NULL;
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

START_TEST(test_engine_get_ok_on_engine_thread)
{
	struct net_req r;
	struct waiter w;

	ck_assert_int_eq(run_one(&r, &w, "GET", "/ok"), 0);
	ck_assert_int_eq(r.msg.status, 200);
	ck_assert_str_eq(r.msg.resp.data, "hello");
	ck_assert_str_eq(http_msg_resp_header(&r.msg, "X-Test"), "yes");
	ck_assert(w.on_engine);
	ck_assert_uint_eq(r.attempts, 1);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_retries_503_then_succeeds)
{
	struct net_stats st;
	struct net_req r;
	struct waiter w;

	hits_flaky = 0;
	ck_assert_int_eq(run_one(&r, &w, "GET", "/flaky"), 0);
	ck_assert_int_eq(r.msg.status, 200);
	ck_assert_uint_eq(r.attempts, 3);
	net_stats_get(net, &st);
	ck_assert_uint_eq(st.retries, 2);
	ck_assert_uint_eq(st.requests[1][NET_OUT_OK], 1);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_gives_up_after_max_retries)
{
	struct net_stats st;
	struct net_req r;
	struct waiter w;

	waiter_init(&w);
	req_for(&r, &w, "GET", "/always503");
	r.max_retries = 2;
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, 0);
	ck_assert_int_eq(r.msg.status, 503);
	ck_assert_uint_eq(r.attempts, 3);
	net_stats_get(net, &st);
	ck_assert_uint_eq(st.requests[1][NET_OUT_SERVER_ERR], 1);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_persist_retries_past_max_until_deadline)
{
	struct net_req r;
	struct waiter w;

	waiter_init(&w);
	req_for(&r, &w, "GET", "/always503");
	r.max_retries = 2;
	r.persist = true;
	r.deadline_ms = util_now_ms() + 3000;
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.status, 503);
	/* Backoffs of at most 0.2 + 0.4 + 0.8 s: a fourth attempt fits well within 3 s. */
	ck_assert_uint_ge(r.attempts, 4);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_no_retry_on_404)
{
	struct net_req r;
	struct waiter w;

	ck_assert_int_eq(run_one(&r, &w, "GET", "/404"), 0);
	ck_assert_int_eq(r.msg.status, 404);
	ck_assert_uint_eq(r.attempts, 1);
	ck_assert_str_eq(http_msg_resp_header(&r.msg, "x-ms-error-code"), "BlobNotFound");
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_retries_connection_reset)
{
	struct net_req r;
	struct waiter w;

	hits_reset = 0;
	ck_assert_int_eq(run_one(&r, &w, "GET", "/reset"), 0);
	ck_assert_int_eq(r.msg.status, 200);
	ck_assert_str_eq(r.msg.resp.data, "back");
	ck_assert_uint_ge(r.attempts, 2);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_honours_retry_after)
{
	struct net_req r;
	struct waiter w;
	uint64_t t0 = util_now_ms();

	hits_retry_after = 0;
	ck_assert_int_eq(run_one(&r, &w, "GET", "/retry-after"), 0);
	ck_assert_int_eq(r.msg.status, 200);
	/* The back-off cap is 100 ms; only Retry-After explains a 1 s wait. */
	ck_assert_uint_ge(util_now_ms() - t0, 1000);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_connection_refused_ends_at_deadline)
{
	struct net_req r;
	struct waiter w;
	char *url;
	uint64_t t0 = util_now_ms();

	waiter_init(&w);
	req_for(&r, &w, "GET", "/ok");
	ck_assert_int_ge(asprintf(&url, "http://127.0.0.1:%d/x", closed_port()), 0);
	http_msg_set_url(&r.msg, url);
	r.deadline_ms = util_now_ms() + 400;
	r.max_retries = 1000;
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, -ECONNREFUSED);
	ck_assert_uint_ge(r.attempts, 2);
	ck_assert_uint_lt(util_now_ms() - t0, 3000);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_stalled_request_times_out_at_deadline)
{
	struct net_req r;
	struct waiter w;

	waiter_init(&w);
	req_for(&r, &w, "GET", "/never");
	r.deadline_ms = util_now_ms() + 300;
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, -ETIMEDOUT);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_sink_receives_body_and_overflow_fails)
{
	static char sink[100000];
	struct net_req r;
	struct waiter w;

	waiter_init(&w);
	req_for(&r, &w, "GET", "/big");
	r.msg.sink = sink;
	r.msg.sink_cap = sizeof(sink);
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, 0);
	ck_assert_uint_eq(r.msg.sink_len, sizeof(sink));
	ck_assert_int_eq(sink[99999], 'b');
	net_req_release(&r);

	waiter_init(&w);
	req_for(&r, &w, "GET", "/big");
	r.msg.sink = sink;
	r.msg.sink_cap = 1000;
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, -EOVERFLOW);
	ck_assert_uint_eq(r.attempts, 1);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_resp_cap_enforced)
{
	struct net_req r;
	struct waiter w;

	waiter_init(&w);
	req_for(&r, &w, "GET", "/big");
	r.msg.resp_max = 4096;
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, -ENOBUFS);
	net_req_release(&r);
}
END_TEST

START_TEST(test_engine_put_sends_memory_and_file_bodies)
{
	static char body[300000];
	struct net_stats st;
	struct net_req r;
	struct waiter w;
	char tmpl[] = "/tmp/azbfs-net-XXXXXX";
	int fd;

	waiter_init(&w);
	req_for(&r, &w, "PUT", "/echo-len");
	r.body = body;
	r.body_len = sizeof(body);
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, 0);
	ck_assert_str_eq(r.msg.resp.data, "PUT 300000");
	net_req_release(&r);

	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	unlink(tmpl);
	ck_assert_int_eq(write(fd, body, sizeof(body)), (ssize_t)sizeof(body));
	waiter_init(&w);
	req_for(&r, &w, "PUT", "/echo-len");
	r.body_fd = fd;
	r.body_off = 1000;
	r.body_len = 5000;
	ck_assert_int_eq(net_submit(net, &r), 0);
	wait_for(&w, 1);
	ck_assert_str_eq(r.msg.resp.data, "PUT 5000");
	net_req_release(&r);
	close(fd);
	net_stats_get(net, &st);
	ck_assert_uint_eq(st.bytes_out, 305000);
}
END_TEST

/* ---- file bodies (read off the engine thread, bodyread.c) ---- */

enum { FILE_LEN = 900000 };
static unsigned char file_bytes[FILE_LEN];

/* A file of FILE_LEN patterned bytes, on disk (O_DIRECT needs one); *dfd: that way, or -1. */
static int body_file(int *dfd)
{
	char path[] = "/var/tmp/azbfs-net-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < FILE_LEN; i++)
		file_bytes[i] = (unsigned char)(i * 2654435761U >> 13);
	ck_assert_int_eq(write(fd, file_bytes, FILE_LEN), FILE_LEN);
	ck_assert_int_eq(fsync(fd), 0);
	*dfd = open(path, O_RDONLY | O_DIRECT);
	unlink(path);
	return fd;
}

static void close_body_file(int fd, int dfd)
{
	if (dfd >= 0)
		close(dfd);
	close(fd);
}

/* PUT [off, off+len) of the file to @path and wait for the answer. */
/* A PUT of [off, off+len) of the file, through @dfd (O_DIRECT) when >= 0. */
static void file_req(struct net_req *r, struct waiter *w, const char *path, int fd, int dfd,
		     uint64_t off, uint64_t len)
{
	req_for(r, w, "PUT", path);
	r->body_fd = fd;
	r->body_dfd = dfd;
	r->body_off = off;
	r->body_len = len;
}

static void file_put(struct net_req *r, struct waiter *w, const char *path, int fd, int dfd,
		     uint64_t off, uint64_t len, unsigned retries)
{
	waiter_init(w);
	file_req(r, w, path, fd, dfd, off, len);
	r->max_retries = retries;
	ck_assert_int_eq(net_submit(net, r), 0);
	wait_for(w, 1);
}

static void expect_sum(const struct net_req *r, uint64_t off, uint64_t len)
{
	char want[64];

	snprintf(want, sizeof(want), "%llu %016llx", (unsigned long long)len,
		 (unsigned long long)fnv1a(file_bytes + off, len));
	ck_assert_int_eq(r->msg.err, 0);
	ck_assert_int_eq(r->msg.status, 200);
	ck_assert_str_eq(r->msg.resp.data, want);
}

START_TEST(test_engine_file_body_bytes_arrive_in_order)
{
	/* Unaligned offsets and lengths, more than one piece, both descriptors. */
	static const uint64_t cases[][2] = {
	    {0, 800000}, {12345, 777777}, {4096, 524288}, {899999, 1}};
	struct net_req r;
	struct waiter w;
	int dfd, fd = body_file(&dfd);

	for (int direct = 0; direct < 2; direct++) {
		if (direct && dfd < 0)
			break; /* no O_DIRECT on this file system: the ordinary half still ran */
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			file_put(&r, &w, "/echo-sum", fd, direct ? dfd : -1, cases[i][0],
				 cases[i][1], 0);
			expect_sum(&r, cases[i][0], cases[i][1]);
			net_req_release(&r);
		}
	}
	close_body_file(fd, dfd);
}
END_TEST

START_TEST(test_engine_file_body_resent_whole_on_retry)
{
	struct net_req r;
	struct waiter w;
	int dfd, fd = body_file(&dfd);

	hits_sum_drop = 0;
	file_put(&r, &w, "/sum-drop-first", fd, dfd, 100, 850000, 0);
	ck_assert_uint_ge(r.attempts, 2);
	expect_sum(&r, 100, 850000);
	net_req_release(&r);
	close_body_file(fd, dfd);
}
END_TEST

START_TEST(test_engine_file_body_concurrent_uploads)
{
	enum { N = 8 };
	static struct net_req r[N];
	struct waiter w;
	int dfd, fd = body_file(&dfd);

	waiter_init(&w);
	for (int i = 0; i < N; i++) {
		file_req(&r[i], &w, "/echo-sum", fd, i % 2 ? dfd : -1, (uint64_t)i * 50000,
			 500000 + (uint64_t)i * 7);
		ck_assert_int_eq(net_submit(net, &r[i]), 0);
	}
	wait_for(&w, N);
	for (int i = 0; i < N; i++) {
		expect_sum(&r[i], (uint64_t)i * 50000, 500000 + (uint64_t)i * 7);
		net_req_release(&r[i]);
	}
	close_body_file(fd, dfd);
}
END_TEST

START_TEST(test_engine_file_body_past_eof_fails)
{
	struct net_req r;
	struct waiter w;
	int dfd, fd = body_file(&dfd);

	for (int direct = 0; direct < 2; direct++) {
		/* The file ends 1000 bytes into the body. */
		file_put(&r, &w, "/echo-sum", fd, direct ? dfd : -1, FILE_LEN - 1000, 600000,
			 NET_NO_RETRY);
		ck_assert_int_eq(r.msg.err, -EIO);
		net_req_release(&r);
	}
	close_body_file(fd, dfd);
}
END_TEST

START_TEST(test_engine_bounds_concurrency)
{
	enum { N = 12 };
	static struct net_req r[N];
	struct waiter w;

	waiter_init(&w);
	pthread_mutex_lock(&srv_lock);
	peak = concurrent = 0;
	hold_release = false;
	pthread_mutex_unlock(&srv_lock);
	for (int i = 0; i < N; i++) {
		req_for(&r[i], &w, "GET", "/hold");
		ck_assert_int_eq(net_submit(net, &r[i]), 0);
	}
	/* Wait until the server holds as many requests as the engine allows. */
	pthread_mutex_lock(&srv_lock);
	while (concurrent < 4)
		pthread_cond_wait(&srv_cond, &srv_lock);
	{
		/* Four are held by the server: the other eight must still be queued. */
		struct net_stats st;
		net_stats_get(net, &st);
		ck_assert_uint_eq(st.inflight, 4);
		ck_assert_uint_eq(st.queued, N - 4);
	}
	hold_release = true;
	pthread_cond_broadcast(&srv_cond);
	pthread_mutex_unlock(&srv_lock);
	wait_for(&w, N);
	ck_assert_int_eq(peak, 4);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(r[i].msg.status, 200);
		net_req_release(&r[i]);
	}
}
END_TEST

START_TEST(test_engine_cancel_in_flight)
{
	struct net_stats st;
	struct net_req r;
	struct waiter w;

	waiter_init(&w);
	req_for(&r, &w, "GET", "/never");
	ck_assert_int_eq(net_submit(net, &r), 0);
	net_cancel(net, &r);
	wait_for(&w, 1);
	ck_assert_int_eq(r.msg.err, -ECANCELED);
	net_stats_get(net, &st);
	ck_assert_uint_eq(st.requests[1][NET_OUT_CANCELLED], 1);
	net_req_release(&r);
}
END_TEST

static struct waiter task_w;

static void task_fn(struct net_task *t)
{
	(void)t;
	pthread_mutex_lock(&task_w.lock);
	task_w.done++;
	task_w.on_engine = net_on_engine(net);
	pthread_cond_broadcast(&task_w.cond);
	pthread_mutex_unlock(&task_w.lock);
}

START_TEST(test_engine_task_runs_on_engine_after_delay)
{
	struct net_task t;
	uint64_t t0 = util_now_ms();

	waiter_init(&task_w);
	net_task_init(&t, task_fn);
	ck_assert_int_eq(net_task_schedule(net, &t, 150), 0);
	wait_for(&task_w, 1);
	ck_assert(task_w.on_engine);
	ck_assert_uint_ge(util_now_ms() - t0, 150);
}
END_TEST

static int resubmit_rc;

static void resubmit_done(struct net_req *r)
{
	resubmit_rc = net_submit(r->net, r);
	on_done(r);
}

START_TEST(test_engine_shutdown_cancels_pending)
{
	struct net_req r;
	struct waiter w;

	waiter_init(&w);
	req_for(&r, &w, "GET", "/never");
	r.done = resubmit_done;
	ck_assert_int_eq(net_submit(net, &r), 0);
	net_free(net);
	net = NULL;
	ck_assert_int_eq(w.done, 1);
	ck_assert_int_eq(r.msg.err, -ECANCELED);
	/* A done callback that runs during shutdown cannot queue new work. */
	ck_assert_int_eq(resubmit_rc, -ESHUTDOWN);
	net_req_release(&r);
	setup();
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("net_engine");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_engine_get_ok_on_engine_thread);
	tcase_add_test(tc, test_engine_retries_503_then_succeeds);
	tcase_add_test(tc, test_engine_gives_up_after_max_retries);
	tcase_add_test(tc, test_engine_persist_retries_past_max_until_deadline);
	tcase_add_test(tc, test_engine_no_retry_on_404);
	tcase_add_test(tc, test_engine_retries_connection_reset);
	tcase_add_test(tc, test_engine_honours_retry_after);
	tcase_add_test(tc, test_engine_connection_refused_ends_at_deadline);
	tcase_add_test(tc, test_engine_stalled_request_times_out_at_deadline);
	tcase_add_test(tc, test_engine_sink_receives_body_and_overflow_fails);
	tcase_add_test(tc, test_engine_resp_cap_enforced);
	tcase_add_test(tc, test_engine_put_sends_memory_and_file_bodies);
	tcase_add_test(tc, test_engine_file_body_bytes_arrive_in_order);
	tcase_add_test(tc, test_engine_file_body_resent_whole_on_retry);
	tcase_add_test(tc, test_engine_file_body_concurrent_uploads);
	tcase_add_test(tc, test_engine_file_body_past_eof_fails);
	tcase_add_test(tc, test_engine_bounds_concurrency);
	tcase_add_test(tc, test_engine_cancel_in_flight);
	tcase_add_test(tc, test_engine_task_runs_on_engine_after_delay);
	tcase_add_test(tc, test_engine_shutdown_cancels_pending);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(engine_suite)
