/* tool.c — the state-directory and signal prelude of main(); see tool.h. */
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyring.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "notify.h"
#include "tool.h"

const char *
tool_dir_default(void)
{
	const char *d = getenv("SRDF_DIR");

	return d != NULL ? d : "/var/lib/srdf";
}

void
tool_path(char *out, size_t len, const char *dir, const char *sub)
{
	int n = snprintf(out, len, "%s/%s", dir, sub);

	if (n < 0 || (size_t)n >= len)
		die(EX_USAGE, "--dir %s is too long", dir);
}

int
tool_lock(const char *dir, const char *tool, int create)
{
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		die(EX_CANTCREAT, "cannot create %s: %s", dir, strerror(errno));
	return lock_dir_or_die(dir, tool);
}

void
tool_outbox(char *out, size_t len, const char *dir)
{
	char path[PATH_MAX + 8];
	struct stat st;

	tool_path(out, len, dir, "outbox");
	snprintf(path, sizeof path, "%s/new", out);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		die(EX_NOINPUT, "no outbox %s: run srdf-seal --dir %s first",
		    path, dir);
}

int
tool_signals(int flags)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((fd = signalfd(-1, &mask, SFD_CLOEXEC | flags)) < 0)
		die(EX_OSERR, "signalfd: %s", strerror(errno));
	return fd;
}

static int stop_signo;

int
tool_signal(int sigfd, void (*reload)(void *arg), void *arg)
{
	struct pollfd p = {sigfd, POLLIN, 0};
	struct signalfd_siginfo si;

	while (stop_signo == 0 && poll(&p, 1, 0) > 0 &&
	       read(sigfd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo != SIGHUP) {
			stop_signo = (int)si.ssi_signo;
			notify_stopping();
			break;
		}
		log_notice("SIGHUP: reloading");
		notify_reloading();
		if (reload != NULL)
			reload(arg);
		notify_ready(NULL);
	}
	return stop_signo;
}

int
tool_stop_signal(void)
{
	return stop_signo;
}

int
tool_keyring(const char *path, struct keyring **kr)
{
	char err[512];

	if ((*kr = keyring_open(path, err, sizeof err)) == NULL)
		return log_fail(EX_CONFIG, "%s", err);
	return 0;
}

int
tool_ledger(const char *dir, unsigned flags, struct ledger **l, int ex)
{
	int rc;

	if ((rc = ledger_open(dir, flags, l)) != 0)
		return log_fail(ex, "cannot open the ledger in %s: %s", dir,
		    ledger_strerror(rc));
	return 0;
}

void
tool_catch(void (*on_stop)(int sig))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
