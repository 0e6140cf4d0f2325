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
 */
#ifndef SRDF_CLOCK_H
#define SRDF_CLOCK_H

long long clock_mono_ms(void);
double clock_wall(void);

#endif
