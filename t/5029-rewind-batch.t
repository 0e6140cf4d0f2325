#!/bin/bash
test_description='srdf-rewind --to in batches: groups that change the same rows (a key inserted, changed, moved, deleted, put again; keyless rows) undone as one net delta equal the target at the point; a row written on the copy under the middle of a batch names its group and the newer groups stay undone; --merge-bytes and --batch bound a commit, a kill -9 after one leaves the checkpoint there'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

SUMS="r.t, r.q"
rewind() {
	srdf-rewind --dir "$D" --key-file key --defaults-file "$DST_CNF" --to "$@"
}
gtid() {
	src_sql "SELECT @@gtid_binlog_pos"
}
sums() {
	dst_sql "CHECKSUM TABLE $SUMS" | cut -f2
}
# groups FROM TO: transactions FROM..TO on the same few rows, one a group.
groups() {
	for i in $(seq "$1" "$2"); do
		case $((i % 5)) in
		1) src_sql "INSERT INTO r.t VALUES (100, \"k$i\", $i)" &&
			src_sql "INSERT INTO r.q VALUES ($i, \"q\")" ;;
		2) src_sql "UPDATE r.t SET n = n + 1, v = CONCAT(\"u$i-\", id) WHERE id IN (1, 100)" ;;
		3) src_sql "UPDATE r.t SET id = 101 WHERE id = 100" ;;
		4) src_sql "DELETE FROM r.t WHERE id = 101" &&
			src_sql "DELETE FROM r.q WHERE a = 1 LIMIT 1" ;;
		0) src_sql "UPDATE r.t SET v = \"z$i\" WHERE id = 2" &&
			src_sql "INSERT INTO r.q VALUES (1, \"x\")" ;;
		esac || return
		if [ "$i" = 8 ]; then
			src_sql "UPDATE r.t SET n = 80 WHERE id = 3" && gtid >p8 || return
		fi
	done
}

test_expect_success 'setup: rows, then 30 rounds of changes to the same rows, one transaction a group, applied; the target recorded at their middle' '
	apply_setup &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(20), n INT, UNIQUE KEY (v));
		CREATE TABLE r.q (a INT, s VARCHAR(10))" &&
	src_sql "INSERT INTO r.t VALUES (1, \"a\", 0), (2, \"b\", 0), (3, \"c\", 0);
		INSERT INTO r.q VALUES (1, \"x\"), (1, \"x\")" &&
	seal_new --max-events 1 && deliver && apply_once &&
	gtid >p0 && sums >s0 &&
	groups 1 15 && seal_new --max-events 1 && deliver && apply_once &&
	gtid >pmid && sums >smid && applied_seq >seqmid &&
	groups 16 30 && seal_new --max-events 1 && deliver && apply_once &&
	checksum_both r.t r.q &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(applied_seq)" -ge $(($(cat seqmid) + 15))
'

test_expect_success 'the default batch: all the groups back to the middle undone in one commit (a kill -9 right after it), then the run again settles the ledger: the target as it was there' '
	SRDF_REWIND_CRASH_AFTER_COMMIT=1 test_expect_code 137 rewind "$(cat pmid)" 2>crash.err &&
	test "$(applied_seq)" = "$(cat seqmid)" &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat pmid)" &&
	sums >now && test_cmp smid now &&
	rewind "$(cat pmid)" 2>again.err &&
	grep "a rewind was cut short after its commit; back to" again.err &&
	grep "the target is at --to $(cat pmid) already" again.err &&
	test "$(wagon_state $(($(cat seqmid) + 1)))" = received &&
	test "$(wagon_state "$(wagon_count)")" = received
'

test_expect_success 'a row written on the copy under the middle of a batch: the batch undone again a group a commit, the newer groups stay undone, its group named; reconciled, back to the start' '
	dst_sql "UPDATE r.t SET n = 81 WHERE id = 3" &&
	test_expect_code 65 rewind "$(cat p0)" 2>err &&
	grep "srdf-rewind: wagons [0-9]*\.\.[0-9]* ([0-9]* groups) in one transaction: .*; undoing them one group a commit" err &&
	grep "srdf-rewind: wagon [0-9]* (group [0-9]*, GTID $(cat p8)..$(cat p8)): delete on r.t key 3 touched 0 of 1 rows: the target.s row is not the one the wagon left" err &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat p8)" &&
	test "$(dst_sql "SELECT n FROM r.t WHERE id = 3")" = 81 &&
	dst_sql "UPDATE r.t SET n = 80 WHERE id = 3" &&
	rewind "$(cat p0)" -v 2>err &&
	grep "srdf-rewind: wagons [0-9]*\.\.[0-9]* undone in one transaction ([0-9]* groups, " err &&
	sums >now && test_cmp s0 now &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat p0)"
'

test_expect_success 'a row written on the copy under a key the batch puts back and removes again (101: inserted, moved, deleted in each round): refused as a group at a time finds it, the key taken' '
	apply_once && checksum_both r.t r.q &&
	dst_sql "INSERT INTO r.t VALUES (101, \"hand\", 0)" &&
	test_expect_code 65 rewind "$(cat pmid)" 2>err &&
	grep "srdf-rewind: wagons [0-9]*\.\.[0-9]* ([0-9]* groups) in one transaction: delete on r.t touched 1 of 0 rows; undoing them one group a commit" err &&
	grep "srdf-rewind: wagon [0-9]* (group [0-9]*, GTID [0-9-]*\.\.[0-9-]*): insert on r.t: Duplicate entry (value withheld) for key .PRIMARY. (error 1062): Duplicate entry .101. for key .PRIMARY.: the target.s row is not the one the wagon left" err &&
	test "$(dst_sql "SELECT v FROM r.t WHERE id = 101")" = hand &&
	test "$(applied_seq)" -lt "$(wagon_count)" && test "$(applied_seq)" -gt "$(cat seqmid)" &&
	dst_sql "DELETE FROM r.t WHERE id = 101" &&
	rewind "$(cat pmid)" 2>err &&
	sums >now && test_cmp smid now
'

test_expect_success '--merge-bytes 1: a group a commit, --batch 4: four; a kill -9 after the third commit, then after the second: the checkpoint there; the rewind again, and forward' '
	apply_once && checksum_both r.t r.q &&
	last=$(applied_seq) &&
	SRDF_REWIND_CRASH_AFTER_COMMIT=3 test_expect_code 137 rewind "$(cat pmid)" --merge-bytes 1 2>crash1.err &&
	test "$(applied_seq)" = $((last - 3)) &&
	SRDF_REWIND_CRASH_AFTER_COMMIT=2 test_expect_code 137 rewind "$(cat pmid)" --batch 4 2>crash2.err &&
	test "$(applied_seq)" = $((last - 11)) &&
	rewind "$(cat pmid)" 2>err &&
	grep "rewound from wagon $((last - 11)) .* to wagon $(cat seqmid) (GTID $(cat pmid)): " err &&
	sums >now && test_cmp smid now &&
	apply_once && checksum_both r.t r.q &&
	test "$(applied_seq)" = "$(wagon_count)"
'

test_expect_success 'the parent of a cascading foreign key among the groups of a batch: not folded, its wagons undone one after the other in the one transaction; the target as it was' '
	src_sql "CREATE TABLE r.p (id INT PRIMARY KEY) ENGINE=InnoDB;
		CREATE TABLE r.c (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES r.p (id) ON DELETE CASCADE) ENGINE=InnoDB" &&
	seal_new --max-events 1 && deliver && apply_once &&
	gtid >pf && dst_sql "CHECKSUM TABLE r.t, r.q, r.p, r.c" >sf &&
	src_sql "INSERT INTO r.p VALUES (1)" && src_sql "INSERT INTO r.c VALUES (10, 1)" &&
	src_sql "INSERT INTO r.p VALUES (2)" && src_sql "UPDATE r.c SET p = 2 WHERE id = 10" &&
	src_sql "DELETE FROM r.c WHERE id = 10" && src_sql "INSERT INTO r.c VALUES (20, 1)" &&
	seal_new --max-events 1 && deliver && apply_once && checksum_both r.p r.c &&
	SRDF_REWIND_CRASH_AFTER_COMMIT=1 test_expect_code 137 rewind "$(cat pf)" 2>err &&
	grep "srdf-rewind: wagons [0-9]*\.\.[0-9]*: a table of theirs is the parent of a cascading foreign key: not folded, undone one after the other in the one transaction" err &&
	! grep "one group a commit" err &&
	dst_sql "CHECKSUM TABLE r.t, r.q, r.p, r.c" >now && test_cmp sf now &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat pf)" &&
	rewind "$(cat pf)" 2>err &&
	apply_once && checksum_both r.t r.q r.p r.c
'

test_expect_success 'a bad --merge-bytes: the option error' '
	test_expect_code 64 rewind "$(cat pmid)" --merge-bytes lots 2>err &&
	grep "srdf-rewind: bad --merge-bytes lots" err
'

test_done
