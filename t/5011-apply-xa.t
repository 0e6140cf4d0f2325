#!/bin/bash
test_description='srdf-apply: XA transactions: prepared rows wait on the target for their XA COMMIT, are dropped at XA ROLLBACK, survive --keep and restarts; a COMMIT without its prepared rows fails and stops there'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

xa() {
	src_sql "XA START '$1'; $2; XA END '$1'; XA PREPARE '$1'"
}

pending() {
	dst_sql "SELECT COUNT(*) FROM srdf.xa_pending"
}

test_expect_success 'setup' '
	apply_setup &&
	src_sql "CREATE DATABASE x; CREATE TABLE x.t (id INT PRIMARY KEY, v INT);
		CREATE TABLE x.c (id INT PRIMARY KEY, n INT); INSERT INTO x.c VALUES (1, 0), (2, 0)"
'

test_expect_success 'committed, rolled back and one-phase XA transactions among others: the target equals the source' '
	xa tx1 "INSERT INTO x.t VALUES (1, 1); UPDATE x.c SET n = n + 1 WHERE id = 1" &&
	src_sql "INSERT INTO x.t VALUES (10, 10)" &&
	xa tx2 "INSERT INTO x.t VALUES (2, 2); UPDATE x.c SET n = n + 100 WHERE id = 2" &&
	src_sql "XA COMMIT '\''tx1'\''" &&
	src_sql "XA ROLLBACK '\''tx2'\''" &&
	src_sql "XA START '\''tx3'\''; INSERT INTO x.t VALUES (3, 3); XA END '\''tx3'\''; XA COMMIT '\''tx3'\'' ONE PHASE" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both x.t x.c &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id ORDER BY id) FROM x.t")" = 1,3,10 &&
	test "$(dst_sql "SELECT GROUP_CONCAT(n ORDER BY id) FROM x.c")" = 1,0 &&
	test "$(pending)" = 0 &&
	grep -q "XA transaction X.747831.,X..,1 was prepared on the source: its rows wait for its XA COMMIT" apply.err &&
	grep -q "XA COMMIT X.747831.,X..,1: the 2 row change(s) prepared in wagon [0-9]* applied" apply.err &&
	grep -q "XA ROLLBACK X.747832.,X..,1 on the source: its prepared rows are dropped" apply.err
'

test_expect_success 'prepared, then --keep 0 and a restart: the rows wait; the XA COMMIT applies them' '
	xa tx4 "INSERT INTO x.t VALUES (4, 4); UPDATE x.c SET n = n + 1 WHERE id = 1" &&
	seal_new && deliver && apply_once --keep 0 &&
	p=$(wagon_count) &&
	test "$(pending)" = 1 &&
	test "$(dst_sql "SELECT COUNT(*) FROM x.t WHERE id = 4")" = 0 &&
	checksum_both x.t x.c &&
	src_sql "INSERT INTO x.t VALUES (11, 11)" &&
	seal_new && deliver && apply_once --keep 0 &&
	test -e "$D/inbox/cur/$(wagon_name "$p")" &&
	src_sql "XA COMMIT '\''tx4'\''" &&
	seal_new && deliver && apply_once --keep 0 &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(pending)" = 0 &&
	test "$(dst_sql "SELECT v FROM x.t WHERE id = 4")" = 4 &&
	checksum_both x.t x.c
'

test_expect_success 'a prepared transaction bigger than --max-bytes: chunks, applied at the XA COMMIT' '
	w0=$(wagon_count) &&
	xa tx5 "INSERT INTO x.t SELECT 1000 + seq, seq FROM x.seq_1_to_500; UPDATE x.c SET n = n + 1 WHERE id = 1" &&
	seal_new --max-bytes 8K && deliver &&
	test "$(($(wagon_count) - w0))" -ge 3 &&
	src_sql "XA COMMIT '\''tx5'\''" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	grep -q "wagons [0-9]*\.\.[0-9]*: XA transaction X.747835.,X..,1 was prepared" apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM x.t WHERE id > 1000")" = 500 &&
	checksum_both x.t x.c
'

test_expect_success 'srdf-status counts, srdf-promote --dry-run names, a prepared transaction whose outcome never came' '
	xa tx7 "INSERT INTO x.t VALUES (7, 7)" &&
	seal_new && deliver && apply_once &&
	test "$(pending)" = 1 &&
	srdf-status --dir "$D" --defaults-file "$DST_CNF" --json >st.json &&
	jq -e ".target_db.xa_pending == 1 and .target_db.xa_pending_first_seq == $(wagon_count)" st.json &&
	srdf-status --dir "$D" --defaults-file "$DST_CNF" |
		grep -q "^target XA pending: 1 prepared on the source, waiting for their XA COMMIT (srdf.xa_pending; from wagon $(wagon_count))" &&
	srdf-status --dir "$D" --defaults-file "$DST_CNF" --prometheus | grep -q "^srdf_target_xa_pending{.*} 1$" &&
	srdf-promote --dir "$D" --key-file key --defaults-file "$DST_CNF" --dry-run \
		>promote.out 2>promote.err &&
	grep -q "1 XA transaction(s) prepared on the source without an XA COMMIT or ROLLBACK received: their rows are not applied (srdf.xa_pending): X.747837.,X..,1" promote.err &&
	src_sql "XA ROLLBACK '\''tx7'\''" &&
	seal_new && deliver && apply_once &&
	test "$(pending)" = 0
'

test_expect_success 'an XA COMMIT whose prepared rows the target lacks fails with why, and nothing after it is applied' '
	xa tx6 "INSERT INTO x.t VALUES (6, 6)" &&
	seal_new && deliver && apply_once &&
	dst_sql "DELETE FROM srdf.xa_pending" &&
	src_sql "XA COMMIT '\''tx6'\''" && src_sql "INSERT INTO x.t VALUES (12, 12)" &&
	seal_new && deliver && before=$(applied_seq) &&
	test_expect_code 65 apply_once --retry none &&
	test "$(applied_seq)" = "$before" &&
	grep -q "XA COMMIT X.747836.,X..,1: its prepared rows are not pending on the target" apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM x.t WHERE id = 12")" = 0 &&
	srdf-status --dir "$D" | grep -q "XA COMMIT X.747836.,X..,1: its prepared rows are not pending"
'

test_expect_success 'srdf-bootstrap warns of an XA transaction prepared at its snapshot, whose rows the copy lacks' '
	xa tx9 "INSERT INTO x.t VALUES (9, 9)" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$PWD/bs" --databases x 2>bs.err >bs.jsonl &&
	cat bs.err &&
	grep -q "1 XA transaction is prepared on the source at the snapshot (.tx9.): one prepared before GTID position .* is not in the copy, and its XA COMMIT will stop srdf-apply" bs.err &&
	src_sql "XA ROLLBACK '\''tx9'\''" &&
	rm -rf bs && srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$PWD/bs" --databases x 2>bs2.err >/dev/null &&
	! grep -q "XA transaction" bs2.err
'

test_done
