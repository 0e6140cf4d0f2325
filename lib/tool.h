/*
 * tool.h — the prelude every long-running tool's main() shares: its
 * state directory (default, creation, lock), the paths in it, and the
 * signals it stops on.  man/srdf.7 (FILES) describes the directory.
 *
 * tool_dir_default: $SRDF_DIR, or /var/lib/srdf when it is unset; the
 *	default of --dir, taken before the options are parsed.  The string
 *	is the environment's or static: never freed.
 * tool_path:        OUT (LEN bytes) = "DIR/SUB".
 * tool_lock:        creates DIR (mode 0700) when CREATE is set and it does
 *	not exist, then lock_dir_or_die(DIR, TOOL) (lock.h): one running
 *	copy of TOOL per DIR.  Returns the lock's descriptor, held until
 *	the process exits.
 * tool_outbox:      OUT = "DIR/outbox", which srdf-seal must have created
 *	(its new/ a directory): the outbox of srdf-ship and srdf-ackd,
 *	which only read it and never create it.
 * tool_signals:     blocks SIGTERM, SIGINT and SIGHUP in this thread (and
 *	so in the threads it starts afterwards), ignores SIGPIPE, and
 *	returns a signalfd(2) for the three, opened with SFD_CLOEXEC and
 *	FLAGS (e.g. SFD_NONBLOCK): the main loop polls it, and a signal
 *	is noticed only there, at a safe point.
 * tool_signal:      reads the signals pending on SIGFD without waiting
 *	(srdf(7) SIGNALS): SIGHUP calls RELOAD(ARG) between
 *	notify_reloading() and notify_ready(NULL) (notify.h) and is then
 *	forgotten; SIGTERM or SIGINT is remembered, notify_stopping() sent,
 *	and returned by this and every later call.  Returns that signal,
 *	or 0 while none came.  RELOAD may be NULL.
 * tool_stop_signal: the signal tool_signal remembered, or 0.
 * tool_catch:       SIGTERM and SIGINT call ON_STOP (sigaction(2) without
 *	SA_RESTART: a blocking read or poll returns EINTR), SIGPIPE is
 *	ignored (a reader gone is a write error): the stop of the tools
 *	that read a stream (srdf-capture, srdf-dedup, srdf-bootstrap)
 *	and keep their own stop flag, which ON_STOP sets.
 * tool_keyring:     *KR = keyring_open(PATH) (keyring.h), the --key-file
 *	of srdf-recv, srdf-ship and srdf-ackd.  Returns 0, or EX_CONFIG
 *	after logging keyring_open's reason at <3>.
 * tool_ledger:      *L = ledger_open(DIR, FLAGS) (ledger.h).  Returns 0,
 *	or EX (the caller's exit status for it) after logging "cannot open
 *	the ledger in DIR: " and ledger_strerror's reason at <3>.
 *
 * Calling sequence, in main() after the options and before the spool
 * and the ledger are opened:
 *	cf.dir = tool_dir_default();        before getopt_long
 *	tool_path(r.inbox, sizeof r.inbox, cf.dir, "inbox");
 *	tool_lock(cf.dir, "srdf-recv", 1);
 *	sigfd = tool_signals(0);
 *
 * Error handling: for main() before run() only, as they die:
 * tool_path and tool_outbox with EX_USAGE ("--dir DIR is too long"),
 * tool_lock with EX_CANTCREAT ("cannot create DIR: reason") or as
 * lock_dir_or_die does, tool_outbox with EX_NOINPUT ("no outbox
 * DIR/outbox/new: run srdf-seal --dir DIR first"), tool_signals with
 * EX_OSERR ("signalfd: reason").
 */
#ifndef SRDF_TOOL_H
#define SRDF_TOOL_H

#include <stddef.h>

struct keyring;
struct ledger;

const char *tool_dir_default(void);
void tool_path(char *out, size_t len, const char *dir, const char *sub);
int tool_lock(const char *dir, const char *tool, int create);
void tool_outbox(char *out, size_t len, const char *dir);
int tool_signals(int flags);
int tool_signal(int sigfd, void (*reload)(void *arg), void *arg);
int tool_stop_signal(void);
void tool_catch(void (*on_stop)(int sig));
int tool_keyring(const char *path, struct keyring **kr);
int tool_ledger(const char *dir, unsigned flags, struct ledger **l, int ex);

#endif
