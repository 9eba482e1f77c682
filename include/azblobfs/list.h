/*
 * list.h - intrusive circular doubly linked list.
 *
 * Layer: util. The list never owns its nodes; callers embed a struct
 * list_node and find their object with container_of(). Not thread-safe.
 */
#ifndef AZBLOBFS_LIST_H
#define AZBLOBFS_LIST_H

#include "common.h"

struct list_node {
	struct list_node *next, *prev;
};

static inline void list_init(struct list_node *h)
{
	h->next = h->prev = h;
}

static inline bool list_empty(const struct list_node *h)
{
	return h->next == h;
}

static inline void list_insert_after(struct list_node *pos, struct list_node *n)
{
	n->prev = pos;
	n->next = pos->next;
	pos->next->prev = n;
	pos->next = n;
}

/* Append at the tail. */
static inline void list_add_tail(struct list_node *h, struct list_node *n)
{
	list_insert_after(h->prev, n);
}

static inline void list_add_head(struct list_node *h, struct list_node *n)
{
	list_insert_after(h, n);
}

/* Unlink @n and leave it self-linked, so a second list_del() is harmless. */
static inline void list_del(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

static inline bool list_linked(const struct list_node *n)
{
	return n->next != n;
}

/* Remove and return the first node, or NULL when empty. */
static inline struct list_node *list_pop(struct list_node *h)
{
	struct list_node *n = h->next;

	if (n == h)
		return NULL;
	list_del(n);
	return n;
}

#define list_for_each_safe(pos, tmp, head)                                                         \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                           \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
