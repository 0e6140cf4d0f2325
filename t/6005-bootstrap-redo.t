#!/bin/bash
test_description='srdf-bootstrap copies a table that a DDL reached during the copy again, alone, at a new snapshot; srdf-apply skips that table'"'"'s older changes (the DDL among them) and the target ends equal'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

test_expect_success 'setup: a big table copied first, a small one after it' '
	srdf-keygen -o key 2>/dev/null && mkdir -p "$S" "$D/inbox/new" &&
	src_sql "SET sql_log_bin = 0;
		GRANT SHOW VIEW, TRIGGER ON *.* TO '\''srdf'\''@'\''127.0.0.1'\''" &&
	src_sql "CREATE DATABASE d; USE d;
		CREATE TABLE big (id INT PRIMARY KEY, pad CHAR(200));
		INSERT INTO big SELECT seq, REPEAT(\"p\", 200) FROM seq_1_to_30000;
		CREATE TABLE small (id INT PRIMARY KEY, v INT);
		INSERT INTO small VALUES (1, 1), (2, 2), (3, 3);
		ANALYZE TABLE big, small" >/dev/null
'

# While srdf-bootstrap waits on a full pipe in the middle of d.big, rows
# of both tables change, d.small gets a new column, and changes in its
# new shape follow: d.small cannot be read as of the snapshot any more.
test_expect_success 'ALTER TABLE during the copy: only that table is copied again' '
	mkfifo pipe &&
	{ srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --chunk-rows 1000 \
		>pipe 2>bootstrap.err & echo $! >bs.pid; } &&
	exec 8<pipe &&
	head -c 100000 <&8 >part1 &&
	src_sql "USE d; UPDATE small SET v = v + 10; INSERT INTO small VALUES (4, 4);
		UPDATE big SET pad = \"q\" WHERE id = 1; DELETE FROM big WHERE id = 2;
		ALTER TABLE small ADD COLUMN w INT DEFAULT 7;
		UPDATE small SET w = 8 WHERE id = 1; INSERT INTO small VALUES (5, 5, 9);
		UPDATE big SET pad = \"r\" WHERE id = 3" &&
	cat <&8 >part2 && exec 8<&- &&
	wait "$(cat bs.pid)" &&
	cat bootstrap.err &&
	grep -q "d.small changed during its copy (definition differs before its copy)" bootstrap.err &&
	grep -q "d.small is copied again, alone, at the snapshot" bootstrap.err &&
	! grep -q "starts over" bootstrap.err &&
	grep -q "the copy is complete" bootstrap.err
'

test_expect_success 'the output: d.big once, then d.small created again with its new column, named in its group_end' '
	cat part1 part2 >copy.jsonl &&
	test "$(jq -s "[.[] | select(.type==\"insert\" and .table==\"big\")] | length" copy.jsonl)" = 30000 &&
	jq -c "select(.type==\"group_end\" and .redo != null) | .redo" copy.jsonl >redo &&
	echo "{\"db\":\"d\",\"table\":\"small\"}" >expect && test_cmp expect redo &&
	g1=$(jq -r "select(.type==\"group_end\") | .snapshot_gtid" copy.jsonl | head -n 1) &&
	g2=$(jq -r "select(.type==\"group_end\" and .redo != null) | .snapshot_gtid" copy.jsonl) &&
	test "$g1" != "$g2" &&
	test "$(jq -r "select(.type==\"group_end\") | .gtid_pos" copy.jsonl | sort -u)" = "$g1" &&
	jq -s -c "[.[] | select(.type==\"insert\" and .table==\"small\") | .after.w]" copy.jsonl >actual &&
	echo "[8,7,7,7,9]" >expect && test_cmp expect actual
'

test_expect_success 'changes after the copy; sealed, captured from the first snapshot, applied: equal' '
	src_sql "USE d; UPDATE small SET v = 100 WHERE id = 5; DELETE FROM small WHERE id = 4;
		INSERT INTO big VALUES (40000, \"x\")" &&
	srdf-seal --dir "$S" --key-file key <copy.jsonl 2>>seal.err &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both d.big d.small &&
	grep "ALTER TABLE small ADD COLUMN w INT DEFAULT 7.* skipped: srdf-bootstrap copied d.small again after it" apply.err &&
	grep -q "row change(s) skipped: srdf-bootstrap copied their table again" apply.err &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases d >verify.out &&
	grep -q "^equal:" verify.out
'

test_expect_success 'after the window, changes to d.small apply as any other' '
	src_sql "USE d; ALTER TABLE small ADD COLUMN z INT DEFAULT 1;
		UPDATE small SET z = 2 WHERE id = 1; INSERT INTO small VALUES (6, 6, 6, 6)" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both d.big d.small &&
	test "$(grep -c "skipped: srdf-bootstrap" apply.err)" = 2
'

# A copy killed after a DDL reached a table it had not copied yet: the
# resumed copy takes that table again whole at its new snapshot, named
# as copied again, instead of copying every table afresh.
test_expect_success 'killed after the DDL, resumed: the table is copied again whole, the rest goes on' '
	S=$PWD/src2 D=$PWD/dst2 && mkdir -p "$S" "$D/inbox/new" &&
	src_sql "CREATE DATABASE e; USE e;
		CREATE TABLE big (id INT PRIMARY KEY, pad CHAR(200));
		INSERT INTO big SELECT seq, REPEAT(\"p\", 200) FROM seq_1_to_30000;
		CREATE TABLE small (id INT PRIMARY KEY, v INT);
		INSERT INTO small VALUES (1, 1), (2, 2);
		ANALYZE TABLE big, small" >/dev/null &&
	mkfifo pipe2 &&
	{ srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases e \
		--chunk-rows 1000 >pipe2 2>resume1.err & echo $! >bs.pid; } &&
	exec 8<pipe2 &&
	# the schema is one group: 2 groups of rows (300 kB each) sealed too
	head -c 700000 <&8 >run1.jsonl &&
	src_sql "USE e; UPDATE small SET v = 10 WHERE id = 1;
		ALTER TABLE small ADD COLUMN w INT DEFAULT 7; INSERT INTO small VALUES (3, 3, 3);
		UPDATE big SET pad = \"q\" WHERE id = 29999" &&
	kill -9 "$(cat bs.pid)" && { wait "$(cat bs.pid)"; true; } &&
	cat <&8 >>run1.jsonl && exec 8<&- &&
	{ srdf-seal --dir "$S" --key-file key <run1.jsonl 2>>seal.err; true; } &&
	test "$(ledger-wagons "$S" | wc -l)" -ge 3 &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases e \
		--chunk-rows 1000 2>resume2.err |
		srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	cat resume2.err &&
	grep -q "resuming the copy begun" resume2.err &&
	grep -q "e.small is copied again whole at the new snapshot (a DDL reached it since the copy began)" resume2.err &&
	src_sql "UPDATE e.small SET v = 30 WHERE id = 3" &&
	seal_new && deliver && apply_once &&
	test "$(wagon_state "$(wagon_count)")" = applied &&
	checksum_both e.big e.small &&
	grep -q "ddl \"ALTER TABLE small ADD COLUMN w INT DEFAULT 7\" skipped" apply.err
'

# Two readers (--parallel 2), each in the middle of a big table when
# the small one changes: the copy again takes new snapshots for both
# readers and only the small table.
test_expect_success 'with --parallel 2: the table is copied again alone, the target ends equal' '
	S=$PWD/src3 D=$PWD/dst3 && mkdir -p "$S" "$D/inbox/new" &&
	src_sql "CREATE DATABASE f; USE f;
		CREATE TABLE big1 (id INT PRIMARY KEY, pad CHAR(200));
		INSERT INTO big1 SELECT seq, REPEAT(\"p\", 200) FROM seq_1_to_30000;
		CREATE TABLE big2 LIKE big1; INSERT INTO big2 SELECT * FROM big1;
		CREATE TABLE small (id INT PRIMARY KEY, v INT);
		INSERT INTO small VALUES (1, 1), (2, 2);
		ANALYZE TABLE big1, big2, small" >/dev/null &&
	mkfifo pipe3 &&
	{ srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases f \
		--chunk-rows 1000 --parallel 2 >pipe3 2>par.err & echo $! >bs.pid; } &&
	exec 8<pipe3 &&
	head -c 100000 <&8 >par.jsonl &&
	src_sql "USE f; UPDATE small SET v = 20 WHERE id = 2;
		ALTER TABLE small DROP COLUMN v, ADD COLUMN w VARCHAR(5) DEFAULT \"x\";
		INSERT INTO small VALUES (3, \"y\"); UPDATE big2 SET pad = \"q\" WHERE id = 7" &&
	cat <&8 >>par.jsonl && exec 8<&- &&
	wait "$(cat bs.pid)" &&
	cat par.err &&
	grep -q "f.small is copied again, alone, at the snapshot" par.err &&
	! grep -q "starts over" par.err &&
	test "$(jq -s "[.[] | select(.type==\"insert\" and .table==\"big2\")] | length" par.jsonl)" = 30000 &&
	srdf-seal --dir "$S" --key-file key <par.jsonl 2>>seal.err &&
	seal_new && deliver && apply_once &&
	test "$(wagon_state "$(wagon_count)")" = applied &&
	checksum_both f.big1 f.big2 f.small &&
	grep -q "ALTER TABLE small DROP COLUMN v.* skipped: srdf-bootstrap copied f.small again" apply.err
'

test_done
