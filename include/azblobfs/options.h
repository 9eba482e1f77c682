/*
 * options.h - the command line: `azblobfs [-o OPTS] SOURCE MOUNTPOINT`.
 *
 * Layer: fuse (parses with libfuse's fuse_opt tables). Options libfuse
 * itself understands (allow_other, ro, ...) are kept for it in
 * opts->fuse_argv; options meant for mount(8) itself (_netdev, nofail,
 * x-systemd.*, auto, noauto, user, users, defaults, ...) are ignored.
 *
 * Threads: main thread only, before any other thread exists.
 */
#ifndef AZBLOBFS_OPTIONS_H
#define AZBLOBFS_OPTIONS_H

#include "common.h"

struct azb_opts {
	char *source;
	char *mountpoint;
	int foreground;
	int debug;
	int read_only;
	int help;
	int version;
	char *account;
	char *endpoint;
	char *key_file;
	char *sas_file;
	char *connection_string_file;
	char *config;      /* -o config=PATH: key = value lines */
	char *account_key; /* secrets: accepted from the config file only */
	char *sas;
	char *connection_string;
	char *log_level;
	int allow_other;
	int default_permissions; /* set too when allow_other turned it on */
	int no_default_permissions;
	unsigned uid, gid, umask;
	int uid_set, gid_set, umask_set;
	double attr_timeout;
	double entry_timeout;
	double negative_timeout;
	unsigned metadata_ttl;                     /* seconds: listings, attributes, negatives */
	unsigned attr_ttl, list_ttl, negative_ttl; /* each overrides metadata_ttl */
	int attr_ttl_set, list_ttl_set, negative_ttl_set;
	unsigned walk_max; /* most names one tree-walk listing may fetch */
	unsigned cache_mb; /* metadata cache budget */
	unsigned mem_mb;   /* read-ahead and write buffer budget */
	unsigned max_connections;
	unsigned timeout; /* seconds: deadline of one request, retries included */
	unsigned retries;
	char *cache_dir;
	unsigned cache_size_mb;
	/* What goes to fuse_session_new (argv[0], -o fsname=..., kept options). */
	int fuse_argc;
	char **fuse_argv;
	int fuse_allocated;
};

/*
 * Parse @argv into @o (zeroed and given defaults first). With
 * -o config=PATH the file's options come first and the command line
 * overrides them. The file: one option per line, "key = value" or a bare
 * "key" for flags, '#' starts a comment; every -o option is accepted, and
 * so are the secrets account_key, sas and connection_string, which the
 * command line refuses (ps(1) shows it to everyone). A file holding a
 * secret must not be readable by group or others.
 * Returns 0, or -EINVAL with a one-line reason in @err (no secret in it).
 */
int opts_parse(int argc, char **argv, struct azb_opts *o, char *err, size_t errlen);
void opts_release(struct azb_opts *o);

/* Print the usage and every option with its default to @out. */
void opts_usage(const char *prog, void *out /* FILE * */);

#endif
