/*
 * fuseops.h - the libfuse low-level operations table over struct fs.
 *
 * Layer: fuse (uses fs). With main.c, the only code that includes
 * <fuse_lowlevel.h>. Every handler forwards to an fs_* operation and
 * every reply goes through the struct fs_replies this module provides.
 *
 * Threads: handlers run on libfuse worker threads; replies may come from
 * any thread (libfuse allows it; FUSE_CONN_FLAG_SINGLE_ISSUER is never set).
 */
#ifndef AZBLOBFS_FUSEOPS_H
#define AZBLOBFS_FUSEOPS_H

#include "common.h"
#include "fs.h"

struct fuse_lowlevel_ops;
struct fuse_session;

struct fuse_ops_config {
	unsigned max_write;      /* bytes per FUSE write (and read) request */
	unsigned max_readahead;  /* kernel read-ahead per file */
	unsigned max_background; /* asynchronous requests the kernel keeps queued */
};

void fuse_ops_config_defaults(struct fuse_ops_config *cfg);

struct fuse_ops_inval;

/* The session's userdata. */
struct fuse_ops_ctx {
	struct fs *fs;
	struct fuse_session *se; /* set once the session exists */
	struct fuse_ops_config cfg;
	struct fuse_ops_inval *inval; /* the notifier thread, started on first use */
};

/* Stop the notifier thread (before the session is destroyed). */
void fuse_ops_stop(struct fuse_ops_ctx *ctx);

const struct fuse_lowlevel_ops *fuse_ops_table(void);

/* The reply table for fs_new(); @ctx receives kernel cache notifications. */
void fuse_ops_replies(struct fs_replies *out, struct fuse_ops_ctx *ctx);

#endif
