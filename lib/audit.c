/* audit.c — DIR/audit.log, one JSON line per transition; see audit.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "ledger.h"
#include "log.h"

/* Process-wide like log.c's name: set once by main(), read by all. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char path[PATH_MAX]; /* "" until audit_open */
static char host[256];
static char source[65];
static unsigned long lost; /* lines not written since the last one */
static int warned;

void
audit_open(const char *dir)
{
	pthread_mutex_lock(&mu);
	if (snprintf(path, sizeof path, "%s/audit.log", dir) >=
	    (int)sizeof path) {
		log_warn("%s/audit.log: path too long; no audit trail", dir);
		path[0] = '\0';
	}
	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	pthread_mutex_unlock(&mu);
}

void
audit_source(const char *source_id)
{
	pthread_mutex_lock(&mu);
	snprintf(source, sizeof source, "%s", source_id ? source_id : "");
	pthread_mutex_unlock(&mu);
}

void
audit_source_of(struct ledger *l)
{
	struct ledger_txn *t;
	char *id = NULL;

	if (l == NULL || ledger_txn_begin(l, LEDGER_RDONLY, &t) != 0)
		return;
	if (ledger_meta_get(t, "source_id", &id) == 0 && id != NULL)
		audit_source(id);
	ledger_txn_abort(t);
	free(id);
}

/* A JSON string of at most max bytes of s: cut on a UTF-8 boundary with
 * "...", and every byte of s made '?' when s is not UTF-8. */
static void
text(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s), cut = n;
	char tmp[AUDIT_DETAIL_MAX + 4];

	if (cut > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	memcpy(tmp, s, cut);
	if (!utf8_valid((const unsigned char *)s, cut))
		for (size_t i = 0; i < cut; i++)
			if ((unsigned char)tmp[i] >= 0x80)
				tmp[i] = '?';
	if (cut < n) {
		memcpy(tmp + cut, "...", 3);
		cut += 3;
	}
	buf_json_str(b, tmp, cut);
}

static void
field(struct buf *b, const char *name, const char *s, size_t max)
{
	buf_putc(b, ',');
	buf_json_str(b, name, strlen(name));
	buf_putc(b, ':');
	if (s == NULL)
		buf_lit(b, "null");
	else
		text(b, s, max);
}

static void
append(unsigned flags, const char *item, int has_seq, uint64_t seq,
    const char *from, const char *to, const char *fmt, va_list ap)
{
	struct buf b = {0};
	struct timespec ts;
	struct tm tm;
	char tb[40], detail[AUDIT_DETAIL_MAX + 1];
	ssize_t w;
	int fd, e = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tb, sizeof tb, "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(detail, sizeof detail, fmt, ap);

	pthread_mutex_lock(&mu);
	if (path[0] == '\0')
		goto out;
	buf_lit(&b, "{\"v\":1,\"time\":");
	buf_printf(&b, "\"%s.%06ldZ\"", tb, (long)(ts.tv_nsec / 1000));
	field(&b, "host", host, 64);
	field(&b, "tool", log_progname(), 32);
	buf_printf(&b, ",\"pid\":%ld", (long)getpid());
	field(&b, "by", flags & AUDIT_OPERATOR ? "operator" : "tool", 8);
	field(&b, "source_id", source[0] ? source : NULL, 64);
	field(&b, "item", item, 32);
	if (has_seq) {
		buf_lit(&b, ",\"seq\":");
		buf_json_u64(&b, seq);
	}
	field(&b, "from", from, 32);
	field(&b, "to", to, 32);
	field(&b, "detail", detail[0] ? detail : NULL, AUDIT_DETAIL_MAX);
	buf_lit(&b, "}\n");

	/* One write(2), O_APPEND: the line lands whole at the end. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		e = errno;
	else {
		do
			w = write(fd, b.p, b.len);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			e = errno;
		else if ((size_t)w != b.len)
			e = ENOSPC; /* a short append: the disk is full */
		if (close(fd) != 0 && e == 0)
			e = errno;
	}
	if (e != 0) {
		if (!warned)
			log_warn(
			    "cannot append to %s: %s; the audit trail has a "
			    "gap (the ledger is unaffected)",
			    path, strerror(e));
		warned = 1;
		lost++;
	} else if (lost > 0) {
		log_notice("%s is written again; %lu line%s lost", path, lost,
		    lost == 1 ? " was" : "s were");
		lost = 0;
		warned = 0;
	}
out:
	pthread_mutex_unlock(&mu);
	buf_free(&b);
}

void
audit_wagon(unsigned flags, uint64_t seq, const char *from, const char *to,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(flags, "wagon", 1, seq, from, to, fmt, ap);
	va_end(ap);
}

void
audit_event(unsigned flags, const char *item, const char *from, const char *to,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(flags, item, 0, 0, from, to, fmt, ap);
	va_end(ap);
}
