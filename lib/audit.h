/*
 * audit.h — DIR/audit.log, the trail of every wagon state transition and
 * operator action (srdf-audit(5)).
 *
 * One JSON object per line (srdf-audit(5) is the format):
 *
 *	{"v":1,"time":"2026-11-21T22:30:01.123456Z","host":"db1",
 *	 "tool":"srdf-apply","pid":4242,"by":"tool","source_id":"…",
 *	 "item":"wagon","seq":42,"from":"received","to":"applied",
 *	 "detail":"GTID 0-1-97, 12 row changes"}
 *
 * "from" is null when the line creates the item (the ledger's "(none)");
 * "by" is "operator" for an action an operator asked for (--skip,
 * --retry-dead), else "tool"; "seq" is left out for an item that is not
 * a wagon (srdf-bootstrap's copy: "item":"bootstrap").
 *
 * Each line is written with ONE write(2) on a descriptor opened with
 * O_APPEND, so lines of tools sharing a directory (srdf-seal, srdf-ship
 * and srdf-ackd on the source) never interleave: Linux appends a
 * regular-file write under the inode lock, whole.  A line is at most
 * AUDIT_LINE_MAX bytes (detail is cut, on a UTF-8 boundary, with "..."),
 * which keeps it under PIPE_BUF too, should audit.log be a FIFO.  The file
 * is opened for each line (mode 0640, O_CREAT) and closed after it: a
 * log rotated by rename(2) needs no signal, the next line creates a new
 * file.  There is no fsync: the ledger is the authority on states and is
 * durable; audit.log is the trail for people, and a host crash may lose
 * its last lines (srdf-audit(5)).  The writes do not go through
 * lib/fault, so fault tests count only data-path calls.
 *
 * Calling sequence: audit_open(dir) in main() after the lock (the tool's
 * name is log_progname()); audit_source(hex) once the source id is known
 * (again if it changes), or audit_source_of(l) to take the ledger's meta
 * "source_id" (nothing when it has none yet or cannot be read); then at each transition, after the ledger
 * transaction that made it committed,
 *	audit_wagon(0, seq, "received", "applied", "GTID %s", g);
 *	audit_wagon(AUDIT_OPERATOR, seq, "failed", "dead", "--skip");
 *	audit_event(0, "bootstrap", NULL, "copying", "snapshot %s", g);
 * Before audit_open (a dry run) every call does nothing.  All functions
 * are thread-safe (srdf-recv and srdf-ackd record from server threads).
 *
 * Error handling: none reaches the caller.  A pipeline never stops
 * because its trail cannot be written: the first failure is logged once
 * as a warning ("cannot append to DIR/audit.log: reason; the audit trail
 * has a gap"), later ones are counted, and the first success after
 * failures logs how many lines were lost.  from, to and detail are text;
 * bytes that are not UTF-8 are written as '?'.
 */
#ifndef SRDF_AUDIT_H
#define SRDF_AUDIT_H

#include <stdint.h>

struct ledger;

/* Invariant: AUDIT_LINE_MAX <= PIPE_BUF (4096 on Linux); the detail is
 * cut to AUDIT_DETAIL_MAX bytes (6 times that escaped, at worst) so that
 * the rest of a line (a host name, a tool, a source id, two states of at
 * most 32 bytes each) fits beside it. */
#define AUDIT_LINE_MAX 4096
#define AUDIT_DETAIL_MAX 512

#define AUDIT_OPERATOR 0x1

void audit_open(const char *dir);
void audit_source(const char *source_id);
void audit_source_of(struct ledger *l);
void audit_wagon(unsigned flags, uint64_t seq, const char *from, const char *to,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void audit_event(unsigned flags, const char *item, const char *from,
    const char *to, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
