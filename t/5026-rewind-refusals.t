#!/bin/bash
test_description='srdf-rewind --to refuses, before it changes anything, naming the wagon and what to do: srdf-apply running, a point inside a group or beyond the checkpoint, a row written on the copy (changed, or its key taken), a DDL, a cascade, a system-versioned table, an XA group, a wagon no longer kept'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

SUMS="r.k, r.n, r.p, r.ch, r.v"
rewind() {
	srdf-rewind --dir "$D" --key-file key --defaults-file "$DST_CNF" --to "$@"
}
gtid() {
	src_sql "SELECT @@gtid_binlog_pos"
}
# unchanged: the target's tables and checkpoint as in the file "state".
state() {
	{ dst_sql "CHECKSUM TABLE $SUMS" && applied_seq; } >"$1"
}
unchanged() {
	state now && test_cmp state now
}

test_expect_success 'setup: tables, rows, one transaction a group' '
	apply_setup &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.k (id INT PRIMARY KEY, v VARCHAR(10));
		CREATE TABLE r.n (a INT, s VARCHAR(10));
		CREATE TABLE r.p (id INT PRIMARY KEY) ENGINE=InnoDB;
		CREATE TABLE r.ch (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES r.p (id) ON DELETE CASCADE) ENGINE=InnoDB;
		CREATE TABLE r.v (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING" &&
	src_sql "INSERT INTO r.k VALUES (1, \"a\"), (2, \"b\"), (3, \"c\");
		INSERT INTO r.n VALUES (1, \"x\"), (1, \"x\");
		INSERT INTO r.p VALUES (1), (2); INSERT INTO r.ch VALUES (10, 1), (20, 2);
		INSERT INTO r.v VALUES (1, 1)" &&
	seal_new --max-events 1 && deliver && apply_once &&
	gtid >p0 &&
	src_sql "UPDATE r.k SET v = \"A\" WHERE id = 1" && gtid >p1 &&
	src_sql "DELETE FROM r.k WHERE id = 2" && gtid >p2 &&
	src_sql "DELETE FROM r.n WHERE a = 1 LIMIT 1" && gtid >p3 &&
	seal_new --max-events 1 && deliver && apply_once &&
	checksum_both r.k r.n && state state
'

test_expect_success 'srdf-apply running (DIR/lock/srdf-apply held): exit 75' '
	flock "$D/lock/srdf-apply" sleep 3 & sleep 0.3 &&
	test_expect_code 75 rewind "$(cat p0)" 2>err &&
	grep "srdf-rewind: srdf-apply is running on $D (it holds $D/lock/srdf-apply): stop it first" err &&
	wait && unchanged
'

test_expect_success 'srdf-apply applying on the target (its GET_LOCK held by another session): exit 75' '
	src=$(ledger-meta "$D" source_id) &&
	{ dst_sql "SELECT GET_LOCK(\"srdf_apply_$src\", 0), SLEEP(7)" >/dev/null & } &&
	sleep 0.5 &&
	test_expect_code 75 rewind "$(cat p0)" 2>err &&
	grep "srdf-rewind: another session holds the apply lock of source $src on the target (GET_LOCK(.srdf_apply_$src.)) after 5 s: is a srdf-apply of this source running elsewhere against this target?; nothing was rewound: stop srdf-apply first" err &&
	wait && unchanged
'

test_expect_success 'a point beyond the checkpoint' '
	test_expect_code 65 rewind 0-1-9999 2>err &&
	grep "srdf-rewind: --to 0-1-9999 is beyond the checkpoint (wagon $(applied_seq), GTID $(cat p3), position $(cat p3)): nothing to undo; to go forward to it use srdf-apply --until" err &&
	unchanged
'

test_expect_success 'a row changed on the copy: the groups after it undone, it refused naming wagon, table and key' '
	dst_sql "UPDATE r.k SET v = \"hand\" WHERE id = 1" &&
	test_expect_code 65 rewind "$(cat p0)" 2>err &&
	grep "srdf-rewind: wagon [0-9]* (group [0-9]*, GTID $(cat p1)..$(cat p1)): delete on r.k key 1 touched 0 of 1 rows: the target.s row is not the one the wagon left: someone wrote on the copy since it was applied; nothing of the group was undone, the target is at wagon [0-9]* (GTID $(cat p1)): reconcile the row (srdf-cat shows the wagon.s images), then run srdf-rewind again" err &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat p1)" &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, v ORDER BY id) FROM r.k")" = 1hand,2b,3c &&
	dst_sql "UPDATE r.k SET v = \"A\" WHERE id = 1" &&
	apply_once && checksum_both r.k r.n && unchanged
'

test_expect_success 'the key of a row to put back taken on the copy: refused, the key named' '
	dst_sql "INSERT INTO r.k VALUES (2, \"new\")" &&
	test_expect_code 65 rewind "$(cat p0)" 2>err &&
	grep "srdf-rewind: wagon [0-9]* (group [0-9]*, GTID $(cat p2)..$(cat p2)): insert on r.k: Duplicate entry (value withheld) for key .PRIMARY. (error 1062): Duplicate entry .2. for key .PRIMARY.: the target.s row is not the one the wagon left" err &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat p2)" &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, v ORDER BY id) FROM r.k")" = 1A,2new,3c &&
	dst_sql "DELETE FROM r.k WHERE id = 2"
'

test_expect_success 'then, once reconciled: back to p0, the keyless row too; applied forward again' '
	rewind "$(cat p0)" 2>err &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, v ORDER BY id) FROM r.k")" = 1a,2b,3c &&
	test "$(dst_sql "SELECT COUNT(*) FROM r.n")" = 2 &&
	apply_once && checksum_both r.k r.n && unchanged
'

test_expect_success 'a point inside a group of two transactions' '
	src_sql "UPDATE r.k SET v = \"c1\" WHERE id = 3" && gtid >p4 &&
	src_sql "UPDATE r.k SET v = \"c2\" WHERE id = 3" && gtid >p5 &&
	seal_new && deliver && apply_once && state state &&
	n=$(wagon_count) &&
	test_expect_code 65 rewind "$(cat p4)" 2>err &&
	grep "srdf-rewind: wagon $n: --to $(cat p4) is inside its group [0-9]* (GTID $(cat p4)..$(cat p5)), whose transactions cannot be told apart; nothing was rewound: rewind to before the group (--to the last GTID of the wagon before it) or keep it (--to its last GTID)" err &&
	unchanged
'

# refused_at P WAGON WHY: --to P is refused at WAGON for WHY, nothing
# changed.
refused_at() {
	test_expect_code 65 rewind "$1" 2>err &&
	grep -F "srdf-rewind: wagon $2: $3; nothing was rewound: " err &&
	unchanged
}

test_expect_success 'a time inside a group that cannot be split (one row changed twice, folded)' '
	src_sql "UPDATE r.k SET v = \"f1\" WHERE id = 3" && sleep 1.1 &&
	t=$(date +%s) && sleep 1.1 &&
	src_sql "UPDATE r.k SET v = \"f2\" WHERE id = 3" &&
	seal_new && deliver && apply_once && state state && n=$(wagon_count) &&
	srdf-cat --key-file key "$D/inbox/cur/$(wagon_name $n)" |
		jq -e "select(.type == \"group_end\") | .trx == 2 and .split != true" &&
	test_expect_code 65 rewind "@$t" 2>err &&
	grep "srdf-rewind: wagon $n: --to @$t is inside its group [0-9]* (GTID .*), whose transactions cannot be told apart; nothing was rewound: rewind to before the group" err &&
	unchanged
'

test_expect_success 'a DDL in the range' '
	src_sql "ALTER TABLE r.k ADD COLUMN w INT" &&
	seal_new --max-events 1 && n=$(wagon_count) &&
	src_sql "INSERT INTO r.k VALUES (4, \"d\", 4)" && gtid >p6 &&
	seal_new --max-events 1 && deliver && apply_once && state state &&
	refused_at "$(cat p5)" "$n" "it holds a DDL statement, which has no before-image to undo it with" &&
	grep "or copy the tables again with srdf-bootstrap$" err
'

test_expect_success 'a delete of a cascade parent in the range' '
	src_sql "DELETE FROM r.p WHERE id = 1" &&
	seal_new --max-events 1 && deliver && apply_once && state state &&
	test "$(dst_sql "SELECT COUNT(*) FROM r.ch")" = 1 &&
	refused_at "$(cat p6)" "$(wagon_count)" "it deletes a row of r.p, the parent of a foreign key with ON DELETE or ON UPDATE CASCADE or SET NULL (\"cascade\":true): the changes that made to the children are not in the binlog, so they cannot be undone" &&
	gtid >p7
'

test_expect_success 'a system-versioned table in the range' '
	src_sql "UPDATE r.v SET x = 2 WHERE id = 1" &&
	seal_new --max-events 1 && deliver && apply_once && state state &&
	refused_at "$(cat p7)" "$(wagon_count)" "it changes r.v, a system-versioned table, whose history an undo cannot take back" &&
	gtid >p8
'

test_expect_success 'an XA transaction in the range' '
	src_sql "XA START \"x1\"; INSERT INTO r.k VALUES (5, \"e\", 5); XA END \"x1\"; XA PREPARE \"x1\"" &&
	src_sql "XA COMMIT \"x1\"" &&
	seal_new --max-events 1 && deliver && apply_once && state state &&
	test "$(dst_sql "SELECT v FROM r.k WHERE id = 5")" = e &&
	refused_at "$(cat p8)" "$(wagon_count)" "it holds an XA transaction: XA groups cannot be undone" &&
	gtid >p9
'

test_expect_success 'a wagon no longer kept (purged by --keep), and a point before the kept ones' '
	src_sql "UPDATE r.k SET v = \"f\" WHERE id = 5" && gtid >p10 &&
	src_sql "UPDATE r.k SET v = \"g\" WHERE id = 5" &&
	src_sql "UPDATE r.k SET v = \"h\" WHERE id = 5" &&
	seal_new --max-events 1 && deliver && apply_once && state state &&
	n=$(wagon_count) &&
	mv "$D/inbox/cur/$(wagon_name $((n - 1)))" . &&
	refused_at "$(cat p10)" $((n - 1)) "its file is no longer kept in inbox/cur (purged by srdf-apply --keep)" &&
	grep "the point is out of reach of the kept wagons; only a backup and srdf-bootstrap reach it (keep wagons longer with srdf-apply --keep)$" err &&
	mv "$(wagon_name $((n - 1)))" "$D/inbox/cur/" &&
	mv "$D/inbox/cur/$(wagon_name $((n - 2)))" . &&
	refused_at "$(cat p10)" $((n - 2)) "its file is no longer kept in inbox/cur (purged by srdf-apply --keep)" &&
	mv "$(wagon_name $((n - 2)))" "$D/inbox/cur/" &&
	rewind "$(cat p10)" 2>err &&
	test "$(dst_sql "SELECT v FROM r.k WHERE id = 5")" = f
'

test_expect_success '--to TIME (@unix-seconds, ISO 8601): the last group committed at or before it' '
	src_sql "UPDATE r.k SET v = \"t1\" WHERE id = 5" && sleep 1.1 &&
	t=$(date +%s) && sleep 1.1 &&
	src_sql "UPDATE r.k SET v = \"t2\" WHERE id = 5" &&
	src_sql "UPDATE r.k SET v = \"t3\" WHERE id = 5" &&
	seal_new --max-events 1 && deliver && apply_once &&
	test "$(dst_sql "SELECT v FROM r.k WHERE id = 5")" = t3 &&
	rewind "@$t" --dry-run >plan 2>err &&
	grep "^checkpoint: wagon $(wagon_count) (GTID .*); back to wagon $(($(wagon_count) - 2)) (GTID .*), 2 groups undone, newest first:" plan &&
	rewind "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)" 2>err &&
	test "$(dst_sql "SELECT v FROM r.k WHERE id = 5")" = t1 &&
	apply_once && checksum_both r.k r.n
'

test_expect_success 'a point inside a split group: the group cut there, the checkpoint left at its part' '
	gtid >p10b && src_sql "CHECKSUM TABLE r.k, r.n" | cut -f2 >at-p10b &&
	src_sql "UPDATE r.k SET v = \"s1\" WHERE id = 3" && gtid >p11 &&
	src_sql "CHECKSUM TABLE r.k, r.n" | cut -f2 >at-p11 &&
	src_sql "UPDATE r.k SET v = \"s2\" WHERE id = 4" &&
	src_sql "INSERT INTO r.n VALUES (7, \"s\")" &&
	seal_new && deliver && apply_once && n=$(wagon_count) &&
	srdf-cat --key-file key "$D/inbox/cur/$(wagon_name $n)" >w.jsonl &&
	jq -e "select(.type == \"group_end\") | .split == true and .trx == 3" w.jsonl &&
	rewind "$(cat p11)" --dry-run >plan 2>err &&
	g11=$(cat p11) &&
	grep "^  wagon $n: group [0-9]*, 2 transactions (GTID 0-1-$((${g11##*-} + 1))..0-1-$((${g11##*-} + 2))), 2 row changes$" plan &&
	grep "the transactions after the first 1 (GTID $(cat p11)) undone: the checkpoint stays inside the group, srdf.applied.part 1" plan &&
	rewind "$(cat p11)" 2>err &&
	dst_sql "CHECKSUM TABLE r.k, r.n" | cut -f2 >now && test_cmp at-p11 now &&
	test "$(dst_sql "SELECT seq, part, last_gtid FROM srdf.applied")" = "$((n - 1))	1	$(cat p11)" &&
	test "$(wagon_state $n)" = received && test -e "$D/inbox/new/$(wagon_name $n)"
'

test_expect_success 'from a checkpoint inside a group: its leading transactions undone first, then on' '
	n=$(wagon_count) &&
	rewind "$(cat p10b)" --dry-run >plan 2>err &&
	grep "the first 1 transactions of the group, which srdf-apply --until applied, undone down to part 0" plan &&
	rewind "$(cat p10b)" 2>err &&
	dst_sql "CHECKSUM TABLE r.k, r.n" | cut -f2 >now && test_cmp at-p10b now &&
	test "$(dst_sql "SELECT seq, part, last_gtid FROM srdf.applied")" = "$((n - 1))	0	$(cat p10b)"
'

test_expect_success 'a group in chunks (a large transaction): its wagons undone together, in one transaction' '
	apply_once && checksum_both r.k r.n &&
	gtid >p12 && src_sql "CHECKSUM TABLE r.k, r.n" | cut -f2 >at-p12 &&
	{ echo "BEGIN;" &&
	  seq 100 160 | awk "{ printf \"INSERT INTO r.k VALUES (%d, \\\"c%d\\\", %d);\\n\", \$1, \$1, \$1 }" &&
	  echo "UPDATE r.k SET v = \"C\" WHERE id = 1; DELETE FROM r.n WHERE a = 7; COMMIT;"; } | src_sql &&
	seal_new --max-bytes 2000 && deliver && apply_once && n=$(wagon_count) &&
	checksum_both r.k r.n &&
	rewind "$(cat p12)" --dry-run >plan 2>err &&
	grep "^  wagons [0-9]*..$n: group [0-9]*, 1 transaction (GTID .*), 63 row changes$" plan &&
	rewind "$(cat p12)" 2>err &&
	dst_sql "CHECKSUM TABLE r.k, r.n" | cut -f2 >now && test_cmp at-p12 now &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat p12)"
'

test_expect_success 'bad --to: exit 64' '
	test_expect_code 64 rewind "yesterday" 2>err &&
	grep "srdf-rewind: bad --to yesterday (want a GTID such as 0-1-42, an ISO 8601 UTC time such as 2026-12-07T14:03:00Z, or @unix-seconds)" err
'

test_done
