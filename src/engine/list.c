/*
 * list.c - directory listings (every page of List Blobs / List Containers)
 * and single-name probes (one List Blobs with the name as prefix).
 *
 * Each operation owns one struct net_req and re-submits it page after
 * page from its completion, on the engine thread.
 */
#include "azblobfs/common.h"
#include <stdio.h>
#include "azblobfs/cleanup.h"
#include "azblobfs/engine.h"
#include "azblobfs/hmap.h"
#include "azblobfs/log.h"
#include "eng_i.h"

#include <stdlib.h>
#include <string.h>

#define PROBE_PAGE 100
#define HIDDEN_WHY "a path component is empty, '.', '..' or over 255 bytes"

struct list_op {
	struct eng *e;
	struct net_req req;
	char *container; /* NULL: list containers */
	char *prefix;    /* blob prefix of the directory, or the probed name */
	char *target;    /* probe: the full blob name looked for */
	struct cache_listing *l;
	bool probe;
	bool flat;
	bool walk; /* flat, delivered page by page */
	bool walk_stopped;
	eng_walk_page_fn walk_page;
	eng_walk_done_fn walk_done;
	uint64_t *seen; /* hashes of the paging markers followed (open addressing, 0 = empty) */
	size_t nseen, seen_cap;
	char **names; /* flat: collected names */
	size_t nnames, cap, max;
	eng_names_cb names_cb;
	bool found_blob, found_prefix;
	struct cache_attr blob_attr, prefix_attr;
	eng_list_cb list_cb;
	eng_probe_cb probe_cb;
	void *arg;
};

static void op_free(struct list_op *op)
{
	for (size_t i = 0; i < op->nnames; i++)
		free(op->names[i]);
	free(op->names);
	net_req_release(&op->req);
	cache_listing_unref(op->l);
	free(op->container);
	free(op->prefix);
	free(op->target);
	free(op->seen);
	free(op);
}

static void page_done(struct net_req *r);

/*
 * Note a marker about to be followed: 1 if it was followed before (a
 * service paging in a cycle would list forever), 0, or -ENOMEM.
 */
static int marker_seen(struct list_op *op, const char *marker)
{
	uint64_t h = util_hash(marker, strlen(marker), UTIL_HASH_SEED) | 1;
	size_t i;

	if (2 * (op->nseen + 1) > op->seen_cap) {
		size_t cap = op->seen_cap ? 2 * op->seen_cap : 64;
		uint64_t *grown = calloc(cap, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		for (size_t j = 0; j < op->seen_cap; j++) {
			if (!op->seen[j])
				continue;
			for (i = op->seen[j] & (cap - 1); grown[i]; i = (i + 1) & (cap - 1))
				;
			grown[i] = op->seen[j];
		}
		free(op->seen);
		op->seen = grown;
		op->seen_cap = cap;
	}
	for (i = h & (op->seen_cap - 1); op->seen[i]; i = (i + 1) & (op->seen_cap - 1))
		if (op->seen[i] == h)
			return 1;
	op->seen[i] = h;
	op->nseen++;
	return 0;
}

static int submit_page(struct list_op *op, const char *marker)
{
	const struct az_client *az = op->e->az;
	int rc;

	if (!op->container)
		rc = az_req_list_containers(az, &op->req.msg, op->prefix, marker,
					    op->probe ? PROBE_PAGE : AZ_MAX_LIST_RESULTS);
	else
		rc = az_req_list_blobs(az, &op->req.msg, op->container, op->prefix,
				       op->flat || op->walk ? NULL : "/", marker,
				       op->probe
					   ? PROBE_PAGE
					   : (unsigned)MIN(op->flat ? op->max : AZ_MAX_LIST_RESULTS,
							   (size_t)AZ_MAX_LIST_RESULTS),
				       !op->flat || op->walk);
	if (rc < 0)
		return rc;
	op->req.done = page_done;
	op->req.arg = op;
	return net_submit(op->e->net, &op->req);
}

static void finish(struct list_op *op, int err)
{
	if (op->walk) {
		op->walk_done(op->arg, err, !err && !op->walk_stopped);
	} else if (op->flat) {
		op->names_cb(op->arg, err, err ? NULL : op->names, err ? 0 : op->nnames);
		if (!err) {
			op->names = NULL;
			op->nnames = 0;
		}
	} else if (op->probe) {
		if (!err && op->found_prefix) {
			/* A folder: a marker blob of the same name lends its attributes. */
			struct cache_attr a = op->found_blob && op->blob_attr.type == CACHE_T_DIR
						  ? op->blob_attr
						  : op->prefix_attr;
			a.type = CACHE_T_DIR;
			a.flags |= CACHE_F_PREFIX;
			op->probe_cb(op->arg, 0, &a);
		} else if (!err && op->found_blob) {
			op->probe_cb(op->arg, 0, &op->blob_attr);
		} else {
			op->probe_cb(op->arg, err ? err : -ENOENT, NULL);
		}
	} else if (err) {
		op->list_cb(op->arg, err, NULL);
	} else {
		cache_listing_seal(op->l);
		op->list_cb(op->arg, 0, cache_listing_ref(op->l));
	}
	op_free(op);
}

/* Add one listed item to a directory listing, by its name relative to the prefix. */
static int listing_add(struct eng *e, const char *container, const char *prefix,
		       struct cache_listing *l, const struct az_item *it)
{
	size_t plen = container ? strlen(prefix) : 0;
	struct cache_attr a;
	char *rel;
	size_t len;
	int rc;

	if (strncmp(it->name, prefix ? prefix : "", plen))
		return 0;
	rel = strdup(it->name + plen);
	if (!rel)
		return -ENOMEM;
	len = strlen(rel);
	if (it->kind == AZ_ITEM_PREFIX && len && rel[len - 1] == '/')
		rel[--len] = '\0';
	else if (!len) {
		free(rel); /* the folder's own "dir/" marker */
		return 0;
	}
	/* Names POSIX cannot show (an empty, "." or ".." or too long component). */
	if (eng_bad_component(rel, len) || strchr(rel, '/')) {
		eng_note_hidden(e, container, it->name, HIDDEN_WHY);
		free(rel);
		return 0;
	}
	eng_item_to_attr(it, &a);
	rc = cache_listing_add(l, rel, &a);
	free(rel);
	return rc;
}

static int add_item(struct list_op *op, const struct az_item *it)
{
	return listing_add(op->e, op->container, op->prefix, op->l, it);
}

int eng_listing_from_page(struct eng *e, const char *container, const char *prefix,
			  const struct az_list *page, struct cache_listing **out)
{
	struct cache_listing *l = cache_listing_new();
	int rc = l ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < page->n; i++)
		rc = listing_add(e, container, prefix, l, &page->items[i]);
	if (rc) {
		cache_listing_unref(l);
		return rc;
	}
	cache_listing_seal(l);
	*out = l;
	return 0;
}

static int add_name(struct list_op *op, const char *name)
{
	if (op->nnames == op->cap) {
		size_t cap = op->cap ? op->cap * 2 : 64;
		char **names = realloc(op->names, cap * sizeof(*names));
		if (!names)
			return -ENOMEM;
		op->names = names;
		op->cap = cap;
	}
	op->names[op->nnames] = strdup(name);
	if (!op->names[op->nnames])
		return -ENOMEM;
	op->nnames++;
	return 0;
}

/* Hand one page of a walk to its owner, names relative to the walked prefix. */
static int walk_page(struct list_op *op, const struct az_list *list)
{
	struct eng_walk_item *items = calloc(list->n ? list->n : 1, sizeof(*items));
	size_t plen = strlen(op->prefix), n = 0;

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < list->n; i++) {
		const struct az_item *it = &list->items[i];
		if (strncmp(it->name, op->prefix, plen) || !it->name[plen])
			continue;
		/* The walk shows such a name's folders up to the bad part (as listings do). */
		if (eng_bad_component(it->name + plen, strlen(it->name + plen)) &&
		    it->name[strlen(it->name) - 1] != '/')
			eng_note_hidden(op->e, op->container, it->name, HIDDEN_WHY);
		items[n].name = it->name + plen;
		eng_item_to_attr(it, &items[n].a);
		n++;
	}
	if (!op->walk_page(op->arg, items, n))
		op->walk_stopped = true;
	free(items);
	return 0;
}

/* Probe: note what matches the target; true when nothing later can match. */
static bool probe_item(struct list_op *op, const struct az_item *it)
{
	size_t tlen = strlen(op->target);

	if (it->kind == AZ_ITEM_PREFIX) {
		if (!strncmp(it->name, op->target, tlen) && it->name[tlen] == '/' &&
		    !it->name[tlen + 1]) {
			op->found_prefix = true;
			eng_item_to_attr(it, &op->prefix_attr);
		}
	} else if (!strcmp(it->name, op->target)) {
		op->found_blob = true;
		eng_item_to_attr(it, &op->blob_attr);
		if (it->kind == AZ_ITEM_CONTAINER)
			return true;
	}
	/* Names sort; once past "target/" neither the blob nor the folder can follow. */
	return strncmp(it->name, op->target, tlen) > 0 ||
	       (!strncmp(it->name, op->target, tlen) && it->name[tlen] > '/');
}

static void page_done(struct net_req *r)
{
	struct list_op *op = r->arg;
	struct az_error azerr;
	struct az_list list = {0};
	bool past = false, page_past = false;
	char *marker = NULL;
	int rc;

	az_error_clear(&azerr);
	rc = az_result(&r->msg, &azerr);
	if (rc < 0)
		goto fail;
	rc = op->container
		 ? az_parse_list_blobs(r->msg.resp.data, r->msg.resp.len, &list, &azerr)
		 : az_parse_list_containers(r->msg.resp.data, r->msg.resp.len, &list, &azerr);
	if (rc < 0)
		goto fail;
	if (list.undecodable)
		eng_note_hidden(op->e, op->container, list.undecodable_name,
				"its encoded name holds a NUL byte or a bad escape");
	if (op->walk) {
		rc = walk_page(op, &list);
		past = op->walk_stopped;
	}
	for (size_t i = 0; !op->walk && i < list.n && rc >= 0 && !past; i++) {
		if (op->flat) {
			rc = add_name(op, list.items[i].name);
			past = op->nnames >= op->max;
		} else if (op->probe) {
			/* Pages need not interleave prefixes and blobs by name (Azurite puts
			 * prefixes first): read the whole page, stop paging once past. */
			page_past |= probe_item(op, &list.items[i]);
		} else {
			rc = add_item(op, &list.items[i]);
		}
	}
	if (rc < 0)
		goto fail;
	past |= page_past || (op->probe && op->found_blob && op->found_prefix);
	if (list.next_marker && *list.next_marker && !past) {
		rc = marker_seen(op, list.next_marker);
		if (rc) {
			if (rc > 0)
				rc = az_error_set(&azerr, -EIO,
						  "the service repeated a paging marker");
			goto fail;
		}
		marker = TAKE_PTR(list.next_marker);
		az_list_release(&list);
		net_req_release(r);
		net_req_init(r);
		rc = submit_page(op, marker);
		free(marker);
		if (rc < 0)
			goto fail;
		return;
	}
	az_list_release(&list);
	finish(op, 0);
	return;
fail:
	az_list_release(&list);
	eng_log_failure(op->probe ? "lookup" : "list", op->container,
			op->probe ? op->target : op->prefix, rc, &azerr);
	finish(op, rc);
}

static struct list_op *op_new(struct eng *e, const char *container, const char *prefix)
{
	struct list_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->e = e;
	net_req_init(&op->req);
	op->container = container ? strdup(container) : NULL;
	op->prefix = strdup(prefix ? prefix : "");
	if ((container && !op->container) || !op->prefix) {
		op_free(op);
		return NULL;
	}
	return op;
}

int eng_list_dir(struct eng *e, const char *container, const char *prefix, eng_list_cb cb,
		 void *arg)
{
	struct list_op *op = op_new(e, container, container ? prefix : "");
	int rc;

	if (!op)
		return -ENOMEM;
	op->l = cache_listing_new();
	if (!op->l) {
		op_free(op);
		return -ENOMEM;
	}
	op->list_cb = cb;
	op->arg = arg;
	rc = submit_page(op, NULL);
	if (rc < 0)
		op_free(op);
	return rc;
}

int eng_list_flat(struct eng *e, const char *container, const char *prefix, const char *extra,
		  size_t max, eng_names_cb cb, void *arg)
{
	struct list_op *op = op_new(e, container, prefix);
	int rc;

	if (!op)
		return -ENOMEM;
	op->flat = true;
	op->max = max ? max : 1;
	op->names_cb = cb;
	op->arg = arg;
	if (extra && add_name(op, extra) < 0) {
		op_free(op);
		return -ENOMEM;
	}
	rc = submit_page(op, NULL);
	if (rc < 0)
		op_free(op);
	return rc;
}

int eng_walk(struct eng *e, const char *container, const char *prefix, eng_walk_page_fn page,
	     eng_walk_done_fn done, void *arg)
{
	struct list_op *op = op_new(e, container, prefix);
	int rc;

	if (!op)
		return -ENOMEM;
	op->walk = true;
	op->walk_page = page;
	op->walk_done = done;
	op->arg = arg;
	rc = submit_page(op, NULL);
	if (rc < 0)
		op_free(op);
	return rc;
}

int eng_probe(struct eng *e, const char *container, const char *prefix, const char *name,
	      eng_probe_cb cb, void *arg)
{
	struct list_op *op;
	char *target = NULL;
	int rc;

	if (asprintf(&target, "%s%s", container ? prefix : "", name) < 0)
		return -ENOMEM;
	if (az_name_chars(target) > AZ_MAX_BLOB_NAME) {
		free(target);
		return -ENAMETOOLONG;
	}
	op = op_new(e, container, target);
	if (!op) {
		free(target);
		return -ENOMEM;
	}
	op->target = target;
	op->probe = true;
	op->probe_cb = cb;
	op->arg = arg;
	rc = submit_page(op, NULL);
	if (rc < 0)
		op_free(op);
	return rc;
}
