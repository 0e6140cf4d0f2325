/*
 * heartbeat.h — DIR/run/TOOL.heartbeat: a long-running tool says it is
 * alive and how far it got; srdf-status(1) reads it.
 *
 * The file is one JSON object and a newline (srdf-status(1), FILES):
 *
 *	{"v":1,"tool":"srdf-apply","host":"db2","pid":4242,
 *	 "state":"running","daemon":true,"started_at":1763764201.5,
 *	 "time":1763764261.2,"interval":5,"seq":42,"gtid":"0-1-97",
 *	 "progress_at":1763764260.9,"detail":"r.t: 4200 rows of ..."}
 *
 * times in Unix seconds; "state" is "running", or "stopped" with "exit"
 * (the exit status) once the tool ended through main()'s return or die()
 * (log_on_die); a tool that was killed leaves "running" with a pid that
 * is gone, which is what srdf-status flags.  "daemon" says the run was
 * meant to go on until stopped (not --once, --until-end...): such a run
 * that stopped, however, leaves its stage down.  "interval" is the promise: a beat at
 * least every that many seconds while the process is alive, 0 when the
 * tool beats only when it progresses (srdf-seal waits on its input and
 * has no timer).  "seq" and "gtid" are the last progress (the newest
 * wagon or GTID the tool handled), absent before any; "detail" the same
 * in words (heartbeat_detail), absent unless the tool gives one.
 *
 * It is rewritten whole (DIR/run/.TOOL.heartbeat.tmp, then rename(2)), so
 * a reader sees an old or a new file, never a mix; without fsync, since
 * it describes a process, not data: after a host crash the pid it names
 * is gone anyway.  DIR/run is created (0750), files are 0640.  The cost
 * is kept small: a write at most once a second while the tool
 * progresses (so the progress in the file may be up to a second behind
 * during a burst, and stays so until the next beat or the stop when the
 * tool has no interval; an isolated step is written at once) and once per
 * interval while it is idle.
 * The writes do not go through lib/fault.
 *
 * Calling sequence: heartbeat_start(dir, tool, interval, daemon) in main() after
 * the lock; heartbeat_beat(seq, gtid) at each progress step (seq 0 and
 * gtid NULL: no news, only "alive", from the loop's wake-ups, which must
 * come at least every HEARTBEAT_INTERVAL seconds for a tool that
 * promises it); heartbeat_due() tells a hot path whether a beat would be
 * written now, before it formats a GTID; heartbeat_stop(ex) on main()'s
 * way out.  Before heartbeat_start every call does nothing.  All
 * functions are thread-safe.
 *
 * Error handling: none reaches the caller; a failure to write is logged
 * once as a warning (the tool goes on: a heartbeat is for monitoring).
 */
#ifndef SRDF_HEARTBEAT_H
#define SRDF_HEARTBEAT_H

#include <stdint.h>

/* Seconds between beats of an idle tool that promises them.
 * Invariant: far below srdf-status's default --stale (60 s), so a tool
 * must miss many beats in a row before it is flagged. */
#define HEARTBEAT_INTERVAL 5
#define HEARTBEAT_INTERVAL_MS (HEARTBEAT_INTERVAL * 1000)

void heartbeat_start(
    const char *dir, const char *tool, int interval, int daemon);
int heartbeat_due(void);
void heartbeat_beat(uint64_t seq, const char *gtid);
/* heartbeat_detail(text): one line of progress in words for srdf-status
 * (the file's "detail", e.g. srdf-bootstrap --resync's "db.t: 4200000
 * rows of ~10000000 (42%), ..."), up to HEARTBEAT_DETAIL_MAX - 1 bytes
 * (cut beyond), copied; NULL or "" removes it.  Written with the next
 * beat, at most once a second. */
#define HEARTBEAT_DETAIL_MAX 512
void heartbeat_detail(const char *text);
void heartbeat_stop(int ex);

#endif
