/*
 * fs.h - POSIX semantics over blobs: the inode table, path mapping and the
 * operations the FUSE layer forwards.
 *
 * Layer: fs (uses engine, cache, azure, net, util). No libfuse types: each
 * operation takes an opaque request pointer and answers it exactly once
 * through the struct fs_replies table the FUSE layer installs. The answer
 * may come before the call returns (cache hit) or later from the engine
 * thread (network).
 *
 * Threads: every fs_* operation may be called from any FUSE worker thread
 * and never blocks on the network. The inode table has one mutex
 * (fs->lock); it is never held across a reply or a call into the engine.
 */
#ifndef AZBLOBFS_FS_H
#define AZBLOBFS_FS_H

#include "common.h"
#include "cache.h"
#include "meta.h"
#include "engine.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#define FS_ROOT_INO 1
#define FS_NAME_MAX 255
#define FS_STATS_XATTR "user.azblobfs.stats"

struct fs_entry {
	uint64_t ino; /* 0: negative entry (cache "no such name") */
	uint64_t generation;
	struct stat st;
	double attr_timeout;
	double entry_timeout;
};

struct fs_open {
	uint64_t fh;
	bool keep_cache; /* the page cache still holds this version */
	bool direct_io;
	bool nonseekable;
};

/* How the FUSE layer answers; @req is its request handle. */
struct fs_replies {
	void (*err)(void *req, int err); /* err > 0 (errno) or 0 */
	void (*entry)(void *req, const struct fs_entry *e);
	/* These two return 0, or -errno when the kernel did not take the handle. */
	int (*create)(void *req, const struct fs_entry *e, const struct fs_open *o);
	void (*attr)(void *req, const struct stat *st, double timeout);
	int (*open)(void *req, const struct fs_open *o);
	void (*data)(void *req, const struct iovec *iov, int iovcnt);
	void (*buf)(void *req, const void *p, size_t n);
	void (*xattr_size)(void *req, size_t n);
	void (*write)(void *req, size_t n);
	void (*readlink)(void *req, const char *target);
	void (*statfs)(void *req, const struct statvfs *st);
	/*
	 * Tell the kernel to drop cached data of @ino (a change made elsewhere).
	 * Must only queue: it is called with fs locks held.
	 */
	void (*inval_inode)(void *ctx, uint64_t ino);
	/* Tell the kernel to forget @name in directory @parent (deleted elsewhere); may be NULL. */
	void (*inval_entry)(void *ctx, uint64_t parent, const char *name);
	void *inval_ctx;
};

/* Who asks: owner of new names. */
struct fs_caller {
	uid_t uid;
	gid_t gid;
};

/* What fs_setattr() changes (the FUSE layer translates FUSE_SET_ATTR_*). */
enum fs_set {
	FS_SET_MODE = 1 << 0,
	FS_SET_UID = 1 << 1,
	FS_SET_GID = 1 << 2,
	FS_SET_SIZE = 1 << 3,
	FS_SET_ATIME = 1 << 4,
	FS_SET_MTIME = 1 << 5,
	FS_SET_ATIME_NOW = 1 << 6,
	FS_SET_MTIME_NOW = 1 << 7,
};

struct fs_config {
	bool read_only;
	uid_t uid;
	gid_t gid;
	mode_t umask;
	double attr_timeout;     /* seconds the kernel keeps attributes */
	double entry_timeout;    /* seconds the kernel keeps names */
	double negative_timeout; /* seconds the kernel keeps "no such name" */
	uint32_t blksize;        /* st_blksize: the I/O size tools pick */
	char *cache_dir;         /* staging area for writes */
	uint64_t cache_size;     /* bytes of staging */
	unsigned walk_max;       /* names a tree-walk listing may fetch; 0: no tree walks */
};

void fs_config_defaults(struct fs_config *cfg);

struct fs;

/*
 * Create the filesystem over the engine, cache and client (all borrowed,
 * they must outlive it). @container NULL mounts the whole account;
 * @prefix is "" or ends in '/'. Returns 0 or -ENOMEM.
 */
int fs_new(const struct fs_config *cfg, const struct fs_replies *replies, struct eng *eng,
	   struct cache *cache, const char *container, const char *prefix,
	   struct fs **out) WARN_UNUSED;
/* The directory that holds staging files (from cfg->cache_dir). */
const char *fs_staging_dir(const struct fs *fs);
void fs_free(struct fs *fs);

/* ---- operations (any FUSE worker thread) ---- */
void fs_lookup(struct fs *fs, void *req, uint64_t parent, const char *name);
void fs_forget(struct fs *fs, uint64_t ino, uint64_t nlookup);
void fs_getattr(struct fs *fs, void *req, uint64_t ino);
void fs_opendir(struct fs *fs, void *req, uint64_t ino);
void fs_releasedir(struct fs *fs, uint64_t fh);
/* O_TRUNC arrives here (FUSE_CAP_ATOMIC_O_TRUNC). */
void fs_open(struct fs *fs, void *req, uint64_t ino, int flags);
void fs_read(struct fs *fs, void *req, uint64_t fh, uint64_t off, size_t size);
void fs_release(struct fs *fs, void *req, uint64_t fh);
void fs_statfs(struct fs *fs, void *req);

/* ---- changes (EROFS on a read-only mount) ---- */
void fs_create(struct fs *fs, void *req, uint64_t parent, const char *name, mode_t mode, int flags,
	       const struct fs_caller *c);
void fs_write(struct fs *fs, void *req, uint64_t fh, const void *buf, size_t size, uint64_t off);
/* flush (each close) and fsync answer once the content is committed, or with EIO. */
void fs_flush(struct fs *fs, void *req, uint64_t fh);
void fs_fsync(struct fs *fs, void *req, uint64_t fh);
void fs_setattr(struct fs *fs, void *req, uint64_t ino, const struct stat *st, unsigned to_set,
		const struct fs_caller *c);
void fs_unlink(struct fs *fs, void *req, uint64_t parent, const char *name);
void fs_mkdir(struct fs *fs, void *req, uint64_t parent, const char *name, mode_t mode,
	      const struct fs_caller *c);
void fs_rmdir(struct fs *fs, void *req, uint64_t parent, const char *name);
/* flags: RENAME_NOREPLACE honoured, RENAME_EXCHANGE refused (EINVAL). */
void fs_rename(struct fs *fs, void *req, uint64_t parent, const char *name, uint64_t newparent,
	       const char *newname, unsigned flags);
void fs_symlink(struct fs *fs, void *req, const char *target, uint64_t parent, const char *name,
		const struct fs_caller *c);
void fs_readlink(struct fs *fs, void *req, uint64_t ino);
/* Hard links do not exist on blobs: EPERM. */
void fs_link(struct fs *fs, void *req, uint64_t ino, uint64_t newparent, const char *newname);
/*
 * A regular file, FIFO, socket or device node (@rdev, for devices): a
 * 0-byte blob, the type in its metadata (file_type=, rdev=). The kernel
 * serves FIFOs and sockets itself; devices open only on a dev mount.
 */
void fs_mknod(struct fs *fs, void *req, uint64_t parent, const char *name, mode_t mode,
	      uint64_t rdev, const struct fs_caller *c);
/* user.* attributes live in blob metadata; other namespaces: ENOTSUP. */
void fs_setxattr(struct fs *fs, void *req, uint64_t ino, const char *name, const char *value,
		 size_t size, int flags);
void fs_removexattr(struct fs *fs, void *req, uint64_t ino, const char *name);

/* From now on every change is refused with EROFS (shutdown). Any thread. */
void fs_set_read_only(struct fs *fs);

/*
 * Commit every pending change (shutdown). Calls @cb once all commits
 * finished; @cb's err is the first failure.
 */
void fs_sync_all(struct fs *fs, void (*cb)(void *arg, int err), void *arg);
void fs_getxattr(struct fs *fs, void *req, uint64_t ino, const char *name, size_t size);
void fs_listxattr(struct fs *fs, void *req, uint64_t ino, size_t size);

/*
 * Entry @index of open directory @fh ("." and ".." first) for the FUSE
 * layer's readdir buffer: sets @name (valid until fs_releasedir) and @e,
 * and returns 1, or 0 past the end, or -errno. Without @plus only the type
 * bits of e->st.st_mode and e->ino are meaningful. With @plus the call
 * takes the lookup reference a readdirplus entry carries (except for "."
 * and ".."); a caller that then cannot hand the entry to the kernel gives
 * it back with fs_forget(fs, e->ino, 1).
 */
int fs_dir_entry(struct fs *fs, uint64_t fh, uint64_t index, bool plus, const char **name,
		 struct fs_entry *e);

/* The counters as JSON (the value of FS_STATS_XATTR). Caller frees. */
char *fs_stats_json(struct fs *fs);

#endif
