/* log.c — stderr logging with syslog priority prefixes; see log.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *progname = "srdf";
static int verbose;
static int prefixes = 1;
static int stamps = 1;

/* Is stderr the journal?  systemd sets JOURNAL_STREAM to "DEV:INO" of
 * the stream it connected to stdout/stderr (systemd.exec(5)); a child
 * that inherited the variable but whose stderr was redirected elsewhere
 * (a file, a pipe) sees another device or inode, and stamps its lines. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (js == NULL || sscanf(js, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    js[end] != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *name)
{
	const char *s = strrchr(name, '/');
	const char *d = getenv("SRDF_DEBUG");

	progname = s ? s + 1 : name;
	prefixes = !isatty(STDERR_FILENO);
	stamps = !stderr_is_journal();
	if (d != NULL && *d != '\0' && strcmp(d, "0") != 0)
		verbose = 1;
}

void
log_set_verbose(int on)
{
	verbose = on;
}

const char *
log_progname(void)
{
	return progname;
}

/* One line per message: a control character in it (a byte below 0x20,
 * or 0x7f), which a peer may have put in a path or a value, is written
 * as \xNN, so that no message makes a line (or a priority prefix) of its
 * own. */
static void
vlog(int prio, const char *fmt, va_list ap)
{
	static const char hex[] = "0123456789abcdef";
	char msg[4096], buf[4096];
	int n = 0;

	if (prefixes)
		n = snprintf(buf, sizeof buf, "<%d>", prio);
	if (stamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += (int)strftime(
		    buf + n, sizeof buf - n, "%Y-%m-%dT%H:%M:%S", &tm);
		n += snprintf(
		    buf + n, sizeof buf - n, ".%06ldZ ", ts.tv_nsec / 1000);
	}
	n += snprintf(buf + n, sizeof buf - n, "%s: ", progname);
	vsnprintf(msg, sizeof msg, fmt, ap);
	for (const unsigned char *m = (const unsigned char *)msg;
	     *m != '\0' && n < (int)sizeof buf - 5; m++) {
		if (*m < 0x20 || *m == 0x7f) {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[*m >> 4];
			buf[n++] = hex[*m & 15];
		} else
			buf[n++] = (char)*m;
	}
	buf[n++] = '\n';
	buf[n] = '\0';
	/* One write(2) per line so concurrent tools do not interleave. */
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

#define LOGFN(name, prio) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		vlog(prio, fmt, ap); \
		va_end(ap); \
	}

LOGFN(log_err, 3)
LOGFN(log_warn, 4)
LOGFN(log_notice, 5)
LOGFN(log_info, 6)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(7, fmt, ap);
	va_end(ap);
}

int
log_fail(int ex, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(3, fmt, ap);
	va_end(ap);
	return ex;
}

static void (*_Atomic die_hook)(int);

void
log_on_die(void (*fn)(int ex))
{
	die_hook = fn;
}

void
die(int ex, const char *fmt, ...)
{
	void (*fn)(int) = atomic_exchange(&die_hook, NULL);
	va_list ap;

	va_start(ap, fmt);
	vlog(3, fmt, ap);
	va_end(ap);
	if (fn != NULL)
		fn(ex);
	exit(ex);
}
