/*
 * cleanup.h - scope-bound cleanup for locals (systemd style).
 *
 * Layer: util. Use `_cleanup_free_ char *p = NULL;` and hand ownership on
 * with TAKE_PTR(p). These are the only cleanup attributes in the tree.
 */
#ifndef AZBLOBFS_CLEANUP_H
#define AZBLOBFS_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

static inline void util_freep(void *p)
{
	free(*(void **)p);
}

static inline void util_closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(util_freep)
#define _cleanup_close_ _cleanup_(util_closep)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p_ = (p);                                                           \
		(p) = NULL;                                                                        \
		_p_;                                                                               \
	})

#endif
