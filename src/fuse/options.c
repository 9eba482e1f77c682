/*
 * options.c - command-line parsing with libfuse's fuse_opt: one table,
 * every value checked here so that a bad one fails with one clear line.
 */
#define FUSE_USE_VERSION 312
#include "azblobfs/common.h"
#include "azblobfs/cleanup.h"
#include "azblobfs/options.h"

#include <fuse_lowlevel.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum key {
	K_FOREGROUND = 1,
	K_DEBUG,
	K_HELP,
	K_VERSION,
	K_RO,
	K_RW,
	K_KEEP, /* for libfuse */
	K_ALLOW_OTHER,
	K_DEFAULT_PERMISSIONS,
	K_NO_DEFAULT_PERMISSIONS,
	K_IGNORE, /* for mount(8) */
	K_STR,    /* string valued */
	K_UINT,
	K_DOUBLE,
	K_OCTAL,
};

/* Where each valued option goes, found by its name. */
struct valued {
	const char *name;
	enum key kind;
	size_t off;
	size_t set_off; /* offset of an "is set" flag, or 0 */
	unsigned long max;
};

#define O(field) offsetof(struct azb_opts, field)
static const struct valued valued[] = {
    {"account", K_STR, O(account), 0, 0},
    {"endpoint", K_STR, O(endpoint), 0, 0},
    {"key_file", K_STR, O(key_file), 0, 0},
    {"sas_file", K_STR, O(sas_file), 0, 0},
    {"connection_string_file", K_STR, O(connection_string_file), 0, 0},
    {"log_level", K_STR, O(log_level), 0, 0},
    {"config", K_STR, O(config), 0, 0},
    {"cache_dir", K_STR, O(cache_dir), 0, 0},
    {"uid", K_UINT, O(uid), O(uid_set), 0xfffffffe},
    {"gid", K_UINT, O(gid), O(gid_set), 0xfffffffe},
    {"umask", K_OCTAL, O(umask), O(umask_set), 0777},
    {"attr_timeout", K_DOUBLE, O(attr_timeout), 0, 86400},
    {"entry_timeout", K_DOUBLE, O(entry_timeout), 0, 86400},
    {"negative_timeout", K_DOUBLE, O(negative_timeout), 0, 86400},
    {"metadata_ttl", K_UINT, O(metadata_ttl), 0, 86400 * 365},
    {"attr_ttl", K_UINT, O(attr_ttl), O(attr_ttl_set), 86400 * 365},
    {"list_ttl", K_UINT, O(list_ttl), O(list_ttl_set), 86400 * 365},
    {"negative_ttl", K_UINT, O(negative_ttl), O(negative_ttl_set), 86400 * 365},
    {"walk_max", K_UINT, O(walk_max), 0, 10000000},
    {"cache_mb", K_UINT, O(cache_mb), 0, 1 << 20},
    {"mem_mb", K_UINT, O(mem_mb), 0, 1 << 20},
    {"max_connections", K_UINT, O(max_connections), 0, 1024},
    {"timeout", K_UINT, O(timeout), 0, 86400},
    {"retries", K_UINT, O(retries), 0, 100},
    {"cache_size_mb", K_UINT, O(cache_size_mb), 0, 1 << 30},
};
#undef O

static const struct fuse_opt table[] = {
    FUSE_OPT_KEY("-f", K_FOREGROUND),
    FUSE_OPT_KEY("foreground", K_FOREGROUND),
    FUSE_OPT_KEY("-d", K_DEBUG),
    FUSE_OPT_KEY("debug", K_DEBUG),
    FUSE_OPT_KEY("-h", K_HELP),
    FUSE_OPT_KEY("--help", K_HELP),
    FUSE_OPT_KEY("-V", K_VERSION),
    FUSE_OPT_KEY("--version", K_VERSION),
    FUSE_OPT_KEY("ro", K_RO),
    FUSE_OPT_KEY("rw", K_RW),
    /* libfuse's own, passed on. */
    FUSE_OPT_KEY("allow_other", K_ALLOW_OTHER),
    FUSE_OPT_KEY("allow_root", K_KEEP),
    FUSE_OPT_KEY("default_permissions", K_DEFAULT_PERMISSIONS),
    FUSE_OPT_KEY("no_default_permissions", K_NO_DEFAULT_PERMISSIONS),
    FUSE_OPT_KEY("auto_unmount", K_KEEP),
    /* mount(8)'s and fstab's, not ours. */
    FUSE_OPT_KEY("_netdev", K_IGNORE),
    FUSE_OPT_KEY("nofail", K_IGNORE),
    FUSE_OPT_KEY("auto", K_IGNORE),
    FUSE_OPT_KEY("noauto", K_IGNORE),
    FUSE_OPT_KEY("user", K_IGNORE),
    FUSE_OPT_KEY("nouser", K_IGNORE),
    FUSE_OPT_KEY("users", K_IGNORE),
    FUSE_OPT_KEY("defaults", K_IGNORE),
    FUSE_OPT_KEY("exec", K_IGNORE),
    FUSE_OPT_KEY("noexec", K_IGNORE),
    FUSE_OPT_KEY("suid", K_IGNORE),
    FUSE_OPT_KEY("nosuid", K_IGNORE),
    FUSE_OPT_KEY("dev", K_IGNORE),
    FUSE_OPT_KEY("nodev", K_IGNORE),
    FUSE_OPT_KEY("atime", K_IGNORE),
    FUSE_OPT_KEY("noatime", K_IGNORE),
    FUSE_OPT_KEY("relatime", K_IGNORE),
    FUSE_OPT_END,
};

/* Secrets: only from the config file. */
#define S(field) offsetof(struct azb_opts, field)
static const struct valued secrets[] = {
    {"account_key", K_STR, S(account_key), 0, 0},
    {"sas", K_STR, S(sas), 0, 0},
    {"connection_string", K_STR, S(connection_string), 0, 0},
};
#undef S

struct parse_state {
	struct azb_opts *o;
	char *err;
	size_t errlen;
	int npos;
	bool failed;
	bool from_file;
	bool saw_secret;
	const char *where; /* "config 'PATH' line N: " while reading the file */
};

static int fail(struct parse_state *s, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int fail(struct parse_state *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->failed) {
		size_t off = 0;
		if (s->where)
			off = (size_t)snprintf(s->err, s->errlen, "%s", s->where);
		va_start(ap, fmt);
		if (off < s->errlen)
			vsnprintf(s->err + off, s->errlen - off, fmt, ap);
		va_end(ap);
	}
	s->failed = true;
	return -1;
}

static int set_valued(struct parse_state *s, const struct valued *v, const char *val)
{
	char *base = (char *)s->o;
	char *end;

	if (!*val && v->kind != K_STR)
		return fail(s, "option '%s' needs a value", v->name);
	switch (v->kind) {
	case K_STR: {
		char **dst = (char **)(base + v->off);
		free(*dst);
		*dst = strdup(val);
		if (!*dst)
			return fail(s, "out of memory");
		break;
	}
	case K_UINT:
	case K_OCTAL: {
		unsigned long x = strtoul(val, &end, v->kind == K_OCTAL ? 8 : 10);
		if (*end || end == val || *val == '-' || x > v->max)
			return fail(s, "option '%s': invalid value '%s'", v->name, val);
		*(unsigned *)(base + v->off) = (unsigned)x;
		break;
	}
	case K_DOUBLE: {
		double x = strtod(val, &end);
		if (*end || end == val || !(x >= 0) || x > (double)v->max)
			return fail(s, "option '%s': invalid value '%s'", v->name, val);
		*(double *)(base + v->off) = x;
		break;
	}
	default:
		return fail(s, "option '%s' cannot be set", v->name);
	}
	if (v->set_off)
		*(int *)(base + v->set_off) = 1;
	return 0;
}

/* An option libfuse does not know: ours with a value, or an error. */
static int handle_opt(struct parse_state *s, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);

	if (!strncmp(arg, "x-", 2) || !strncmp(arg, "comment=", 8))
		return 0; /* x-systemd.*, x-gvfs-*, comment=: for other programs */
	for (size_t i = 0; i < ARRAY_SIZE(valued); i++) {
		if (strlen(valued[i].name) == nlen && !strncmp(arg, valued[i].name, nlen)) {
			if (!eq)
				return fail(s, "option '%s' needs a value", valued[i].name);
			return set_valued(s, &valued[i], eq + 1);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++) {
		if (strlen(secrets[i].name) != nlen || strncmp(arg, secrets[i].name, nlen))
			continue;
		/* Secrets must not be typed where ps(1) shows them; values are never echoed. */
		if (!s->from_file)
			break;
		if (!eq || !eq[1])
			return fail(s, "option '%s' needs a value", secrets[i].name);
		s->saw_secret = true;
		return set_valued(s, &secrets[i], eq + 1);
	}
	if (!strncmp(arg, "account_key=", 12) || !strncmp(arg, "sas=", 4) ||
	    !strncmp(arg, "connection_string=", 18))
		return fail(
		    s,
		    "option '%.*s' is not accepted on the command line: use a config "
		    "file, key_file=, sas_file=, connection_string_file= or the environment",
		    (int)nlen, arg);
	return fail(s, "unknown option '%.*s'", (int)nlen, arg);
}

static int proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct parse_state *s = data;
	struct azb_opts *o = s->o;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (s->npos == 0)
			o->source = strdup(arg);
		else if (s->npos == 1)
			o->mountpoint = strdup(arg);
		else
			return fail(s, "unexpected argument '%s'", arg);
		s->npos++;
		return 0;
	case FUSE_OPT_KEY_OPT:
		if (arg[0] == '-')
			return fail(s, "unknown option '%s'", arg);
		return handle_opt(s, arg);
	case K_FOREGROUND:
		o->foreground = 1;
		return 0;
	case K_DEBUG:
		o->debug = 1;
		o->foreground = 1;
		return 0;
	case K_HELP:
		o->help = 1;
		return 0;
	case K_VERSION:
		o->version = 1;
		return 0;
	case K_RO:
		o->read_only = 1; /* passed on to the kernel once the last word is known */
		return 0;
	case K_RW:
		o->read_only = 0;
		return 0;
	case K_KEEP:
		return 1;
	case K_ALLOW_OTHER:
		o->allow_other = 1;
		return 1;
	case K_DEFAULT_PERMISSIONS:
		o->default_permissions = 1;
		return 1;
	case K_NO_DEFAULT_PERMISSIONS:
		o->no_default_permissions = 1;
		return 0;
	case K_IGNORE:
		return 0;
	default:
		return fail(s, "unknown option '%s'", arg);
	}
}

static void defaults(struct azb_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->attr_timeout = 1.0;
	o->entry_timeout = 1.0;
	o->negative_timeout = 1.0;
	o->metadata_ttl = 30;
	o->walk_max = 100000;
	o->cache_mb = 64;
	o->mem_mb = 40;
	o->timeout = 60;
	o->retries = 5;
	o->cache_size_mb = 10240;
	o->umask = 022;
}

/* Trim spaces and tabs at both ends, in place. */
static char *trim(char *p)
{
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return p;
}

/*
 * Each line of the config file becomes one "-o key=value" argument for the
 * same option table the command line goes through.
 */
static int parse_config(struct parse_state *s, struct fuse_args *kept)
{
	/* Our own copy: an option parsed from the file must not pull it away. */
	_cleanup_free_ char *path = strdup(s->o->config);
	char where[512] = "", *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	struct stat st;
	FILE *f;
	int rc = 0;

	if (!path)
		return fail(s, "out of memory");
	f = fopen(path, "re");
	if (!f || fstat(fileno(f), &st) < 0) {
		if (f)
			fclose(f);
		return fail(s, "cannot read config '%s': %s", path, strerror(errno));
	}
	s->from_file = true;
	s->where = where;
	/* One line, one option, parsed by the same table as the command line. */
	while (!rc && getline(&line, &cap, f) >= 0) {
		struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
		char *p = trim(line), *eq, *opt = NULL;
		lineno++;
		if (!*p || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (eq) {
			*eq = '\0';
			if (asprintf(&opt, "%s=%s", trim(p), trim(eq + 1)) < 0)
				opt = NULL;
		} else {
			opt = strdup(p);
		}
		snprintf(where, sizeof(where), "config '%s' line %u: ", path, lineno);
		if (opt && (!strncmp(opt, "config=", 7) || !strcmp(opt, "config")))
			rc = fail(s, "a config file cannot name another (config=)");
		else if (!opt || fuse_opt_add_arg(&args, "azblobfs") < 0 ||
			 fuse_opt_add_arg(&args, "-o") < 0 || fuse_opt_add_arg(&args, opt) < 0)
			rc = fail(s, "out of memory");
		else if (strchr(opt, ','))
			rc = fail(s, "one option per line, without ','");
		else if (fuse_opt_parse(&args, s, table, proc) < 0 || s->failed)
			rc = fail(s, "invalid option");
		/* Options kept for libfuse (allow_other, ...) go on after argv[0]. */
		for (int i = 1; !rc && i < args.argc; i++)
			if (fuse_opt_add_arg(kept, args.argv[i]) < 0)
				rc = fail(s, "out of memory");
		fuse_opt_free_args(&args);
		free(opt);
	}
	free(line);
	fclose(f);
	s->where = NULL;
	s->from_file = false;
	if (!rc && s->saw_secret && (st.st_mode & 077))
		rc = fail(s,
			  "config '%s' holds credentials but is readable by group or others: "
			  "chmod 600 it",
			  path);
	return rc;
}

/* A first look at the command line: only config= matters. */
static int find_config(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct azb_opts *o = data;

	(void)outargs;
	if (key == FUSE_OPT_KEY_OPT && !strncmp(arg, "config=", 7)) {
		free(o->config);
		o->config = strdup(arg + 7);
	}
	return 1;
}

static int check_conflicts(struct parse_state *s)
{
	const struct azb_opts *o = s->o;
	bool cs = o->connection_string || o->connection_string_file;

	if (o->connection_string && o->connection_string_file)
		return fail(s, "options 'connection_string' and 'connection_string_file' conflict");
	if (o->account_key && o->key_file)
		return fail(s, "options 'account_key' and 'key_file' conflict");
	if (o->sas && o->sas_file)
		return fail(s, "options 'sas' and 'sas_file' conflict");
	if (cs && (o->account_key || o->key_file || o->sas || o->sas_file))
		return fail(s, "a connection string conflicts with a separate key or SAS");
	if (o->default_permissions && o->no_default_permissions)
		return fail(s,
			    "options 'default_permissions' and 'no_default_permissions' conflict");
	return 0;
}

int opts_parse(int argc, char **argv, struct azb_opts *o, char *err, size_t errlen)
{
	static const struct fuse_opt none[] = {FUSE_OPT_END};
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_args scan = FUSE_ARGS_INIT(0, NULL);
	struct fuse_args kept = FUSE_ARGS_INIT(0, NULL);
	struct parse_state s = {.o = o, .err = err, .errlen = errlen};
	char *fsname = NULL;
	int rc = -EINVAL;

	defaults(o);
	if (errlen)
		err[0] = '\0';
	/* 1. the config file, if the command line names one */
	for (int i = 0; i < argc; i++)
		if (fuse_opt_add_arg(&scan, argv[i]) < 0)
			goto out;
	if (fuse_opt_parse(&scan, o, none, find_config) < 0)
		goto out;
	if (fuse_opt_add_arg(&kept, argv[0]) < 0)
		goto out;
	if (o->config && parse_config(&s, &kept))
		goto out;
	/* 2. the command line, which overrides the file */
	if (fuse_opt_parse(&args, &s, table, proc) < 0 || s.failed) {
		if (!s.failed)
			fail(&s, "invalid command line");
		goto out;
	}
	if (check_conflicts(&s))
		goto out;
	for (int i = 1; i < args.argc; i++)
		if (fuse_opt_add_arg(&kept, args.argv[i]) < 0)
			goto oom;
	/* Other users in: the kernel checks the modes, unless told in so many words not to. */
	if (o->allow_other && !o->default_permissions && !o->no_default_permissions) {
		if (fuse_opt_add_arg(&kept, "-odefault_permissions") < 0)
			goto oom;
		o->default_permissions = 1;
	}
	if (!o->help && !o->version) {
		if (!o->source || !o->mountpoint) {
			snprintf(err, errlen, "usage: azblobfs [-o OPTIONS] SOURCE MOUNTPOINT");
			goto out;
		}
		/* Show SOURCE in mount(8) and df, as fuse.azblobfs. Commas would split options. */
		if (strchr(o->source, ',')) {
			snprintf(err, errlen, "source must not contain ','");
			goto out;
		}
		/* Without its query: a SAS there must not reach /proc/mounts. */
		if (asprintf(&fsname, "-ofsname=%.*s,subtype=azblobfs,max_read=1048576",
			     (int)strcspn(o->source, "?"), o->source) < 0 ||
		    fuse_opt_insert_arg(&kept, 1, fsname) < 0)
			goto oom;
	}
	if (o->debug && fuse_opt_add_arg(&kept, "-d") < 0)
		goto oom;
	/* The kernel mounts read-only too; rw on the command line undoes ro in the file. */
	if (o->read_only && fuse_opt_add_arg(&kept, "-oro") < 0)
		goto oom;
	o->fuse_argc = kept.argc;
	o->fuse_argv = kept.argv;
	o->fuse_allocated = kept.allocated;
	kept.argv = NULL;
	kept.allocated = 0;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
out:
	free(fsname);
	fuse_opt_free_args(&scan);
	fuse_opt_free_args(&args);
	fuse_opt_free_args(&kept);
	return rc;
}

void opts_release(struct azb_opts *o)
{
	struct fuse_args args = FUSE_ARGS_INIT(o->fuse_argc, o->fuse_argv);

	args.allocated = o->fuse_allocated;
	fuse_opt_free_args(&args);
	free(o->source);
	free(o->mountpoint);
	free(o->account);
	free(o->endpoint);
	free(o->key_file);
	free(o->sas_file);
	free(o->connection_string_file);
	free(o->log_level);
	free(o->cache_dir);
	free(o->config);
	if (o->account_key)
		explicit_bzero(o->account_key, strlen(o->account_key));
	if (o->sas)
		explicit_bzero(o->sas, strlen(o->sas));
	if (o->connection_string)
		explicit_bzero(o->connection_string, strlen(o->connection_string));
	free(o->account_key);
	free(o->sas);
	free(o->connection_string);
	memset(o, 0, sizeof(*o));
}

void opts_usage(const char *prog, void *out)
{
	FILE *f = out;

	fprintf(
	    f,
	    "usage: %s [-f] [-d] [-o OPTION[,OPTION...]] SOURCE MOUNTPOINT\n"
	    "\n"
	    "SOURCE: container | account/container[/prefix] | account/ (every container)\n"
	    "        | https://host[/container[/prefix]][?sas] | "
	    "http://127.0.0.1:PORT/account[/container]\n"
	    "\n"
	    "general:\n"
	    "  -f, foreground            stay in the foreground, log to stderr (default: daemon, "
	    "syslog)\n"
	    "  -d, debug                 log at debug level and trace FUSE requests (implies -f)\n"
	    "  -h, --help                this text\n"
	    "  -V, --version             versions of azblobfs and its libraries\n"
	    "  ro | rw                   read-only or read-write mount (default: rw)\n"
	    "  log_level=LEVEL           error, warning, info, debug (default: info)\n"
	    "credentials (default: the environment, AZURE_STORAGE_CONNECTION_STRING or\n"
	    "AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN):\n"
	    "  account=NAME              storage account (default: from SOURCE or the "
	    "environment)\n"
	    "  endpoint=URL              blob endpoint (default: "
	    "https://NAME.blob.core.windows.net)\n"
	    "  key_file=PATH             file holding the account key (default: none)\n"
	    "  sas_file=PATH             file holding a SAS token (default: none)\n"
	    "  connection_string_file=PATH  file holding a connection string (default: none)\n"
	    "  config=PATH               options and credentials, one \"key = value\" per line;\n"
	    "                            also takes account_key=, sas=, connection_string=\n"
	    "                            (default: none; the command line wins over it)\n"
	    "ownership and permissions:\n"
	    "  uid=N, gid=N              owner of names without metadata (default: the mounting "
	    "user)\n"
	    "  umask=OCTAL               permission mask for such names (default: 022)\n"
	    "  allow_other               let other users in (libfuse; default: off)\n"
	    "  allow_root                let root in as well as the mounting user (libfuse; "
	    "default: off)\n"
	    "  auto_unmount              unmount when the daemon dies (libfuse; default: off)\n"
	    "  default_permissions       let the kernel check permissions (default: on with\n"
	    "                            allow_other, else off)\n"
	    "  no_default_permissions    with allow_other: no permission checks at all; every\n"
	    "                            local user may read, change and delete every file\n"
	    "caching:\n"
	    "  attr_timeout=SECS         kernel attribute cache (default: 1)\n"
	    "  entry_timeout=SECS        kernel name cache (default: 1)\n"
	    "  negative_timeout=SECS     kernel cache of absent names (default: 1)\n"
	    "  metadata_ttl=SECS         listings, attributes and absent names (default: 30;\n"
	    "                            0: ask the service every time)\n"
	    "  attr_ttl=SECS, list_ttl=SECS, negative_ttl=SECS\n"
	    "                            each of the above alone (default: metadata_ttl)\n"
	    "  walk_max=N                names one listing of a whole subtree may fetch when a\n"
	    "                            tree walk (find, du, ls -R) is seen (default: 100000; 0: "
	    "off)\n"
	    "  cache_mb=N                metadata cache budget in MiB (default: 64)\n"
	    "data:\n"
	    "  mem_mb=N                  read-ahead and write buffer budget in MiB (default: 40)\n"
	    "  cache_dir=PATH            staging area for writes (default: /var/tmp/azblobfs)\n"
	    "  cache_size_mb=N           staging area bound in MiB (default: 10240)\n"
	    "network:\n"
	    "  max_connections=N         connections to the service (default: max(16, 4 x CPUs))\n"
	    "  timeout=SECS              deadline of one request, retries included (default: 60)\n"
	    "  retries=N                 retries of a failed request (default: 5; uploads retry\n"
	    "                            until timeout= runs out)\n",
	    prog);
}
