#!/bin/bash
test_description='srdf-failback refuses, changing nothing, what it cannot undo exactly: a DDL in the tail, a domain the recovery point does not name, a binlog that does not reach the recovery point, a server without a binlog, an account that cannot set read_only, a row someone changed since; and undoes a plain tail'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

# The harness's source plays the old primary; its target has no binlog.
fb() {
	srdf-failback --defaults-file "$SRC_ADMIN_CNF" --promoted-pos 0-2-9 "$@"
}

test_expect_success 'setup: a table, the recovery point, a tail of three transactions' '
	src_sql "CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, v VARCHAR(10));
		INSERT INTO f.t VALUES (1, \"one\"), (2, \"two\")" &&
	src_sql "SELECT @@gtid_binlog_pos" >R &&
	src_sql "CHECKSUM TABLE f.t" >sum.R &&
	src_sql "INSERT INTO f.t VALUES (3, \"three\")" &&
	src_sql "UPDATE f.t SET v = \"TWO\" WHERE id = 2" &&
	src_sql "DELETE FROM f.t WHERE id = 1"
'

test_expect_success 'usage: the positions and the report are required and checked' '
	test_expect_code 64 srdf-failback --report r 2>u1.err &&
	grep "recovery-point and --promoted-pos are required" u1.err &&
	test_expect_code 64 fb --recovery-point 0-1 --report r 2>u2.err &&
	grep "bad --recovery-point 0-1 (want a GTID position" u2.err &&
	test_expect_code 64 fb --recovery-point "$(cat R)" 2>u3.err &&
	grep -- "--report is required" u3.err
'

test_expect_success 'a recovery point beyond the binlog: refused, nothing changed' '
	test_expect_code 65 fb --recovery-point 0-1-99999 --report far.jsonl >far.out 2>far.err &&
	grep "binlog ends at 0-1-[0-9]*, before the recovery point 0-1-99999: it lacks transactions the new primary holds" far.err &&
	grep "srdf-bootstrap" far.err &&
	test "$(src_sql "SELECT COUNT(*) FROM f.t")" = 2
'

test_expect_success 'a server without a binlog: refused' '
	test_expect_code 78 srdf-failback --defaults-file "$DST_ADMIN_CNF" --promoted-pos 0-2-9 \
		--recovery-point "$(cat R)" --report nobin.jsonl 2>nobin.err &&
	grep "has no binary log (log_bin=OFF)" nobin.err
'

test_expect_success 'an account that cannot set read_only: refused, the server stays writable' '
	src_sql "SET GLOBAL read_only = OFF" &&
	test_must_fail srdf-failback --defaults-file "$SRC_CNF" --promoted-pos 0-2-9 \
		--recovery-point "$(cat R)" --report ro.jsonl 2>ro.err &&
	grep "SET GLOBAL read_only=ON .*READ ONLY ADMIN" ro.err &&
	test "$(src_sql "SELECT @@read_only")" = 0 &&
	test ! -e ro.jsonl
'

test_expect_success 'a row changed since the tail: srdf-rewind refuses it, the report stands, nothing is marked done' '
	src_sql "SET SESSION sql_log_bin = 0; UPDATE f.t SET v = \"later\" WHERE id = 3" &&
	test_must_fail fb --recovery-point "$(cat R)" --report row.jsonl >row.out 2>row.err &&
	grep "^lost transactions: 3 (the binlog beyond the recovery point: 3)" row.out &&
	test "$(wc -l <row.jsonl)" = 3 &&
	grep "srdf-rewind --records row.jsonl.records failed" row.err &&
	grep "srdf-rewind: transaction 0-1-[0-9]* of row.jsonl.records: delete on f.t key 3 touched 0 of 1 rows: the row on the server is not the one the transaction left" row.err &&
	test "$(src_sql "SELECT v FROM f.t WHERE id = 3")" = later &&
	src_sql "SET SESSION sql_log_bin = 0; UPDATE f.t SET v = \"three\" WHERE id = 3"
'

test_expect_success 'run again once the row is reconciled: srdf-rewind goes on, the table as at the recovery point' '
	src_sql "SELECT @@gtid_binlog_pos" >end &&
	fb --recovery-point "$(cat R)" --report ok.jsonl >ok.out 2>ok.err &&
	grep "^lost transactions: 3 (the binlog beyond the recovery point: 3), 3 row changes" ok.out &&
	grep "^verified: 3 rows as at the recovery point" ok.out &&
	test "$(src_sql "CHECKSUM TABLE f.t")" = "$(cat sum.R)" &&
	test "$(src_sql "SELECT @@gtid_binlog_pos")" = "$(cat end)" &&
	grep -A2 "^transaction .*, 1 change$" ok.jsonl.txt | grep "^  delete f.t"
'

test_expect_success 'a DDL in the tail: refused before anything is undone' '
	src_sql "SET GLOBAL read_only = OFF; CREATE TABLE f.u (id INT PRIMARY KEY); INSERT INTO f.t VALUES (9, \"nine\")" &&
	test_expect_code 65 fb --recovery-point "$(cat end)" --report ddl.jsonl >ddl.out 2>ddl.err &&
	grep "holds DDL or an XA transaction, which cannot be undone from row images: nothing was undone" ddl.err &&
	jq -s -e "map(select(.changes[0].op == \"ddl\")) | length == 1 and (.[0].changes[0].sql | test(\"CREATE TABLE\"))" ddl.jsonl &&
	test "$(src_sql "SELECT COUNT(*) FROM f.t WHERE id = 9")" = 1
'

test_expect_success 'a domain of the binlog that the recovery point does not name: refused' '
	src_sql "SET SESSION gtid_domain_id = 7; INSERT INTO f.t VALUES (10, \"ten\")" &&
	test_expect_code 65 fb --recovery-point "$(cat end)" --report dom.jsonl 2>dom.err &&
	grep "binlog has domain 7, the recovery point $(cat end) names none" dom.err &&
	test ! -e dom.jsonl
'

test_done
