/* clock.c — see clock.h. */
#include <string.h>
#include <time.h>

#include "clock.h"

long long
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
clock_iso(double t, char sep, char *b, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	char fmt[] = "%Y-%m-%dT%H:%M:%SZ";

	fmt[8] = sep;
	gmtime_r(&s, &tm);
	if (strftime(b, len, fmt, &tm) == 0 && len > 0)
		b[0] = '\0';
	return b;
}

double
clock_iso_parse(const char *s)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || (e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *e != '\0')
		return -1;
	return (double)timegm(&tm);
}
