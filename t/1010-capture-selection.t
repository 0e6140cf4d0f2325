#!/bin/bash
test_description='srdf-capture: a filter that would leave a table srdf-bootstrap copied stale is refused at start, the table named; --drop-from-selection drops it on purpose, srdf-status lists it'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

cap() { # srdf-capture | srdf-dedup | srdf-seal, with capture's options
	srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --until-end "$@" \
		2>cap.err |
	srdf-dedup --window 1h 2>>dedup.err |
	srdf-seal --dir "$S" --key-file key 2>>seal.err
	return "${PIPESTATUS[0]}"
}

test_expect_success 'setup: tenants copied by srdf-bootstrap and applied' '
	srdf-keygen -o key 2>/dev/null && mkdir -p "$S" "$D/inbox/new" &&
	src_sql "CREATE DATABASE t1; CREATE DATABASE t2;
		CREATE TABLE t1.a (id INT PRIMARY KEY, v INT);
		CREATE TABLE t1.b (id INT PRIMARY KEY, v INT);
		CREATE TABLE t1.tmp_x (id INT PRIMARY KEY, v INT);
		CREATE TABLE t2.a (id INT PRIMARY KEY, v INT);
		INSERT INTO t1.a VALUES (1, 1); INSERT INTO t1.b VALUES (1, 1);
		INSERT INTO t1.tmp_x VALUES (1, 1); INSERT INTO t2.a VALUES (1, 1)" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases "t*" \
		2>bootstrap.err | srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	deliver && apply_once &&
	checksum_both t1.a t1.b t1.tmp_x t2.a
'

test_expect_success 'an --exclude that leaves out one copied table is refused (78), the table named' '
	test_expect_code 78 cap --exclude "t1.tmp_*" &&
	grep -F "srdf-capture: --include/--exclude leave out t1.tmp_x, which srdf-bootstrap copied to the target ($S/ledger): its copy there would stay as it is for ever, stale; give srdf-capture the selection of the copy, or add --drop-from-selection t1.tmp_x to stop keeping it in step (srdf-status then lists it)" cap.err &&
	test "$(wagon_count)" = "$(ls "$D/inbox/cur" | wc -l)"
'

test_expect_success 'an --include that leaves out several is refused, the tables listed' '
	test_expect_code 78 cap --include "t1.a" &&
	grep -F "srdf-capture: --include/--exclude leave out 3 tables that srdf-bootstrap copied to the target ($S/ledger): t1.b, t1.tmp_x, t2.a; their copies there would stay as they are for ever, stale; give srdf-capture the selection of the copy, or add --drop-from-selection for them to stop keeping them in step (srdf-status then lists them)" cap.err
'

test_expect_success '--drop-from-selection of a table the filters keep, or of none, is a usage error' '
	test_expect_code 64 cap --exclude "t1.tmp_*" --drop-from-selection t1.a &&
	grep -F "srdf-capture: --drop-from-selection t1.a names t1.a, which --include and --exclude keep: only a table they leave out can be dropped from the selection" cap.err &&
	test_expect_code 64 cap --exclude "t1.tmp_*" --drop-from-selection "t9.*" &&
	grep -F "srdf-capture: --drop-from-selection t9.*: no table of the copy recorded in $S/ledger matches it" cap.err &&
	test -z "$(ledger-meta "$S" selection_dropped)"
'

test_expect_success 'the same selection as the copy runs, and keeps every table in step' '
	src_sql "UPDATE t1.a SET v = 2; UPDATE t1.tmp_x SET v = 2" &&
	cap && deliver && apply_once &&
	checksum_both t1.a t1.b t1.tmp_x t2.a
'

test_expect_success '--drop-from-selection drops it: recorded, said, and the rest goes on' '
	pos=$(ledger-meta "$S" last_sealed_gtid) &&
	src_sql "UPDATE t1.a SET v = 3; UPDATE t1.tmp_x SET v = 3" &&
	cap --exclude "t1.tmp_*" --drop-from-selection "t1.tmp_*" &&
	grep -F "srdf-capture: t1.tmp_x is dropped from the selection: srdf-capture leaves it out after GTID position '"'"'$pos'"'"', and the target keeps its copy as of then, no longer kept in step (srdf-status lists it)" cap.err &&
	deliver && apply_once &&
	checksum_both t1.a t1.b t2.a &&
	test "$(dst_sql "SELECT v FROM t1.tmp_x")" = 2 &&
	ledger-meta "$S" selection_dropped | jq -e --arg p "$pos" ".tables[\"t1.tmp_x\"].gtid == \$p"
'

test_expect_success 'later starts with that filter run without the option' '
	src_sql "UPDATE t1.b SET v = 4; UPDATE t1.tmp_x SET v = 4" &&
	cap --exclude "t1.tmp_*" && deliver && apply_once &&
	checksum_both t1.a t1.b t2.a &&
	test "$(dst_sql "SELECT v FROM t1.tmp_x")" = 2
'

test_expect_success 'srdf-status lists the table no longer kept in step' '
	srdf-status --dir "$S" >status.out; test $? -le 1 &&
	grep -F "tables no longer kept in step (dropped from the selection; the target keeps a copy as of the GTID position shown):" status.out &&
	grep "^  t1.tmp_x  since '"'"'$(ledger-meta "$S" selection_dropped | jq -r ".tables[\"t1.tmp_x\"].gtid")'"'"' (20" status.out &&
	{ srdf-status --dir "$S" --json >status.json; test $? -le 1; } &&
	jq -e ".dropped_from_selection | keys == [\"t1.tmp_x\"]" status.json &&
	{ srdf-status --dir "$S" --prometheus >status.prom; test $? -le 1; } &&
	grep "^srdf_selection_dropped_tables{.*} 1$" status.prom
'

test_expect_success 'selecting a dropped table again is refused: its copy missed changes' '
	test_expect_code 78 cap &&
	grep -F "srdf-capture: --include/--exclude select t1.tmp_x, which was dropped from the selection after GTID position '"'"'$(ledger-meta "$S" selection_dropped | jq -r ".tables[\"t1.tmp_x\"].gtid")'"'"' (--drop-from-selection): the target'"'"'s copy of it missed the changes since; leave it out (--exclude t1.tmp_x), or copy it again with srdf-bootstrap" cap.err
'

test_expect_success 'a capture without a copy in its ledger (--from-gtid, no state) is not judged' '
	srdf-capture --defaults-file "$SRC_CNF" --dir "$PWD/none" --until-end \
		--from-gtid "$(src_sql "SELECT @@gtid_binlog_pos")" --exclude "t1.*" >/dev/null 2>none.err
'

test_done
