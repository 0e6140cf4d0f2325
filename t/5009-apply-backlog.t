#!/bin/bash
test_description='srdf-apply: a backlog of wagons applied in one transaction, folded across them; a failing wagon, a cascade parent, a DDL or --merge-bytes 0 make them go one by one; equal and nothing twice either way'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# group N: one source group (one seal_new) in which every counter row is
# incremented (n = n + 1: applied twice it would show), one hot row is
# updated, a row is inserted into a table without primary key, and row
# N of w.t gets a value of N characters.
group() {
	src_sql "UPDATE w.cnt SET n = n + 1;
		UPDATE w.hot SET v = v + $1 WHERE id = 1;
		INSERT INTO w.journal VALUES ($1, REPEAT('j', $1));
		INSERT INTO w.t (id, s) VALUES ($1, REPEAT('x', $1))" &&
	seal_new
}

merged_line() { # FIRST LAST: the log line of wagons FIRST..LAST merged
	grep -F "wagons $1..$2 applied in one transaction" apply.err
}

test_expect_success 'setup' '
	apply_setup &&
	src_sql "CREATE DATABASE w;
		CREATE TABLE w.cnt (id INT PRIMARY KEY, n BIGINT NOT NULL);
		CREATE TABLE w.hot (id INT PRIMARY KEY, v BIGINT NOT NULL);
		CREATE TABLE w.journal (k INT, pad VARCHAR(200));
		CREATE TABLE w.t (id INT PRIMARY KEY, s VARCHAR(40));
		CREATE TABLE w.p (id INT PRIMARY KEY, name VARCHAR(20));
		CREATE TABLE w.c (id INT PRIMARY KEY, pid INT,
			FOREIGN KEY (pid) REFERENCES w.p (id) ON DELETE CASCADE);
		INSERT INTO w.cnt SELECT seq, 0 FROM w.seq_1_to_20;
		INSERT INTO w.hot VALUES (1, 0)" &&
	seal_new && deliver && apply_once &&
	checksum_both w.cnt w.hot w.journal w.t
'

test_expect_success 'six waiting wagons: one transaction, the checkpoint at the last, each wagon applied in the ledger, equal' '
	first=$(($(wagon_count) + 1)) &&
	for i in 1 2 3 4 5 6; do group $i || return 1; done &&
	last=$(wagon_count) && test $((last - first)) = 5 &&
	deliver && : >apply.err && apply_once &&
	merged_line "$first" "$last" &&
	test "$(grep -c "one transaction" apply.err)" = 1 &&
	test "$(applied_seq)" = "$last" &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(src_sql "SELECT @@gtid_binlog_pos")" &&
	for s in $(seq "$first" "$last"); do
		test "$(wagon_state "$s")" = applied || return 1
	done &&
	test "$(dst_sql "SELECT MIN(n), MAX(n) FROM w.cnt")" = "6	6" &&
	test "$(dst_sql "SELECT v FROM w.hot")" = 21 &&
	checksum_both w.cnt w.hot w.journal w.t
'

test_expect_success 'a wagon that fails in the middle: the others go one by one, those before it commit, it fails with the server'"'"'s message, nothing after it applied' '
	dst_sql "ALTER TABLE w.t MODIFY s VARCHAR(9)" &&
	first=$(($(wagon_count) + 1)) &&
	for i in 7 8 9 10 11; do group $i || return 1; done &&
	last=$(wagon_count) &&
	bad=$((first + 3)) &&
	deliver && : >apply.err &&
	test_expect_code 65 apply_once --retry none &&
	grep -F "wagons $first..$last in one transaction: " apply.err |
		grep -q "applying them one by one" &&
	test "$(applied_seq)" = $((bad - 1)) &&
	test "$(wagon_state "$bad")" = dead &&
	wagon_field "$bad" last_error | grep -q "Data too long for column .s." &&
	test "$(dst_sql "SELECT MIN(n), MAX(n) FROM w.cnt")" = "9	9" &&
	test "$(dst_sql "SELECT COUNT(*) FROM w.journal WHERE k >= 10")" = 0
'

test_expect_success 'the column widened again, srdf-apply run again: the dead wagon and the rest apply, equal' '
	dst_sql "ALTER TABLE w.t MODIFY s VARCHAR(40)" &&
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(dst_sql "SELECT MIN(n), MAX(n) FROM w.cnt")" = "11	11" &&
	checksum_both w.cnt w.hot w.journal w.t
'

test_expect_success 'a cascade parent deleted, then inserted again in a later wagon: not merged, the children deleted as on the source' '
	src_sql "INSERT INTO w.p VALUES (1, \"a\"), (2, \"b\");
		INSERT INTO w.c SELECT seq, 1 + seq % 2 FROM w.seq_1_to_10" &&
	seal_new && deliver && apply_once &&
	first=$(($(wagon_count) + 1)) &&
	src_sql "DELETE FROM w.p WHERE id = 1" && seal_new &&
	src_sql "INSERT INTO w.p VALUES (1, \"a again\")" && seal_new &&
	test "$(src_sql "SELECT COUNT(*) FROM w.c")" = 5 &&
	deliver && : >apply.err && apply_once &&
	grep -F "wagons $first..$((first + 1)) in one transaction: a table of theirs is the parent of a cascading foreign key; applying them one by one" apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM w.c")" = 5 &&
	checksum_both w.p w.c
'

test_expect_success 'a cascading foreign key added by a DDL in the backlog itself: the parent deleted and inserted again after it are not merged' '
	src_sql "CREATE TABLE w.p2 (id INT PRIMARY KEY, name VARCHAR(20));
		CREATE TABLE w.c2 (id INT PRIMARY KEY, pid INT, KEY (pid));
		INSERT INTO w.p2 VALUES (1, \"a\"), (2, \"b\");
		INSERT INTO w.c2 SELECT seq, 1 + seq % 2 FROM w.seq_1_to_10" &&
	seal_new && deliver && apply_once &&
	first=$(($(wagon_count) + 1)) &&
	src_sql "UPDATE w.p2 SET name = \"b2\" WHERE id = 2" && seal_new &&
	src_sql "ALTER TABLE w.c2 ADD FOREIGN KEY (pid) REFERENCES w.p2 (id)
		ON DELETE CASCADE" && seal_new &&
	src_sql "DELETE FROM w.p2 WHERE id = 1" && seal_new &&
	src_sql "INSERT INTO w.p2 VALUES (1, \"a again\")" && seal_new &&
	test "$(wagon_count)" = $((first + 3)) &&
	test "$(src_sql "SELECT COUNT(*) FROM w.c2")" = 5 &&
	deliver && : >apply.err && apply_once &&
	grep -F "wagons $((first + 2))..$((first + 3)) in one transaction: a table of theirs is the parent of a cascading foreign key" apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM w.c2")" = 5 &&
	checksum_both w.p2 w.c2
'

test_expect_success 'a DDL wagon between two runs of row wagons: each run merged, the DDL alone' '
	first=$(($(wagon_count) + 1)) &&
	group 12 && group 13 &&
	src_sql "ALTER TABLE w.t ADD COLUMN extra INT" && seal_new &&
	group 14 && group 15 &&
	test "$(wagon_count)" = $((first + 4)) &&
	deliver && : >apply.err && apply_once &&
	merged_line "$first" $((first + 1)) &&
	merged_line $((first + 3)) $((first + 4)) &&
	test "$(grep -c "one transaction" apply.err)" = 2 &&
	test "$(dst_sql "SELECT MIN(n), MAX(n) FROM w.cnt")" = "15	15" &&
	checksum_both w.cnt w.hot w.journal w.t
'

test_expect_success '--merge-bytes 0: every wagon in a transaction of its own; a bad --merge-bytes refused' '
	group 16 && group 17 && group 18 &&
	deliver && : >apply.err && apply_once --merge-bytes 0 &&
	! grep -q "one transaction" apply.err &&
	test "$(grep -c "^<6>\([0-9TZ:.-]* \)\?srdf-apply: applied wagon" apply.err)" = 3 &&
	checksum_both w.cnt w.hot w.journal w.t &&
	test_expect_code 64 srdf-apply --key-file key --merge-bytes lots 2>err &&
	grep -q "bad --merge-bytes lots (want at least 0)" err
'

test_expect_success '--merge-bytes smaller than two wagons: never merged' '
	group 19 && group 20 &&
	deliver && : >apply.err && apply_once --merge-bytes 1 &&
	! grep -q "one transaction" apply.err &&
	test "$(dst_sql "SELECT MIN(n), MAX(n) FROM w.cnt")" = "20	20" &&
	checksum_both w.cnt w.hot w.journal w.t
'

test_expect_success 'killed right after the COMMIT of a merged transaction: the next run applies nothing twice' '
	first=$(($(wagon_count) + 1)) &&
	for i in 21 22 23 24; do group $i || return 1; done &&
	deliver && : >apply.err &&
	test_expect_code 137 env SRDF_APPLY_CRASH_AFTER_COMMIT=1 \
		srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--once 2>>apply.err &&
	merged_line "$first" $((first + 3)) &&
	test "$(applied_seq)" = $((first + 3)) &&
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(dst_sql "SELECT MIN(n), MAX(n) FROM w.cnt")" = "24	24" &&
	for s in $(seq "$first" $((first + 3))); do
		test "$(wagon_state "$s")" = applied || return 1
	done &&
	checksum_both w.cnt w.hot w.journal w.t
'

test_done
