#!/bin/bash
test_description='srdf-verify: a target checkpoint whose GTID position is malformed is never counted as reached'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

test_expect_success 'setup: a table on both sides, one row changed on the target, srdf.applied as srdf-apply makes it' '
	src_sql "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20));
		INSERT INTO d.t SELECT seq, CONCAT(\"v\", seq) FROM seq.seq_1_to_100" &&
	dst_sql "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20));
		INSERT INTO d.t SELECT seq, CONCAT(\"v\", seq) FROM seq.seq_1_to_100;
		UPDATE d.t SET v = \"changed\" WHERE id = 7;
		CREATE DATABASE srdf; CREATE TABLE srdf.applied (source_id CHAR(32) PRIMARY KEY,
			seq BIGINT UNSIGNED NOT NULL, last_gtid VARCHAR(64), gtid_pos VARCHAR(1024),
			applied_at DATETIME(6) NOT NULL);
		INSERT INTO srdf.applied VALUES (REPEAT(\"a\", 32), 1, \"0-1-1\", \"0-1-1\", NOW(6))" &&
	pos=$(src_sql "SELECT @@gtid_binlog_pos") &&
	echo "$pos" | grep -Eq "^0-[0-9]+-[0-9]+$"
'

# Each of these reads, to a lenient parser, as a position beyond the
# source's (a huge or wrapped sequence number, trailing text, a valid
# element beside a damaged one).
for bad in "0-1-1000000junk" "0-1--1" "0-1-99999999999999999999" "garbage,0-1-1000000" "0-1-1000000,"; do
	test_expect_success "gtid_pos '$bad': an error, not reached, drift reported" '
		dst_sql "UPDATE srdf.applied SET gtid_pos = \"'"$bad"'\"" &&
		test_expect_code 1 srdf-verify -v --source "$SRC_CNF" --target "$DST_CNF" --include "d.t" --wait-seconds 1 >out 2>err &&
		cat err &&
		grep -q "srdf-verify: .*srdf.applied.*not a GTID position" err &&
		! grep -q "the target reached" err &&
		grep -q "^    changed: id=7$" out
	'
done

test_expect_success 'a well-formed position beyond the source: reached, and the drift still reported' '
	dst_sql "UPDATE srdf.applied SET gtid_pos = \"0-1-1000000\"" &&
	test_expect_code 1 srdf-verify -v --source "$SRC_CNF" --target "$DST_CNF" --include "d.t" --wait-seconds 1 >out 2>err &&
	grep -q "the target reached" err &&
	! grep -q "not a GTID position" err &&
	grep -q "^    changed: id=7$" out
'

test_done
