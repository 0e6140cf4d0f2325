#!/bin/bash
# examples/pipeline.sh — the whole of srdf on one host: a source and a
# target mariadbd (t/srdf-servers), a live sysbench workload on the
# source, and every tool between them, as srdf(7) draws it:
#
#   srdf-capture | srdf-dedup | srdf-seal    source: wagons into src/outbox
#   srdf-ship                                 source: outbox -> HTTP POST
#   srdf-recv                                 target: -> dst/inbox
#   srdf-apply                                target: inbox -> MariaDB,
#                                                     signed ACKs back
#   srdf-ackd                                 source: ACKs -> confirmed
#
# Plain HTTP on 127.0.0.1 (--insecure): a real setup gives srdf-recv and
# srdf-ackd certificates (--cert, --tls-key) and the senders --ca-file.
# At the end it waits until the target holds the source's last GTID,
# compares CHECKSUM TABLE on both sides, and waits until every wagon is
# confirmed on the source.  It cleans up after itself.
#
# usage: examples/pipeline.sh [seconds]      (default 20; or PIPELINE_SECONDS)
# Exit 0 when the target equals the source and every wagon is confirmed.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
seconds=${1:-${PIPELINE_SECONDS:-20}}
PATH=$top/bin:$top/t/helpers:$PATH
for t in srdf-capture srdf-dedup srdf-seal srdf-ship srdf-recv srdf-apply \
	srdf-ackd srdf-keygen; do
	[ -x "bin/$t" ] || { echo "pipeline: bin/$t is not built (make)" >&2; exit 69; }
done
command -v sysbench >/dev/null || { echo "pipeline: sysbench is not installed" >&2; exit 69; }

dir=$(mktemp -d /tmp/srdf-pipeline.XXXXXX)
S=$dir/src # source state directory
D=$dir/dst # target state directory
pids=()
cleanup() {
	local p
	# SIGTERM: each tool stops at a safe point; srdf-capture at a
	# transaction boundary, and srdf-dedup and srdf-seal after it at the
	# end of their input.
	[ -s "$dir/capture.pid" ] && kill "$(cat "$dir/capture.pid")" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	"$top/t/srdf-servers" stop "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== a source and a target mariadbd in $dir"
"$top/t/srdf-servers" start "$dir" >/dev/null
. "$dir/env"
src() { mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e "$1"; }
dst() { mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"; }
mkdir -p "$S" "$D"
srdf-keygen -o "$dir/key" 2>/dev/null

# listening NAME: the URL a daemon announced on its log ("listening on URL")
listening() {
	local n
	for n in $(seq 100); do
		sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' \
			"$dir/$1.log" | head -n 1 | grep . && return 0
		sleep 0.1
	done
	echo "pipeline: $1 did not start:" >&2
	cat "$dir/$1.log" >&2
	exit 69
}

echo "== source: srdf-capture | srdf-dedup | srdf-seal"
start=$(src "SELECT @@gtid_binlog_pos")
{
	srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --from-gtid "$start" \
		--heartbeat 1 2>"$dir/capture.log" &
	echo $! >"$dir/capture.pid"
	wait
} |
	srdf-dedup 2>"$dir/dedup.log" |
	srdf-seal --dir "$S" --key-file "$dir/key" 2>"$dir/seal.log" &
pids+=($!)
for _ in $(seq 100); do
	grep -q ready "$dir/seal.log" && break
	sleep 0.1
done

echo "== target: srdf-recv; source: srdf-ackd"
srdf-recv --dir "$D" --key-file "$dir/key" --listen 127.0.0.1:0 --insecure \
	2>"$dir/recv.log" &
pids+=($!)
recv_url=$(listening recv)
srdf-ackd --dir "$S" --key-file "$dir/key" --listen 127.0.0.1:0 --insecure \
	2>"$dir/ackd.log" &
pids+=($!)
ackd_url=$(listening ackd)
echo "   srdf-recv on $recv_url, srdf-ackd on $ackd_url"

echo "== srdf-ship (source) and srdf-apply (target)"
srdf-ship --dir "$S" --to "$recv_url" --key-file "$dir/key" --insecure \
	2>"$dir/ship.log" &
pids+=($!)
srdf-apply --dir "$D" --key-file "$dir/key" --defaults-file "$DST_CNF" \
	--ack-to "$ackd_url" --insecure 2>"$dir/apply.log" &
pids+=($!)

echo "== sysbench: 4 tables of 10000 rows, then oltp_write_only for $seconds s"
src "CREATE DATABASE sbtest"
sb=(--db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root
	--mysql-db=sbtest --tables=4 --table-size=10000)
sysbench oltp_write_only "${sb[@]}" prepare >/dev/null
sysbench oltp_write_only "${sb[@]}" --threads=4 --time="$seconds" \
	--report-interval=0 run >"$dir/sysbench.log" &
bench=$!
pids+=($bench)
while kill -0 "$bench" 2>/dev/null; do
	sleep 5
	printf '   source GTID %-12s  wagons sealed %5s  applied %5s\n' \
		"$(src "SELECT @@gtid_binlog_pos")" \
		"$(ls "$S/outbox/new" 2>/dev/null | grep -c wagon || true)" \
		"$(dst "SELECT seq FROM srdf.applied" 2>/dev/null || echo 0)"
done
wait "$bench" || true
grep -E "transactions:" "$dir/sysbench.log" | sed 's/^ */   /'

last=$(src "SELECT @@gtid_binlog_pos")
t0=$EPOCHREALTIME
echo "== waiting for the target to reach the source's GTID position $last"
for _ in $(seq 600); do
	[ "$(dst "SELECT gtid_pos FROM srdf.applied" 2>/dev/null)" = "$last" ] && break
	sleep 0.1
done
lag=$(awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $t0 }")
tables=sbtest.sbtest1,sbtest.sbtest2,sbtest.sbtest3,sbtest.sbtest4
echo "== CHECKSUM TABLE, source then target"
paste <(src "CHECKSUM TABLE $tables") <(dst "CHECKSUM TABLE $tables" | cut -f2) |
	awk -F'\t' '{ printf "   %-18s %12s %12s  %s\n", $1, $2, $3, ($2 == $3 ? "equal" : "DIFFERENT") }'
echo "   target at the source's last GTID $lag s after its last commit"

echo "== waiting for every wagon to be confirmed on the source"
for _ in $(seq 300); do
	states=$(ledger-wagons "$S" | jq -r .state | sort | uniq -c | tr -s ' ' | tr '\n' ',')
	case $states in " "*" confirmed,") break ;; esac
	sleep 0.1
done
echo "   source ledger: ${states%,}"
dst "SELECT source_id, seq, last_gtid, applied_at FROM srdf.applied" |
	awk -F'\t' '{ printf "   srdf.applied: source %s, wagon %s, GTID %s at %s\n", $1, $2, $3, $4 }'

[ "$(src "CHECKSUM TABLE $tables" | cut -f2)" = "$(dst "CHECKSUM TABLE $tables" | cut -f2)" ] &&
	case $states in " "*" confirmed,") true ;; *) false ;; esac
