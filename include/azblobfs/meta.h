/*
 * meta.h - lists of blob metadata: name/value pairs, names compared
 * case-insensitively as the service treats them, kept in the case given.
 *
 * Layer: util. azure parses and sends them (x-ms-meta-* headers, listing
 * <Metadata>), engine and fs read and edit them (POSIX attributes, xattrs).
 *
 * Threads: none; a list belongs to one owner at a time.
 * Ownership: a list owns its names and values; meta_list_release() frees them.
 */
#ifndef AZBLOBFS_META_H
#define AZBLOBFS_META_H

#include "common.h"

#define META_MAX_PAIRS 512       /* pairs in one list */
#define META_VALUE_MAX (8 * KIB) /* bytes in one value */

struct meta_pair {
	char *name; /* metadata name as on the wire (without x-ms-meta-) */
	char *value;
};

struct meta_list {
	struct meta_pair *items;
	size_t n;
};

/* A zeroed struct meta_list is an empty list. */
void meta_list_release(struct meta_list *m);
const char *meta_get(const struct meta_list *m, const char *name); /* case-insensitive */
/*
 * Add or replace (case-insensitively) @name. Names must be C identifiers
 * (the service's rule); values must be non-empty (curl cannot send an
 * empty header), at most 8 KiB, without control characters. Leading and
 * trailing blanks of a value do not survive the trip through HTTP.
 * Returns 0, -EINVAL, -E2BIG (more than 512 pairs) or -ENOMEM.
 */
int meta_set(struct meta_list *m, const char *name, const char *value) WARN_UNUSED;
void meta_del(struct meta_list *m, const char *name);
/* Replace @dst (a list or zeroed) with a copy of @src. Returns 0 or -ENOMEM (dst unchanged). */
int meta_copy(struct meta_list *dst, const struct meta_list *src) WARN_UNUSED;

/* True for a metadata name the service accepts (a C identifier, at most 256 bytes). */
bool meta_name_valid(const char *name);

/* True for a header value we can send and sign unchanged (no control characters). */
bool meta_value_valid(const char *v);

/* Append without checking for duplicates (parsers). Returns 0, -E2BIG or -ENOMEM. */
int meta_append(struct meta_list *m, const char *name, size_t name_len, const char *value,
		size_t value_len);

#endif
