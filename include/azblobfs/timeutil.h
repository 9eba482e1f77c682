/*
 * timeutil.h - clocks and HTTP/ISO dates.
 *
 * Layer: util. All functions are thread-safe and never fail on the clock.
 */
#ifndef AZBLOBFS_TIMEUTIL_H
#define AZBLOBFS_TIMEUTIL_H

#include "common.h"
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: for deadlines, TTLs and back-off. */
uint64_t util_now_ms(void);

/* Nanoseconds of CLOCK_MONOTONIC, for measuring. */
uint64_t util_now_ns(void);

#define UTIL_HTTP_DATE_LEN 32

/* Format @t as an RFC 1123 date ("Tue, 03 Mar 2026 10:00:00 GMT"). */
void util_http_date(time_t t, char out[UTIL_HTTP_DATE_LEN]);

/* Parse an RFC 1123 date. Returns 0 or -EINVAL. */
int util_parse_http_date(const char *s, time_t *out);

/*
 * Parse an ISO 8601 UTC time such as "2026-03-03T10:00:00.1234567Z" into
 * seconds and nanoseconds. Returns 0 or -EINVAL.
 */
int util_parse_iso8601(const char *s, struct timespec *out);

#define UTIL_ISO8601_LEN 48

/* Format @t as ISO 8601 UTC with nanoseconds ("2026-03-03T10:00:00.123456789Z"). */
void util_format_iso8601(const struct timespec *t, char out[UTIL_ISO8601_LEN]);

#endif
