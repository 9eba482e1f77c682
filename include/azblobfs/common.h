/*
 * common.h - the first include of every azblobfs source file.
 *
 * Sets the feature macros in one place and holds the few compile-time
 * helpers every layer uses. Layer: util (libc only).
 */
#ifndef AZBLOBFS_COMMON_H
#define AZBLOBFS_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define KIB (1024ULL)
#define MIB (1024ULL * 1024ULL)
#define GIB (1024ULL * 1024ULL * 1024ULL)

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define WARN_UNUSED __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

#endif
