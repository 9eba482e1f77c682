/*
 * eng.c - the engine context, the memory budget (and the writers waiting
 * on it), names the mount hides, and the engine's stats.
 */
#include "azblobfs/common.h"
#include "azblobfs/engine.h"
#include "azblobfs/hmap.h"
#include "azblobfs/log.h"
#include "azblobfs/timeutil.h"
#include "eng_i.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

void eng_config_defaults(struct eng_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_budget = 256 * MIB;
	cfg->part_size = 8 * MIB;
	cfg->readahead_max = 256 * MIB;
	cfg->readahead_init = MIB + 128 * KIB;
	cfg->random_after = 3;
	cfg->uploads_per_file = 16;
	cfg->uid = getuid();
	cfg->gid = getgid();
}

/* ---- waiting for memory ---- */

static void budget_wake(struct net_task *t)
{
	struct eng *e = container_of(t, struct eng, budget_task);
	struct list_node todo, *ln;

	list_init(&todo);
	pthread_mutex_lock(&e->pool_lock);
	e->wake_armed = false;
	while ((ln = list_pop(&e->budget_waiters))) {
		container_of(ln, struct eng_budget_waiter, node)->queued = false;
		list_add_tail(&todo, ln);
	}
	__atomic_store_n(&e->nwaiters, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&e->pool_lock);
	/* Each tries again; one still short of memory queues itself anew. */
	while ((ln = list_pop(&todo)))
		container_of(ln, struct eng_budget_waiter, node)
		    ->wake(container_of(ln, struct eng_budget_waiter, node));
}

bool eng_budget_wait(struct eng *e, struct eng_budget_waiter *bw)
{
	uint64_t now = util_now_ms(), delay = 0, gen;
	bool wait, arm = false;

	if (!e->net)
		return false;
	gen = __atomic_load_n(&e->release_gen, __ATOMIC_RELAXED);

	pthread_mutex_lock(&e->pool_lock);
	/* Memory given back since the last try: the wait is making progress. */
	if (!bw->since_ms || bw->gen != gen) {
		bw->since_ms = now;
		bw->gen = gen;
	}
	wait = now - bw->since_ms < BUDGET_WAIT_MS;
	if (wait && !bw->queued) {
		list_add_tail(&e->budget_waiters, &bw->node);
		bw->queued = true;
		__atomic_store_n(&e->nwaiters, e->nwaiters + 1, __ATOMIC_RELAXED);
	}
	if (wait) {
		delay = bw->since_ms + BUDGET_WAIT_MS - now;
		/* Armed already: it runs no later than this wait's end would. */
		arm = !e->wake_armed;
		e->wake_armed = true;
	} else {
		bw->since_ms = 0;
	}
	pthread_mutex_unlock(&e->pool_lock);
	if (arm && net_task_schedule(e->net, &e->budget_task, delay) < 0)
		return false; /* shutting down: nothing would wake it */
	return wait;
}

void eng_budget_waited(struct eng *e, struct eng_budget_waiter *bw)
{
	pthread_mutex_lock(&e->pool_lock);
	bw->since_ms = 0;
	pthread_mutex_unlock(&e->pool_lock);
}

bool eng_budget_unwait(struct eng *e, struct eng_budget_waiter *bw)
{
	bool was;

	pthread_mutex_lock(&e->pool_lock);
	was = bw->queued;
	if (was) {
		list_del(&bw->node);
		bw->queued = false;
		__atomic_store_n(&e->nwaiters, e->nwaiters - 1, __ATOMIC_RELAXED);
	}
	bw->since_ms = 0;
	pthread_mutex_unlock(&e->pool_lock);
	return was;
}

int eng_new(const struct eng_config *cfg, struct net *net, const struct az_client *az,
	    struct eng **out)
{
	struct eng *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->net = net;
	e->az = az;
	pthread_mutex_init(&e->pool_lock, NULL);
	list_init(&e->budget_waiters);
	net_task_init(&e->budget_task, budget_wake);
	*out = e;
	return 0;
}

void eng_free(struct eng *e)
{
	if (!e)
		return;
	if (e->net)
		net_task_cancel(e->net, &e->budget_task);
	for (unsigned i = 0; i < e->npool; i++)
		munmap(e->pool[i].p, e->pool[i].size);
	pthread_mutex_destroy(&e->pool_lock);
	free(e);
}

/*
 * Unmap kept buffers of another size than @size while the kept bytes and
 * @need more would pass the budget: the sizes a reader's window ramps up
 * through must not crowd out the size it settles on. Called with pool_lock
 * held; the caller unmaps the @out entries (at most POOL_SLOTS) unlocked.
 */
static unsigned pool_trim(struct eng *e, size_t size, uint64_t need, void **out, size_t *out_size)
{
	uint64_t used = eng_budget_used(e);
	unsigned n = 0;

	for (unsigned i = e->npool; i-- > 0 && used + e->pool_bytes + need > e->cfg.mem_budget;) {
		if (e->pool[i].size == size)
			continue;
		out[n] = e->pool[i].p;
		out_size[n++] = e->pool[i].size;
		e->pool_bytes -= e->pool[i].size;
		e->pool[i] = e->pool[--e->npool];
	}
	return n;
}

static void unmap_all(void **p, const size_t *size, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		munmap(p[i], size[i]);
}

void *eng_buf_get(struct eng *e, size_t size)
{
	void *p = NULL, *gone[POOL_SLOTS];
	size_t gone_size[POOL_SLOTS];
	unsigned ngone = 0;

	pthread_mutex_lock(&e->pool_lock);
	for (unsigned i = e->npool; i-- > 0;) {
		if (e->pool[i].size == size) {
			p = e->pool[i].p;
			e->pool_bytes -= size;
			e->pool[i] = e->pool[--e->npool];
			break;
		}
	}
	/* A new mapping: what is kept must still fit beside it (the caller has charged it). */
	if (!p)
		ngone = pool_trim(e, size, 0, gone, gone_size);
	pthread_mutex_unlock(&e->pool_lock);
	unmap_all(gone, gone_size, ngone);
	if (p)
		return p;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void eng_buf_put(struct eng *e, void *p, size_t size)
{
	void *gone[POOL_SLOTS];
	size_t gone_size[POOL_SLOTS];
	unsigned ngone;
	bool keep;

	if (!p)
		return;
	pthread_mutex_lock(&e->pool_lock);
	ngone = pool_trim(e, size, size, gone, gone_size);
	keep =
	    e->npool < POOL_SLOTS && eng_budget_used(e) + e->pool_bytes + size <= e->cfg.mem_budget;
	if (keep) {
		e->pool[e->npool].p = p;
		e->pool[e->npool].size = size;
		e->npool++;
		e->pool_bytes += size;
	}
	pthread_mutex_unlock(&e->pool_lock);
	unmap_all(gone, gone_size, ngone);
	if (!keep)
		munmap(p, size);
}

struct net *eng_net(struct eng *e)
{
	return e->net;
}

const struct az_client *eng_az(struct eng *e)
{
	return e->az;
}

const struct eng_config *eng_config(const struct eng *e)
{
	return &e->cfg;
}

bool eng_budget_try(struct eng *e, uint64_t n)
{
	uint64_t cur = __atomic_load_n(&e->budget_used, __ATOMIC_RELAXED);

	do {
		if (cur + n > e->cfg.mem_budget)
			return false;
	} while (!__atomic_compare_exchange_n(&e->budget_used, &cur, cur + n, true,
					      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	return true;
}

void eng_budget_force(struct eng *e, uint64_t n)
{
	__atomic_fetch_add(&e->budget_used, n, __ATOMIC_ACQ_REL);
}

void eng_budget_release(struct eng *e, uint64_t n)
{
	bool arm = false;

	__atomic_fetch_sub(&e->budget_used, n, __ATOMIC_ACQ_REL);
	__atomic_fetch_add(&e->release_gen, 1, __ATOMIC_RELAXED);
	/* Memory back: writers waiting for it try again (on the engine thread). */
	if (__atomic_load_n(&e->nwaiters, __ATOMIC_RELAXED) && e->net) {
		pthread_mutex_lock(&e->pool_lock);
		arm = !list_empty(&e->budget_waiters);
		e->wake_armed |= arm; /* now: earlier than any wait's end */
		pthread_mutex_unlock(&e->pool_lock);
	}
	if (arm)
		(void)net_task_schedule(e->net, &e->budget_task, 0);
}

uint64_t eng_budget_used(struct eng *e)
{
	return __atomic_load_n(&e->budget_used, __ATOMIC_RELAXED);
}

void eng_note_hidden(struct eng *e, const char *container, const char *name, const char *why)
{
	uint64_t h = util_hash(name, strlen(name),
			       util_hash(container ? container : "",
					 container ? strlen(container) : 0, UTIL_HASH_SEED)) |
		     1;
	bool seen = false;

	pthread_mutex_lock(&e->pool_lock);
	for (unsigned i = 0; i < HIDDEN_LOGGED && !seen; i++)
		seen = e->hidden[i] == h;
	if (!seen)
		e->hidden[e->hidden_next++ % HIDDEN_LOGGED] = h;
	pthread_mutex_unlock(&e->pool_lock);
	if (!seen)
		log_warn("'%s%s%.300s%s' is not shown: %s", container ? container : "",
			 container ? "/" : "", name, strlen(name) > 300 ? "..." : "", why);
}

const char *eng_bad_component(const char *rel, size_t len)
{
	const char *p = rel, *end = rel + len;

	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = (size_t)((slash ? slash : end) - p);
		if (!n || n > ENG_NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return p;
		if (!slash)
			return NULL;
		p = slash + 1;
	}
}

void eng_log_failure(const char *op, const char *container, const char *name, int err,
		     const struct az_error *azerr)
{
	const char *detail = azerr && azerr->message[0] ? azerr->message : strerror(-err);

	if (err == -ENOENT)
		return; /* absence is an answer, not a failure */
	log_err("%s '%s/%s': %s (%s)", op, container ? container : "", name ? name : "", detail,
		strerror(-err));
}

void eng_commit_fill(struct eng_commit_result *res, const struct http_msg *m, uint64_t size)
{
	struct az_commit c;

	az_commit_result(m, &c);
	memset(res, 0, sizeof(*res));
	res->size = size;
	memcpy(res->etag, c.etag, sizeof(res->etag));
	res->mtime = c.mtime;
}

int eng_stats_json(struct eng *e, struct buf *b)
{
	struct net_stats ns;
	uint64_t total = 0;
	int rc = 0;

	net_stats_get(e->net, &ns);
	rc |= buf_puts(b, "\"requests\":{");
	for (unsigned op = 0; op < AZ_OP__COUNT; op++) {
		rc |= buf_printf(b, "%s\"%s\":{", op ? "," : "", az_op_name(op));
		for (unsigned o = 0; o < NET_OUT__COUNT; o++) {
			rc |= buf_printf(b, "%s\"%s\":%llu", o ? "," : "", net_outcome_name(o),
					 (unsigned long long)ns.requests[op][o]);
			total += ns.requests[op][o];
		}
		rc |= buf_puts(b, "}");
	}
	rc |= buf_printf(b,
			 "},\"total_requests\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
			 "\"retries\":%llu,\"connections\":%llu,\"inflight\":%llu,"
			 "\"inflight_peak\":%llu,\"queued\":%llu,",
			 (unsigned long long)total, (unsigned long long)ns.bytes_in,
			 (unsigned long long)ns.bytes_out, (unsigned long long)ns.retries,
			 (unsigned long long)ns.connections, (unsigned long long)ns.inflight,
			 (unsigned long long)ns.inflight_peak, (unsigned long long)ns.queued);
	return rc ? -ENOMEM : 0;
}

bool eng_blob_name_too_long(const char *blob)
{
	return az_name_chars(blob) > AZ_MAX_BLOB_NAME;
}
