#!/bin/bash
test_description='srdf-verify --repair: the chunks that still differ after the re-check are copied again through the running pipeline by key range (srdf-bootstrap --resync), under a write load; only those chunks travel, and the target ends equal'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
. "$top/t/6-resync-lib.sh"
srdf_servers_start

test_expect_success 'setup: a running pipeline, r.t (20000 rows) and r.cnt on the target' '
	resync_setup &&
	chain_start && deliver_start && apply_start &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60));
		INSERT INTO r.t SELECT seq, seq, REPEAT(\"p\", seq % 50) FROM r.seq_1_to_20000;
		CREATE TABLE r.cnt (id INT PRIMARY KEY, n BIGINT NOT NULL);
		INSERT INTO r.cnt SELECT seq, 0 FROM r.seq_0_to_9" &&
	test_wait_until 30 caught_up &&
	checksum_both r.t r.cnt
'

test_expect_success 'the target drifts in three places of twenty chunks' '
	dst_sql "SET sql_log_bin = 0;
		UPDATE r.t SET v = -1 WHERE id BETWEEN 9001 AND 9010;
		DELETE FROM r.t WHERE id BETWEEN 15000 AND 15005;
		INSERT INTO r.t VALUES (40001, 0, \"extra\")" &&
	test_expect_code 1 srdf-verify --source "$SRC_CNF" --target "$DST_CNF" \
		--databases r --chunk-rows 1000 >verify0.out &&
	grep -q "^r.t .*DRIFT" verify0.out &&
	grep -q "missing on the target: id=15000" verify0.out && grep -q "extra on the target: id=40001" verify0.out
'

test_expect_success 'srdf-verify --repair under a write load elsewhere in the table: equal' '
	load_start 6011 &&
	n0=$(ls "$S/outbox/new" | wc -l) &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases r \
		--chunk-rows 1000 --repair --dir "$S" >repair.out 2>repair.err
	echo "srdf-verify --repair exited $?" &&
	cat repair.out && grep -E "repairing|chunk\(s\) copied" repair.err &&
	grep -q "chunk(s) copied again through the pipeline; comparing again" repair.err &&
	load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both r.t r.cnt &&
	test "$(src_sql "SELECT SUM(n) FROM r.cnt")" = "$(dst_sql "SELECT SUM(n) FROM r.cnt")" &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases r >verify.out &&
	grep -q "^equal:" verify.out &&
	no_failures
'

test_expect_success 'only the differing chunks travelled: a few ranges, not the table' '
	ls "$S"/outbox/new/*.wagon | tail -n +$((n0 + 1)) >new &&
	for f in $(cat new); do srdf-cat --key-file key "$f"; done >new.jsonl &&
	jq -c -s "[.[] | select(.type == \"range\" and .table == \"t\") | [.lo.id, .hi.id]]" new.jsonl >ranges &&
	cat ranges &&
	jq -e "length >= 3 and length <= 12 and
		any(.[]; .[0] != null and .[0] < 9001 and .[1] >= 9010) and
		any(.[]; .[0] != null and .[0] < 15000 and .[1] >= 15005) and
		any(.[]; .[0] != null and .[1] == null)" ranges &&
	copied=$(sed -n "s/.*resync copied r.t: \([0-9]*\) rows.*/\1/p" repair.err | paste -sd+ | bc) &&
	echo "rows of r.t copied again: $copied of 20000" &&
	test "$copied" -le 10000
'

test_expect_success 'a table without a primary key that drifted is repaired whole, in one chunk' '
	src_sql "CREATE TABLE r.log (a INT, msg VARCHAR(30));
		INSERT INTO r.log SELECT seq % 20, \"m\" FROM r.seq_1_to_400" &&
	test_wait_until 60 caught_up &&
	dst_sql "SET sql_log_bin = 0; DELETE FROM r.log WHERE a = 3 LIMIT 2;
		INSERT INTO r.log VALUES (5, \"m\")" &&
	test_expect_code 1 srdf-verify --source "$SRC_CNF" --target "$DST_CNF" \
		--databases r >verify2.out &&
	grep -q "^r.log .*DRIFT" verify2.out &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases r \
		--repair --dir "$S" >repair2.out 2>repair2.err &&
	grep -q "repairing r.log$" repair2.err &&
	grep -q "resync copied r.log: 400 rows of ~[0-9]* ([0-9]*%) in 1 chunks" repair2.err &&
	test_wait_until 60 caught_up &&
	checksum_both r.log r.t r.cnt
'

test_done
