/*
 * bodyread.c - request bodies read from files, off the engine thread.
 *
 * A Put Block sent from the staging file used to pread() on the engine
 * thread; on a disk each 512 KiB read took about a millisecond, and the
 * engine thread, which drives every transfer, stood still for it (about
 * 2 s per GiB, a third of a 1 GiB upload). Here reader threads do the
 * reads (two, so that one slow read does not hold up every upload). Each
 * request with a file body owns one chunk buffer: while curl sends the
 * piece it has, the next one is read. A read callback
 * that finds its piece not yet read pauses the transfer; the reader,
 * when done, schedules a task on the engine thread that resumes it.
 *
 * Locking: br->lock guards the chunks' state, the queue and `stopping`.
 * Lock order: br->lock, then the net's lock (net_task_schedule).
 */
#include "azblobfs/common.h"
#include "azblobfs/list.h"
#include "azblobfs/log.h"
#include "net_i.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (512 * KIB)
#define DIRECT_ALIGN 4096
#define READERS 2

enum chunk_state {
	CS_IDLE = 0,
	CS_READING,
	CS_READY,
};

struct body_chunk {
	struct body_reader *br;
	struct net_req *req;
	struct net_task resume;
	struct list_node node; /* in br->queue while CS_READING */
	char *buf;             /* CHUNK bytes, DIRECT_ALIGN-aligned */
	int fd;                /* the descriptor this read uses */
	uint64_t start;        /* file offset of buf[0] */
	uint64_t pos;          /* the first byte wanted (start <= pos) */
	size_t want, got;
	int err;
	enum chunk_state state;
	bool waiting; /* the transfer paused for this read */
};

struct body_reader {
	struct net *net;
	pthread_t threads[READERS];
	unsigned nthreads;
	pthread_mutex_t lock;
	pthread_cond_t work; /* the queue has chunks, or stopping */
	pthread_cond_t done; /* a read finished */
	struct list_node queue;
	bool stopping;
};

static ssize_t pread_intr(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t got;

	do
		got = pread(fd, buf, n, (off_t)off);
	while (got < 0 && errno == EINTR);
	return got;
}

/* What a read found; stored into the chunk under the lock, never outside it. */
struct read_result {
	int fd;
	uint64_t start;
	size_t want, got;
	int err;
};

static void read_one(const struct body_chunk *c, struct read_result *res)
{
	const struct net_req *r = c->req;
	ssize_t n;

	res->fd = c->fd;
	res->start = c->start;
	res->want = c->want;
	n = pread_intr(res->fd, c->buf, res->want, res->start);
	if (n < 0 && errno == EINVAL && res->fd == r->body_dfd) {
		/* The file system refused the direct read: the ordinary way. */
		res->fd = r->body_fd;
		res->start = c->pos;
		res->want = MIN(res->want, (size_t)(r->body_off + r->body_len - c->pos));
		n = pread_intr(res->fd, c->buf, res->want, res->start);
	}
	res->err = 0;
	res->got = 0;
	if (n < 0)
		res->err = -errno;
	else if ((uint64_t)n <= c->pos - res->start)
		res->err = -EIO; /* the file ends before the body does */
	else
		res->got = (size_t)n;
}

static void *reader_main(void *arg)
{
	struct body_reader *br = arg;

	pthread_mutex_lock(&br->lock);
	for (;;) {
		struct list_node *ln = list_pop(&br->queue);
		struct read_result res;
		struct body_chunk *c;

		if (!ln) {
			if (br->stopping)
				break;
			pthread_cond_wait(&br->work, &br->lock);
			continue;
		}
		c = container_of(ln, struct body_chunk, node);
		/* The chunk cannot go while CS_READING (body_release waits), nor its fds. */
		pthread_mutex_unlock(&br->lock);
		read_one(c, &res);
		pthread_mutex_lock(&br->lock);
		c->fd = res.fd;
		c->start = res.start;
		c->want = res.want;
		c->got = res.got;
		c->err = res.err;
		c->state = CS_READY;
		if (c->waiting) {
			c->waiting = false;
			(void)net_task_schedule(br->net, &c->resume, 0);
		}
		pthread_cond_broadcast(&br->done);
	}
	pthread_mutex_unlock(&br->lock);
	return NULL;
}

int body_reader_new(struct net *n, struct body_reader **out)
{
	struct body_reader *br = calloc(1, sizeof(*br));
	int rc = 0;

	if (!br)
		return -ENOMEM;
	br->net = n;
	list_init(&br->queue);
	pthread_mutex_init(&br->lock, NULL);
	pthread_cond_init(&br->work, NULL);
	pthread_cond_init(&br->done, NULL);
	while (br->nthreads < READERS) {
		rc = -pthread_create(&br->threads[br->nthreads], NULL, reader_main, br);
		if (rc < 0)
			break;
		br->nthreads++;
	}
	if (!br->nthreads) {
		pthread_cond_destroy(&br->done);
		pthread_cond_destroy(&br->work);
		pthread_mutex_destroy(&br->lock);
		free(br);
		return rc;
	}
	*out = br;
	return 0;
}

void body_reader_free(struct body_reader *br)
{
	if (!br)
		return;
	pthread_mutex_lock(&br->lock);
	br->stopping = true;
	pthread_cond_broadcast(&br->work);
	pthread_mutex_unlock(&br->lock);
	for (unsigned i = 0; i < br->nthreads; i++)
		pthread_join(br->threads[i], NULL);
	pthread_cond_destroy(&br->done);
	pthread_cond_destroy(&br->work);
	pthread_mutex_destroy(&br->lock);
	free(br);
}

/* Engine thread: the reader has the piece a paused transfer waits for. */
static void resume_transfer(struct net_task *t)
{
	struct body_chunk *c = container_of(t, struct body_chunk, resume);

	if (c->req->easy)
		curl_easy_pause(c->req->easy, CURLPAUSE_CONT);
}

/* Queue the read of the piece starting at body byte @pos (lock held). */
static void start_read(struct body_chunk *c, uint64_t pos)
{
	struct net_req *r = c->req;
	uint64_t end = r->body_off + r->body_len;

	c->pos = pos;
	if (r->body_dfd >= 0) {
		/* O_DIRECT: aligned offset and length; past the file's end reads short. */
		c->fd = r->body_dfd;
		c->start = pos / DIRECT_ALIGN * DIRECT_ALIGN;
		end = (end + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN;
	} else {
		c->fd = r->body_fd;
		c->start = pos;
	}
	c->want = (size_t)MIN(end - c->start, (uint64_t)CHUNK);
	c->state = CS_READING;
	list_add_tail(&c->br->queue, &c->node);
	pthread_cond_signal(&c->br->work);
}

static struct body_chunk *chunk_new(struct body_reader *br, struct net_req *r)
{
	struct body_chunk *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (posix_memalign((void **)&c->buf, DIRECT_ALIGN, CHUNK)) {
		free(c);
		return NULL;
	}
	c->br = br;
	c->req = r;
	list_init(&c->node);
	net_task_init(&c->resume, resume_transfer);
	return c;
}

/* Without the reader (it could not start): read here, as before. */
static size_t read_here(struct net_req *r, char *out, size_t n)
{
	ssize_t got = pread_intr(r->body_fd, out, n, r->body_off + r->sent);

	if (got <= 0) {
		r->msg.err = got < 0 ? -errno : -EIO;
		return CURL_READFUNC_ABORT;
	}
	r->sent += (uint64_t)got;
	return (size_t)got;
}

size_t body_read(struct body_reader *br, struct net_req *r, char *out, size_t n)
{
	struct body_chunk *c = r->chunk;
	uint64_t pos = r->body_off + r->sent;
	uint64_t end = r->body_off + r->body_len;
	size_t k;

	if (!br)
		return read_here(r, out, n);
	if (!c) {
		c = chunk_new(br, r);
		if (!c)
			return read_here(r, out, n);
		r->chunk = c;
	}
	pthread_mutex_lock(&br->lock);
	if (c->state == CS_READY && c->err && c->pos == pos) {
		r->msg.err = c->err;
		c->state = CS_IDLE;
		pthread_mutex_unlock(&br->lock);
		return CURL_READFUNC_ABORT;
	}
	if (c->state == CS_READY && !c->err && pos >= c->start && pos < c->start + c->got) {
		k = (size_t)MIN((uint64_t)n, c->start + c->got - pos);
		memcpy(out, c->buf + (pos - c->start), k);
		r->sent += k;
		/* This piece is used up: read the next while curl sends this one. */
		if (pos + k == c->start + c->got && pos + k < end)
			start_read(c, pos + k);
		pthread_mutex_unlock(&br->lock);
		return k;
	}
	/* Being read, nothing read yet, or not this piece (a rewind for a retry). */
	if (c->state != CS_READING)
		start_read(c, pos);
	c->waiting = true;
	pthread_mutex_unlock(&br->lock);
	return CURL_READFUNC_PAUSE;
}

void body_release(struct body_reader *br, struct net_req *r)
{
	struct body_chunk *c = r->chunk;

	if (!c)
		return;
	r->chunk = NULL;
	/* A read in progress uses the buffer and the caller's descriptors: let it end. */
	pthread_mutex_lock(&br->lock);
	if (list_linked(&c->node)) {
		list_del(&c->node); /* queued, not started */
		c->state = CS_IDLE;
	}
	while (c->state == CS_READING)
		pthread_cond_wait(&br->done, &br->lock);
	pthread_mutex_unlock(&br->lock);
	net_task_cancel(br->net, &c->resume);
	free(c->buf);
	free(c);
}
