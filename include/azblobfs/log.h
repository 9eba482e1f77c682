/*
 * log.h - leveled logging to stderr or syslog/journald.
 *
 * Layer: util. Threads: every function may be called from any thread.
 * The log level is the one mutable global of the program (STYLE.md).
 * Lower layers (util, net, azure, cache) log at debug level only; engine,
 * fs, fuse and main log events once, one line: operation, path in quotes,
 * errno or HTTP status. Never log a key, a SAS signature or an
 * Authorization header: util_redact() helps with URLs.
 */
#ifndef AZBLOBFS_LOG_H
#define AZBLOBFS_LOG_H

#include "common.h"
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* The current level; messages above it are dropped. */
extern enum log_level util_log_level;

/*
 * Send messages to syslog (ident "azblobfs", facility daemon) when @use_syslog,
 * otherwise to stderr. May be called again after fork().
 */
void util_log_init(bool use_syslog, enum log_level level);

/* Parse "error", "warning", "info", "debug" (or 0..3). Returns 0 or -EINVAL. */
int util_log_level_parse(const char *s, enum log_level *out);

void util_log(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_err(...) util_log(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) util_log(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) util_log(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (util_log_level >= LOG_LVL_DEBUG)                                               \
			util_log(LOG_LVL_DEBUG, __VA_ARGS__);                                      \
	} while (0)

/*
 * Copy @url into @out (size @n) with the value of every query parameter
 * named sig (SAS signature) replaced by "REDACTED". Always NUL-terminates.
 */
void util_redact_url(const char *url, char *out, size_t n);

#endif
