#!/bin/bash
test_description='the whole pipeline: sysbench, the torture table and DDL mid-stream, srdf-apply killed -9 twenty times: target equal, nothing applied twice, every wagon confirmed'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

SECONDS_LOAD=${PIPE_SECONDS:-60}
S=$PWD/src
D=$PWD/dst

sb() {
	sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" \
		--mysql-user=root --mysql-db=sbtest --tables=4 --table-size=5000 "$@"
}

# listening NAME: the URL a daemon logs as "listening on URL"
listening() {
	local n
	for n in $(seq 100); do
		sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' "$1.err" |
			head -n 1 | grep . && return 0
		sleep 0.1
	done
	return 1
}

apply_start() { # NAME [env...]: srdf-apply as a daemon
	local name=$1
	shift
	test_bg "$name" env "$@" srdf-apply --dir "$D" --key-file key \
		--defaults-file "$DST_CNF" --ack-to "$(cat ackd.url)" --insecure \
		--retry 200ms,500ms,1s,2s,5s
}

kill9() { # PID: kill -9 and wait until it is gone (its flock with it)
	kill -9 "$1" 2>/dev/null
	until test_pid_gone "$1"; do sleep 0.05; done
}

test_expect_success 'source data before srdf: sysbench tables and the torture table' '
	src_sql "CREATE DATABASE sbtest" &&
	sb prepare >/dev/null &&
	src_sql <"$top/t/torture.sql" &&
	src_sql "CREATE DATABASE inc; CREATE TABLE inc.c (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO inc.c SELECT seq, 0 FROM inc.seq_1_to_10" &&
	srdf-keygen -o key 2>/dev/null &&
	mkdir -p "$S" "$D" &&
	ledger-meta "$S" bootstrap_gtid "$(src_sql "SELECT @@gtid_binlog_pos")"
'

test_expect_success 'srdf-bootstrap copies it through the same path' '
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" 2>bootstrap.err |
		srdf-seal --dir "$S" --key-file key 2>seal0.err &&
	test "$(ledger-meta "$S" last_sealed_gtid)" = "$(src_sql "SELECT @@gtid_binlog_pos")"
'

test_expect_success 'the daemons start: the source chain, recv, ackd, ship, apply' '
	test_bg recv srdf-recv --dir "$D" --key-file key --listen 127.0.0.1:0 --insecure &&
	listening recv >recv.url &&
	test_bg ackd srdf-ackd --dir "$S" --key-file key --listen 127.0.0.1:0 --insecure &&
	listening ackd >ackd.url &&
	test_bg chain bash -c "set -o pipefail; srdf-capture --defaults-file \"$SRC_CNF\" --dir \"$S\" --heartbeat 1 2>capture.err | srdf-dedup 2>dedup.err | srdf-seal --dir \"$S\" --key-file key 2>seal.err" &&
	test_bg ship srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file key --insecure --retry 200ms,500ms,1s,2s,5s &&
	apply_start apply0
'

test_expect_success "sysbench for $SECONDS_LOAD s with DDL mid-stream, increments, twenty kill -9 of srdf-apply" '
	test_bg load sb --threads=4 --time="$SECONDS_LOAD" --report-interval=0 run &&
	step=$((SECONDS_LOAD * 10 / 24)) &&
	RANDOM=${CRASH_SEED:-11} &&
	incs=0 &&
	for i in $(seq 20); do
		sleep "$((step / 10 + RANDOM % 2)).$((RANDOM % 10))" &&
		for k in 1 2 3 4 5; do
			src_sql "UPDATE inc.c SET n = n + 1 WHERE id = $((RANDOM % 10 + 1))" || return 1
		done &&
		incs=$((incs + 5)) &&
		case $i in
		3) src_sql "ALTER TABLE sbtest.sbtest1 ADD COLUMN extra INT NOT NULL DEFAULT 7" ;;
		5) src_sql "CREATE TABLE sbtest.t2 (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO sbtest.t2 VALUES (1, \"one\"), (2, \"two\")" ;;
		7) src_sql "RENAME TABLE sbtest.t2 TO sbtest.t3; UPDATE sbtest.t3 SET v = \"uno\" WHERE id = 1" ;;
		9) src_sql "CREATE DATABASE newdb; CREATE TABLE newdb.t (id INT PRIMARY KEY, d DATETIME(6)); INSERT INTO newdb.t VALUES (1, NOW(6))" ;;
		11) src_sql "ALTER TABLE sbtest.sbtest1 DROP COLUMN extra" ;;
		13) src_sql "CREATE TABLE sbtest.gone (id INT PRIMARY KEY); INSERT INTO sbtest.gone VALUES (1); DROP TABLE sbtest.gone" ;;
		15) src_sql "UPDATE tt.torture SET ti = ti + 1, lt = CONCAT(lt, \"!\") WHERE id IN (3, 6)" ;;
		esac &&
		kill9 "$(cat apply$((i - 1)).pid)" &&
		if [ $i = 10 ]; then
			apply_start apply$i SRDF_APPLY_CRASH_AFTER_COMMIT=1 &&
			test_wait_until 60 "! test_pid_alive \$(cat apply$i.pid)" &&
			i=$i
		else
			apply_start apply$i
		fi || return 1
	done &&
	echo "$incs" >incs &&
	while test_pid_alive "$(cat load.pid)"; do sleep 0.5; done &&
	grep "transactions:" load.out
'

test_expect_success 'the crash hook did exit right after a COMMIT' '
	grep -i "crash" apply10.err
'

test_expect_success 'the target reaches the source last GTID' '
	kill9 "$(cat apply20.pid)" && apply_start final &&
	last=$(src_sql "SELECT @@gtid_binlog_pos") &&
	test_wait_until 180 "test \"\$(dst_sql \"SELECT gtid_pos FROM srdf.applied\")\" = \"$last\"" &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$last"
'

test_expect_success 'CHECKSUM TABLE is equal on every table' '
	src_sql "SELECT CONCAT(TABLE_SCHEMA, \".\", TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (\"sbtest\", \"tt\", \"inc\", \"newdb\") AND TABLE_TYPE = \"BASE TABLE\" ORDER BY 1" >tables &&
	test "$(wc -l <tables)" -ge 8 &&
	grep -qx sbtest.t3 tables && grep -qx newdb.t tables && ! grep -qx sbtest.gone tables &&
	checksum_both $(cat tables)
'

test_expect_success 'no wagon was applied twice: the increments add up' '
	test "$(src_sql "SELECT SUM(n) FROM inc.c")" = "$(cat incs)" &&
	test "$(dst_sql "SELECT SUM(n) FROM inc.c")" = "$(cat incs)"
'

test_expect_success 'every wagon is confirmed in the source ledger' '
	test_wait_until 60 "ledger-wagons \"$S\" | jq -r .state | sort -u | grep -qx confirmed && test \$(ledger-wagons \"$S\" | jq -r .state | sort -u | wc -l) = 1" &&
	test "$(ledger-wagons "$S" | wc -l)" -gt 40
'

test_done
