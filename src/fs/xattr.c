/*
 * xattr.c - extended attributes. user.* attributes live in blob metadata:
 * the name after "user." becomes the metadata key "ux_" + its bytes with
 * everything but [a-z0-9] written as "_" and two hex digits (metadata
 * keys are case-insensitive C# identifiers); the value is kept with bytes
 * outside 0x21-0x7e and '%' percent-encoded, and an empty value as "%".
 * The mount root also answers user.azblobfs.stats with the counters.
 */
#include "azblobfs/common.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#define XATTR_PREFIX "user."
#define KEY_PREFIX "ux_"
#define META_MAX 8192 /* the service's bound on all metadata of a blob */

static const char hex[] = "0123456789abcdef";

int fs_xattr_key(const char *name, char *out, size_t n)
{
	size_t o = strlen(KEY_PREFIX);

	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)))
		return -ENOTSUP;
	name += strlen(XATTR_PREFIX);
	if (!*name)
		return -EINVAL;
	if (n <= o)
		return -ERANGE;
	memcpy(out, KEY_PREFIX, o);
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (o + 1 >= n)
				return -ERANGE;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= n)
				return -ERANGE;
			out[o++] = '_';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fs_xattr_name(const char *key, char *out, size_t n)
{
	size_t o = strlen(XATTR_PREFIX);

	if (strncasecmp(key, KEY_PREFIX, strlen(KEY_PREFIX)))
		return -EINVAL;
	key += strlen(KEY_PREFIX);
	if (n <= o)
		return -ERANGE;
	memcpy(out, XATTR_PREFIX, o);
	while (*key) {
		int c = (unsigned char)*key;
		if (c == '_') {
			int h = unhex(key[1]), l = h < 0 ? -1 : unhex(key[2]);
			if (l < 0)
				return -EINVAL;
			c = h << 4 | l;
			key += 3;
		} else {
			/* The service may hand keys back in another case. */
			c = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
			key++;
		}
		if (o + 1 >= n)
			return -ERANGE;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Encoded value of @len bytes; caller frees. */
char *fs_xattr_encode(const char *v, size_t len)
{
	char *out = malloc(len * 3 + 2), *p = out;

	if (!out)
		return NULL;
	if (!len)
		*p++ = '%';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c > 0x20 && c < 0x7f && c != '%') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

/* Decode in place; returns the byte count or -EINVAL. */
ssize_t fs_xattr_decode(char *v)
{
	char *in = v, *out = v;

	if (!strcmp(v, "%"))
		return 0;
	while (*in) {
		if (*in == '%') {
			int h = unhex(in[1]), l = h < 0 ? -1 : unhex(in[2]);
			if (l < 0)
				return -EINVAL;
			*out++ = (char)(h << 4 | l);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	return out - v;
}

static void reply_value(struct fs *fs, void *req, const char *v, size_t len, size_t size)
{
	if (!size)
		fs->r.xattr_size(req, len);
	else if (size < len)
		fs->r.err(req, ERANGE);
	else
		fs->r.buf(req, v, len);
}

/* ---- get / list ---- */

struct xop {
	char *name;
	char *value;
	size_t vlen;
	size_t size;
	int flags;
	bool remove;
};

static void xop_free(struct xop *x)
{
	if (!x)
		return;
	free(x->name);
	free(x->value);
	free(x);
}

static void get_loaded(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct xop *x = arg;
	char key[FS_NAME_MAX * 3 + 8];
	char *v = NULL;
	ssize_t len = -ENODATA;

	if (!err)
		err = fs_xattr_key(x->name, key, sizeof(key));
	if (!err) {
		pthread_mutex_lock(&fs->lock);
		const char *raw = meta_get(&n->meta, key);
		v = raw ? strdup(raw) : NULL;
		pthread_mutex_unlock(&fs->lock);
		len = v ? fs_xattr_decode(v) : -ENODATA;
	}
	if (err)
		fs_reply_err(fs, req, err == -ENOTSUP ? -ENODATA : err);
	else if (len < 0)
		fs_reply_err(fs, req, (int)len);
	else
		reply_value(fs, req, v, (size_t)len, x->size);
	free(v);
	xop_free(x);
}

void fs_getxattr(struct fs *fs, void *req, uint64_t ino, const char *name, size_t size)
{
	struct fs_node *n;
	struct xop *x;

	if (ino == FS_ROOT_INO && !strcmp(name, FS_STATS_XATTR)) {
		char *json = fs_stats_json(fs);
		if (!json) {
			fs->r.err(req, ENOMEM);
			return;
		}
		reply_value(fs, req, json, strlen(json), size);
		free(json);
		return;
	}
	/* Only user.* can exist; ls asks for security.* on every file: no request. */
	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX))) {
		fs->r.err(req, ENODATA);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n = fs_node_get(fs, ino);
	pthread_mutex_unlock(&fs->lock);
	x = calloc(1, sizeof(*x));
	if (!n || !x || !(x->name = strdup(name))) {
		fs->r.err(req, !n ? ENOENT : ENOMEM);
	} else {
		x->size = size;
		fs_node_load_meta(fs, req, n, get_loaded, x);
		x = NULL;
	}
	xop_free(x);
	if (n) {
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, n);
		pthread_mutex_unlock(&fs->lock);
	}
}

static void list_loaded(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct xop *x = arg;
	struct buf b;
	char name[FS_NAME_MAX + 8];

	buf_init(&b, 64 * KIB);
	if (!err && n == fs->root)
		err = buf_append(&b, FS_STATS_XATTR, sizeof(FS_STATS_XATTR));
	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; !err && i < n->meta.n; i++)
		if (!fs_xattr_name(n->meta.items[i].name, name, sizeof(name)))
			err = buf_append(&b, name, strlen(name) + 1);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(fs, req, err);
	else
		reply_value(fs, req, b.data ? b.data : "", b.len, x->size);
	buf_release(&b);
	xop_free(x);
}

void fs_listxattr(struct fs *fs, void *req, uint64_t ino, size_t size)
{
	struct fs_node *n;
	struct xop *x = calloc(1, sizeof(*x));

	pthread_mutex_lock(&fs->lock);
	n = fs_node_get(fs, ino);
	pthread_mutex_unlock(&fs->lock);
	if (!n || !x) {
		free(x);
		fs->r.err(req, !n ? ENOENT : ENOMEM);
	} else {
		x->size = size;
		fs_node_load_meta(fs, req, n, list_loaded, x);
	}
	if (n) {
		pthread_mutex_lock(&fs->lock);
		fs_node_put(fs, n);
		pthread_mutex_unlock(&fs->lock);
	}
}

/* ---- set / remove ---- */

static size_t meta_bytes(const struct meta_list *m)
{
	size_t total = 0;

	for (size_t i = 0; i < m->n; i++)
		total += strlen(m->items[i].name) + strlen(m->items[i].value);
	return total;
}

static void set_loaded(struct fs *fs, void *req, struct fs_node *n, int err, void *arg)
{
	struct xop *x = arg;
	char key[FS_NAME_MAX * 3 + 8];
	char *enc = NULL;

	if (!err)
		err = fs_xattr_key(x->name, key, sizeof(key));
	if (!err && !x->remove) {
		enc = fs_xattr_encode(x->value, x->vlen);
		err = enc ? 0 : -ENOMEM;
	}
	if (!err) {
		pthread_mutex_lock(&fs->lock);
		bool exists = meta_get(&n->meta, key) != NULL;
		if ((x->flags & XATTR_CREATE) && exists)
			err = -EEXIST;
		else if (((x->flags & XATTR_REPLACE) || x->remove) && !exists)
			err = -ENODATA;
		else if (x->remove)
			meta_del(&n->meta, key);
		else
			err = meta_set(&n->meta, key, enc);
		if (!err && meta_bytes(&n->meta) > META_MAX) {
			meta_del(&n->meta, key);
			err = -ENOSPC;
		}
		if (!err) {
			n->a.flags |= CACHE_F_XMETA;
			fs_node_touch(n);
		}
		pthread_mutex_unlock(&fs->lock);
	}
	free(enc);
	xop_free(x);
	if (err) {
		fs_reply_err(fs, req, err);
		return;
	}
	fs_node_store_meta(fs, req, n, false);
}

static void change_xattr(struct fs *fs, void *req, uint64_t ino, struct xop *x)
{
	struct fs_node *n;

	if (fs->cfg.read_only) {
		xop_free(x);
		fs->r.err(req, EROFS);
		return;
	}
	if (strncmp(x->name, XATTR_PREFIX, strlen(XATTR_PREFIX))) {
		xop_free(x);
		fs->r.err(req, ENOTSUP);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n = fs_node_get(fs, ino);
	pthread_mutex_unlock(&fs->lock);
	if (!n) {
		xop_free(x);
		fs->r.err(req, ENOENT);
		return;
	}
	if (n == fs->root) {
		xop_free(x);
		fs->r.err(req, ENOTSUP); /* the container itself has no blob to hold them */
	} else {
		fs_node_load_meta(fs, req, n, set_loaded, x);
	}
	pthread_mutex_lock(&fs->lock);
	fs_node_put(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

void fs_setxattr(struct fs *fs, void *req, uint64_t ino, const char *name, const char *value,
		 size_t size, int flags)
{
	struct xop *x = calloc(1, sizeof(*x));

	if (!x || !(x->name = strdup(name)) || !(x->value = malloc(size ? size : 1))) {
		xop_free(x);
		fs->r.err(req, ENOMEM);
		return;
	}
	if (size > META_MAX) {
		xop_free(x);
		fs->r.err(req, E2BIG);
		return;
	}
	memcpy(x->value, value, size);
	x->vlen = size;
	x->flags = flags;
	change_xattr(fs, req, ino, x);
}

void fs_removexattr(struct fs *fs, void *req, uint64_t ino, const char *name)
{
	struct xop *x = calloc(1, sizeof(*x));

	if (!x || !(x->name = strdup(name))) {
		xop_free(x);
		fs->r.err(req, ENOMEM);
		return;
	}
	x->remove = true;
	change_xattr(fs, req, ino, x);
}
