#!/bin/bash
# bench/failback.sh — what a failback without a full copy saves: the old
# primary brought back by srdf-failback after a minute of load that never
# reached the DR site, against a full srdf-bootstrap of the same data.
#
# usage: bench/failback.sh        (make first; standalone, not a section
#                                  of bench/run: it needs a failover)
#
# On a throwaway pair (t/srdf-servers; B, the target, with a binlog):
#   1. sysbench prepare on A: FB_TABLES tables x FB_TABLE_SIZE rows;
#   2. the full copy, timed: srdf-bootstrap | srdf-seal, srdf-ship,
#      srdf-recv, srdf-apply already up; the clock stops when B's
#      checkpoint holds the last wagon sealed (polled every 50 ms) --
#      what bringing A back costs without srdf-failback (the same path
#      in the other direction, same size);
#   3. srdf-capture | srdf-dedup | srdf-seal follows A, srdf-ship is
#      stopped: FB_SECONDS of sysbench oltp_write_only at FB_RATE
#      transactions/s (FB_THREADS threads) on A never reach B;
#   4. A killed -9, B promoted, A restarted;
#   5. srdf-failback on A, timed: read-only, the tail read and reported,
#      undone, the rows checked.
# Prints the data size, both times and the tail's size; exits 1 when a
# step fails.  Environment: FB_TABLES (4), FB_TABLE_SIZE (100000),
# FB_SECONDS (60), FB_RATE (200), FB_THREADS (2), FB_KEEP=1 keeps the
# directory.

set -euo pipefail
export LC_ALL=C TZ=UTC
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH="$top/bin:$top/t/helpers:$PATH"
FB_TABLES=${FB_TABLES:-4}
FB_TABLE_SIZE=${FB_TABLE_SIZE:-100000}
FB_SECONDS=${FB_SECONDS:-60}
FB_RATE=${FB_RATE:-200}
FB_THREADS=${FB_THREADS:-2}

say() { printf 'failback-bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

W=$(mktemp -d /tmp/srdf-fb.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill $(pgrep -P "$p") "$p" 2>/dev/null || :
	done
	sleep 1
	t/srdf-servers stop "$W/srv" >/dev/null 2>&1 || :
	[ "${FB_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

export SRDF_TARGET_OPTS="--log-bin=binlog --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --binlog-checksum=CRC32 --gtid-strict-mode=ON"
t/srdf-servers start "$W/srv" >/dev/null || die "cannot start the servers"
. "$W/srv/env"
a_sql() { mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e "$1"; }
b_sql() { mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"; }
now() { echo "$EPOCHREALTIME"; }
bg() {
	local name=$1
	shift
	"$@" </dev/null >"$W/$name.out" 2>"$W/$name.err" &
	pids+=($!)
	echo $! >"$W/$name.pid"
}

srdf-keygen -o "$W/key" 2>/dev/null
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK"
	--mysql-user=root --mysql-db=sbtest --tables="$FB_TABLES"
	--table-size="$FB_TABLE_SIZE")
say "sysbench prepare: $FB_TABLES tables x $FB_TABLE_SIZE rows"
a_sql "CREATE DATABASE sbtest"
"${sb[@]}" prepare >"$W/prepare.log" 2>&1 || die "sysbench prepare failed"
bytes=$(a_sql "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sbtest'")
rows=$((FB_TABLES * FB_TABLE_SIZE))

# The DR side and the link, up and idle.
mkdir -p "$W/s" "$W/d"
b_sql "SET GLOBAL read_only = ON"
bg recv srdf-recv --dir "$W/d" --key-file "$W/key" --listen 127.0.0.1:0 --insecure
for _ in $(seq 100); do grep -q 'listening on http' "$W/recv.err" && break; sleep 0.1; done
url=$(sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' "$W/recv.err" | head -n 1)
[ -n "$url" ] || die "srdf-recv did not start"
bg apply srdf-apply --dir "$W/d" --key-file "$W/key" --defaults-file "$DST_ADMIN_CNF" --ack-pull

say "the full copy: srdf-bootstrap | srdf-seal, shipped and applied"
t0=$(now)
srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir "$W/s" --databases sbtest \
	--parallel 2 2>"$W/bootstrap.err" |
	srdf-seal --dir "$W/s" --key-file "$W/key" 2>"$W/seal0.err" ||
	die "srdf-bootstrap | srdf-seal failed"
bg ship srdf-ship --dir "$W/s" --to "$url" --key-file "$W/key" --insecure --ack-pull \
	--retry 100ms,200ms,500ms,1s
last=$(ledger-wagons "$W/s" | jq -s 'map(.seq) | max')
while [ "$(b_sql "SELECT MAX(seq) FROM srdf.applied" 2>/dev/null)" != "$last" ]; do
	sleep 0.05
done
t1=$(now)
bootstrap_s=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
say "full copy: $bootstrap_s s"

bg capture sh -c "exec srdf-capture --defaults-file '$SRC_ADMIN_CNF' --dir '$W/s' |
	srdf-dedup | srdf-seal --dir '$W/s' --key-file '$W/key'"
sleep 1
kill "$(cat "$W/ship.pid")"
sleep 1
say "the tail: $FB_SECONDS s of oltp_write_only at $FB_RATE tps, never shipped"
R=$(a_sql "SELECT @@gtid_binlog_pos")
"${sb[@]}" --threads="$FB_THREADS" --rate="$FB_RATE" --time="$FB_SECONDS" \
	--report-interval=0 run >"$W/run.log" 2>&1 || die "sysbench run failed"
t/srdf-servers kill-source "$W/srv"
kill -9 $(pgrep -P "$(cat "$W/capture.pid")") 2>/dev/null || :
kill -9 "$(cat "$W/capture.pid")" 2>/dev/null || :
sleep 1
kill "$(cat "$W/apply.pid")" "$(cat "$W/recv.pid")"
sleep 1
srdf-promote --dir "$W/d" --key-file "$W/key" --defaults-file "$DST_ADMIN_CNF" >"$W/promote.out" 2>"$W/promote.err" ||
	die "srdf-promote failed: $(tail -n 3 "$W/promote.err")"
line=$(grep '^failback: ' "$W/promote.out") || die "no failback line"
rp=$(echo "$line" | sed 's/.*--recovery-point \([^ ]*\).*/\1/')
pp=$(echo "$line" | sed 's/.*--promoted-pos \([^ ]*\).*/\1/')
[ "$rp" = "$R" ] || die "the recovery point $rp is not A's position before the tail, $R"
t/srdf-servers restart-source "$W/srv" >/dev/null
. "$W/srv/env"

say "srdf-failback on A"
t0=$(now)
srdf-failback --defaults-file "$SRC_ADMIN_CNF" --recovery-point "$rp" \
	--promoted-pos "$pp" --report "$W/lost.jsonl" >"$W/failback.out" 2>"$W/failback.err" ||
	die "srdf-failback failed: $(tail -n 3 "$W/failback.err")"
t1=$(now)
failback_s=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
lost=$(sed -n 's/^lost transactions: \([0-9]*\) .*, \([0-9]*\) row changes$/\1 transactions, \2 row changes/p' "$W/failback.out")

printf 'data: %s tables, %s rows, %s MB (InnoDB data and indexes)\n' \
	"$FB_TABLES" "$rows" "$(awk "BEGIN { printf \"%.0f\", $bytes / 1e6 }")"
printf 'full copy (srdf-bootstrap, shipped and applied): %s s\n' "$bootstrap_s"
printf 'tail: %s s of load at %s tps: %s\n' "$FB_SECONDS" "$FB_RATE" "$lost"
printf 'srdf-failback (read, report, undo, check): %s s\n' "$failback_s"
sed -n 's/^time: /srdf-failback stages: /p' "$W/failback.out"
