#!/bin/bash
test_description='srdf-apply --until / --until-before: a stop point between wagons, inside a split group (the checkpoint gains part), before a folded group (stops before it and names its transactions), by time; restarted without --until it goes on from the checkpoint and ends equal to the source'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# gtid: the source's last GTID
gtid() {
	src_sql "SELECT @@gtid_binlog_pos"
}

# trx SQL: SQL as one source transaction; its GTID on stdout.
trx() {
	src_sql "$1; SELECT @@last_gtid" | tail -1
}

until_apply() { # srdf-apply --once with a stop point: stdout to until.out
	srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--once "$@" >until.out 2>>apply.err
}

snapshot() { # NAME: the rows of u.t on the source, kept as NAME
	src_sql "SELECT * FROM u.t ORDER BY id" >"$1"
}

target_rows() {
	dst_sql "SELECT * FROM u.t ORDER BY id"
}

part() {
	dst_sql "SELECT part FROM srdf.applied"
}

test_expect_success 'setup: a table, applied' '
	apply_setup &&
	src_sql "CREATE DATABASE u; CREATE TABLE u.t (id INT PRIMARY KEY, v INT);
		INSERT INTO u.t SELECT seq, 0 FROM u.seq_1_to_10" &&
	seal_new && deliver && apply_once &&
	checksum_both u.t &&
	test "$(part)" = 0
'

test_expect_success 'a split group: --until-before its third transaction applies the first two and stops, part 2' '
	g1=$(trx "INSERT INTO u.t VALUES (50, 50)") &&
	g2=$(trx "UPDATE u.t SET v = 2 WHERE id = 2") && snapshot at2 &&
	g3=$(trx "UPDATE u.t SET v = 3 WHERE id = 3") &&
	g4=$(trx "DELETE FROM u.t WHERE id = 4") &&
	seal_new && n=$(wagon_count) && deliver &&
	srdf-cat --key-file key "$D/inbox/new/$(wagon_name $n)" >cat.out &&
	grep -q "\"split\":true" cat.out &&
	test "$(grep -c "\"type\":\"trx\"" cat.out)" = 4 &&
	SRDF_APPLY_CRASH_AFTER_COMMIT=1 test_expect_code 137 until_apply --until-before "$g3" &&
	grep -q "exiting after the COMMIT of part 2 of wagon $n" apply.err &&
	test "$(part)" = 2 && test ! -s until.out &&
	until_apply --until-before "$g3" &&
	cat until.out &&
	test "$(wc -l <until.out)" = 1 &&
	grep -q "^stopped at --until-before $g3: checkpoint wagon $((n - 1)), part 2, GTID $g2: wagon $n (2 transactions, GTID $g3..$g4) is beyond the point" until.out &&
	grep -q "stopped at --until-before $g3: checkpoint wagon $((n - 1)), part 2" apply.err &&
	target_rows >actual && test_cmp at2 actual &&
	test "$(part)" = 2 &&
	test "$(dst_sql "SELECT seq, last_gtid, gtid_pos FROM srdf.applied")" = "$((n - 1))	$g2	$g2" &&
	test "$(wagon_state $n)" != applied &&
	test -e "$D/inbox/new/$(wagon_name $n)"
'

test_expect_success 'srdf-status shows the stop point and the part' '
	srdf-status --dir "$D" --defaults-file "$DST_CNF" >st.txt; cat st.txt &&
	grep -q "^stopped at wagon $((n - 1)) part 2, GTID $g2 (--until-before $g3)" st.txt &&
	grep -q "^target srdf.applied part: 2 (the first 2 transactions of wagon $n applied)" st.txt &&
	srdf-status --dir "$D" --json >st.json &&
	jq -e ".until_stop.part == 2 and .until_stop.seq == $((n - 1)) and .until_stop.gtid == \"$g2\"" st.json
'

test_expect_success 'run again with the same point: stops at once, nothing more applied' '
	until_apply --until-before "$g3" &&
	grep -q "^stopped at --until-before $g3: checkpoint wagon $((n - 1)), part 2, GTID $g2: wagon $n (2 transactions, GTID $g3..$g4) is beyond the point" until.out &&
	target_rows >actual && test_cmp at2 actual
'

test_expect_success '--until its third transaction (inclusive): part 3; an earlier --until-before is refused' '
	snapshot_sql="SELECT * FROM u.t ORDER BY id" &&
	until_apply --until "$g3" &&
	grep -q "checkpoint wagon $((n - 1)), part 3, GTID $g3" until.out &&
	test "$(part)" = 3 &&
	test "$(dst_sql "SELECT v FROM u.t WHERE id = 3")" = 3 &&
	test "$(dst_sql "SELECT COUNT(*) FROM u.t WHERE id = 4")" = 1 &&
	test_expect_code 64 until_apply --until-before "$g2" &&
	grep -q "until-before $g2: the target applied that transaction already" apply.err
'

test_expect_success 'restarted without --until: the rest of the wagon as a group, then on; equal to the source, part 0 (also after a crash right after that COMMIT)' '
	: >apply.err &&
	SRDF_APPLY_CRASH_AFTER_COMMIT=1 test_expect_code 137 apply_once &&
	test "$(part)" = 0 && test "$(applied_seq)" = "$n" &&
	apply_once &&
	grep -q "wagon $n: its first 3 transactions were applied before (a stop point, srdf.applied.part): applying the other 1" apply.err &&
	checksum_both u.t && test "$(part)" = 0 &&
	test "$(applied_seq)" = "$n" && test "$(wagon_state $n)" = applied &&
	srdf-status --dir "$D" --json | jq -e ".until_stop == null"
'

test_expect_success 'a folded group holding the point: stops before it, says which transactions it holds and how to see them' '
	before=$(wagon_count) && snapshot atf &&
	f1=$(trx "UPDATE u.t SET v = 11 WHERE id = 1") &&
	f2=$(trx "UPDATE u.t SET v = 12 WHERE id = 1") &&
	f3=$(trx "UPDATE u.t SET v = 13 WHERE id = 1") &&
	seal_new && n=$(wagon_count) && test "$n" = $((before + 1)) && deliver &&
	srdf-cat --key-file key "$D/inbox/new/$(wagon_name $n)" | grep -v -q "\"split\":true" &&
	until_apply --until-before "$f2" && cat until.out &&
	grep -q "^stopped at --until-before $f2: checkpoint wagon $before, part 0, GTID [0-9-]*: wagon $n holds the point inside a group that cannot be cut there (folded across its transactions), so none of it is applied: 3 transactions, GTID $f1..$f3; srdf-cat $D/inbox/new/$(wagon_name $n) shows them" until.out &&
	target_rows >actual && test_cmp atf actual && test "$(part)" = 0 &&
	apply_once && checksum_both u.t
'

test_expect_success 'a stop point in time: --until @T applies the transactions committed at or before T' '
	before=$(wagon_count) &&
	trx "INSERT INTO u.t VALUES (100, 1)" >/dev/null && snapshot att &&
	t=$(src_sql "SELECT UNIX_TIMESTAMP()") &&
	while [ "$(src_sql "SELECT UNIX_TIMESTAMP()")" = "$t" ]; do sleep 0.1; done &&
	trx "INSERT INTO u.t VALUES (101, 1)" >/dev/null &&
	seal_new && deliver &&
	until_apply --until "@$t" && cat until.out &&
	grep -q "^stopped at --until @$t: checkpoint wagon $before, part 1" until.out &&
	target_rows >actual && test_cmp att actual &&
	iso=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ) &&
	until_apply --until "$iso" &&
	grep -q "^stopped at --until $iso: checkpoint wagon $before, part 1" until.out &&
	apply_once && checksum_both u.t &&
	test_expect_code 64 until_apply --until "@$t" &&
	grep -q "until @$t: the target applied transactions committed after it already" apply.err
'

test_expect_success 'a checkpoint table of an older srdf-apply, without part: read as part 0 (srdf-status, --dry-run); srdf-apply adds the column' '
	dst_sql "ALTER TABLE srdf.applied DROP COLUMN part" &&
	srdf-status --dir "$D" --defaults-file "$DST_CNF" --json >old.json &&
	jq -e ".target_db.part == 0 and .target_db.seq == $(wagon_count)" old.json &&
	srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" --dry-run >dry.out 2>dry.err &&
	apply_once &&
	test "$(part)" = 0
'

test_expect_success 'bad stop points are refused' '
	test_expect_code 64 srdf-apply --dir "$D" --key-file key --until yesterday 2>bad.err &&
	grep -q "bad --until yesterday (want a GTID such as 0-1-105, a UTC time such as 2026-12-07T16:00:00Z, or @ and Unix seconds)" bad.err &&
	test_expect_code 64 srdf-apply --dir "$D" --key-file key --until-before @5 2>bad.err &&
	grep -q "bad --until-before @5 (want a GTID" bad.err &&
	test_expect_code 64 srdf-apply --dir "$D" --key-file key --until 0-1-5 --until-before 0-1-6 2>bad.err &&
	grep -q "one stop point only" bad.err
'

test_done
