/*
 * wstaged.c - staged content: a sparse local file plus the set of bytes it
 * holds; missing bytes below base_limit are fetched from the base blob
 * (If-Match its ETag) before they are read or committed.
 */
#include "azblobfs/common.h"
#include "azblobfs/log.h"
#include "writer_i.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int staging_charge(struct eng_staging *s, uint64_t n);
void staging_uncharge(struct eng_staging *s, uint64_t n);

int staging_open(struct eng_writer *w)
{
	const char *dir = eng_staging_dir(w->st);
	char *path = NULL;
	int fd;

	if (w->sf.fd >= 0)
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (asprintf(&path, "%s/azblobfs-%d-%016llx-%u.stage", dir, (int)getpid(),
		     (unsigned long long)w->nonce, w->next_index) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = -errno;
		log_err("cannot create staging file '%s': %s", path, strerror(errno));
		free(path);
		return err;
	}
	w->sf.fd = fd;
	w->sf.path = path;
	return 0;
}

/* Bytes of [off, end) the staging file does not hold yet. */
static uint64_t missing(const struct eng_writer *w, uint64_t off, uint64_t end)
{
	uint64_t total = 0, gs, ge;

	while (off < end && rangeset_first_gap(&w->have, off, end, &gs, &ge)) {
		total += ge - gs;
		off = ge;
	}
	return total;
}

static bool direct_aligned(uintptr_t data, uint64_t off, uint64_t len)
{
	return !((data | off | len) & 4095);
}

int staging_direct(const struct eng_writer *w, uint64_t off, uint64_t len)
{
	return !w->sf.no_direct && direct_aligned(0, off, len) ? w->sf.dfd : -1;
}

/*
 * The descriptor for a write of @len bytes at @off from @data: with
 * @direct and page-aligned everything, one opened with O_DIRECT (no copy
 * into the page cache: the tee of streamed blocks costs the daemon more
 * CPU than the upload otherwise), else the ordinary one.
 */
static int write_fd(struct eng_writer *w, const char *data, uint64_t off, uint64_t len, bool direct)
{
	if (!direct || w->sf.no_direct || !direct_aligned((uintptr_t)data, off, len))
		return w->sf.fd;
	if (w->sf.dfd < 0) {
		w->sf.dfd = open(w->sf.path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (w->sf.dfd < 0) {
			w->sf.no_direct = true; /* tmpfs, say */
			return w->sf.fd;
		}
	}
	return w->sf.dfd;
}

/* Write @len bytes at @off of the staging file, charging the area for those it did not hold. */
static int put_bytes(struct eng_writer *w, const char *data, uint64_t off, uint64_t len,
		     bool direct)
{
	uint64_t add = missing(w, off, off + len);
	int fd = write_fd(w, data, off, len, direct);
	int rc;

	rc = staging_charge(w->st, add);
	if (rc < 0)
		return rc;
	w->accounted += add;
	while (len) {
		ssize_t n = pwrite(fd, data, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && fd == w->sf.dfd) {
			/* The file system refuses this direct write: buffered from now on. */
			w->sf.no_direct = true;
			fd = w->sf.fd;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		data += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int staging_put(struct eng_writer *w, const char *data, uint64_t off, uint64_t len, bool direct)
{
	int rc = staging_open(w);

	if (!rc)
		rc = put_bytes(w, data, off, len, direct);
	if (!rc && rangeset_add(&w->have, off, off + len) < 0)
		rc = -ENOMEM;
	return rc;
}

int staged_enter(struct eng_writer *w)
{
	int rc = staging_open(w);

	if (rc < 0)
		return rc;
	/* The tail not yet sent follows the blocks that were (whose bytes the tee kept). */
	if (w->cur_len && (rc = staging_put(w, w->cur, w->sent_bytes, w->cur_len, false)) < 0)
		return rc;
	if (w->cur) {
		eng_budget_release(w->e, w->cur_cap);
		eng_buf_put(w->e, w->cur, w->cur_cap);
		w->cur = NULL;
		w->cur_len = w->cur_cap = 0;
	}
	w->mode = WM_STAGED;
	w->base_limit = 0; /* the content started empty */
	w->next_index = w->nblocks;
	return 0;
}

int staged_write(struct eng_writer *w, const char *data, uint64_t off, uint64_t len)
{
	int rc;

	if (!len)
		return 0;
	rc = staging_put(w, data, off, len, false);
	if (rc < 0)
		return rc;
	w->dirty = true;
	w->keep_logged = false;
	w->size = MAX(w->size, off + len);
	return 0;
}

int staged_truncate(struct eng_writer *w, uint64_t size)
{
	uint64_t held;
	int rc = staging_open(w);

	if (rc < 0)
		return rc;
	if (ftruncate(w->sf.fd, (off_t)size) < 0)
		return -errno;
	rangeset_truncate(&w->have, size);
	/* Past the old end the content is zeros, never the base's bytes. */
	if (size > w->size && rangeset_add(&w->have, w->size, size) < 0)
		return -ENOMEM;
	held = rangeset_bytes(&w->have);
	if (held < w->accounted) {
		staging_uncharge(w->st, w->accounted - held);
		w->accounted = held;
	}
	w->base_limit = MIN(w->base_limit, size);
	w->size = size;
	w->dirty = true;
	return 0;
}

/* Read [off, off+len) of the staging file into a new buffer (holes are zeros). */
static int read_local(struct eng_writer *w, struct wop *op)
{
	uint64_t end = MIN(op->off + op->len, w->size);
	uint64_t got = 0;

	op->rlen = op->off < end ? end - op->off : 0;
	if (!op->rlen)
		return 0;
	op->rbuf = malloc(op->rlen);
	if (!op->rbuf)
		return -ENOMEM;
	while (got < op->rlen) {
		ssize_t n = pread(w->sf.fd, op->rbuf + got, op->rlen - got, (off_t)(op->off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		got += (uint64_t)n;
	}
	memset(op->rbuf + got, 0, op->rlen - got);
	return 0;
}

static void read_filled(struct eng_writer *w, void *arg, int err)
{
	struct wop *op = arg;

	writer_finish_op(w, op, err ? err : read_local(w, op));
}

int staged_read(struct eng_writer *w, struct wop *op)
{
	uint64_t end = MIN(op->off + op->len, w->size);
	uint64_t limit = MIN(end, w->base_limit);
	uint64_t gs, ge, first, last = 0, off;
	int rc;

	if (w->sf.fd < 0 && (rc = staging_open(w)) < 0) {
		writer_finish_op(w, op, rc);
		return 1;
	}
	if (op->off >= limit || !rangeset_first_gap(&w->have, op->off, limit, &gs, &ge)) {
		writer_finish_op(w, op, read_local(w, op));
		return 1;
	}
	first = gs;
	for (off = gs; off < limit && rangeset_first_gap(&w->have, off, limit, &gs, &ge); off = ge)
		last = ge;
	/* Fetch whole aligned pieces: the next read is likely close by. */
	first = first / FILL_ALIGN * FILL_ALIGN;
	last = MIN((last + FILL_ALIGN - 1) / FILL_ALIGN * FILL_ALIGN, w->base_limit);
	list_del(&op->node);
	rc = staged_fill(w, first, last - first, read_filled, op);
	if (rc < 0) {
		writer_finish_op(w, op, rc);
		return 1;
	}
	return 0;
}

struct fill {
	struct eng_writer *w;
	struct net_req req;
	char *buf;
	uint64_t off, len;
	fill_fn fn;
	void *arg;
};

static void fill_done(struct net_req *r)
{
	struct fill *f = r->arg;
	struct eng_writer *w = f->w;
	struct az_error azerr;
	uint64_t off, gs, ge, end = f->off + f->len;
	bool last;
	int rc;

	az_error_clear(&azerr);
	rc = az_range_result(&r->msg, f->off, f->len, &azerr);
	if (rc < 0)
		eng_log_failure("fetch", w->container, w->blob, rc, &azerr);
	writer_lock(w);
	/* Only the holes: bytes written meanwhile are newer than the base's. */
	for (off = f->off; !rc && off < end && rangeset_first_gap(&w->have, off, end, &gs, &ge);
	     off = ge)
		rc = staging_put(w, f->buf + (gs - f->off), gs, ge - gs, false);
	f->fn(w, f->arg, rc);
	eng_budget_release(w->e, f->len);
	eng_buf_put(w->e, f->buf, f->len);
	net_req_release(&f->req);
	free(f);
	writer_pump(w);
	last = writer_put_last(w);
	writer_unlock(w);
	if (last)
		writer_destroy(w);
}

int staged_fill(struct eng_writer *w, uint64_t off, uint64_t len, fill_fn fn, void *arg)
{
	struct fill *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	f->buf = eng_buf_get(w->e, len);
	if (!f->buf) {
		free(f);
		return -ENOMEM;
	}
	eng_budget_force(w->e, len);
	f->w = w;
	f->off = off;
	f->len = len;
	f->fn = fn;
	f->arg = arg;
	net_req_init(&f->req);
	rc = az_req_get_range(w->e->az, &f->req.msg, w->container, w->blob, off, len,
			      w->base.etag[0] ? w->base.etag : NULL);
	if (rc < 0)
		goto fail;
	f->req.prio = NET_PRIO_BULK;
	f->req.persist = true; /* part of a commit, which an outage within timeout= must not fail */
	f->req.msg.sink = f->buf;
	f->req.msg.sink_cap = len;
	f->req.done = fill_done;
	f->req.arg = f;
	rc = net_submit(w->e->net, &f->req);
	if (rc < 0)
		goto fail;
	w->refs++;
	return 0;
fail:
	net_req_release(&f->req);
	eng_budget_release(w->e, len);
	eng_buf_put(w->e, f->buf, len);
	free(f);
	return rc;
}

/* Keep what we hold of uncommitted content, with a note saying what it is. */
void staging_keep(struct eng_writer *w, const char *why)
{
	char *info = NULL;
	bool partial = w->mode == WM_STREAM && w->tee_off;
	FILE *f;

	if (w->mode == WM_STREAM && w->cur_len &&
	    staging_put(w, w->cur, w->sent_bytes, w->cur_len, false) < 0)
		partial = true;
	if (w->keep_logged)
		return; /* this content's failure is in the log already */
	w->keep_logged = true;
	if (w->sf.fd < 0) {
		if (w->size)
			log_err(
			    "changes to '%s/%s' were lost: %s, and nothing could be kept locally",
			    w->container, w->blob, why);
		else
			log_err("'%s/%s' could not be made empty: %s", w->container, w->blob, why);
		return;
	}
	w->keep = true;
	if (asprintf(&info, "%s.info", w->sf.path) < 0)
		info = NULL;
	f = info ? fopen(info, "we") : NULL;
	if (f) {
		fprintf(f, "container=%s\nblob=%s\nsize=%llu\nbase_etag=%s\nreason=%s\nheld=",
			w->container, w->blob, (unsigned long long)w->size, w->base.etag, why);
		for (size_t i = 0; i < w->have.n; i++)
			fprintf(f, "%s%llu-%llu", i ? "," : "",
				(unsigned long long)w->have.r[i].start,
				(unsigned long long)w->have.r[i].end);
		fprintf(f, "\n");
		if (partial)
			fprintf(f, "not_kept=bytes outside 'held': the staging area was full\n");
		fclose(f);
	}
	log_err("changes to '%s/%s' were not committed (%s): %s at '%s'%s%s", w->container, w->blob,
		why, partial ? "only partly kept (the staging area was full)" : "kept", w->sf.path,
		info ? ", details in " : "", info ? info : "");
	free(info);
}
