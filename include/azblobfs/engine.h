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
	uint64_t mem_budget;       /* bytes for read-ahead and write buffers together */
	uint64_t part_size;        /* read part and write block size (grown for huge files) */
	uint64_t readahead_max;    /* per open file */
	uint64_t readahead_init;   /* first read-ahead request */
	unsigned random_after;     /* seeks in a row before random mode */
	unsigned uploads_per_file; /* Put Blocks in flight per file */
	uid_t uid;                 /* defaults for names without metadata */
	gid_t gid;
};

void eng_config_defaults(struct eng_config *cfg);

/*
 * The size of block @index (0-based) of a streamed upload: the part size
 * for the first 20,000 blocks (160 GiB at 8 MiB), then doubling every
 * 2,500 blocks, but never over half the memory budget (a block is filled
 * in memory) nor the service's 4,000 MiB. The 50,000 blocks a blob may
 * have then hold 732 GiB with the defaults (8 MiB parts, 40 MiB budget),
 * over 3 TiB with mem_mb=256, over 40 TiB with mem_mb=8000; a larger file
 * fails with EFBIG. Pure.
 */
uint64_t eng_block_size(const struct eng_config *cfg, uint32_t index);

/*
 * The largest file a writer accepts: 50,000 blocks of the service's
 * largest, 4,000 MiB (about 190.7 TiB). A truncate or write beyond it
 * fails with EFBIG before anything is staged.
 */
#define ENG_MAX_FILE_SIZE ((uint64_t)50000 * 4000 * 1048576)

struct eng;

/*
 * Create the engine context over @net, @az (borrowed, must outlive it) and
 * @cache. Returns 0 or -ENOMEM.
 */
int eng_new(const struct eng_config *cfg, struct net *net, const struct az_client *az,
	    struct eng **out) WARN_UNUSED;
void eng_free(struct eng *e);
struct net *eng_net(struct eng *e);

/*
 * Append the request counters as JSON members to @b: "requests" (per
 * operation name, per outcome), "total_requests", "bytes_in", "bytes_out",
 * "retries", "connections", "inflight", "inflight_peak", "queued", each
 * followed by a comma. Any thread. Returns 0 or -ENOMEM / -ENOBUFS (@b
 * then holds a partial text).
 */
int eng_stats_json(struct eng *e, struct buf *b);

/* True when @blob has more characters than the service takes in a blob name. */
bool eng_blob_name_too_long(const char *blob);
const struct az_client *eng_az(struct eng *e);
const struct eng_config *eng_config(const struct eng *e);

/* ---- memory budget ---- */

/* Reserve @n bytes if they fit. Returns true on success. */
bool eng_budget_try(struct eng *e, uint64_t n);
/* Reserve @n bytes even past the budget (for the data a caller waits on). */
void eng_budget_force(struct eng *e, uint64_t n);
void eng_budget_release(struct eng *e, uint64_t n);
uint64_t eng_budget_used(struct eng *e);

/*
 * Data buffers of @size bytes, reused: a fresh mapping costs a page fault
 * and a page clearing per 4 KiB, half the CPU of a streamed write. Free
 * buffers are kept only while the budget's used bytes plus the kept ones
 * stay within it; kept buffers of other sizes make way for the size being
 * returned or allocated. Budget accounting stays the caller's. Any thread.
 */
void *eng_buf_get(struct eng *e, size_t size);
void eng_buf_put(struct eng *e, void *p, size_t size);

/* ---- names ---- */

/*
 * Turn a listing item into a cache attribute: folders (prefixes, marker
 * blobs with hdi_isfolder=true), symlinks (is_symlink=true), special files
 * (file_type=fifo|socket|char|block, rdev=<decimal> for devices) and the
 * POSIX metadata (mode, uid, gid, mtime). Exposed for tests.
 */
void eng_item_to_attr(const struct az_item *it, struct cache_attr *out);
void eng_props_to_attr(const struct az_props *p, struct cache_attr *out);

/* True for the metadata keys eng_item_to_attr() interprets (mode, uid, ...). */
bool eng_meta_is_own(const char *name);

/* The file_type metadata value of a special @type (CACHE_T_FIFO...), else NULL. */
const char *eng_file_type_name(uint8_t type);

/*
 * The metadata a commit sends for attributes @a: every key of @extra (the
 * blob's other metadata, may be NULL) that is not one of ours, then ours
 * (uid and gid only when they differ from the mount's defaults). @out is
 * new; free with meta_list_release(). Returns 0 or -ENOMEM / -E2BIG.
 */
int eng_posix_meta_encode(const struct cache_attr *a, const struct meta_list *extra,
			  uint32_t default_uid, uint32_t default_gid, struct meta_list *out);

/* ---- listings and probes ---- */

/*
 * The first component of the blob-name part @rel (@len bytes) that no
 * path can hold, or NULL: "", ".", ".." or over 255 bytes. Listings and
 * tree walks hide such names by it. Pure.
 */
const char *eng_bad_component(const char *rel, size_t len);

/*
 * The listing eng_list_dir() would make of @container under @prefix, from
 * one page of List Blobs with delimiter "/" that holds the whole folder
 * (no NextMarker): for a page fetched some other way (the mount-time
 * check). @out is a new, sealed reference. Returns 0 or -ENOMEM.
 */
int eng_listing_from_page(struct eng *e, const char *container, const char *prefix,
			  const struct az_list *page, struct cache_listing **out);

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

/* names: full blob names, owned by the callee (free each and the array). */
typedef void (*eng_names_cb)(void *arg, int err, char **names, size_t n);

/*
 * Every blob name under @prefix (no delimiter: the whole subtree), at most
 * @max, plus @extra (a folder's marker blob) when not NULL.
 */
int eng_list_flat(struct eng *e, const char *container, const char *prefix, const char *extra,
		  size_t max, eng_names_cb cb, void *arg) WARN_UNUSED;

/*
 * A whole subtree in name order, page by page (no delimiter): @page gets
 * each page's blobs with names relative to @prefix and returns false to
 * stop; then @done runs exactly once (@complete: every page was seen).
 * Both run on the engine thread.
 */
struct eng_walk_item {
	const char *name;
	struct cache_attr a;
};
typedef bool (*eng_walk_page_fn)(void *arg, const struct eng_walk_item *items, size_t n);
typedef void (*eng_walk_done_fn)(void *arg, int err, bool complete);
int eng_walk(struct eng *e, const char *container, const char *prefix, eng_walk_page_fn page,
	     eng_walk_done_fn done, void *arg) WARN_UNUSED;

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
	uint64_t gets;   /* GETs issued */
	uint64_t window; /* current read-ahead window */
	bool random;     /* random mode */
};
void eng_reader_stats(struct eng_reader *r, struct eng_reader_stats *out);

/* ---- writes ---- */

typedef void (*eng_done_cb)(void *arg, int err);

/*
 * The staging area: a directory for the local copies of files written
 * out of order, bounded in bytes. Shared by all writers; thread-safe.
 */
struct eng_staging;
int eng_staging_new(const char *dir, uint64_t max_bytes, struct eng_staging **out) WARN_UNUSED;
void eng_staging_free(struct eng_staging *s);
uint64_t eng_staging_used(const struct eng_staging *s);
const char *eng_staging_dir(const struct eng_staging *s);

/* What the blob was when writing began. */
struct eng_wbase {
	bool exists;
	uint64_t size;
	char etag[AZ_ETAG_MAX];
	/*
	 * Created here while the name was believed absent (O_EXCL, or O_CREAT
	 * without O_TRUNC): until its first commit lands, that commit carries
	 * If-None-Match: *, so a blob another client created meanwhile is never
	 * overwritten (the commit fails with EEXIST and the bytes are kept).
	 */
	bool create_only;
};

struct eng_commit_opts {
	const char *content_type;     /* NULL: from the name's extension */
	const struct meta_list *meta; /* the blob's metadata after the commit */
};

struct eng_commit_result {
	uint64_t size;
	char etag[AZ_ETAG_MAX];
	struct timespec mtime; /* the service's Last-Modified */
};

typedef void (*eng_commit_cb)(void *arg, int err, const struct eng_commit_result *res);

/*
 * The pending content of one blob. With @empty (a new file, or O_TRUNC)
 * the content starts empty and writes that only append stream out as
 * blocks while the application writes; anything else (a write elsewhere,
 * a read of data already sent, a truncation) moves the content to a
 * staging file, which starts as @base and fetches its bytes on demand.
 *
 * Operations on one writer take effect in the order they are called;
 * each calls its callback exactly once (maybe before returning; on the
 * engine thread when it needs the network). @buf of a write is copied
 * before eng_writer_write() returns.
 */
struct eng_writer;
int eng_writer_new(struct eng *e, struct eng_staging *st, const char *container, const char *blob,
		   const struct eng_wbase *base, bool empty, struct eng_writer **out) WARN_UNUSED;
void eng_writer_write(struct eng_writer *w, const void *buf, size_t len, uint64_t off,
		      eng_done_cb cb, void *arg);
void eng_writer_read(struct eng_writer *w, uint64_t off, size_t len, eng_read_cb cb, void *arg);
void eng_writer_truncate(struct eng_writer *w, uint64_t size, eng_done_cb cb, void *arg);

/*
 * Make the service's blob equal the pending content. Returns through @cb
 * only once the commit succeeded (res set) or failed after retries (the
 * content then stays in the staging area, and the failure is logged with
 * where it was kept). Nothing to do (clean) answers at once with res set.
 */
void eng_writer_commit(struct eng_writer *w, const struct eng_commit_opts *o, eng_commit_cb cb,
		       void *arg);

uint64_t eng_writer_size(struct eng_writer *w);
bool eng_writer_dirty(struct eng_writer *w);

/* ---- namespace operations (one request each, unless said) ---- */

typedef void (*eng_props_cb)(void *arg, int err, const struct az_props *p);
typedef void (*eng_data_cb)(void *arg, int err, const char *data, size_t len);

int eng_get_props(struct eng *e, const char *container, const char *blob, eng_props_cb cb,
		  void *arg) WARN_UNUSED;
/* Put Blob of @len bytes (copied) with Content-MD5. */
int eng_put_small(struct eng *e, const char *container, const char *blob, const void *data,
		  size_t len, const struct az_write_opts *o, eng_commit_cb cb,
		  void *arg) WARN_UNUSED;
int eng_delete(struct eng *e, const char *container, const char *blob, const char *if_match,
	       eng_done_cb cb, void *arg) WARN_UNUSED;
int eng_set_meta(struct eng *e, const char *container, const char *blob, const struct meta_list *m,
		 const char *if_match, eng_commit_cb cb, void *arg) WARN_UNUSED;
/* The first @max bytes of a blob (a symlink's target). */
int eng_get_small(struct eng *e, const char *container, const char *blob, size_t max,
		  eng_data_cb cb, void *arg) WARN_UNUSED;
/*
 * Server-side Copy Blob within the container, waiting out a pending copy.
 * @no_replace: fail with -EEXIST (or -ESTALE) if @dst exists.
 */
int eng_copy(struct eng *e, const char *container, const char *src, const char *dst,
	     bool no_replace, eng_done_cb cb, void *arg) WARN_UNUSED;
/*
 * Rename a folder: copy every blob under @src_prefix (and @src_marker, the
 * folder's marker blob, if not NULL) to @dst_prefix, TREE_PARALLEL at a
 * time; only when every copy succeeded delete the originals. A failed copy
 * removes the copies made (but the marker of a destination folder that
 * existed before, @dst_exists) and fails with its error; a failed delete
 * leaves both names and fails with -EIO. No blob is ever lost.
 */
int eng_rename_tree(struct eng *e, const char *container, const char *src_prefix,
		    const char *dst_prefix, const char *src_marker, bool dst_exists, eng_done_cb cb,
		    void *arg) WARN_UNUSED;

/* Point later commits at another blob name (a rename of an open file). */
int eng_writer_rename(struct eng_writer *w, const char *container, const char *blob);

/*
 * Drop the writer once nothing is pending. With @discard (the file was
 * deleted) its staging file goes too; otherwise pending changes that were
 * never committed are kept in the staging area and logged.
 */
void eng_writer_free(struct eng_writer *w, bool discard);

#endif
