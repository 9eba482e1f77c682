/*
 * fs_i.h - private to src/fs: the filesystem context, inodes and handles.
 *
 * Lock order: fs->lock, then cache and engine locks (never the reverse;
 * in practice fs->lock is dropped before calling either).
 */
#ifndef AZBLOBFS_FS_I_H
#define AZBLOBFS_FS_I_H

#include "azblobfs/fs.h"
#include "azblobfs/hmap.h"
#include "azblobfs/list.h"

#include <pthread.h>
#include <time.h>

/* Where staging files go without -o cache_dir: kept across reboots for recovery. */
#define FS_DEFAULT_STAGING "/var/tmp/azblobfs"

struct fs_node {
	struct hmap_node by_ino;   /* protected by fs->lock */
	struct hmap_node by_name;  /* protected by fs->lock; keyed by (parent, name) */
	struct list_node sibling;  /* protected by fs->lock: on parent->children while on by_name */
	struct list_node children; /* protected by fs->lock: the named children */
	uint64_t ino;
	struct fs_node *parent; /* holds a reference; NULL for the root */
	char *name;             /* "" for the root */
	uint64_t nlookup;       /* protected by fs->lock: the kernel's references */
	unsigned refs;          /* protected by fs->lock: children, handles, operations */
	struct cache_attr a;    /* protected by fs->lock: last known attributes */
	uint64_t cached_tag;    /* protected by fs->lock: fs_etag_tag() of the version in the
				 * page cache, 0 for none */

	/*
	 * The write path; all protected by fs->lock. See "Writers" above
	 * struct fs for who may attach w and when it leaves.
	 */
	struct eng_writer *w;   /* pending content, while open for writing or dirty */
	unsigned writers;       /* open handles that may write */
	unsigned w_users;       /* calls into w in progress (truncate, reads, commits) */
	struct list_node dirty; /* on fs->dirty exactly while w is set; holds a ref */
	bool unlinked;          /* deleted while open: never commit */
	bool commit_failed;     /* the last commit failed: its data is in staging */
	bool meta_known;        /* meta is the blob's full metadata as of meta_tag */
	uint64_t meta_tag;      /* fs_etag_tag() of that version */
	struct meta_list meta;
	char *content_type; /* the blob's, kept across rewrites; NULL = by extension */
	char *link_target;  /* a symlink's target, once read */

	/*
	 * Times this mount changed that the service does not keep (fs->lock):
	 * a directory's mtime when a name in it came or went, and any node's
	 * ctime. Shown when later than what the service says; 0 for none.
	 */
	struct timespec local_mtime;
	struct timespec local_ctime;
	/*
	 * A directory's subdirectories (fs->lock), counted in the listing its
	 * last opendir served, while the cache holds that listing (until
	 * subdirs_until, util_now_ms() clock; 0: unknown, st_nlink says 1).
	 * dir_gen counts this mount's changes of names in it.
	 */
	uint32_t subdirs;
	uint64_t subdirs_until;
	uint64_t dir_gen;
};

/* On by_name (and so on parent->children): reachable by its name. fs->lock held. */
static inline bool fs_node_named(const struct fs_node *n)
{
	return list_linked(&n->sibling);
}

#define FS_WALK_RING 8

struct fs_walk;

/*
 * Writers: the rules for n->w and fs->dirty.
 *
 * A node has a writer (n->w, and then it is on fs->dirty) from
 * fs_node_attach_writer() until fs_node_writer_detach() finds nobody who
 * needs it: no open writable handle (n->writers) and no call into the
 * writer in progress (n->w_users). Only these attach one:
 *   - fs_create() and an open for writing (file.c), for the handle they
 *     answer with; a handle the kernel did not take is released at once;
 *   - a truncate of a file nobody has open (setattr.c), for the length of
 *     the truncate and its commit.
 * Whoever lowers writers or w_users must then try to detach: the only
 * ways to do so are fs_node_writer_unuse() and the release of a handle,
 * on every path, errors included. Being on fs->dirty holds a reference
 * on the node (taken at attach, dropped at detach), so a node with a
 * writer is never freed under the walks of fs->dirty (merge_pending,
 * has_pending_children, sync_all); a forgotten detach leaks, it does not
 * crash. fs_free() detaches whatever is left at exit.
 */
struct fs {
	struct fs_config cfg;
	struct fs_replies r;
	struct eng *eng;
	struct cache *cache;
	char *container; /* NULL: the whole account */
	char *prefix;    /* "" or ending in '/' */
	struct timespec mount_time;

	pthread_mutex_t lock;
	struct hmap inodes; /* protected by lock */
	struct hmap names;  /* protected by lock */
	uint64_t next_ino;  /* protected by lock */
	struct fs_node *root;
	uint64_t nodes;           /* protected by lock */
	struct list_node dirty;   /* protected by lock: nodes with a writer */
	struct list_node handles; /* protected by lock: open files, until released */
	struct eng_staging *staging;

	/* Tree walks (walk.c); all protected by lock. */
	struct fs_walk *walk; /* the one under way, or NULL */
	char *walk_recent[FS_WALK_RING];
	uint64_t walk_recent_at[FS_WALK_RING];
	unsigned walk_recent_head;
	char *walk_refused[FS_WALK_RING];
	uint64_t walk_refused_until[FS_WALK_RING];
	unsigned walk_refused_head;
};

/* Where a mount-relative path lives on the service. */
struct fs_target {
	char *container;  /* NULL for the account root */
	char *blob;       /* blob name ("" for a container root) */
	char *dir_prefix; /* blob + '/' (or the mount prefix) for listing it */
};

/* A 64-bit fingerprint of an ETag (0 for none): nodes keep these, not the strings. */
uint64_t fs_etag_tag(const char *etag);

/* ---- inode.c (callers hold fs->lock unless noted) ---- */
int fs_nodes_init(struct fs *fs);
void fs_nodes_release(struct fs *fs);
struct fs_node *fs_node_get(struct fs *fs, uint64_t ino); /* +1 ref, or NULL */
void fs_node_put(struct fs *fs, struct fs_node *n);       /* -1 ref */
/*
 * New attributes from the service for @n (ignored while @n is being
 * written here). A changed ETag drops the kernel's cached pages of @n.
 */
void fs_node_set_attr(struct fs *fs, struct fs_node *n, const struct cache_attr *a);
/* Find or create the child @name of @parent with attributes @a; +1 ref. */
struct fs_node *fs_node_child(struct fs *fs, struct fs_node *parent, const char *name,
			      const struct cache_attr *a);
/* The child @name of @parent, without taking a reference, or NULL. */
struct fs_node *fs_node_find_child(struct fs *fs, struct fs_node *parent, const char *name);
void fs_node_forget(struct fs *fs, struct fs_node *n, uint64_t nlookup);
/* Mount-relative path ("" for the root). Caller frees. */
char *fs_node_path(struct fs *fs, const struct fs_node *n);

/* ---- fs.c ---- */
/* Split a mount-relative path. Returns 0 or -ENOMEM / -ENAMETOOLONG. */
int fs_target_of(const struct fs *fs, const char *path, struct fs_target *t);
void fs_target_release(struct fs_target *t);
void fs_fill_stat(const struct fs *fs, uint64_t ino, const struct cache_attr *a, struct stat *st);
void fs_fill_entry(const struct fs *fs, const struct fs_node *n, struct fs_entry *e);
/* stat(2) of @n: its attributes, this mount's times and the link count. Lock held. */
void fs_node_fill_stat(const struct fs *fs, const struct fs_node *n, struct stat *st);
/* The S_IF* bits of a cache type. */
mode_t fs_type_bits(uint8_t type);
/* st_nlink of @n now. Lock held. */
nlink_t fs_node_nlink(const struct fs_node *n);
/* @n's attributes or metadata changed here: its ctime is now. Lock held. */
void fs_node_touch(struct fs_node *n);
/*
 * A name in @dir came or went here: its mtime and ctime are now and its
 * subdirectory count is unknown. Lock held. Call it after telling the
 * cache, so an opendir cannot count an older listing after it.
 */
void fs_dir_changed(struct fs_node *dir);
/* An internal -errno as the positive errno a FUSE reply carries. */
int fs_reply_errno(int err);
void fs_reply_err(struct fs *fs, void *req, int err);

/* Parent path of a node and its name, for cache lookups. Caller frees both. */
int fs_node_parent_key(struct fs *fs, const struct fs_node *n, char **ppath, char **name);

/*
 * Fresh attributes of @n: from the cache, else by a probe. Calls
 * @cb(fs, req, n, err, a) exactly once, maybe before returning; @n is
 * referenced for the duration.
 */
typedef void (*fs_attr_fn)(struct fs *fs, void *req, struct fs_node *n, int err,
			   const struct cache_attr *a, void *arg);
void fs_node_refresh(struct fs *fs, void *req, struct fs_node *n, fs_attr_fn cb, void *arg);

/* ---- meta.c ---- */
/*
 * Make sure n->meta holds the blob's full metadata (one Get Blob
 * Properties when the listing said it has keys beyond ours), then call
 * @cb with n referenced. Any thread; @cb may run before this returns.
 */
typedef void (*fs_node_fn)(struct fs *fs, void *req, struct fs_node *n, int err, void *arg);
void fs_node_load_meta(struct fs *fs, void *req, struct fs_node *n, fs_node_fn cb, void *arg);
/* The metadata a commit of @n sends: its full metadata with the POSIX keys set. Lock held. */
int fs_node_build_meta(struct fs *fs, const struct fs_node *n, struct meta_list *out);
/* After a successful change on the service: new attributes for @n, caches told. */
void fs_node_committed(struct fs *fs, struct fs_node *n, const struct eng_commit_result *res,
		       bool data_changed);

/* ---- file.c ---- */
/*
 * Give @n a writer unless it has one; @empty: the content starts empty;
 * @create_only: its first commit must not replace a blob (eng_wbase). Lock held.
 */
int fs_node_attach_writer(struct fs *fs, struct fs_node *n, const struct cache_attr *a, bool empty,
			  bool create_only);
/*
 * Drop n's writer if nobody needs it any more (see "Writers"). Lock held;
 * the caller holds a reference on @n (detaching drops the list's one)
 * and frees what this returns outside the lock.
 */
struct eng_writer *fs_node_writer_detach(struct fs *fs, struct fs_node *n);
/*
 * The end of a call into n->w: w_users drops by one, and the writer goes
 * if that was the last use. Takes fs->lock; the caller holds a reference.
 */
void fs_node_writer_unuse(struct fs *fs, struct fs_node *n);
/* At exit: free the handles the kernel never released (nodes go with the table). */
void fs_handles_release(struct fs *fs);
/* Commit n's pending content (if any); @cb(fs, req, n, err, arg). */
void fs_node_commit(struct fs *fs, void *req, struct fs_node *n, fs_node_fn cb, void *arg);

/* ---- setattr.c ---- */
/*
 * n's attributes or metadata changed: store them on the service (Set Blob
 * Metadata, or a folder marker), unless a pending commit will carry them.
 * Answers @req with the attributes (@reply_attr) or with success.
 */
void fs_node_store_meta(struct fs *fs, void *req, struct fs_node *n, bool reply_attr);

/* ---- dir.c ---- */
/* Answer an opendir with @l (a reference the callee takes); @dir's reference too. */
void fs_dir_reply_handle(struct fs *fs, void *req, struct fs_node *dir, struct cache_listing *l);
/* List @dir (mount path @path) from the service and answer the opendir; takes @dir's reference. */
void fs_dir_list(struct fs *fs, void *req, struct fs_node *dir, const char *path);

/* ---- walk.c ---- */
/*
 * An opendir of @path missed the cache: join or start a tree walk that
 * will list it. True when the walk took over (it answers @req and owns
 * @dir's reference); false to list it the ordinary way.
 */
bool fs_walk_join(struct fs *fs, void *req, struct fs_node *dir, const char *path);
void fs_walk_release(struct fs *fs);

/* ---- xattr.c (exposed for tests) ---- */
int fs_xattr_key(const char *name, char *out, size_t n); /* "user.x" -> "ux_x" */
int fs_xattr_name(const char *key, char *out, size_t n); /* and back */
char *fs_xattr_encode(const char *v, size_t len);
ssize_t fs_xattr_decode(char *v);

/* ---- resolve: a child by name, from the node table, the cache or a probe ---- */
typedef void (*fs_child_fn)(struct fs *fs, void *req, struct fs_node *parent, const char *name,
			    int err, struct fs_node *child, void *arg);
/* @child is referenced during @cb (NULL with -ENOENT). */
void fs_resolve(struct fs *fs, void *req, struct fs_node *parent, const char *name, fs_child_fn cb,
		void *arg);

/* Lock held: detach @n from its name (a delete or a rename over it). */
void fs_node_unname(struct fs *fs, struct fs_node *n);
/* Lock held: give @n a new parent and name. Returns 0 or -ENOMEM. */
int fs_node_move(struct fs *fs, struct fs_node *n, struct fs_node *parent, const char *name);

#endif
