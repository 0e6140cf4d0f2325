/*
 * log.h — the one module that writes stderr.
 *
 * Every line is "<P>srdf-TOOL: message\n" where <P> is the syslog priority
 * prefix that systemd-journald understands (sd-daemon(3)): <3> error,
 * <4> warning, <5> notice, <6> info, <7> debug.  When stderr is a terminal
 * the prefix is left out, so a person reading sees "srdf-capture: ...".
 * Unless stderr is the journal (JOURNAL_STREAM names stderr's device and
 * inode, systemd.exec(5)), which stamps each line itself, the time comes
 * next, RFC 3339 in UTC with microseconds, then a space:
 * "<6>2026-12-07T13:45:01.123456Z srdf-seal: sealed wagon 7 ...".  The
 * priority prefix stays first because readers of it (journald,
 * logger --prio-prefix) look for it only at the start of a line.
 * A control character in a message (a byte below 0x20, or 0x7f: a peer
 * can put one in a path or a value) is written as \xNN: one message is
 * always one line.
 *
 * Calling sequence: log_init(progname) once at the top of main(); then
 * log_err/log_warn/log_notice/log_info/log_debug anywhere.  log_debug is
 * silent unless log_set_verbose(1) or SRDF_DEBUG=1.
 * Secrets never go through these functions (srdf(7) "Security").
 */
#ifndef SRDF_LOG_H
#define SRDF_LOG_H

#include <stdarg.h>
#include <sysexits.h>

void log_init(const char *progname);
void log_set_verbose(int on);
const char *log_progname(void);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_fail: logs at <3>, as log_err, and returns ex: the run-time
 * counterpart of die(), for a function that hands the exit status back
 * to main() ("return log_fail(EX_TEMPFAIL, ...)"). */
int log_fail(int ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logs at <3> and exits with the sysexits(3) code ex.  Only main() and the
 * functions it calls before run() should use it. */
/* fn(ex) runs in die() before exit(ex), once: heartbeat.c records the
 * exit status with it, so that a tool that refused to start is not taken
 * for one that crashed.  NULL: none. */
void log_on_die(void (*fn)(int ex));
void die(int ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
