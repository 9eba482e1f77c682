/*
 * rangeset.h - a set of byte ranges [start, end), kept sorted and merged.
 *
 * Layer: util. Not thread-safe: the owner's lock guards it. Used by the
 * write path to know which bytes of a staging file are present and which
 * were changed since the last commit.
 */
#ifndef AZBLOBFS_RANGESET_H
#define AZBLOBFS_RANGESET_H

#include "common.h"

struct range {
	uint64_t start, end;
};

struct rangeset {
	struct range *r;
	size_t n, cap;
};

void rangeset_init(struct rangeset *s);
void rangeset_release(struct rangeset *s);
void rangeset_clear(struct rangeset *s);

/* Add [start, end), merging with neighbours. Returns 0 or -ENOMEM (set unchanged). */
int rangeset_add(struct rangeset *s, uint64_t start, uint64_t end) WARN_UNUSED;

/* Remove everything at or past @end (a truncation). */
void rangeset_truncate(struct rangeset *s, uint64_t end);

/* True when [start, end) is entirely in the set. */
bool rangeset_covers(const struct rangeset *s, uint64_t start, uint64_t end);

/* True when any byte of [start, end) is in the set. */
bool rangeset_overlaps(const struct rangeset *s, uint64_t start, uint64_t end);

/*
 * The first gap of the set inside [start, end): sets *gs and *ge, returns
 * true, or returns false when [start, end) is covered.
 */
bool rangeset_first_gap(const struct rangeset *s, uint64_t start, uint64_t end, uint64_t *gs,
			uint64_t *ge);

/* Total bytes in the set. */
uint64_t rangeset_bytes(const struct rangeset *s);

#endif
