/* heartbeat.c — DIR/run/TOOL.heartbeat; see heartbeat.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "heartbeat.h"
#include "log.h"

/* Progress is written at most this often: a rewrite costs ~140 us (a
 * new inode and a rename), fine once a second, not per wagon in a
 * backlog of hundreds a second. */
#define BUSY_MS 1000

/* Process-wide, set once by main() (like log.c's name). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char file[PATH_MAX], tmp[PATH_MAX]; /* "" until heartbeat_start */
static char tool_name[64], host[256], gtid[256];
static char detail[HEARTBEAT_DETAIL_MAX];
static int interval, warned, dirty;
static uint64_t seq;
static double started_at, progress_at;
static long long last_ms; /* monotonic, of the last write */
static int daemon_run;

/* Writes the file; caller holds mu.  ex < 0: running. */
static void
write_file(int ex)
{
	struct buf b = {0};
	int fd, e = 0;

	buf_lit(&b, "{\"v\":1,\"tool\":");
	buf_json_str(&b, tool_name, strlen(tool_name));
	buf_lit(&b, ",\"host\":");
	buf_json_str(&b, host, strlen(host));
	buf_printf(&b, ",\"pid\":%ld,\"state\":\"%s\",\"daemon\":%s",
	    (long)getpid(), ex < 0 ? "running" : "stopped",
	    daemon_run ? "true" : "false");
	if (ex >= 0)
		buf_printf(&b, ",\"exit\":%d", ex);
	buf_printf(&b, ",\"started_at\":%.6f,\"time\":%.6f,\"interval\":%d",
	    started_at, clock_wall(), interval);
	if (seq != 0) {
		buf_lit(&b, ",\"seq\":");
		buf_json_u64(&b, seq);
	}
	if (gtid[0] != '\0') {
		buf_lit(&b, ",\"gtid\":");
		buf_json_str(&b, gtid, strlen(gtid));
	}
	if (progress_at > 0)
		buf_printf(&b, ",\"progress_at\":%.6f", progress_at);
	if (detail[0] != '\0') {
		buf_lit(&b, ",\"detail\":");
		buf_json_str(&b, detail, strlen(detail));
	}
	buf_lit(&b, "}\n");

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) <
	    0)
		e = errno;
	else {
		ssize_t w = write(fd, b.p, b.len);

		if (w < 0)
			e = errno;
		else if ((size_t)w != b.len)
			e = ENOSPC;
		if (close(fd) != 0 && e == 0)
			e = errno;
		if (e == 0 && rename(tmp, file) != 0)
			e = errno;
		if (e != 0)
			unlink(tmp);
	}
	if (e != 0 && !warned) {
		log_warn("cannot write %s: %s; srdf-status will not see this "
		         "process",
		    file, strerror(e));
		warned = 1;
	}
	last_ms = clock_mono_ms();
	dirty = 0;
	buf_free(&b);
}

void
heartbeat_start(const char *dir, const char *tool, int every, int daemon)
{
	char rundir[PATH_MAX];

	pthread_mutex_lock(&mu);
	if (snprintf(rundir, sizeof rundir, "%s/run", dir) >=
	        (int)sizeof rundir ||
	    snprintf(file, sizeof file, "%s/%s.heartbeat", rundir, tool) >=
	        (int)sizeof file ||
	    snprintf(tmp, sizeof tmp, "%s/.%s.heartbeat.tmp", rundir, tool) >=
	        (int)sizeof tmp) {
		log_warn("%s/run: path too long; no heartbeat", dir);
		file[0] = '\0';
		goto out;
	}
	if (mkdir(rundir, 0750) != 0 && errno != EEXIST) {
		log_warn("cannot create %s: %s; srdf-status will not see this "
		         "process",
		    rundir, strerror(errno));
		file[0] = '\0';
		goto out;
	}
	snprintf(tool_name, sizeof tool_name, "%s", tool);
	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	interval = every;
	daemon_run = daemon != 0;
	started_at = clock_wall();
	write_file(-1);
	log_on_die(heartbeat_stop);
out:
	pthread_mutex_unlock(&mu);
}

/* Caller holds mu. */
static int
due(void)
{
	long long gap = clock_mono_ms() - last_ms;

	if (file[0] == '\0')
		return 0;
	if (dirty)
		return gap >= BUSY_MS;
	return interval > 0 && gap >= (long long)interval * 1000 - 50;
}

int
heartbeat_due(void)
{
	int d;

	pthread_mutex_lock(&mu);
	d = file[0] != '\0' && clock_mono_ms() - last_ms >= BUSY_MS;
	pthread_mutex_unlock(&mu);
	return d;
}

void
heartbeat_beat(uint64_t s, const char *g)
{
	pthread_mutex_lock(&mu);
	if ((s != 0 && s != seq) || (g != NULL && strcmp(g, gtid) != 0)) {
		if (s != 0)
			seq = s;
		if (g != NULL)
			snprintf(gtid, sizeof gtid, "%s", g);
		progress_at = clock_wall();
		dirty = 1;
	}
	if (due())
		write_file(-1);
	pthread_mutex_unlock(&mu);
}

void
heartbeat_detail(const char *text)
{
	pthread_mutex_lock(&mu);
	if (strcmp(detail, text != NULL ? text : "") != 0) {
		snprintf(detail, sizeof detail, "%s", text != NULL ? text : "");
		dirty = 1;
	}
	if (due())
		write_file(-1);
	pthread_mutex_unlock(&mu);
}

void
heartbeat_stop(int ex)
{
	pthread_mutex_lock(&mu);
	if (file[0] != '\0')
		write_file(ex < 0 ? 255 : ex);
	pthread_mutex_unlock(&mu);
}
