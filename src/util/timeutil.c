#include "azblobfs/common.h"
#include "azblobfs/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

uint64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Locale-independent on purpose: strftime's %a/%b follow LC_TIME. */
void util_http_date(time_t t, char out[UTIL_HTTP_DATE_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, UTIL_HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

int util_parse_http_date(const char *s, time_t *out)
{
	struct tm tm = {0};
	char wd[4], mon[4], zone[4];
	int n = 0;

	if (sscanf(s, "%3s, %d %3s %d %d:%d:%d %3s%n", wd, &tm.tm_mday, mon, &tm.tm_year,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone, &n) != 8 ||
	    strcmp(zone, "GMT"))
		return -EINVAL;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (!strcmp(mon, months[i]))
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970 || tm.tm_year > 9999)
		return -EINVAL;
	tm.tm_year -= 1900;
	*out = timegm(&tm);
	return 0;
}

void util_format_iso8601(const struct timespec *t, char out[UTIL_ISO8601_LEN])
{
	struct tm tm;
	time_t sec = t->tv_sec;

	gmtime_r(&sec, &tm);
	snprintf(out, UTIL_ISO8601_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)t->tv_nsec);
}

int util_parse_iso8601(const char *s, struct timespec *out)
{
	struct tm tm = {0};
	int n = 0;
	long ns = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -EINVAL;
	s += n;
	if (*s == '.') {
		long scale = 100000000;
		for (s++; isdigit((unsigned char)*s); s++) {
			ns += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s != 'Z' || s[1] || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	out->tv_sec = timegm(&tm);
	out->tv_nsec = ns;
	return 0;
}
