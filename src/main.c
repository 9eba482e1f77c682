/*
 * main.c - the azblobfs command: options, credentials, the access check,
 * daemonising, the FUSE session and an orderly exit.
 *
 * Daemon start-up: the process forks before any thread exists; the
 * parent waits on a pipe and exits 0 only once the child's mount answers
 * stat(2), or prints the child's one-line reason and exits 1.
 */
#define FUSE_USE_VERSION 312
#include "azblobfs/common.h"
#include "azblobfs/azure.h"
#include "azblobfs/cache.h"
#include "azblobfs/cleanup.h"
#include "azblobfs/engine.h"
#include "azblobfs/fs.h"
#include "azblobfs/fuseops.h"
#include "azblobfs/log.h"
#include "azblobfs/net.h"
#include "azblobfs/notify.h"
#include "azblobfs/options.h"
#include "azblobfs/timeutil.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_FILE_MAX (64 * 1024)
#define CHECK_DEADLINE_MS 15000

struct daemon {
	int status_fd; /* write end of the pipe to the waiting parent, or -1 */
	bool foreground;
	char *mountpoint;
	struct fuse_session *se;
	struct fs *fs;
	pthread_t main_thread;
	unsigned sync_timeout_ms; /* how long shutdown waits for pending commits */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool synced;  /* protected by lock */
	int sync_err; /* protected by lock */
};

static void report_failure(struct daemon *d, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* One line, to the terminal or through the parent; never a secret. */
static void report_failure(struct daemon *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->status_fd >= 0) {
		char line[1100];
		int n = snprintf(line, sizeof(line), "E%s", msg);
		(void)!write(d->status_fd, line, (size_t)MIN(n, (int)sizeof(line) - 1));
		close(d->status_fd);
		d->status_fd = -1;
	} else {
		fprintf(stderr, "azblobfs: %s\n", msg);
	}
	log_debug("start-up failed: %s", msg);
}

/* Parent side: wait for the child's verdict. */
static int wait_for_child(int fd)
{
	char buf[1100];
	size_t have = 0;
	ssize_t n;

	while (have < sizeof(buf) - 1 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	if (have && buf[0] == 'K')
		return 0;
	if (have && buf[0] == 'E')
		fprintf(stderr, "azblobfs: %s\n", buf + 1);
	else
		fprintf(stderr, "azblobfs: the daemon exited before the mount was ready\n");
	return 1;
}

static int daemonize(struct daemon *d)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "azblobfs: cannot create a pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "azblobfs: cannot fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		exit(wait_for_child(fds[0]));
	}
	close(fds[0]);
	d->status_fd = fds[1];
	setsid();
	if (chdir("/") < 0)
		return -1;
	return 0;
}

/* Read a secret from a file only its owner can read; trims whitespace. */
static int read_secret(struct daemon *d, const char *what, const char *path, char **out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	size_t len;

	if (fd < 0 || fstat(fd, &st) < 0) {
		report_failure(d, "cannot read %s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (st.st_mode & 077) {
		report_failure(d, "%s '%s' is readable by group or others: chmod 600 it", what,
			       path);
		return -1;
	}
	buf = malloc(SECRET_FILE_MAX + 1);
	if (!buf)
		return -1;
	n = read(fd, buf, SECRET_FILE_MAX);
	if (n < 0) {
		report_failure(d, "cannot read %s '%s': %s", what, path, strerror(errno));
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
		       buf[len - 1] == '\t'))
		buf[--len] = '\0';
	*out = buf;
	return 0;
}

static int replace_str(char **dst, const char *src)
{
	char *p = strdup(src);

	if (!p)
		return -ENOMEM;
	free(*dst);
	*dst = p;
	return 0;
}

/* Credentials: options first, then what SOURCE says, then the environment. */
static int build_creds(struct daemon *d, const struct azb_opts *o, const struct az_source *src,
		       struct az_creds *c)
{
	struct az_error e;
	char *secret = NULL;
	int rc = 0;

	az_error_clear(&e);
	if (o->connection_string_file) {
		if (read_secret(d, "connection string file", o->connection_string_file, &secret) <
		    0)
			return -1;
		rc = az_creds_parse_connection_string(secret, c, &e);
		explicit_bzero(secret, strlen(secret));
		free(secret);
		if (rc < 0)
			goto bad;
	}
	if (o->connection_string) {
		rc = az_creds_parse_connection_string(o->connection_string, c, &e);
		if (rc < 0)
			goto bad;
	}
	if (o->account_key) {
		rc = az_creds_set_key(c, o->account_key, &e);
		if (rc < 0)
			goto bad;
	}
	if (o->sas) {
		rc = az_creds_set_sas(c, o->sas);
		if (rc < 0)
			goto bad;
	}
	if (o->key_file) {
		if (read_secret(d, "key file", o->key_file, &secret) < 0)
			return -1;
		rc = az_creds_set_key(c, secret, &e);
		explicit_bzero(secret, strlen(secret));
		free(secret);
		if (rc < 0)
			goto bad;
	}
	if (o->sas_file) {
		if (read_secret(d, "SAS file", o->sas_file, &secret) < 0)
			return -1;
		rc = az_creds_set_sas(c, secret);
		explicit_bzero(secret, strlen(secret));
		free(secret);
		if (rc < 0)
			goto bad;
	}
	if ((o->account && replace_str(&c->account, o->account) < 0) ||
	    (o->endpoint && replace_str(&c->endpoint, o->endpoint) < 0) ||
	    (src->account && replace_str(&c->account, src->account) < 0) ||
	    (src->endpoint && replace_str(&c->endpoint, src->endpoint) < 0) ||
	    (src->sas && az_creds_set_sas(c, src->sas) < 0)) {
		rc = -ENOMEM;
		az_error_set(&e, rc, "out of memory");
		goto bad;
	}
	rc = az_creds_from_env(c, &e);
	if (rc < 0)
		goto bad;
	rc = az_creds_finish(c, &e);
	if (rc < 0)
		goto bad;
	return 0;
bad:
	report_failure(d, "%s", e.message[0] ? e.message : strerror(-rc));
	return -1;
}

/* ---- the access check: one listing, waited for on this thread ---- */

struct sync_req {
	struct net_req r;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void sync_done(struct net_req *r)
{
	struct sync_req *s = container_of(r, struct sync_req, r);

	pthread_mutex_lock(&s->lock);
	s->done = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Put the root's listing, which the access check fetched, into the cache:
 * the first ls of the mount then costs nothing. Only a complete page of
 * a container's root; anything else is listed the ordinary way.
 */
static void keep_root_listing(struct eng *eng, struct cache *cache, const struct az_source *src,
			      const struct http_msg *m, uint64_t gen)
{
	struct cache_listing *l = NULL;
	struct az_list page;
	struct az_error e;

	if (!src->container || az_parse_list_blobs(m->resp.data, m->resp.len, &page, &e) < 0)
		return;
	if ((!page.next_marker || !*page.next_marker) &&
	    eng_listing_from_page(eng, src->container, src->prefix, &page, &l) == 0) {
		(void)cache_put_listing(cache, "", l, gen);
		cache_listing_unref(l);
	}
	az_list_release(&page);
}

/*
 * The credentials and the container, checked before mounting with the
 * request the first ls of the root would make (a whole page: a page of
 * one name can cost a service that walks a large folder to find the next
 * prefix minutes), whose answer goes into the cache.
 */
static int check_access(struct daemon *d, struct net *net, const struct az_client *az,
			const struct az_source *src, struct eng *eng, struct cache *cache)
{
	const char *account = az->creds.account;
	const char *endpoint = az->creds.endpoint;
	struct sync_req s = {0};
	struct az_error e;
	uint64_t gen = cache_generation(cache);
	int rc;

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	net_req_init(&s.r);
	az_error_clear(&e);
	rc = src->container ? az_req_list_blobs(az, &s.r.msg, src->container, src->prefix, "/",
						NULL, AZ_MAX_LIST_RESULTS, true)
			    : az_req_list_containers(az, &s.r.msg, NULL, NULL, 1);
	if (rc < 0)
		goto out;
	s.r.done = sync_done;
	s.r.deadline_ms = util_now_ms() + CHECK_DEADLINE_MS;
	s.r.max_retries = 3;
	rc = net_submit(net, &s.r);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&s.lock);
	while (!s.done)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	rc = az_result(&s.r.msg, &e);
out:
	switch (rc) {
	case 0:
		keep_root_listing(eng, cache, src, &s.r.msg, gen);
		break;
	case -EACCES:
		report_failure(d, "access to account '%s' denied: %s (check the key or SAS)",
			       account, e.code[0] ? e.code : "authentication failed");
		break;
	case -ENOENT:
		if (src->container && !strcmp(e.code, "ContainerNotFound"))
			report_failure(d, "container '%s' does not exist in account '%s'",
				       src->container, account);
		else
			report_failure(d, "account '%s' not found at '%s' (%s)", account, endpoint,
				       e.code[0] ? e.code : "HTTP 404");
		break;
	case -ETIMEDOUT:
		if (s.r.msg.connected) {
			report_failure(d, "no answer from '%s' within %llu s", endpoint,
				       (unsigned long long)(CHECK_DEADLINE_MS / 1000));
			break;
		}
		__attribute__((fallthrough)); /* no connection: it could not be reached */
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ECONNRESET:
	case -EPROTO:
		report_failure(d, "cannot reach '%s': %s", endpoint, strerror(-rc));
		break;
	default:
		report_failure(d, "cannot list '%s' in account '%s': %s",
			       src->container ? src->container : "containers", account,
			       e.message[0] ? e.message : strerror(-rc));
		break;
	}
	net_req_release(&s.r);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	return rc;
}

/* ---- readiness: the mount answers stat(2) ---- */

static void *ready_main(void *arg)
{
	struct daemon *d = arg;
	struct stat st;

	if (stat(d->mountpoint, &st) < 0) {
		report_failure(d, "the mount at '%s' does not answer: %s", d->mountpoint,
			       strerror(errno));
		fuse_session_exit(d->se);
		return NULL;
	}
	log_info("mounted at '%s'", d->mountpoint);
	(void)util_sd_notify("READY=1\nSTATUS=Mounted");
	if (d->status_fd >= 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		(void)!write(d->status_fd, "K", 1);
		close(d->status_fd);
		d->status_fd = -1;
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			close(null);
		}
	}
	return NULL;
}

/* ---- shutdown: commit what is pending, then leave the loop ---- */

static void synced(void *arg, int err)
{
	struct daemon *d = arg;

	pthread_mutex_lock(&d->lock);
	d->synced = true;
	d->sync_err = err;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Commit every pending change, waiting at most sync_timeout_ms. Returns the first error. */
static int sync_everything(struct daemon *d)
{
	struct timespec until;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	d->synced = false;
	pthread_mutex_unlock(&d->lock);
	fs_sync_all(d->fs, synced, d);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += d->sync_timeout_ms / 1000;
	pthread_mutex_lock(&d->lock);
	while (!d->synced && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&d->cond, &d->lock, &until);
	err = d->synced ? d->sync_err : -ETIMEDOUT;
	pthread_mutex_unlock(&d->lock);
	if (err)
		log_err("shutdown: not every pending change could be committed (%s); see the "
			"lines above for where the data was kept",
			strerror(-err));
	return err;
}

static void wake_loop(int sig)
{
	(void)sig; /* interrupting the loop's wait is the whole point */
}

static void *signal_main(void *arg)
{
	struct daemon *d = arg;
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		log_info("SIGHUP ignored");
	}
	log_info("signal %d: committing pending changes, then unmounting", sig);
	(void)util_sd_notify("STOPPING=1\nSTATUS=Committing pending changes");
	/* No new changes from here on; reads go on until the unmount. */
	fs_set_read_only(d->fs);
	sync_everything(d);
	fuse_session_exit(d->se);
	pthread_kill(d->main_thread, SIGUSR1);
	return NULL;
}

static void print_versions(void)
{
	char azv[256];

	az_library_versions(azv, sizeof(azv));
	printf("azblobfs %s\nlibfuse %s\nlibcurl %s\n%s\n", AZBLOBFS_VERSION, fuse_pkgversion(),
	       net_library_version(), azv);
}

static int run(struct daemon *d, const struct azb_opts *o, struct az_source *src,
	       struct az_creds *creds)
{
	struct fuse_args args = FUSE_ARGS_INIT(o->fuse_argc, o->fuse_argv);
	struct fuse_ops_ctx ctx = {0};
	struct net_config nc;
	struct cache_config cc;
	struct eng_config ec;
	struct fs_config fc;
	struct fs_replies replies;
	struct az_client az = {0};
	struct net *net = NULL;
	struct cache *cache = NULL;
	struct eng *eng = NULL;
	struct fs *fs = NULL;
	struct fuse_loop_config *lc = NULL;
	pthread_t ready, sigthread;
	bool mounted = false, ready_started = false, sig_started = false;
	int rc = 1;

	net_config_defaults(&nc);
	if (o->max_connections)
		nc.max_connections = o->max_connections;
	nc.deadline_ms = o->timeout * 1000;
	nc.max_retries = o->retries;
	if (net_new(&nc, &net) < 0) {
		report_failure(d, "cannot start the request engine");
		goto out;
	}
	if (az_client_init(&az, creds) < 0) {
		report_failure(d, "out of memory");
		goto out;
	}
	cc.max_bytes = (uint64_t)o->cache_mb * MIB;
	cc.attr_ttl_ms = (o->attr_ttl_set ? o->attr_ttl : o->metadata_ttl) * 1000;
	cc.list_ttl_ms = (o->list_ttl_set ? o->list_ttl : o->metadata_ttl) * 1000;
	cc.neg_ttl_ms = (o->negative_ttl_set ? o->negative_ttl : o->metadata_ttl) * 1000;
	eng_config_defaults(&ec);
	ec.mem_budget = (uint64_t)o->mem_mb * MIB;
	fs_config_defaults(&fc);
	fc.read_only = o->read_only;
	if (o->uid_set)
		fc.uid = o->uid;
	if (o->gid_set)
		fc.gid = o->gid;
	fc.umask = o->umask;
	fc.attr_timeout = o->attr_timeout;
	fc.entry_timeout = o->entry_timeout;
	fc.negative_timeout = o->negative_timeout;
	fc.cache_dir = o->cache_dir;
	fc.cache_size = (uint64_t)o->cache_size_mb * MIB;
	fc.walk_max = o->walk_max;
	fuse_ops_config_defaults(&ctx.cfg);
	fuse_ops_replies(&replies, &ctx);
	if (cache_new(&cc, &cache) < 0 || eng_new(&ec, net, &az, &eng) < 0) {
		report_failure(d, "out of memory");
		goto out;
	}
	if (check_access(d, net, &az, src, eng, cache) < 0)
		goto out;
	if (fs_new(&fc, &replies, eng, cache, src->container, src->prefix, &fs) < 0) {
		report_failure(d, "out of memory");
		goto out;
	}
	ctx.fs = fs;

	d->se = fuse_session_new(&args, fuse_ops_table(), sizeof(struct fuse_lowlevel_ops), &ctx);
	if (!d->se) {
		report_failure(d, "invalid FUSE options");
		goto out;
	}
	ctx.se = d->se;
	d->fs = fs;
	d->sync_timeout_ms = (o->timeout + 30) * 1000;
	if (pthread_create(&sigthread, NULL, signal_main, d) == 0)
		sig_started = true;
	if (fuse_session_mount(d->se, d->mountpoint) < 0) {
		report_failure(d, "cannot mount at '%s'", d->mountpoint);
		goto out;
	}
	mounted = true;
	if (pthread_create(&ready, NULL, ready_main, d) == 0)
		ready_started = true;
	lc = fuse_loop_cfg_create();
	if (!lc) {
		report_failure(d, "out of memory");
		goto out;
	}
	fuse_loop_cfg_set_clone_fd(lc, 1);
	fuse_loop_cfg_set_max_threads(lc, 16);
	rc = fuse_session_loop_mt(d->se, lc) ? 1 : 0;
out:
	if (ready_started)
		pthread_join(ready, NULL);
	if (sig_started) {
		pthread_cancel(sigthread);
		pthread_join(sigthread, NULL);
	}
	/* Unmounted from outside, or after a signal: anything still pending goes up now. */
	if (fs && mounted)
		sync_everything(d);
	(void)util_sd_notify("STOPPING=1");
	/* Requests still on the wire complete (cancelled) while the session exists. */
	net_free(net);
	fuse_ops_stop(&ctx);
	if (d->se) {
		if (mounted)
			fuse_session_unmount(d->se);
		fuse_session_destroy(d->se);
	}
	fuse_loop_cfg_destroy(lc);
	fuse_opt_free_args(&args); /* the copy fuse_session_new() may have made */
	fs_free(fs);
	eng_free(eng);
	cache_free(cache);
	az_client_release(&az);
	return rc;
}

/*
 * The options are parsed (copied): blank the query of a URL argument, where
 * a SAS may be, so that ps and /proc/PID/cmdline do not show it.
 */
static void scrub_argv(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *q = strstr(argv[i], "://") ? strchr(argv[i], '?') : NULL;

		if (q)
			memset(q + 1, 'x', strlen(q + 1));
	}
}

int main(int argc, char **argv)
{
	struct daemon d = {.status_fd = -1};
	struct az_source src = {0};
	struct az_creds creds = {0};
	struct azb_opts o;
	struct az_error e;
	enum log_level level = LOG_LVL_INFO;
	char err[512];
	char real[PATH_MAX];
	struct stat st;
	int rc = 1;

	if (opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "azblobfs: %s\n", err);
		opts_release(&o); /* what it parsed before the error */
		return 1;
	}
	scrub_argv(argc, argv);
	if (o.help) {
		opts_usage(argv[0], stdout);
		rc = 0;
		goto out;
	}
	if (o.version) {
		print_versions();
		rc = 0;
		goto out;
	}
	if (o.log_level && util_log_level_parse(o.log_level, &level) < 0) {
		fprintf(stderr, "azblobfs: option 'log_level': invalid value '%s'\n", o.log_level);
		goto out;
	}
	if (o.debug)
		level = LOG_LVL_DEBUG;
	util_log_init(false, level);
	if (!realpath(o.mountpoint, real) || stat(real, &st) < 0) {
		if (errno == ENOTCONN)
			fprintf(
			    stderr,
			    "azblobfs: mountpoint '%s' is a dead FUSE mount (its daemon exited): "
			    "run 'fusermount3 -u %s' first\n",
			    o.mountpoint, o.mountpoint);
		else
			fprintf(stderr, "azblobfs: mountpoint '%s': %s\n", o.mountpoint,
				strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "azblobfs: mountpoint '%s' is not a directory\n", o.mountpoint);
		goto out;
	}
	d.mountpoint = real;
	az_error_clear(&e);
	if (o.source[0] == '/') {
		/* mount(8) turns a source that names a local path into an absolute one. */
		fprintf(
		    stderr,
		    "azblobfs: source '%s' is a local path: mount(8) rewrites a source that "
		    "names an existing file; use account/container or mount --no-canonicalize\n",
		    o.source);
		goto out;
	}
	if (az_source_parse(o.source, &src, &e) < 0) {
		fprintf(stderr, "azblobfs: source '%.*s': %s\n", (int)strcspn(o.source, "?"),
			o.source, e.message);
		goto out;
	}
	d.foreground = o.foreground;
	if (!o.foreground) {
		if (daemonize(&d) < 0)
			goto out;
		util_log_init(true, level);
	}
	if (o.allow_other && o.no_default_permissions)
		log_warn(
		    "allow_other with no_default_permissions: no permission checks, every local "
		    "user may read, change and delete every file of this mount");
	if (build_creds(&d, &o, &src, &creds) < 0)
		goto out;
	{
		/* Termination signals go to the signal thread only; SIGUSR1 wakes the loop. */
		struct sigaction sa = {.sa_handler = wake_loop};
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
	}
	d.main_thread = pthread_self();
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	rc = run(&d, &o, &src, &creds);
out:
	if (d.status_fd >= 0)
		report_failure(&d, "start-up failed");
	az_creds_release(&creds);
	az_source_release(&src);
	opts_release(&o);
	return rc;
}
