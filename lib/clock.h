/*
 * clock.h — the two clocks the tools read: monotonic milliseconds for
 * timeouts, backoffs and rates (never jumps with the wall clock), and
 * wall-clock seconds for what is recorded or shown (ledger times,
 * heartbeats, RPO).
 *
 * clock_mono_ms: CLOCK_MONOTONIC in milliseconds since an arbitrary
 * start (meaningful only as a difference).  clock_wall: CLOCK_REALTIME
 * as Unix seconds with a fraction (microsecond resolution survives in a
 * double until the year 2255).  Neither fails: clock_gettime(2) cannot,
 * for these clocks and a valid pointer.
 *
 * clock_iso(t, sep, b, len): wall-clock time t (Unix seconds; the
 * fraction dropped) as ISO 8601 in UTC, "2026-11-21T22:30:01Z", into b
 * (len bytes, at least CLOCK_ISO_LEN); sep is the character between date
 * and time: 'T', or ' ' where people read it (RFC 3339 allows both).
 * Returns b.  clock_iso_parse(s): the inverse, for sep 'T': Unix
 * seconds, or -1 when s is NULL or not exactly that form.
 */
#ifndef SRDF_CLOCK_H
#define SRDF_CLOCK_H

#include <stddef.h>

long long clock_mono_ms(void);
double clock_wall(void);

#define CLOCK_ISO_LEN 21 /* "2026-11-21T22:30:01Z" and its NUL */
const char *clock_iso(double t, char sep, char *b, size_t len);
double clock_iso_parse(const char *s);

#endif
