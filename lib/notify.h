/*
 * notify.h — readiness and liveness for systemd (sd_notify(3), through
 * libsystemd): the units of examples/systemd are Type=notify with
 * WatchdogSec=, so a stage that never gets ready fails its start, and
 * one that stops making progress (wedged, or stopped with SIGSTOP) is
 * killed and restarted (srdf(7) SIGNALS, Supervision).
 *
 * Outside systemd (no NOTIFY_SOCKET in the environment) every call does
 * nothing and costs a branch.  A message that cannot be sent is no
 * reason to stop: it is said once at notice level.
 *
 * Calling sequence:
 *	notify_ready("...")            once, when the tool does its job:
 *	                               spool and ledger open, listening,
 *	                               connected
 *	in every turn of the main loop, wherever it waits:
 *	    notify_watchdog()          pings when half the interval passed
 *	    timeout = notify_wait_ms(timeout)
 *	                               caps a wait so the next ping is on
 *	                               time
 *	notify_status("...")           a line systemctl status shows
 *	notify_reloading() ... notify_ready(NULL)   around a SIGHUP reload
 *	notify_stopping()              when SIGTERM starts the drain
 * A tool pings only from the loop that makes progress: a thread that
 * would ping while the loop is stuck would hide the hang the watchdog is
 * there to catch.
 */
#ifndef SRDF_NOTIFY_H
#define SRDF_NOTIFY_H

/* READY=1, with STATUS= when fmt is not NULL. */
void notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STATUS=<the formatted line>. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_reloading(void);
void notify_stopping(void);
/* WATCHDOG=1 when the unit has a watchdog (WATCHDOG_USEC, for this pid)
 * and half its interval has passed since the last ping; else nothing. */
void notify_watchdog(void);
/* wait_ms (milliseconds, < 0: forever) capped at what is left until the
 * next ping is due; wait_ms itself when there is no watchdog. */
long long notify_wait_ms(long long wait_ms);

#endif
