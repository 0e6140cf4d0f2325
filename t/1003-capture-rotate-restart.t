#!/bin/bash
test_description='srdf-capture: binlog rotation and a source restart lose nothing'
. "$(dirname "$0")/lib.sh"
SRDF_SOURCE_OPTS="--max-binlog-size=4096" srdf_servers_start

# workload FIRST LAST: one transaction per id, an insert and an update
workload() {
	for i in $(seq "$1" "$2"); do
		echo "BEGIN; INSERT INTO r.t (id, v, n) VALUES ($i, REPEAT('v', $i % 90), 0);"
		echo "UPDATE r.t SET n = n + 1 WHERE id = $i; COMMIT;"
	done
}

test_expect_success 'capture follows the binlog from before the schema' '
	src_sql "SELECT @@gtid_binlog_pos" >start &&
	test_bg cap srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat start)" --heartbeat 1 &&
	src_sql "CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(100), n INT)" &&
	workload 1 150 | src_sql &&
	src_sql "FLUSH BINARY LOGS" &&
	workload 151 200 | src_sql &&
	test "$(src_sql "SHOW BINARY LOGS" | wc -l)" -gt 5
'

test_expect_success 'the source restarts; capture reconnects and resumes' '
	srdf_servers restart-source &&
	workload 201 400 | src_sql &&
	last=$(src_sql "SELECT @@gtid_binlog_pos") &&
	test_wait_until 60 "grep -q \"\\\"type\\\":\\\"commit\\\",\\\"gtid\\\":\\\"$last\\\"\" cap.out" &&
	test_bg_stop cap &&
	grep "reconnecting to the source" cap.err
'

test_expect_success 'every source transaction is committed exactly once' '
	jq -r "select(.type==\"commit\") | .gtid" cap.out | sort | uniq -d >dups &&
	test_cmp /dev/null dups &&
	test "$(jq -r "select(.type==\"commit\") | .gtid" cap.out | wc -l)" = 402 &&
	test "$(jq -r "select(.type==\"commit\") | .file" cap.out | sort -u | wc -l)" -gt 5
'

test_expect_success 'replayed on the target, the table is equal' '
	rec2sql <cap.out | dst_sql &&
	checksum_both r.t &&
	test "$(dst_sql "SELECT SUM(n), COUNT(*) FROM r.t")" = "$(printf "400\t400")"
'

test_done
