#include "azblobfs/common.h"
#include "azblobfs/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

enum log_level util_log_level = LOG_LVL_INFO;
static bool log_to_syslog;

void util_log_init(bool use_syslog, enum log_level level)
{
	util_log_level = level;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog("azblobfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int util_log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcasecmp(s, names[i]) || (s[0] == (char)('0' + i) && !s[1])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "warn") || !strcasecmp(s, "err")) {
		*out = s[0] == 'w' || s[0] == 'W' ? LOG_LVL_WARN : LOG_LVL_ERR;
		return 0;
	}
	return -EINVAL;
}

void util_log(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *const tag[] = {"error", "warning", "info", "debug"};
	char msg[1024];
	va_list ap;

	if (level > util_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_to_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	/* One write per line so lines from different threads never interleave. */
	fprintf(stderr, "azblobfs: %s: %s\n", tag[level], msg);
}

void util_redact_url(const char *url, char *out, size_t n)
{
	size_t o = 0;
	const char *q = strchr(url, '?');
	const char *p = url;

	if (!n)
		return;
	while (*p && o + 1 < n) {
		/* At the start of a query parameter named "sig", hide its value. */
		if (q && p > q && (p[-1] == '?' || p[-1] == '&') && !strncasecmp(p, "sig=", 4)) {
			static const char red[] = "sig=REDACTED";
			for (size_t i = 0; red[i] && o + 1 < n; i++)
				out[o++] = red[i];
			while (*p && *p != '&')
				p++;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}
