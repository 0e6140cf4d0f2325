/*
 * notify.c — sd_notify(3) for the tools; see notify.h.
 *
 * The watchdog interval is read once, with sd_watchdog_enabled(3), which
 * also checks WATCHDOG_PID against our pid (a variable inherited from a
 * parent is not ours).  Pings are sent at half the interval, as
 * sd_watchdog_enabled(3) recommends, and never more often: a loop that
 * turns a thousand times a second calls notify_watchdog() each time and
 * costs one clock read.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "clock.h"
#include "log.h"
#include "notify.h"

static int inited;
static int enabled;        /* NOTIFY_SOCKET is set */
static long long every_ms; /* half the watchdog interval; 0: none */
static long long last_ms;  /* of the last ping */
static int said;           /* a failed send was logged */

static void
init(void)
{
	uint64_t usec = 0;

	if (inited)
		return;
	inited = 1;
	enabled = getenv("NOTIFY_SOCKET") != NULL;
	if (enabled && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		every_ms = (long long)(usec / 2000);
		if (every_ms < 1)
			every_ms = 1;
	}
	last_ms = clock_mono_ms();
}

static void
say(const char *msg)
{
	int rc;

	init();
	if (!enabled)
		return;
	if ((rc = sd_notify(0, msg)) < 0 && !said) {
		said = 1;
		log_notice(
		    "cannot notify systemd (%s): %s", msg, strerror(-rc));
	}
}

static void
send_status(const char *head, const char *fmt, va_list ap)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof line, "%s%s", head, fmt ? "STATUS=" : "");
	if (fmt != NULL && n > 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	say(line);
}

void
notify_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_status(fmt ? "READY=1\n" : "READY=1", fmt, ap);
	va_end(ap);
}

void
notify_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_status("", fmt, ap);
	va_end(ap);
}

void
notify_reloading(void)
{
	say("RELOADING=1");
}

void
notify_stopping(void)
{
	say("STOPPING=1");
}

void
notify_watchdog(void)
{
	long long now;

	init();
	if (every_ms == 0)
		return;
	now = clock_mono_ms();
	if (now - last_ms < every_ms)
		return;
	last_ms = now;
	say("WATCHDOG=1");
}

long long
notify_wait_ms(long long wait_ms)
{
	long long left;

	init();
	if (every_ms == 0)
		return wait_ms;
	left = last_ms + every_ms - clock_mono_ms();
	if (left < 0)
		left = 0;
	return wait_ms < 0 || wait_ms > left ? left : wait_ms;
}
