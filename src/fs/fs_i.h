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

#include <pthread.h>
#include <time.h>

struct fs_node {
	struct hmap_node by_ino;  /* protected by fs->lock */
	struct hmap_node by_name; /* protected by fs->lock; keyed by (parent, name) */
	bool named;               /* on by_name */
	uint64_t ino;
	struct fs_node *parent;   /* holds a reference; NULL for the root */
	char *name;               /* "" for the root */
	uint64_t nlookup;         /* protected by fs->lock: the kernel's references */
	unsigned refs;            /* protected by fs->lock: children, handles, operations */
	struct cache_attr a;      /* protected by fs->lock: last known attributes */
	char cached_etag[CACHE_ETAG_MAX]; /* protected by fs->lock: version in the page cache */
};

struct fs {
	struct fs_config cfg;
	struct fs_replies r;
	struct eng *eng;
	struct cache *cache;
	char *container;          /* NULL: the whole account */
	char *prefix;             /* "" or ending in '/' */
	struct timespec mount_time;

	pthread_mutex_t lock;
	struct hmap inodes;       /* protected by lock */
	struct hmap names;        /* protected by lock */
	uint64_t next_ino;        /* protected by lock */
	struct fs_node *root;
	uint64_t nodes;           /* protected by lock */
};

/* Where a mount-relative path lives on the service. */
struct fs_target {
	char *container;          /* NULL for the account root */
	char *blob;               /* blob name ("" for a container root) */
	char *dir_prefix;         /* blob + '/' (or the mount prefix) for listing it */
};

/* ---- inode.c (callers hold fs->lock unless noted) ---- */
int fs_nodes_init(struct fs *fs);
void fs_nodes_release(struct fs *fs);
struct fs_node *fs_node_get(struct fs *fs, uint64_t ino);      /* +1 ref, or NULL */
void fs_node_put(struct fs *fs, struct fs_node *n);            /* -1 ref */
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

#endif
