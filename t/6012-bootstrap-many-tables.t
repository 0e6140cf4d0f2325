#!/bin/bash
test_description='srdf-bootstrap of many small tables: a few wagons, not two per table; srdf-apply killed inside a wagon of 256 CREATE OR REPLACE TABLE resumes and ends equal'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

ntab=300

test_expect_success 'setup: 300 tables of 2 rows and one of 2500, copied' '
	srdf-keygen -o key 2>/dev/null && mkdir -p "$S" "$D/inbox/new" &&
	{
		echo "CREATE DATABASE m; USE m;
			CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20));
			INSERT INTO big SELECT seq, CONCAT(\"v\", seq) FROM seq_1_to_2500;"
		for i in $(seq $ntab); do
			echo "CREATE TABLE t$i (id INT PRIMARY KEY, v VARCHAR(20), n INT, KEY (n));"
			echo "INSERT INTO t$i VALUES (1, \"a\", $i), (2, \"b\", $i);"
		done
	} | src_sql &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases m \
		--chunk-rows 1000 2>bootstrap.err |
		srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	grep -F "schema: 302 statements (databases, tables, routines, views, events) in 2 groups" bootstrap.err
'

test_expect_success 'a few wagons: 2 of schema, 2 full chunks of big, 2 of 1000 rows for the rest' '
	test "$(wagon_count)" = 6 &&
	for n in 3 4 5 6; do
		srdf-cat --key-file key "$S/outbox/new/$(wagon_name $n)" || return 1
	done >rows.jsonl &&
	test "$(jq -r "select(.type == \"insert\") | .table" rows.jsonl | sort -u | wc -l)" = $((ntab + 1)) &&
	test "$(jq -r "select(.type == \"insert\") | 1" rows.jsonl | wc -l)" = $((2 * ntab + 2500)) &&
	ledger-meta "$S" bootstrap_table:m.t7 | jq -e ".state == \"done\" and .done_group >= 5"
'

waiting_ddl() { # a CREATE OR REPLACE TABLE waits for the blocker's lock
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST
		WHERE STATE = 'Waiting for table metadata lock'")" = 1
}

test_expect_success 'srdf-apply killed -9 while a CREATE OR REPLACE TABLE of wagon 1 waits' '
	deliver &&
	dst_sql "CREATE DATABASE m; CREATE TABLE m.t2 (x INT); INSERT INTO m.t2 VALUES (42)" &&
	test_bg blocker mariadb --defaults-file="$DST_ADMIN_CNF" -e \
		"BEGIN; SELECT * FROM m.t2; SELECT SLEEP(120)" &&
	test_bg apply srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" --once &&
	test_wait_until 60 waiting_ddl &&
	kill -9 "$(cat apply.pid)" && { wait "$(cat apply.pid)"; true; } &&
	kill "$(cat blocker.pid)" && { wait "$(cat blocker.pid)"; true; } &&
	wagon_field 1 ddl_done >done &&
	test "$(cat done)" -gt 0 && test $(($(cat done) % 64)) = 0 &&
	test "$(wagon_field 1 ddl_inflight)" = null &&
	test "$(wagon_field 1 state)" != applied &&
	test "$(dst_sql "SELECT COUNT(*) FROM m.t2")" = 1
'

test_expect_success 'run again: the statements after the note run again, every table ends equal' '
	apply_once &&
	test "$(applied_seq)" = 6 &&
	grep -F "wagon 1: DDL $(cat done) was applied by an earlier attempt" apply.err &&
	! grep -F "wagon 1: DDL $(($(cat done) + 1)) was applied by an earlier attempt" apply.err &&
	tables="m.big" && for i in $(seq $ntab); do tables="$tables m.t$i"; done &&
	checksum_both $tables &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = \"m\"")" = $((ntab + 1))
'

test_done
