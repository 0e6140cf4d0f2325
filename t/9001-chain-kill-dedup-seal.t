#!/bin/bash
test_description='capture | dedup | seal: kill -9 dedup or seal twenty times under load; every transaction sealed exactly once'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

D=$PWD/state
sb() {
	sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" \
		--mysql-user=root --mysql-db=sbtest --tables=2 --table-size=2000 "$@"
}

# chain: the source pipeline in the background; PIDs in cap.pid, dedup.pid, seal.pid
chain() {
	{ srdf-capture --defaults-file "$SRC_CNF" --dir "$D" --heartbeat 1 "$@" 2>>cap.err & echo $! >cap.pid; wait; } |
	{ srdf-dedup --window 200ms 2>>dedup.err & echo $! >dedup.pid; wait; } |
	{ srdf-seal --dir "$D" --key-file key 2>>seal.err & echo $! >seal.pid; wait; } &
	echo $! >chain.pid
}

chain_down() { # waits for every stage to be gone (kill -9 after 10 s)
	local p n
	for n in $(seq 100); do
		alive=
		for p in cap dedup seal; do
			test_pid_alive "$(cat $p.pid)" && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for p in cap dedup seal; do kill -9 "$(cat $p.pid)" 2>/dev/null; done
	wait "$(cat chain.pid)" 2>/dev/null
	return 0
}

test_expect_success 'setup: sysbench tables, key, start position' '
	src_sql "CREATE DATABASE sbtest" &&
	sb prepare >/dev/null &&
	mariadb-dump --defaults-file="$SRC_ADMIN_CNF" --databases sbtest | dst_sql &&
	srdf-keygen -o key &&
	mkdir -p "$D" &&
	ledger-meta "$D" bootstrap_gtid "$(src_sql "SELECT @@gtid_binlog_pos")" &&
	test_bg load sb --threads=2 --time=40 --rate=150 run
'

test_expect_success 'twenty kill -9 of dedup or seal at random moments' '
	RANDOM=${CRASH_SEED:-7} &&
	for i in $(seq 20); do
		chain &&
		sleep "$((RANDOM % 15 / 10)).$((RANDOM % 10))" &&
		victim=$([ $((RANDOM % 2)) = 0 ] && echo dedup || echo seal) &&
		kill -9 "$(cat $victim.pid)" &&
		echo "round $i: killed $victim" >>kills &&
		chain_down || return 1
	done &&
	test "$(wc -l <kills)" = 20
'

test_expect_success 'after the load, one last run drains the binlog' '
	while test_pid_alive "$(cat load.pid)"; do sleep 0.5; done &&
	chain --until-end &&
	wait "$(cat chain.pid)" &&
	grep -q "transactions:" load.out
'

test_expect_success 'srdf-cat reads every wagon' '
	srdf-cat --key-file key "$D/outbox" >records &&
	srdf-cat --key-file key --header "$D/outbox" >headers &&
	test "$(jq -s length headers)" -gt 20
'

test_expect_success 'GTID coverage: no gap, no overlap, up to the source end' '
	jq -r "select(.type==\"group_end\") | [.first_gtid, .last_gtid, .trx] | @tsv" records >ranges &&
	start=$(ledger-meta "$D" bootstrap_gtid | cut -d- -f3) &&
	end=$(src_sql "SELECT @@gtid_binlog_pos" | cut -d- -f3) &&
	awk -F"\t" -v start="$start" -v end="$end" "
		{ split(\$1, f, \"-\"); split(\$2, l, \"-\");
		  if (f[3] != next_seq) { print \"gap or overlap at \" \$1 \" (want \" next_seq \")\"; bad = 1 }
		  if (l[3] - f[3] + 1 != \$3) { print \"trx count wrong in \" \$0; bad = 1 }
		  next_seq = l[3] + 1 }
		BEGIN { next_seq = start + 1 }
		END { if (next_seq != end + 1) { print \"ends at \" next_seq - 1 \", source at \" end; bad = 1 }; exit bad }
	" ranges &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "$(src_sql "SELECT @@gtid_binlog_pos")"
'

test_expect_success 'the sealed groups, applied on the target, equal the source' '
	rec2sql <records | dst_sql &&
	checksum_both sbtest.sbtest1 sbtest.sbtest2
'

test_done
