/*
 * rangeset.c - sorted, merged byte ranges in a growable array.
 */
#include "azblobfs/common.h"
#include "azblobfs/rangeset.h"

#include <stdlib.h>
#include <string.h>

void rangeset_init(struct rangeset *s)
{
	memset(s, 0, sizeof(*s));
}

void rangeset_release(struct rangeset *s)
{
	free(s->r);
	rangeset_init(s);
}

void rangeset_clear(struct rangeset *s)
{
	s->n = 0;
}

/* Index of the first range whose end is >= start (may touch it). */
static size_t first_touching(const struct rangeset *s, uint64_t start)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->r[mid].end < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int rangeset_add(struct rangeset *s, uint64_t start, uint64_t end)
{
	size_t i, j;

	if (start >= end)
		return 0;
	i = first_touching(s, start);
	/* Ranges i..j-1 touch or overlap [start, end): fold them into one. */
	for (j = i; j < s->n && s->r[j].start <= end; j++) {
		start = MIN(start, s->r[j].start);
		end = MAX(end, s->r[j].end);
	}
	if (j == i) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 8;
			struct range *r = realloc(s->r, cap * sizeof(*r));
			if (!r)
				return -ENOMEM;
			s->r = r;
			s->cap = cap;
		}
		memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
		s->n++;
	} else if (j > i + 1) {
		memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(*s->r));
		s->n -= j - i - 1;
	}
	s->r[i].start = start;
	s->r[i].end = end;
	return 0;
}

void rangeset_truncate(struct rangeset *s, uint64_t end)
{
	while (s->n && s->r[s->n - 1].start >= end)
		s->n--;
	if (s->n && s->r[s->n - 1].end > end)
		s->r[s->n - 1].end = end;
}

bool rangeset_covers(const struct rangeset *s, uint64_t start, uint64_t end)
{
	size_t i;

	if (start >= end)
		return true;
	i = first_touching(s, start + 1);
	return i < s->n && s->r[i].start <= start && s->r[i].end >= end;
}

bool rangeset_overlaps(const struct rangeset *s, uint64_t start, uint64_t end)
{
	size_t i;

	if (start >= end)
		return false;
	i = first_touching(s, start + 1);
	return i < s->n && s->r[i].start < end;
}

bool rangeset_first_gap(const struct rangeset *s, uint64_t start, uint64_t end, uint64_t *gs,
			uint64_t *ge)
{
	size_t i = first_touching(s, start + 1);

	while (start < end) {
		if (i < s->n && s->r[i].start <= start) {
			start = MAX(start, s->r[i].end);
			i++;
			continue;
		}
		*gs = start;
		*ge = i < s->n ? MIN(end, s->r[i].start) : end;
		return true;
	}
	return false;
}

uint64_t rangeset_bytes(const struct rangeset *s)
{
	uint64_t total = 0;

	for (size_t i = 0; i < s->n; i++)
		total += s->r[i].end - s->r[i].start;
	return total;
}
