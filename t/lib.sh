# t/lib.sh — sourced by every test, t/NNNN-tool-scenario.t, after it sets
# test_description.  A small cousin of git's t/test-lib.sh; output is TAP
# for prove(1).
#
# A test looks like:
#
#	#!/bin/bash
#	test_description='srdf-capture follows inserts'
#	. "$(dirname "$0")/lib.sh"
#	srdf_servers_start                  # only if it needs MariaDB
#	test_expect_success 'setup' '
#		src_sql "create database d; create table d.t (id int primary key)"
#	'
#	test_expect_success 'insert is captured' '
#		src_sql "insert into d.t values (1)" &&
#		srdf-capture --defaults-file "$SRC_CNF" --dir . --until-end >out &&
#		jq -r .kind out >actual &&
#		test_cmp expect actual
#	'
#	test_done
#
# Rules: every step inside an assertion; bodies chain with && (a broken
# chain hides failures); one scenario per file; the test runs in its own
# scratch directory, $top/t/trash.NAME, removed on success, kept on failure.
#
# Options of a test script (or the environment):
#	-v, --verbose  (TEST_VERBOSE=1)  show every body's output as "# " lines
#	-x, --trace    (TEST_TRACE=1)    trace the bodies with set -x
#	-i, --immediate (TEST_IMMEDIATE=1)  stop at the first failure
#
# Functions: test_expect_success, test_must_fail, test_expect_code,
# test_cmp, test_wait_until, test_pid_alive, test_pid_gone, skip_all, test_done;
# srdf_servers_start, srdf_servers, src_sql, dst_sql, checksum_both;
# srdf_wan_up, srdf_wan, on_src, on_dst; test_bg, test_bg_stop.

export LANG=C LC_ALL=C TZ=UTC
unset LANGUAGE CDPATH
# A sanitizer report must count as a crash, not as an expected failure:
# their default exit status is 1, which test_must_fail would accept.
export ASAN_OPTIONS="exitcode=134:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="exitcode=134:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
export top
export PATH="$top/bin:$top/t/helpers:$PATH"

test_name=$(basename "$0" .t)
test_count=0
test_failed=0
_tl_server_dirs=()
_tl_wan_dirs=()
_tl_bg_pids=()

while [ $# -gt 0 ]; do
	case $1 in
	-v | --verbose) TEST_VERBOSE=1 ;;
	-x | --trace) TEST_TRACE=1 ;;
	-i | --immediate) TEST_IMMEDIATE=1 ;;
	*) echo "$0: unknown option $1" >&2; exit 1 ;;
	esac
	shift
done
[ "${TEST_VERBOSE:-0}" != 0 ] || TEST_VERBOSE=
[ "${TEST_TRACE:-0}" != 0 ] || TEST_TRACE=
[ "${TEST_IMMEDIATE:-0}" != 0 ] || TEST_IMMEDIATE=

# error MSG: the harness itself cannot go on.  Without a plan on stdout,
# prove reports the test as failed.
error() {
	echo "# error: $*" >&2
	exit 1
}

# ---- scratch directory ------------------------------------------------

# The trash directory is locked (flock on the directory itself) while the
# test runs, so that a second copy of the same test, run at the same time,
# takes trash.NAME.PID instead of deleting the first one's files.
_tl_trash=$top/t/trash.$test_name
mkdir -p "$_tl_trash" && exec 9<"$_tl_trash" || error "cannot create $_tl_trash"
if ! flock -n 9; then
	_tl_trash=$top/t/trash.$test_name.$$
	mkdir -p "$_tl_trash" && exec 9<"$_tl_trash" && flock -n 9 ||
		error "cannot lock $_tl_trash"
fi
find "$_tl_trash" -mindepth 1 -delete || error "cannot empty $_tl_trash"
cd "$_tl_trash" || error "cannot cd to $_tl_trash"
TRASH_DIRECTORY=$_tl_trash
export TRASH_DIRECTORY
# Bodies' output goes here, outside the trash so that ls in a test sees
# only its own files.
_tl_out=$(mktemp "${TMPDIR:-/tmp}/srdf-test-out.XXXXXX") || error "mktemp failed"

# ---- clean-up -----------------------------------------------------------

# Runs on every exit: background processes, then the WAN link's
# namespaces (srdf-wan down), then servers (by PID, through srdf-servers
# stop), then the output file.  Idempotent.
_tl_cleanup() {
	local pid d
	for pid in "${_tl_bg_pids[@]}"; do
		_tl_kill "$pid"
	done
	_tl_bg_pids=()
	for d in "${_tl_wan_dirs[@]}"; do
		"$top/t/srdf-wan" down "$d" >/dev/null 2>&1 ||
			echo "# warning: could not remove the WAN link of $d" >&2
	done
	_tl_wan_dirs=()
	for d in "${_tl_server_dirs[@]}"; do
		if [ "$test_failed" != 0 ] && [ -d "$d" ]; then
			cp "$d/source/error.log" "$_tl_trash/${d##*/}.source-error.log" 2>/dev/null
			cp "$d/target/error.log" "$_tl_trash/${d##*/}.target-error.log" 2>/dev/null
		fi
		"$top/t/srdf-servers" stop "$d" >/dev/null 2>&1 ||
			echo "# warning: could not stop the servers in $d" >&2
	done
	_tl_server_dirs=()
	rm -f "$_tl_out"
}
trap '_tl_cleanup' EXIT
trap '_tl_cleanup; trap - EXIT; exit 130' INT
trap '_tl_cleanup; trap - EXIT; exit 143' TERM HUP

# test_pid_alive PID: true if PID is a live process (a zombie is not).
test_pid_alive() {
	{ local -; set +x; } 2>/dev/null
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	case ${stat%% *} in Z | X) return 1 ;; esac
}

# test_pid_gone PID: true once PID and all its threads have exited.  A
# killed process is a zombie (test_pid_alive says no) while its other
# threads still exit, and they keep its files and flocks open until then.
test_pid_gone() {
	{ local -; set +x; } 2>/dev/null
	! test_pid_alive "$1" || return 1
	local t=(/proc/"$1"/task/*)
	[ ${#t[@]} -le 1 ] || [ ! -e "${t[1]}" ]
}

# _tl_tree PID: PID's descendants, children first listed before theirs.
_tl_tree() {
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c"
		_tl_tree "$c"
	done
}

# SIGTERM to PID and everything it started (a "bash -c 'a | b | c'"
# started by test_bg leaves a, b and c running when only bash is
# signalled), up to 10 s, then SIGKILL.
_tl_kill() {
	{ local -; set +x; } 2>/dev/null
	local n=100 p pids
	pids="$1 $(_tl_tree "$1")"
	kill -TERM $pids 2>/dev/null
	for p in $pids; do
		while test_pid_alive "$p" && [ $n -gt 0 ]; do
			sleep 0.1
			n=$((n - 1))
		done
	done
	kill -KILL $pids 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ---- assertions -------------------------------------------------------

_tl_say_lines() {
	sed -e 's/^/# /' -e 's/[[:space:]]*$//'
}

# Helpers start with "{ local -; set +x; } 2>/dev/null": under -x the trace
# shows the call of a helper, not its insides (nor a polling loop's).
_tl_eval() {
	if [ -n "$TEST_TRACE" ]; then
		eval "set -x
$1"
	else
		eval "$1"
	fi
	{ _tl_rc=$?; set +x; } 2>/dev/null
	return $_tl_rc
}

# test_expect_success TITLE BODY
test_expect_success() {
	[ $# = 2 ] || error "test_expect_success needs a title and a body"
	test_count=$((test_count + 1))
	if _tl_eval "$2" </dev/null >"$_tl_out" 2>&1; then
		echo "ok $test_count - $1"
		if [ -n "$TEST_VERBOSE" ]; then
			_tl_say_lines <"$_tl_out"
		fi
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		# Diagnostics on stderr, so that prove shows them without -v.
		{
			echo "#   failed: $1"
			printf '%s\n' "$2" | _tl_say_lines
			echo "#   output:"
			_tl_say_lines <"$_tl_out"
		} >&2
		if [ -n "$TEST_IMMEDIATE" ]; then
			test_done
		fi
	fi
}

# test_must_fail CMD...: CMD must fail the ordinary way.  A death by
# signal, a sanitizer abort (134), "cannot execute" (126) or "not found"
# (127) is never an expected failure.
test_must_fail() {
	{ local -; set +x; } 2>/dev/null
	local ec=0
	"$@" || ec=$?
	if [ $ec = 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ $ec -gt 128 ] && [ $ec -le 192 ]; then
		echo "test_must_fail: died by signal $((ec - 128)): $*" >&2
		return 1
	elif [ $ec -ge 126 ]; then
		echo "test_must_fail: crashed or could not run (exit $ec): $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD must exit with status N.
test_expect_code() {
	{ local -; set +x; } 2>/dev/null
	local want=$1 ec=0
	shift
	"$@" || ec=$?
	[ $ec = "$want" ] && return 0
	echo "test_expect_code: expected exit $want, got $ec: $*" >&2
	return 1
}

# test_cmp EXPECTED ACTUAL
test_cmp() {
	{ local -; set +x; } 2>/dev/null
	diff -u "$@"
}

# test_free_port: a TCP port of 127.0.0.1 nothing listens on, below the
# ephemeral range (t/srdf-servers free-port), so that a listener the test
# stops and starts again on it does not find it taken by some outgoing
# connection of the tests running beside it.
test_free_port() {
	"$top/t/srdf-servers" free-port
}

# test_lock_host: for a test that changes the host itself (dpkg -i of the
# package, the srdf user, /etc/srdf: only with CI=true), waits until no
# other such test runs -- make check and make check-asan run side by side
# in CI, each with prove -j2 -- and holds the lock until the test exits.
test_lock_host() {
	exec 9>>/tmp/srdf-host-tests.lock
	flock -w 900 9 || error "another test has changed the host for 15 minutes (/tmp/srdf-host-tests.lock)"
}

# untime [FILE...]: log lines without the RFC 3339 time a tool writes
# when standard error is not the journal (srdf(7) Log lines), so a test can
# compare whole lines: "<3>2026-12-07T13:45:01.123456Z srdf-x: m" becomes
# "<3>srdf-x: m".
untime() {
	sed -E 's/^(<[0-7]>)?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z /\1/' "$@"
}

test_wait_until() {
	{ local -; set +x; } 2>/dev/null
	local n=$(($1 * 10))
	while ! eval "$2"; do
		[ $n -gt 0 ] || {
			echo "test_wait_until: still false after $1 s: $2" >&2
			return 1
		}
		n=$((n - 1))
		sleep 0.1
	done
}

# skip_all REASON: before any test; the whole file is skipped.
skip_all() {
	echo "1..0 # SKIP $*"
	find "$_tl_trash" -delete 2>/dev/null
	exit 0
}

test_done() {
	echo "1..$test_count"
	_tl_cleanup
	if [ "$test_failed" != 0 ]; then
		echo "# failed $test_failed of $test_count; scratch kept in $_tl_trash" >&2
		exit 1
	fi
	cd "$top" && find "$_tl_trash" -delete 2>/dev/null
	exit 0
}

# ---- background processes ---------------------------------------------

# test_bg NAME CMD...: runs CMD (a daemon: srdf-recv, srdf-ackd...) in the
# background, stdout to NAME.out, stderr to NAME.err, its PID in NAME.pid,
# all in the current directory.  Whatever is still running at exit gets
# SIGTERM, then SIGKILL.
test_bg() {
	{ local -; set +x; } 2>/dev/null
	local name=$1
	shift
	# Emptied here, not only by the background shell's redirections:
	# a caller that waits for a line in NAME.err must not find it in
	# the file of an earlier process of that name.  Not a FIFO (a test
	# may pipe NAME.out into the next stage): opening it would block,
	# or end its reader's input.
	local f
	for f in "$name.out" "$name.err"; do
		[ -p "$f" ] || : >"$f" || return
	done
	"$@" </dev/null >"$name.out" 2>"$name.err" 9<&- &
	echo $! >"$name.pid"
	_tl_bg_pids+=($!)
}

# test_bg_stop NAME: SIGTERM, then waits; returns CMD's exit status, so
# test_bg_stop recv checks that srdf-recv stopped cleanly on SIGTERM.
test_bg_stop() {
	{ local -; set +x; } 2>/dev/null
	local pid ec=0
	pid=$(cat "$1.pid") || return 1
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" || ec=$?
	return $ec
}

# ---- MariaDB ----------------------------------------------------------

# srdf_servers_start: a source and a target for this test (t/srdf-servers),
# with its variables (SRC_CNF, DST_CNF, SRC_PORT, ... see
# t/srdf-servers help) in the environment.  Stopped, and their directory
# removed, when the test exits, however it exits.
srdf_servers_start() {
	{ local -; set +x; } 2>/dev/null
	command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
		skip_all "no mariadbd"
	local d out
	d=$(mktemp -d /tmp/srdf.XXXXXX) || error "mktemp failed"
	_tl_server_dirs+=("$d")
	out=$("$top/t/srdf-servers" start "$d" 9<&- 2>&1) || {
		printf '%s\n' "$out" | _tl_say_lines >&2
		error "cannot start the servers"
	}
	. "$d/env"
}

# srdf_servers CMD: t/srdf-servers CMD on this test's servers
# (restart-source, kill-source, restart-target, kill-target, stop), then
# reads the environment again (PIDs change on a restart).
srdf_servers() {
	{ local -; set +x; } 2>/dev/null
	"$top/t/srdf-servers" "$@" "$SRDF_SERVERS_DIR" 9<&- || return
	[ ! -f "$SRDF_SERVERS_DIR/env" ] || . "$SRDF_SERVERS_DIR/env"
}

# ---- a WAN between the two hosts ----------------------------------------

# srdf_wan_up: a source and a target network namespace joined by a link
# (t/srdf-wan), its variables (WAN_SRC_NS, WAN_DST_NS, WAN_SRC_IP,
# WAN_DST_IP...) in the environment; skip_all when the machine cannot
# (not root, no netns, veth, tbf or nftables).  Removed when the test
# exits, however it exits.  Call it before srdf_servers_start: a skip
# then costs no server.
srdf_wan_up() {
	{ local -; set +x; } 2>/dev/null
	local why
	why=$("$top/t/srdf-wan" check 2>&1) || skip_all "no WAN link here: ${why#srdf-wan: }"
	_tl_wan_dirs+=("$_tl_trash")
	why=$("$top/t/srdf-wan" up "$_tl_trash" 9<&- 2>&1) || {
		printf '%s\n' "$why" | _tl_say_lines >&2
		error "cannot set up the WAN link"
	}
	. "$_tl_trash/wan/env"
}

# srdf_wan CMD [OPTIONS]: t/srdf-wan CMD on this test's link (degrade,
# cut, heal, status).
srdf_wan() {
	{ local -; set +x; } 2>/dev/null
	local cmd=$1
	shift
	"$top/t/srdf-wan" "$cmd" "$_tl_trash" "$@" 9<&-
}

# on_src CMD..., on_dst CMD...: CMD on the source or the target host, in
# its network namespace.  A MariaDB server is reached there by its socket
# (SRC_ADMIN_CNF, DST_ADMIN_CNF), not by 127.0.0.1.  In a subshell (test_bg,
# $(...), a pipeline) it execs, so that test_bg NAME on_dst srdf-recv ...
# records srdf-recv's own PID: there it must be the subshell's last
# command.
on_src() {
	exec_in_ns "$WAN_SRC_NS" "$@"
}

on_dst() {
	exec_in_ns "$WAN_DST_NS" "$@"
}

exec_in_ns() {
	local ns=$1
	shift
	if [ "$BASH_SUBSHELL" = 0 ]; then
		ip netns exec "$ns" "$@"
	else
		exec ip netns exec "$ns" "$@"
	fi
}

# src_sql 'SQL' [mariadb options], dst_sql ...: SQL as root, tab-separated,
# no column names.  Without SQL, reads it from stdin.
src_sql() {
	{ local -; set +x; } 2>/dev/null
	_tl_sql "$SRC_ADMIN_CNF" "$@"
}

dst_sql() {
	{ local -; set +x; } 2>/dev/null
	_tl_sql "$DST_ADMIN_CNF" "$@"
}

_tl_sql() {
	{ local -; set +x; } 2>/dev/null
	local cnf=$1
	shift
	if [ $# = 0 ]; then
		mariadb --defaults-file="$cnf" -N -B
	else
		local sql=$1
		shift
		mariadb --defaults-file="$cnf" -N -B "$@" -e "$sql"
	fi
}

# checksum_both DB.TABLE...: silent success if CHECKSUM TABLE agrees on the
# source and the target for every table; a missing table (NULL) never
# agrees.
checksum_both() {
	{ local -; set +x; } 2>/dev/null
	local t s d rc=0
	for t; do
		s=$(src_sql "CHECKSUM TABLE $t") && s=${s##*$'\t'} || s=ERROR
		d=$(dst_sql "CHECKSUM TABLE $t") && d=${d##*$'\t'} || d=ERROR
		if [ "$s" != "$d" ] || [ -z "$s" ] || [ "$s" = NULL ] || [ "$s" = ERROR ]; then
			echo "checksum_both: $t: source ${s:-none}, target ${d:-none}" >&2
			rc=1
		fi
	done
	return $rc
}
