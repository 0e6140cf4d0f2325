#!/bin/bash
test_description='srdf-bootstrap: a DDL on a table not yet copied while a table is created makes the copy start over at a new snapshot (t/6005: a DDL alone redoes that table)'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

test_expect_success 'setup: a big table copied first, a small one after it' '
	src_sql "SET sql_log_bin = 0;
		GRANT SHOW VIEW, TRIGGER ON *.* TO '\''srdf'\''@'\''127.0.0.1'\''" &&
	src_sql "CREATE DATABASE d; USE d;
		CREATE TABLE big (id INT PRIMARY KEY, pad CHAR(200));
		INSERT INTO big SELECT seq, REPEAT(\"p\", 200) FROM seq_1_to_30000;
		CREATE TABLE small (id INT PRIMARY KEY, v INT);
		INSERT INTO small VALUES (1, 1), (2, 2);
		ANALYZE TABLE big, small" >/dev/null
'

# Whether each CREATE of d.small has the new column.
cat >small.jq <<'JQ'
[.[] | select(.type == "ddl" and (.sql | startswith("CREATE OR REPLACE TABLE `small`")))
     | .sql | contains("`w` int(11) DEFAULT 7")]
JQ

# While srdf-bootstrap waits on a full pipe in the middle of d.big, the
# small table gets a new column: when its turn comes, its definition is
# not the one of the snapshot any more.  A table is created beside it:
# the tables are not those of the plan any more (a rename may have moved
# rows between names), so d.small alone cannot be copied again.
test_expect_success 'ALTER TABLE and CREATE TABLE during the copy: detected, the copy starts over' '
	mkfifo pipe &&
	{ srdf-bootstrap --defaults-file "$SRC_CNF" --dir state --chunk-rows 1000 \
		>pipe 2>bootstrap.err & echo $! >bs.pid; } &&
	exec 8<pipe &&
	head -c 100000 <&8 >part1 &&
	src_sql "ALTER TABLE d.small ADD COLUMN w INT DEFAULT 7;
		CREATE TABLE d.newt (id INT PRIMARY KEY); INSERT INTO d.newt VALUES (1)" &&
	cat <&8 >part2 && exec 8<&- &&
	wait "$(cat bs.pid)" &&
	cat bootstrap.err &&
	grep -q "d.small changed during its copy (definition differs before its copy)" bootstrap.err &&
	grep -q "a table of the selection was created, dropped or renamed while the copy ran: the copy starts over" bootstrap.err &&
	grep -q "the copy starts over at a new snapshot" bootstrap.err &&
	! grep -q "copied again" bootstrap.err &&
	grep -q "the copy is complete" bootstrap.err
'

test_expect_success 'the output holds the abandoned copy, then the whole copy again' '
	cat part1 part2 >copy.jsonl &&
	jq -c "select(.type==\"ddl\" and .object==\"table\") | .sql | test(\"small\")" copy.jsonl >tables &&
	printf "%s\n" true false true false false >expect.tmp && sort expect.tmp >expect &&
	sort tables >actual && test_cmp expect actual &&
	jq -s -c -f small.jq copy.jsonl >actual &&
	echo "[false,true]" >expect && test_cmp expect actual &&
	test "$(jq -r "select(.type==\"group_end\") | .gtid_pos" copy.jsonl | uniq | wc -l)" = 2
'

test_expect_success 'applied in order, the target equals the source' '
	rec2sql <copy.jsonl | dst_sql &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" >verify.out &&
	grep -q "^equal:" verify.out &&
	checksum_both d.big d.small d.newt &&
	test "$(ledger-meta state bootstrap_gtid)" = "$(jq -r "select(.type==\"group_end\") | .gtid_pos" copy.jsonl | tail -n 1)"
'

# The abandoned copy created d.newt on the target before the source
# dropped it; the new copy does not have it, and srdf-capture starts
# after the DROP: the copy itself must drop it.
test_expect_success 'a table dropped during the copy: the copy starts over and drops the table the abandoned one created' '
	dst_sql "DROP DATABASE d" &&
	mkfifo pipe2 &&
	{ srdf-bootstrap --defaults-file "$SRC_CNF" --dir state2 --chunk-rows 1000 \
		>pipe2 2>bootstrap2.err & echo $! >bs2.pid; } &&
	exec 8<pipe2 &&
	head -c 100000 <&8 >p1 &&
	grep -q "CREATE OR REPLACE TABLE .newt." p1 &&
	src_sql "DROP TABLE d.newt" &&
	cat <&8 >p2 && exec 8<&- &&
	wait "$(cat bs2.pid)" &&
	cat bootstrap2.err &&
	grep -q "the copy starts over" bootstrap2.err &&
	grep -q "DROP TABLE IF EXISTS .d.\..newt." p2 &&
	cat p1 p2 | rec2sql | dst_sql &&
	test -z "$(dst_sql "SHOW TABLES FROM d LIKE \"newt\"")" &&
	checksum_both d.big d.small
'

test_done
