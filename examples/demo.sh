#!/bin/bash
# examples/demo.sh — `make demo`, the README's first command.
#
# On a fresh Debian machine: installs what is missing (as root), builds,
# starts a throwaway source and target mariadbd (t/srdf-servers), and
# replicates a live sysbench workload from one to the other:
#
#   srdf-capture --defaults-file source.cnf --from-gtid G | rec2sql | mariadb target
#
# srdf-apply, the real applier, is not in this release: the records are
# applied by t/helpers/rec2sql, the test suite's plain applier.  At the end
# it prints CHECKSUM TABLE of both sides and how long the target took to
# catch up after the last source commit.  It cleans up after itself and is
# safe to run twice.  DEMO_SECONDS (default 30) sets the workload's length.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
seconds=${DEMO_SECONDS:-30}

packages=(build-essential pkg-config mariadb-server mariadb-client
	libmariadb-dev libzstd-dev libsodium-dev libcurl4-openssl-dev
	libjansson-dev liblmdb-dev libmicrohttpd-dev zlib1g-dev sysbench jq
	python3)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -qx 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "demo: missing packages: ${missing[*]}; run as root or" \
			"apt-get install them" >&2
		exit 69
	fi
	echo "demo: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi
make -s

dir=$(mktemp -d /tmp/srdf-demo.XXXXXX)
pids=()
cleanup() {
	# SIGTERM makes srdf-capture stop at a transaction boundary; the
	# rest of the pipeline ends with it.
	[ -s "$dir/capture.pid" ] && kill "$(cat "$dir/capture.pid")" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	"$top/t/srdf-servers" stop "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a source and a target mariadbd in $dir"
"$top/t/srdf-servers" start "$dir" >/dev/null
. "$dir/env"
src() { mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e "$1"; }
dst() { mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"; }

start=$(src "SELECT @@gtid_binlog_pos")
echo "== srdf-capture follows the source from GTID position '$start'"
{
	"$top/bin/srdf-capture" --defaults-file "$SRC_CNF" \
		--from-gtid "$start" --heartbeat 1 2>"$dir/capture.log" &
	echo $! >"$dir/capture.pid"
	wait
} |
	tee "$dir/records.jsonl" |
	"$top/t/helpers/rec2sql" |
	mariadb --defaults-file="$DST_ADMIN_CNF" &
pids+=($!)

echo "== sysbench prepares 4 tables of 10000 rows on the source"
src "CREATE DATABASE sbtest"
sb=(--db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root
	--mysql-db=sbtest --tables=4 --table-size=10000)
sysbench oltp_write_only "${sb[@]}" prepare >/dev/null

echo "== sysbench oltp_write_only for ${seconds} s on the source"
sysbench oltp_write_only "${sb[@]}" --threads=4 --time="$seconds" \
	--report-interval=0 run >"$dir/sysbench.log" &
bench=$!
pids+=($bench)
while kill -0 "$bench" 2>/dev/null; do
	sleep 5
	printf '   source GTID %-14s records %8d   target rows %s\n' \
		"$(src "SELECT @@gtid_binlog_pos")" \
		"$(wc -l <"$dir/records.jsonl")" \
		"$(dst "SELECT SUM(TABLE_ROWS) FROM information_schema.TABLES WHERE TABLE_SCHEMA='sbtest'" 2>/dev/null || echo -)"
done
wait "$bench"
grep -E "transactions:|queries:" "$dir/sysbench.log" | sed 's/^ */   /'

last=$(src "SELECT @@gtid_binlog_pos")
t0=$(date +%s.%N)
echo "== waiting for the target to reach the source's last GTID $last"
for _ in $(seq 600); do
	grep -q "\"type\":\"commit\",\"gtid\":\"$last\"" "$dir/records.jsonl" && break
	sleep 0.1
done
tables=sbtest.sbtest1,sbtest.sbtest2,sbtest.sbtest3,sbtest.sbtest4
for _ in $(seq 300); do
	[ "$(src "CHECKSUM TABLE $tables" | cut -f2)" = \
		"$(dst "CHECKSUM TABLE $tables" | cut -f2)" ] && break
	sleep 0.1
done
t1=$(date +%s.%N)
echo "== CHECKSUM TABLE, source then target"
paste <(src "CHECKSUM TABLE $tables") <(dst "CHECKSUM TABLE $tables" | cut -f2) |
	awk -F'\t' '{ printf "   %-18s %12s %12s  %s\n", $1, $2, $3, ($2 == $3 ? "equal" : "DIFFERENT") }'
printf '== target caught up %.2f s after the last source commit\n' \
	"$(echo "$t1 - $t0" | bc -l 2>/dev/null || python3 -c "print($t1-$t0)")"
[ "$(src "CHECKSUM TABLE $tables" | cut -f2)" = "$(dst "CHECKSUM TABLE $tables" | cut -f2)" ]
