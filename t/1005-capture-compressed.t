#!/bin/bash
test_description='srdf-capture: compressed binlog events (log_bin_compress) are read, not skipped'
. "$(dirname "$0")/lib.sh"
SRDF_SOURCE_OPTS="--log-bin-compress=ON --log-bin-compress-min-len=10" srdf_servers_start

test_expect_success 'rows and DDL are written compressed' '
	src_sql "SELECT @@gtid_binlog_pos" >start &&
	src_sql "CREATE DATABASE z; CREATE TABLE z.t (id INT PRIMARY KEY, v LONGTEXT, b BLOB) COMMENT \"$(printf "%0100d" 0)\"" &&
	src_sql "INSERT INTO z.t SELECT seq, REPEAT(CONCAT(\"row \", seq), 50), REPEAT(UNHEX(\"00FF\"), seq) FROM z.seq_1_to_300" &&
	src_sql "UPDATE z.t SET v = CONCAT(v, \"!\") WHERE id % 3 = 0; DELETE FROM z.t WHERE id % 7 = 0" &&
	src_sql "SHOW BINLOG EVENTS" | cut -f3 >types &&
	grep -q Query_compressed types &&
	grep -q Write_rows_compressed types &&
	grep -q Update_rows_compressed types &&
	grep -q Delete_rows_compressed types
'

test_expect_success 'capture decodes every compressed event' '
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat start)" --until-end >records 2>err &&
	test "$(jq -r "select(.type==\"insert\") | .table" records | wc -l)" = 300 &&
	test "$(jq -r "select(.type==\"update\") | .table" records | wc -l)" = 100 &&
	test "$(jq -r "select(.type==\"delete\") | .table" records | wc -l)" = 42 &&
	jq -r "select(.type==\"ddl\") | .sql" records | grep -q "COMMENT \"0000"
'

test_expect_success 'replayed on the target, the table is equal' '
	rec2sql <records | dst_sql &&
	checksum_both z.t
'

test_done
