/*
 * bench/nullfs.c - the floor for the azblobfs benchmark: a FUSE file system
 * that does no work, so that reading and writing it with the same dd shows
 * what the kernel-to-daemon path alone costs on this machine.
 *
 * The root directory holds one regular file, "zero" (mode 0644), that reads
 * as zeros up to its size and discards whatever is written to it (a write
 * only moves its size; truncate sets it). The initial size is -o size=BYTES
 * (default 1 GiB).
 *
 * It talks to the kernel the way azblobfs does (src/fuse/ops.c, src/main.c):
 * libfuse3 low-level API; max_read and max_write 1 MiB (the max_read= mount
 * option and conn->max_read/max_write); max_readahead 4 MiB;
 * max_background 64; ASYNC_READ, PARALLEL_DIROPS, ASYNC_DIO, ATOMIC_O_TRUNC
 * on; writeback cache and splice off; fuse_session_loop_mt with clone_fd and
 * at most 16 threads. Reads are answered from one static zero buffer (the
 * only copy is the kernel's), writes are acknowledged without touching the
 * data (the only copy is libfuse's read of the request from /dev/fuse, as in
 * azblobfs, which does not use splice either).
 *
 * Not part of the project's meson build: bench/run.sh builds it with
 *   cc -O2 -Wall -o nullfs nullfs.c $(pkg-config --cflags --libs fuse3)
 * and runs it as
 *   nullfs [-f] [-o size=BYTES] MOUNTPOINT
 */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE

#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
#define MAX_IO MIB
#define FILE_INO 2
#define FILE_NAME "zero"

static const char zeros[MAX_IO];

static pthread_mutex_t size_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t file_size = 1024ull * MIB;
static struct timespec t0;

struct opts {
	char *size;
};

static const struct fuse_opt opt_spec[] = {
    {"size=%s", offsetof(struct opts, size), 0},
    FUSE_OPT_END,
};

static uint64_t get_size(void)
{
	uint64_t s;

	pthread_mutex_lock(&size_lock);
	s = file_size;
	pthread_mutex_unlock(&size_lock);
	return s;
}

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atim = st->st_mtim = st->st_ctim = t0;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = (off_t)get_size();
		st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
		st->st_blksize = MAX_IO;
	}
}

static void nf_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want |= (FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_ASYNC_DIO |
		       FUSE_CAP_ATOMIC_O_TRUNC) &
		      conn->capable;
	conn->want &= ~(unsigned)(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_SPLICE_READ |
				  FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	conn->max_write = MAX_IO;
	conn->max_read = MAX_IO;
	if (!conn->max_readahead || conn->max_readahead > 4 * MIB)
		conn->max_readahead = 4 * MIB;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
}

static void nf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, FILE_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	fill_stat(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void nf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void nf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FILE_INO) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		pthread_mutex_lock(&size_lock);
		file_size = (uint64_t)attr->st_size;
		pthread_mutex_unlock(&size_lock);
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void nf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FILE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (fi->flags & O_TRUNC) {
		pthread_mutex_lock(&size_lock);
		file_size = 0;
		pthread_mutex_unlock(&size_lock);
	}
	fuse_reply_open(req, fi);
}

static void nf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	uint64_t fsz = get_size();
	size_t n = 0;

	(void)ino;
	(void)fi;
	if ((uint64_t)off < fsz) {
		n = size;
		if ((uint64_t)off + n > fsz)
			n = (size_t)(fsz - (uint64_t)off);
		if (n > sizeof(zeros))
			n = sizeof(zeros);
	}
	fuse_reply_buf(req, zeros, n);
}

static void nf_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)fi;
	pthread_mutex_lock(&size_lock);
	if ((uint64_t)off + size > file_size)
		file_size = (uint64_t)off + size;
	pthread_mutex_unlock(&size_lock);
	fuse_reply_write(req, size);
}

static void nf_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void nf_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void nf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fuse_reply_open(req, fi);
}

static void nf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	static const struct {
		const char *name;
		fuse_ino_t ino;
		mode_t mode;
	} ents[] = {{".", FUSE_ROOT_ID, S_IFDIR},
		    {"..", FUSE_ROOT_ID, S_IFDIR},
		    {FILE_NAME, FILE_INO, S_IFREG}};
	char buf[512];
	size_t used = 0;

	(void)ino;
	(void)fi;
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (off_t i = off; i < (off_t)(sizeof(ents) / sizeof(ents[0])); i++) {
		struct stat st = {.st_ino = ents[i].ino, .st_mode = ents[i].mode};
		size_t n =
		    fuse_add_direntry(req, buf + used, size - used, ents[i].name, &st, i + 1);

		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void nf_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = MAX_IO;
	sv.f_frsize = 4096;
	sv.f_blocks = sv.f_bfree = sv.f_bavail = 1ull << 32;
	sv.f_files = sv.f_ffree = 1u << 20;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
    .init = nf_init,
    .lookup = nf_lookup,
    .getattr = nf_getattr,
    .setattr = nf_setattr,
    .open = nf_open,
    .read = nf_read,
    .write = nf_write,
    .flush = nf_ok,
    .release = nf_ok,
    .fsync = nf_fsync,
    .opendir = nf_opendir,
    .readdir = nf_readdir,
    .releasedir = nf_ok,
    .statfs = nf_statfs,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cl;
	struct opts o = {0};
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc = NULL;
	int rc = 1;

	clock_gettime(CLOCK_REALTIME, &t0);
	if (fuse_parse_cmdline(&args, &cl) != 0)
		return 1;
	if (cl.show_help || !cl.mountpoint) {
		printf("usage: %s [-f] [-o size=BYTES] MOUNTPOINT\n", argv[0]);
		fuse_cmdline_help();
		goto out;
	}
	if (fuse_opt_parse(&args, &o, opt_spec, NULL) != 0)
		goto out;
	if (o.size) {
		char *end;
		unsigned long long v = strtoull(o.size, &end, 10);

		if (*end) {
			fprintf(stderr, "nullfs: bad size '%s'\n", o.size);
			goto out;
		}
		file_size = v;
	}
	/* The kernel's max_read comes from the mount option; match azblobfs. */
	if (fuse_opt_add_arg(&args, "-ofsname=nullfs,subtype=nullfs,max_read=1048576") != 0)
		goto out;
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, cl.mountpoint) != 0)
		goto out_sig;
	if (fuse_daemonize(cl.foreground) != 0)
		goto out_unmount;
	lc = fuse_loop_cfg_create();
	if (!lc)
		goto out_unmount;
	fuse_loop_cfg_set_clone_fd(lc, 1);
	fuse_loop_cfg_set_max_threads(lc, 16);
	rc = fuse_session_loop_mt(se, lc) ? 1 : 0;
	fuse_loop_cfg_destroy(lc);
out_unmount:
	fuse_session_unmount(se);
out_sig:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	free(cl.mountpoint);
	free(o.size);
	fuse_opt_free_args(&args);
	return rc;
}
