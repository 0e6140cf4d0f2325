#!/bin/bash
# examples/pipeline.sh — the whole of srdf on one host, as `make demo`
# runs it: a source and a target mariadbd (t/srdf-servers), sysbench
# tables that exist on the source before srdf starts, and every tool
# between the two, as srdf(7) draws it:
#
#   srdf-bootstrap | srdf-seal               source: the existing tables
#   srdf-capture | srdf-dedup | srdf-seal    source: every later change,
#                                            from the bootstrap's snapshot
#   srdf-ship                                source: outbox -> HTTP POST
#   srdf-recv                                target: -> dst/inbox
#   srdf-apply --ack-pull                    target: inbox -> MariaDB,
#                                                    ACKs kept for ship
#   srdf-ship --ack-pull                     source: ACKs fetched from
#                                            srdf-recv -> confirmed
#
# The ACKs come back in the pull mode (srdf-ship(1), "Pulled ACKs"): the
# source opens no port.  DEMO_ACKS=push runs srdf-ackd on the source
# instead, with srdf-apply --ack-to, the push mode.
#
# Then sysbench oltp_write_only runs on the source while it all
# replicates, and srdf-status of both state directories is printed every
# few seconds.  At the end: how far behind the target was (a heartbeat
# row written with NOW(6) on the source, read on the target, as
# pt-heartbeat does, and the time from the last source commit to its
# commit on the target), CHECKSUM TABLE of both sides, srdf-verify, and
# every wagon confirmed.  Exit 0 when both sides are equal and every
# wagon is confirmed.
#
# Plain HTTP on 127.0.0.1 (--insecure): a real setup gives srdf-recv (and
# srdf-ackd, in the push mode) certificates (--cert, --tls-key) and the senders --ca-file.
#
# Clean-up: everything lives in one directory /tmp/srdf-demo.XXXXXX.  On
# any exit, ^C included, the tools are stopped by the PIDs this run
# recorded, the servers by t/srdf-servers stop (by PID, after /proc
# confirms they serve that directory), and the directory is removed.  A
# run killed too hard to clean up (SIGKILL) leaves its directory behind
# with its PID in demo.pid; the next run finds it, stops what still runs
# there (only processes holding a file of that directory open) and
# removes it.
#
# usage: examples/pipeline.sh [seconds]
# Environment (all optional):
#   DEMO_SECONDS      length of the sysbench run (default 30; or $1)
#   DEMO_TABLES       sysbench tables (4)
#   DEMO_TABLE_SIZE   rows per table (10000)
#   DEMO_THREADS      sysbench threads (4)
#   DEMO_RATE         transactions per second, 0 for as many as it can (0)
#   DEMO_STATUS_EVERY seconds between two status lines (5)
#   DEMO_ACKS         pull (default) or push: how ACKs reach the source
#   DEMO_KEEP         1: keep the directory, its logs and the datadirs
#                     (the servers are stopped all the same)
#
# Sourced (`. examples/pipeline.sh`) it only defines the pl_* functions
# below: t/7005 runs the demo's path with them, shortened, and pokes at
# the running tools.  They use W (the work directory), S and D (the
# source and target state directories, W/src and W/dst), the servers'
# variables from t/srdf-servers' env file (SRC_CNF, DST_CNF, ...) and
# pl_bg to start daemons, which a test replaces with its own test_bg.

top=${top:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PATH=$top/bin:$PATH

# pl_bg NAME CMD...: CMD in the background, stdin /dev/null, stdout
# W/NAME.out, stderr W/NAME.err, its PID in W/NAME.pid (test_bg's
# contract, so that a test can put test_bg in its place).
pl_bg() {
	local name=$1
	shift
	"$@" </dev/null >"$W/$name.out" 2>"$W/$name.err" &
	echo $! >"$W/$name.pid"
}

# pl_src SQL, pl_dst SQL: SQL as root on the source or the target,
# tab-separated, no column names.
pl_src() {
	mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e "$1"
}

pl_dst() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

# pl_sb ARG...: sysbench oltp_write_only on the source's sbtest tables;
# the command line is also left in PL_SB, for pl_bg (which must start
# sysbench itself, not a shell that a SIGTERM would kill without it).
pl_sb() {
	PL_SB=(sysbench oltp_write_only --db-driver=mysql
		--mysql-socket="$SRC_SOCK" --mysql-user=root --mysql-db=sbtest
		--tables="${DEMO_TABLES:-4}" --table-size="${DEMO_TABLE_SIZE:-10000}")
	[ $# = 0 ] || "${PL_SB[@]}" "$@"
}

# pl_tables: the replicated tables, comma-separated.
pl_tables() {
	local i list=demo.heartbeat
	for i in $(seq "${DEMO_TABLES:-4}"); do
		list=$list,sbtest.sbtest$i
	done
	echo "$list"
}

# pl_prepare: the data that exists before srdf starts: the sysbench
# tables, and demo.heartbeat, the lag probe's one row.
pl_prepare() {
	pl_src "CREATE DATABASE sbtest; CREATE DATABASE demo;
		CREATE TABLE demo.heartbeat (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL);
		INSERT INTO demo.heartbeat VALUES (1, NOW(6))" &&
		pl_sb prepare >"$W/prepare.out"
}

# pl_bootstrap: a new key, then srdf-bootstrap | srdf-seal: the existing
# tables, read at one snapshot, sealed into S/outbox.  Its snapshot GTID
# is in S's ledger, where srdf-capture will start.
pl_bootstrap() {
	mkdir -p "$S" "$D" &&
		srdf-keygen -o "$W/key" 2>"$W/keygen.err" || return
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" 2>"$W/bootstrap.err" |
		srdf-seal --dir "$S" --key-file "$W/key" 2>"$W/seal-bootstrap.err"
	local st=("${PIPESTATUS[@]}")
	[ "${st[0]}" = 0 ] || { tail -n 5 "$W/bootstrap.err" >&2; return 1; }
	[ "${st[1]}" = 0 ] || { tail -n 5 "$W/seal-bootstrap.err" >&2; return 1; }
}

# pl_listening NAME: the URL that NAME logged ("listening on URL").
pl_listening() {
	local n u
	for n in $(seq 200); do
		u=$(sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' \
			"$W/$1.err" | head -n 1)
		[ -z "$u" ] || { echo "$u"; return 0; }
		sleep 0.05
	done
	echo "pipeline: srdf-$1 did not start:" >&2
	cat "$W/$1.err" >&2
	return 1
}

# pl_start_transport: srdf-recv (target), then srdf-ship --ack-pull
# (source); with DEMO_ACKS=push, srdf-ackd (source) and a plain
# srdf-ship instead.  Their URLs in W/recv.url (and W/ackd.url).  Needs
# S's outbox (pl_bootstrap made it).
pl_start_transport() {
	local pull=--ack-pull
	pl_bg recv srdf-recv --dir "$D" --key-file "$W/key" \
		--listen 127.0.0.1:0 --insecure &&
		pl_listening recv >"$W/recv.url" || return 1
	if [ "${DEMO_ACKS:-pull}" = push ]; then
		pull=
		pl_bg ackd srdf-ackd --dir "$S" --key-file "$W/key" \
			--listen 127.0.0.1:0 --insecure &&
			pl_listening ackd >"$W/ackd.url" || return 1
	fi
	# Short back-off steps: srdf-recv answers "busy" in the second
	# it started, and the first retry should not wait 10 s.
	pl_bg ship srdf-ship --dir "$S" --to "$(cat "$W/recv.url")" \
		--key-file "$W/key" --insecure $pull \
		--retry 100ms,250ms,500ms,1s,2s,5s
}

# pl_start_apply [NAME]: srdf-apply on the target (default NAME apply),
# keeping its ACKs for srdf-ship --ack-pull, or sending them to
# srdf-ackd with DEMO_ACKS=push.
pl_start_apply() {
	local acks=(--ack-pull)
	[ "${DEMO_ACKS:-pull}" != push ] || acks=(--ack-to "$(cat "$W/ackd.url")")
	pl_bg "${1:-apply}" srdf-apply --dir "$D" --key-file "$W/key" \
		--defaults-file "$DST_CNF" "${acks[@]}" \
		--insecure --retry 200ms,500ms,1s,2s
}

# pl_start_capture: srdf-capture | srdf-dedup | srdf-seal on the source,
# from the ledger's position (the bootstrap's snapshot GTID).  The pipes
# are named (W/capture.out, W/dedup.out) so that each tool is started by
# pl_bg and has its own PID: a SIGTERM to srdf-capture stops it at a
# transaction boundary, and srdf-dedup and srdf-seal end with their input.
pl_start_capture() {
	rm -f "$W/capture.out" "$W/dedup.out" &&
		mkfifo "$W/capture.out" "$W/dedup.out" &&
		pl_bg capture srdf-capture --defaults-file "$SRC_CNF" --dir "$S" \
			--heartbeat 1 &&
		pl_bg dedup sh -c 'exec srdf-dedup <"$1"' srdf-dedup \
			"$W/capture.out" &&
		pl_bg seal sh -c 'exec srdf-seal --dir "$1" --key-file "$2" <"$3"' \
			srdf-seal "$S" "$W/key" "$W/dedup.out" &&
		pl_ready seal "ready: reading groups"
}

# pl_ready NAME TEXT: waits up to 30 s for TEXT in W/NAME.err.
pl_ready() {
	local n
	for n in $(seq 300); do
		grep -qF "$2" "$W/$1.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "pipeline: srdf-$1 did not get ready:" >&2
	cat "$W/$1.err" >&2
	return 1
}

# pl_load SECONDS: sysbench oltp_write_only on the source for SECONDS
# (DEMO_THREADS, DEMO_RATE), and the heartbeat: demo.heartbeat's row set
# to NOW(6) every 0.25 s (a SIGTERM ends it after the UPDATE in flight).
pl_load() {
	pl_sb &&
		pl_bg load "${PL_SB[@]}" --threads="${DEMO_THREADS:-4}" \
			--rate="${DEMO_RATE:-0}" --time="$1" --report-interval=0 run &&
		pl_bg heartbeat bash -c 'trap "exit 0" TERM
		while :; do
			mariadb --defaults-file="$1" -e "UPDATE demo.heartbeat SET ts = NOW(6) WHERE id = 1" || exit
			sleep 0.25
		done' heartbeat "$SRC_ADMIN_CNF"
}

# pl_src_quiet SECONDS: until no sysbench connection is left on the
# source.  A sysbench killed with its COMMIT sent leaves the server to
# finish it: the source's last GTID is known only after that.
pl_src_quiet() {
	local n=$(($1 * 20))
	while [ "$(pl_src "SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE ID <> CONNECTION_ID() AND DB = 'sbtest'")" != 0 ]; do
		[ $n -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.05
	done
}

# pl_lag: seconds between now and the heartbeat the target holds.
pl_lag() {
	pl_dst "SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) / 1e6 FROM demo.heartbeat"
}

# pl_status_json DIR: srdf-status --json of DIR, the target's with its
# srdf.applied; "{}" before the directory has a ledger.  srdf-status exits
# 1 when a wagon is failed or dead: the figures are still good.
pl_status_json() {
	local out
	if [ "$1" = "$D" ]; then
		out=$(srdf-status --dir "$1" --json --defaults-file "$DST_CNF" 2>/dev/null) || true
	else
		out=$(srdf-status --dir "$1" --json 2>/dev/null) || true
	fi
	[ -n "$out" ] && echo "$out" || echo '{}'
}

# pl_status_line: one line of figures from srdf-status on both sides:
# SEALED CONFIRMED INFLIGHT RPO | APPLIED SRDF_APPLIED FAILED+DEAD,
# tab-separated ("-" when unknown).
pl_status_fields() {
	jq -n -r --argjson s "$(pl_status_json "$S")" \
		--argjson d "$(pl_status_json "$D")" '
		def n: if . == null then "-" else . end;
		[($s.last.sealed.seq | n), ($s.last.confirmed.seq | n),
		 (($s.wagons.total.count // 0) - ($s.wagons.confirmed.count // 0)),
		 (if $s.rpo_seconds == null then "-" else ($s.rpo_seconds * 10 | round / 10) end),
		 ($d.last.applied.seq | n), ($d.target_db.seq | n),
		 (($s.failed // 0) + ($s.dead // 0) + ($d.failed // 0) + ($d.dead // 0))]
		| @tsv'
}

# pl_gtid_applied: the target's srdf.applied.gtid_pos (empty before the
# first wagon).
pl_gtid_applied() {
	pl_dst "SELECT gtid_pos FROM srdf.applied" 2>/dev/null
}

# pl_wait_gtid GTID SECONDS: until the target's srdf.applied holds GTID.
pl_wait_gtid() {
	local n=$(($2 * 20))
	while [ "$(pl_gtid_applied)" != "$1" ]; do
		[ $n -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.05
	done
}

# pl_wait_seq SEQ SECONDS: until the target's srdf.applied has applied
# wagon SEQ.  (The bootstrap's wagons all carry its snapshot GTID, so the
# GTID alone does not say that the whole copy is in.)
# Before the first wagon srdf.applied is missing or has no row: seq 0
# (an empty answer must not end the wait as a failed comparison would).
pl_wait_seq() {
	local n=$(($2 * 20)) seq
	while seq=$(pl_dst "SELECT seq FROM srdf.applied" 2>/dev/null) || seq=0
		[ "${seq:-0}" -lt "$1" ]; do
		[ $n -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.05
	done
}

# pl_all_confirmed: true when the source ledger has wagons and every one
# of them is confirmed.
pl_all_confirmed() {
	pl_status_json "$S" | jq -e '.wagons.total.count > 0 and
		.wagons.total.count == .wagons.confirmed.count' >/dev/null
}

# pl_alive PID: a live process, not a zombie.
pl_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	case ${stat%% *} in Z | X) return 1 ;; esac
}

# pl_stop NAME...: SIGTERM to each tool this run started under NAME (its
# W/NAME.pid), SIGKILL after 10 s.
pl_stop() {
	local name pid n
	for name; do
		pid=$(cat "$W/$name.pid" 2>/dev/null) || continue
		rm -f "$W/$name.pid"
		kill -TERM "$pid" 2>/dev/null || continue
		for n in $(seq 100); do
			pl_alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# pl_stop_all: every tool, capture first so that dedup and seal end with
# its output.
pl_stop_all() {
	pl_stop capture dedup seal heartbeat load apply ship ackd recv
}

# pl_holds_file PID DIR: true if PID has a file under DIR open (its
# stdin, stdout or stderr at least, for every tool of a run).
pl_holds_file() {
	local f
	for f in /proc/"$1"/fd/*; do
		case $(readlink "$f" 2>/dev/null) in "$2"/*) return 0 ;; esac
	done
	return 1
}

# pl_reap: removes what runs killed by SIGKILL left in /tmp: directories
# /tmp/srdf-demo.* of this user whose demo.pid names no live
# pipeline.sh, and not kept (DEMO_KEEP).  Their tools are killed only if
# they hold a file of that directory open, their servers stopped by
# t/srdf-servers (which checks the PID's datadir first).
pl_reap() {
	local d pid f p
	for d in /tmp/srdf-demo.*; do
		[ -d "$d" ] && [ -O "$d" ] && [ ! -e "$d/kept" ] || continue
		pid=$(cat "$d/demo.pid" 2>/dev/null || true)
		if [ -n "$pid" ]; then
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
				grep -q pipeline.sh && continue
		elif [ -z "$(find "$d" -maxdepth 0 -mmin +5)" ]; then
			continue # being created right now
		fi
		echo "== removing $d, left by a run that was killed"
		for f in "$d"/*.pid; do
			p=$(cat "$f" 2>/dev/null || true)
			[ -n "$p" ] && pl_holds_file "$p" "$d" &&
				kill -KILL "$p" 2>/dev/null || true
		done
		"$top/t/srdf-servers" stop "$d/db" >/dev/null 2>&1 || true
		rm -rf "$d"
	done
}

# Sourced: the functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

# ---- the demo ------------------------------------------------------------

set -euo pipefail
seconds=${1:-${DEMO_SECONDS:-30}}
every=${DEMO_STATUS_EVERY:-5}
case $seconds$every in
*[!0-9]* | "") echo "pipeline: DEMO_SECONDS and DEMO_STATUS_EVERY are whole seconds" >&2; exit 64 ;;
esac
for t in srdf-bootstrap srdf-capture srdf-dedup srdf-seal srdf-ship srdf-recv \
	srdf-apply srdf-ackd srdf-keygen srdf-status srdf-verify; do
	[ -x "$top/bin/$t" ] || { echo "pipeline: bin/$t is not built (make)" >&2; exit 69; }
done
for t in sysbench jq mariadb; do
	command -v $t >/dev/null || { echo "pipeline: $t is not installed" >&2; exit 69; }
done
t_start=$EPOCHREALTIME

pl_reap
W=$(mktemp -d /tmp/srdf-demo.XXXXXX)
echo $$ >"$W/demo.pid"
S=$W/src # source state directory
D=$W/dst # target state directory
keep=${DEMO_KEEP:-0}
cleanup() {
	local rc=$?
	trap '' INT TERM HUP
	pl_stop_all
	if [ "$keep" = 1 ]; then
		"$top/t/srdf-servers" stop --keep "$W/db" >/dev/null 2>&1 || true
		: >"$W/kept"
		echo "== kept in $W (logs: $W/*.err; servers stopped)"
	else
		"$top/t/srdf-servers" stop "$W/db" >/dev/null 2>&1 || true
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

echo "== a source and a target mariadbd in $W/db"
"$top/t/srdf-servers" start "$W/db" >/dev/null
. "$W/db/env"

echo "== existing data, before srdf: sysbench prepare, ${DEMO_TABLES:-4} tables of ${DEMO_TABLE_SIZE:-10000} rows"
pl_prepare

echo "== srdf-bootstrap | srdf-seal: the tables, read at one snapshot, encrypted into the outbox"
t0=$EPOCHREALTIME
pl_bootstrap
printf '   %s\n' "$(grep -o 'the copy is complete.*' "$W/bootstrap.err" | tail -n 1)"
# Every wagon of the copy carries the snapshot's GTID position.
copy=$(pl_status_json "$S" | jq .last.sealed.seq)
snap=$(pl_status_json "$S" | jq -r .last.sealed.gtid)
printf '   snapshot at GTID %s; %s wagons sealed in %.1f s\n' "$snap" "$copy" \
	"$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"

case ${DEMO_ACKS:-pull} in
pull) echo "== srdf-recv (target), srdf-ship --ack-pull (source: no port open), srdf-apply --ack-pull (target)" ;;
push) echo "== srdf-recv (target), srdf-ackd and srdf-ship (source), srdf-apply --ack-to (target)" ;;
*) echo "pipeline: DEMO_ACKS is pull or push" >&2; exit 64 ;;
esac
pl_start_transport
pl_start_apply apply
if [ -s "$W/ackd.url" ]; then
	echo "   srdf-recv on $(cat "$W/recv.url"), srdf-ackd on $(cat "$W/ackd.url")"
else
	echo "   srdf-recv on $(cat "$W/recv.url"); the ACKs come back through it"
fi

echo "== srdf-capture | srdf-dedup | srdf-seal, from the snapshot"
pl_start_capture
pl_ready capture "starting after"
printf '   %s\n' "$(grep -o 'starting after.*' "$W/capture.err" | head -n 1)"

echo "== the copy reaches the target"
pl_wait_seq "$copy" 120 || { echo "pipeline: the target did not apply the copy" >&2; exit 1; }
printf '   target at the snapshot GTID %s (wagon %s), %.1f s after the bootstrap began\n' \
	"$(pl_gtid_applied)" "$copy" "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"

rate=${DEMO_RATE:-0}
[ "$rate" != 0 ] && rate="$rate tps" || rate="unthrottled"
echo "== sysbench oltp_write_only for $seconds s (${DEMO_THREADS:-4} threads, $rate), srdf-status every $every s"
echo "   (per srdf-status: the source's last wagon sealed and confirmed, its wagons not yet"
echo "   confirmed and its RPO; the target's last wagon applied, in its ledger and in"
echo "   srdf.applied; and the age of the newest demo.heartbeat row on the target)"
printf '   %5s  %10s %10s %12s %7s  %11s %13s %15s\n' time "src sealed" confirmed \
	unconfirmed RPO "dst applied" srdf.applied "heartbeat lag"
pl_load "$seconds"
t_load=$EPOCHREALTIME
max_rpo=0 max_lag=0
status_line() {
	local f lag
	f=$(pl_status_fields)
	lag=$(pl_lag 2>/dev/null) || lag=
	IFS=$'\t' read -r sealed confirmed unconf rpo applied dbrow bad <<<"$f"
	if [ -n "$lag" ]; then
		max_lag=$(awk "BEGIN { print ($lag > $max_lag) ? $lag : $max_lag }")
		lag=$(printf '%.2f' "$lag")
	fi
	printf '   %4.0fs  %10s %10s %12s %5s s  %11s %13s %13s s%s\n' \
		"$(awk "BEGIN { print $EPOCHREALTIME - $t_load }")" \
		"$sealed" "$confirmed" "$unconf" "$rpo" "$applied" "$dbrow" "$lag" \
		"$([ "$bad" = 0 ] || echo "  FAILED/DEAD: $bad")"
	[ "$rpo" = - ] || max_rpo=$(awk "BEGIN { print ($rpo > $max_rpo) ? $rpo : $max_rpo }")
}
load=$(cat "$W/load.pid")
next=$every
while pl_alive "$load"; do
	sleep 0.2
	if awk "BEGIN { exit !($EPOCHREALTIME - $t_load >= $next) }"; then
		status_line
		next=$((next + every))
	fi
done
t_end=$EPOCHREALTIME
# One line more at the end of the load, unless one was just printed.
awk "BEGIN { exit !($t_end - $t_load >= $next - $every + 1) }" && status_line
wait "$load" || { echo "pipeline: sysbench failed:" >&2; cat "$W/load.err" >&2; exit 1; }
pl_stop heartbeat
sed -n 's/^ *\(transactions\|queries\): *\(.*\)/   sysbench \1: \2/p' "$W/load.out"

echo "== the target drains"
# The last source commit: one more heartbeat, after the load.
pl_src "UPDATE demo.heartbeat SET ts = NOW(6) WHERE id = 1"
last=$(pl_src "SELECT @@gtid_binlog_pos")
pl_wait_gtid "$last" 300 || { echo "pipeline: the target did not reach $last" >&2; exit 1; }
printf '   target at the source'\''s last GTID %s, %.2f s after the load ended\n' \
	"$last" "$(awk "BEGIN { print $EPOCHREALTIME - $t_end }")"
# Both times on the target: the heartbeat's source NOW(6), replicated,
# and srdf.applied.applied_at, NOW(6) in the transaction that applied it.
commit_lag=$(pl_dst "SELECT TIMESTAMPDIFF(MICROSECOND,
	(SELECT ts FROM demo.heartbeat WHERE id = 1), applied_at) / 1e6 FROM srdf.applied")
commit_lag=$(printf '%.2f' "$commit_lag")
max_lag=$(printf '%.2f' "$max_lag")
printf '   the last source commit was committed on the target %s s later\n' "$commit_lag"

echo "== CHECKSUM TABLE"
tables=$(pl_tables)
tables=${tables//,/, }
printf '   %-18s %12s %12s\n' table source target
paste <(pl_src "CHECKSUM TABLE $tables") <(pl_dst "CHECKSUM TABLE $tables" | cut -f2) |
	awk -F'\t' '{ printf "   %-18s %12s %12s  %s\n", $1, $2, $3, ($2 == $3 ? "equal" : "DIFFERENT") }'
[ "$(pl_src "CHECKSUM TABLE $tables" | cut -f2)" = \
	"$(pl_dst "CHECKSUM TABLE $tables" | cut -f2)" ] && same=1 || same=0

echo "== srdf-verify --databases sbtest,demo"
verified=1
srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sbtest,demo \
	>"$W/verify.out" 2>"$W/verify.err" || verified=0
sed 's/^/   /' "$W/verify.out"
[ "$verified" = 1 ] || sed 's/^/   /' "$W/verify.err"

echo "== srdf-status --dir src, once every wagon is confirmed"
confirmed=0
for _ in $(seq 600); do
	pl_all_confirmed && { confirmed=1; break; }
	sleep 0.1
done
srdf-status --dir "$S" | sed 's/^/   /' || true
nwagons=$(pl_status_json "$S" | jq -r '"\(.wagons.confirmed.count) of \(.wagons.total.count)"')

echo "== result"
printf '   CHECKSUM TABLE: %s; srdf-verify: %s; wagons confirmed: %s\n' \
	"$([ $same = 1 ] && echo equal || echo DIFFERENT)" \
	"$([ $verified = 1 ] && echo equal || echo "NOT equal")" "$nwagons"
printf '   lag: last source commit to its commit on the target %s s;\n' "$commit_lag"
printf '        under load, heartbeat lag at most %s s, RPO (srdf-status) at most %s s\n' \
	"$max_lag" "$max_rpo"
printf '   demo wall time: %.0f s\n' "$(awk "BEGIN { print $EPOCHREALTIME - $t_start }")"
[ $same$verified$confirmed = 111 ]
