#!/bin/bash
test_description='srdf-apply creates the source'"'"'s triggers (copied by srdf-bootstrap, replayed from the binlog) so that they leave its own rows alone, as on a replica of row events: the target ends equal, and the triggers act for every other session'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# Triggers as applications write them: no thought of replication.  On
# the target, run again on the replicated rows, tr_ins would multiply v
# once more and tr_log would write every log row twice.
test_expect_success 'setup: a source with unguarded triggers, copied by srdf-bootstrap' '
	srdf-keygen -o key 2>/dev/null && mkdir -p "$S" "$D/inbox/new" &&
	src_sql "SET sql_log_bin = 0;
		GRANT SHOW VIEW, TRIGGER ON *.* TO '\''srdf'\''@'\''127.0.0.1'\''" &&
	src_sql "CREATE DATABASE tg; USE tg;
		CREATE TABLE t1 (id INT PRIMARY KEY, v INT);
		CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, t1_id INT, what CHAR(1));
		CREATE TRIGGER tr_ins BEFORE INSERT ON t1 FOR EACH ROW SET NEW.v = NEW.v * 10;
		CREATE TRIGGER tr_log AFTER INSERT ON t1 FOR EACH ROW
			INSERT INTO log (t1_id, what) VALUES (NEW.id, \"i\");
		INSERT INTO t1 VALUES (1, 1), (2, 2)" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases tg 2>bootstrap.err |
		srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	grep -q "the copy is complete" bootstrap.err
'

test_expect_success 'rows and a trigger created later, replicated: the target is the source' '
	src_sql "USE tg; INSERT INTO t1 VALUES (3, 3);
		DELIMITER //
		CREATE TRIGGER tr_upd AFTER UPDATE ON t1 FOR EACH ROW
		BEGIN
			INSERT INTO log (t1_id, what) VALUES (NEW.id, \"u\");
			SET @updated = 1;
		END//
		DELIMITER ;
		UPDATE t1 SET v = v + 1 WHERE id <= 2; INSERT INTO t1 VALUES (4, 4)" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tg.t1 tg.log &&
	test "$(dst_sql "SELECT GROUP_CONCAT(v ORDER BY id) FROM tg.t1")" = "11,21,30,40" &&
	test "$(dst_sql "SELECT COUNT(*) FROM tg.log")" = 6
'

test_expect_success 'the target'"'"'s triggers look for srdf-apply'"'"'s sessions; the source'"'"'s are as written' '
	for t in tr_ins tr_log tr_upd; do
		dst_sql "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS
			WHERE TRIGGER_SCHEMA = \"tg\" AND TRIGGER_NAME = \"$t\"" >body.$t &&
		grep -q "^IF NOT EXISTS (SELECT 1 FROM srdf.apply_sessions PARTITION (p) WHERE id = CONNECTION_ID()) THEN" body.$t || return 1
	done &&
	! src_sql "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = \"tg\"" | grep -q srdf
'

test_expect_success 'any other session on the target (after a promotion) fires them' '
	dst_sql "INSERT INTO tg.t1 VALUES (100, 5); UPDATE tg.t1 SET v = 0 WHERE id = 1" &&
	test "$(dst_sql "SELECT v FROM tg.t1 WHERE id = 100")" = 50 &&
	test "$(dst_sql "SELECT GROUP_CONCAT(what ORDER BY id SEPARATOR \"\") FROM tg.log WHERE id > 6")" = iu
'

test_expect_success '--fire-triggers: a trigger created as written' '
	dst_sql "DELETE FROM tg.t1 WHERE id = 100" &&
	src_sql "CREATE TRIGGER tg.tr_del AFTER DELETE ON tg.t1 FOR EACH ROW SET @d = 1" &&
	seal_new && deliver && apply_once --fire-triggers &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(dst_sql "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = \"tg\" AND TRIGGER_NAME = \"tr_del\"")" = "SET @d = 1"
'

# A srdf-apply killed after the server ran a CREATE TRIGGER and before its
# checkpoint: the ledger says the DDL was in flight, the trigger is there.
test_expect_success 'a CREATE TRIGGER cut by a crash before its checkpoint: taken as applied' '
	src_sql "CREATE TRIGGER tg.tr_cut BEFORE DELETE ON tg.t1 FOR EACH ROW SET @d = 2" &&
	seal_new && deliver &&
	n=$(wagon_count) &&
	dst_sql "CREATE TRIGGER tg.tr_cut BEFORE DELETE ON tg.t1 FOR EACH ROW SET @d = 2" &&
	ledger-wagon-set "$D" "$n" "{\"state\": \"received\", \"ddl_inflight\": 1}" &&
	apply_once &&
	test "$(applied_seq)" = "$n" &&
	grep -q "wagon $n: ddl \"CREATE DEFINER=.* TRIGGER tg.tr_cut .* was already applied before a crash (Trigger .* already exists): taken as applied" apply.err
'

test_done
