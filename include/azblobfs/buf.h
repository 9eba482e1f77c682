/*
 * buf.h - a growable byte buffer with a hard cap (curl's dynbuf idea).
 *
 * Layer: util. Not thread-safe: a buffer belongs to one owner at a time.
 * The contents are always NUL-terminated (the NUL is not counted in len),
 * so text can be handed to parsers directly.
 */
#ifndef AZBLOBFS_BUF_H
#define AZBLOBFS_BUF_H

#include "common.h"
#include <stdarg.h>

struct buf {
	char *data; /* NULL until the first append */
	size_t len; /* bytes used, excluding the terminating NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* len never exceeds this */
};

/* Initialise an empty buffer that may grow to @max bytes. Cannot fail. */
void buf_init(struct buf *b, size_t max);

/* Free the contents; the buffer may be buf_init()ed again. NULL-safe. */
void buf_release(struct buf *b);

/* Forget the contents but keep the allocation. */
void buf_reset(struct buf *b);

/* Append @n bytes. Returns 0, -ENOBUFS past the cap or -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n) WARN_UNUSED;
int buf_puts(struct buf *b, const char *s) WARN_UNUSED;
int buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3) WARN_UNUSED;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) PRINTF_LIKE(2, 0) WARN_UNUSED;

/*
 * Take the contents: the caller owns the returned string (free()) and the
 * buffer is left empty. Returns "" (malloc'd) for an empty buffer, NULL on
 * allocation failure.
 */
char *buf_detach(struct buf *b);

#endif
