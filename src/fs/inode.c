/*
 * inode.c - the inode table: ino <-> (parent, name), with the kernel's
 * lookup counts and our own references.
 *
 * A node lives while the kernel knows it (nlookup > 0) or anything of ours
 * holds it (refs > 0: children, open handles, operations in flight).
 * Inode numbers are never reused (64-bit counter), so the FUSE generation
 * is always 0.
 */
#include "azblobfs/common.h"
#include "azblobfs/buf.h"
#include "fs_i.h"

#include <stdlib.h>
#include <string.h>

static uint64_t name_hash(uint64_t parent, const char *name)
{
	return util_hash(name, strlen(name), util_hash_u64(parent));
}

int fs_nodes_init(struct fs *fs)
{
	struct fs_node *root = calloc(1, sizeof(*root));

	hmap_init(&fs->inodes);
	hmap_init(&fs->names);
	if (!root)
		return -ENOMEM;
	root->ino = FS_ROOT_INO;
	root->name = strdup("");
	root->refs = 1; /* never freed before fs_free */
	root->a.type = CACHE_T_DIR;
	list_init(&root->dirty);
	list_init(&root->sibling);
	list_init(&root->children);
	if (!root->name || hmap_insert(&fs->inodes, &root->by_ino, util_hash_u64(root->ino)) < 0) {
		free(root->name);
		free(root);
		return -ENOMEM;
	}
	fs->root = root;
	fs->next_ino = FS_ROOT_INO + 1;
	fs->nodes = 1;
	return 0;
}

uint64_t fs_etag_tag(const char *etag)
{
	return *etag ? util_hash(etag, strlen(etag), UTIL_HASH_SEED) | 1 : 0;
}

static void node_free(struct fs_node *n)
{
	meta_list_release(&n->meta);
	free(n->content_type);
	free(n->link_target);
	free(n->name);
	free(n);
}

static void free_node(struct hmap_node *hn, void *arg)
{
	(void)arg;
	node_free(container_of(hn, struct fs_node, by_ino));
}

void fs_nodes_release(struct fs *fs)
{
	hmap_each(&fs->inodes, free_node, NULL);
	hmap_release(&fs->inodes);
	hmap_release(&fs->names);
}

struct fs_node *fs_node_get(struct fs *fs, uint64_t ino)
{
	uint64_t h = util_hash_u64(ino);

	for (struct hmap_node *hn = hmap_first(&fs->inodes, h); hn; hn = hmap_next(hn)) {
		struct fs_node *n = container_of(hn, struct fs_node, by_ino);
		if (n->ino == ino) {
			n->refs++;
			return n;
		}
	}
	return NULL;
}

void fs_node_unname(struct fs *fs, struct fs_node *n)
{
	if (fs_node_named(n)) {
		hmap_remove(&fs->names, &n->by_name);
		list_del(&n->sibling);
	}
}

static void maybe_free(struct fs *fs, struct fs_node *n)
{
	while (n && !n->refs && !n->nlookup && n != fs->root) {
		struct fs_node *parent = n->parent;
		fs_node_unname(fs, n);
		hmap_remove(&fs->inodes, &n->by_ino);
		node_free(n);
		fs->nodes--;
		/* The child held a reference on its parent. */
		if (parent)
			parent->refs--;
		n = parent;
	}
}

void fs_node_put(struct fs *fs, struct fs_node *n)
{
	if (!n)
		return;
	n->refs--;
	maybe_free(fs, n);
}

void fs_node_forget(struct fs *fs, struct fs_node *n, uint64_t nlookup)
{
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	maybe_free(fs, n);
}

struct fs_node *fs_node_find_child(struct fs *fs, struct fs_node *parent, const char *name)
{
	uint64_t h = name_hash(parent->ino, name);

	for (struct hmap_node *hn = hmap_first(&fs->names, h); hn; hn = hmap_next(hn)) {
		struct fs_node *n = container_of(hn, struct fs_node, by_name);
		if (n->parent == parent && !strcmp(n->name, name))
			return n;
	}
	return NULL;
}

/* A file, a directory, a FIFO... are different objects even under the same name. */
static bool same_kind(uint8_t a, uint8_t b)
{
	return a == b;
}

void fs_node_set_attr(struct fs *fs, struct fs_node *n, const struct cache_attr *a)
{
	/* Being written here: our attributes are the truth until the commit. */
	if (n->w)
		return;
	/* Changed elsewhere while the kernel may hold its pages: have them dropped. */
	if (n->cached_tag && a->etag[0] && n->cached_tag != fs_etag_tag(a->etag)) {
		n->cached_tag = 0;
		if (fs->r.inval_inode)
			fs->r.inval_inode(fs->r.inval_ctx, n->ino);
	}
	n->a = *a;
}

struct fs_node *fs_node_child(struct fs *fs, struct fs_node *parent, const char *name,
			      const struct cache_attr *a)
{
	struct fs_node *n = fs_node_find_child(fs, parent, name);

	if (n && same_kind(n->a.type, a->type)) {
		fs_node_set_attr(fs, n, a);
		n->refs++;
		return n;
	}
	if (n)
		fs_node_unname(fs, n); /* the old object stays reachable by ino until forgotten */
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	list_init(&n->dirty);
	list_init(&n->sibling);
	list_init(&n->children);
	n->name = strdup(name);
	if (!n->name)
		goto fail;
	n->ino = fs->next_ino++;
	n->a = *a;
	n->refs = 1;
	if (hmap_insert(&fs->inodes, &n->by_ino, util_hash_u64(n->ino)) < 0)
		goto fail;
	if (hmap_insert(&fs->names, &n->by_name, name_hash(parent->ino, name)) < 0) {
		hmap_remove(&fs->inodes, &n->by_ino);
		goto fail;
	}
	list_add_tail(&parent->children, &n->sibling);
	n->parent = parent;
	parent->refs++;
	fs->nodes++;
	return n;
fail:
	free(n->name);
	free(n);
	return NULL;
}

int fs_node_move(struct fs *fs, struct fs_node *n, struct fs_node *parent, const char *name)
{
	char *copy = strdup(name);
	struct fs_node *old;

	if (!copy)
		return -ENOMEM;
	fs_node_unname(fs, n);
	old = fs_node_find_child(fs, parent, name);
	if (old) {
		/* Replaced: reachable by ino until forgotten; an open writer of it must never
		 * commit over the new content. */
		if (old->w)
			old->unlinked = true;
		fs_node_unname(fs, old);
	}
	free(n->name);
	n->name = copy;
	if (n->parent != parent) {
		struct fs_node *from = n->parent;
		parent->refs++;
		n->parent = parent;
		fs_node_put(fs, from);
	}
	if (hmap_insert(&fs->names, &n->by_name, name_hash(parent->ino, name)) == 0)
		list_add_tail(&parent->children, &n->sibling);
	return 0;
}

char *fs_node_path(struct fs *fs, const struct fs_node *n)
{
	const struct fs_node *parts[512];
	struct buf b;
	size_t depth = 0;

	(void)fs;
	buf_init(&b, 64 * KIB);
	for (; n && n->parent && depth < ARRAY_SIZE(parts); n = n->parent)
		parts[depth++] = n;
	if (n && n->parent) /* deeper than any blob name allows */
		return NULL;
	while (depth--) {
		if (buf_puts(&b, parts[depth]->name) < 0 || (depth && buf_puts(&b, "/") < 0)) {
			buf_release(&b);
			return NULL;
		}
	}
	return buf_detach(&b);
}
