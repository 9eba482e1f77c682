/*
 * engine.h - operations as state machines over the request layer:
 * directory listings, single-name probes, the read-ahead reader and the
 * block-list writer, all within one memory budget.
 *
 * Layer: engine (uses azure, net, cache, util; used by fs).
 *
 * Threads: the eng_* entry points may be called from any thread (FUSE
 * workers); they never block on the network. Completion callbacks run on
 * the engine thread (or inline on the caller's thread when the answer is
 * already known) and must not block.
 *
 * Logging: the engine logs failures once, with the operation, the blob
 * name in quotes and the errno or HTTP status.
 */
#ifndef AZBLOBFS_ENGINE_H
#define AZBLOBFS_ENGINE_H

#include "common.h"
#include "azure.h"
#include "cache.h"
#include "net.h"

#include <sys/uio.h>

struct eng_config {
	uint64_t mem_budget;      /* bytes for read-ahead and write buffers together */
	uint64_t part_size;       /* read part and write block size (grown for huge files) */
	uint64_t readahead_max;   /* per open file */
	uint64_t readahead_init;  /* first read-ahead request */
	unsigned random_after;    /* seeks in a row before random mode */
	unsigned uploads_per_file; /* Put Blocks in flight per file */
	uid_t uid;                /* defaults for names without metadata */
	gid_t gid;
};

void eng_config_defaults(struct eng_config *cfg);

struct eng;

/*
 * Create the engine context over @net, @az (borrowed, must outlive it) and
 * @cache. Returns 0 or -ENOMEM.
 */
int eng_new(const struct eng_config *cfg, struct net *net, const struct az_client *az,
	    struct eng **out) WARN_UNUSED;
void eng_free(struct eng *e);
struct net *eng_net(struct eng *e);
const struct az_client *eng_az(struct eng *e);
const struct eng_config *eng_config(const struct eng *e);

/* ---- memory budget ---- */

/* Reserve @n bytes if they fit. Returns true on success. */
bool eng_budget_try(struct eng *e, uint64_t n);
/* Reserve @n bytes even past the budget (for the data a caller waits on). */
void eng_budget_force(struct eng *e, uint64_t n);
void eng_budget_release(struct eng *e, uint64_t n);
uint64_t eng_budget_used(struct eng *e);

/* ---- names ---- */

/*
 * Turn a listing item into a cache attribute: folders (prefixes, marker
 * blobs with hdi_isfolder=true), symlinks (is_symlink=true) and the POSIX
 * metadata (mode, uid, gid, mtime). Exposed for tests.
 */
void eng_item_to_attr(const struct az_item *it, struct cache_attr *out);
void eng_props_to_attr(const struct az_props *p, struct cache_attr *out);

/* ---- listings and probes ---- */

/* l is a new reference for the callee (NULL on error). */
typedef void (*eng_list_cb)(void *arg, int err, struct cache_listing *l);

/*
 * List directory @prefix ("" or ending in '/') of @container, every page,
 * names relative to @prefix. @container NULL lists the account's
 * containers. Calls @cb exactly once. Returns 0 or -errno (then @cb is
 * not called).
 */
int eng_list_dir(struct eng *e, const char *container, const char *prefix, eng_list_cb cb,
		 void *arg) WARN_UNUSED;

typedef void (*eng_probe_cb)(void *arg, int err, const struct cache_attr *a);

/*
 * Find what @name in directory @prefix of @container is: a blob, a folder
 * or nothing (-ENOENT), with one List request in the common case.
 * @container NULL probes a container name. Calls @cb exactly once.
 */
int eng_probe(struct eng *e, const char *container, const char *prefix, const char *name,
	      eng_probe_cb cb, void *arg) WARN_UNUSED;

/* ---- reads ---- */

struct eng_reader;

/*
 * A reader of one version of a blob: every GET carries If-Match @etag, so
 * a changed blob gives -ESTALE rather than a mix of versions.
 */
int eng_reader_new(struct eng *e, const char *container, const char *blob, uint64_t size,
		   const char *etag, struct eng_reader **out) WARN_UNUSED;

/* Cancel what is in flight; the reader frees itself once idle. NULL-safe. */
void eng_reader_free(struct eng_reader *r);

/*
 * @iov points into buffers that stay valid only until the callback returns.
 * err < 0: nothing read. A short count (less than asked) means end of blob.
 */
typedef void (*eng_read_cb)(void *arg, int err, const struct iovec *iov, int iovcnt);

/* Read [off, off+len). Calls @cb exactly once, possibly before returning. */
void eng_read(struct eng_reader *r, uint64_t off, size_t len, eng_read_cb cb, void *arg);

struct eng_reader_stats {
	uint64_t gets;        /* GETs issued */
	uint64_t window;      /* current read-ahead window */
	bool random;          /* random mode */
};
void eng_reader_stats(struct eng_reader *r, struct eng_reader_stats *out);

#endif
