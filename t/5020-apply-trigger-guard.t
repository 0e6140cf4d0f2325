#!/bin/bash
test_description='the guard srdf-apply puts on the source'"'"'s triggers cannot be forged by a target user with SELECT and INSERT (a user variable, its own row in srdf.apply_sessions, a temporary table of that name): the triggers fire for that user, before and after srdf-promote, and never for srdf-apply; the guard of earlier builds is replaced; srdf-promote restores the triggers as the source wrote them, in their order, also when run again'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# As a target user: SELECT and INSERT on tg, and nothing else (mallory);
# the same with CREATE TEMPORARY TABLES everywhere (tmpuser).
as_user() {
	mariadb --no-defaults --socket="$DST_SOCK" --user="$1" --password="$1" \
		-N -B -e "$2"
}

# The triggers of tg as the server holds them, one line each.
triggers() { # src_sql | dst_sql
	"$1" "SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER,
		DEFINER, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION,
		ACTION_STATEMENT FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = \"tg\" ORDER BY 1"
}

# What the rows below 100 (the source's) hold, on either side.
source_rows() { # src_sql | dst_sql
	"$1" "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS(\",\", id, v))) FROM tg.t1 WHERE id < 100;
		SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS(\",\", t1_id, what))) FROM tg.log WHERE t1_id < 100"
}

# fired ID: the triggers fired for row ID of tg.t1: v multiplied by
# tr_ins, tr_first and tr_log wrote "f" and "i" to tg.log.
fired() {
	test "$(dst_sql "SELECT v FROM tg.t1 WHERE id = $1")" = 10 &&
	test "$(dst_sql "SELECT GROUP_CONCAT(what ORDER BY what SEPARATOR \"\") FROM tg.log WHERE t1_id = $1")" = fi
}

guard='IF NOT EXISTS (SELECT 1 FROM srdf.apply_sessions PARTITION (p) WHERE id = CONNECTION_ID()) THEN '

# Triggers as applications write them.  tr_first, created under
# PIPES_AS_CONCAT by a definer with rights on tg only, logs "f" ("f" ||
# "" is 0 without that sql_mode) before tr_log, whatever their creation
# order.
test_expect_success 'setup: a source with triggers, target users with SELECT and INSERT' '
	apply_setup &&
	src_sql "SET sql_log_bin = 0; CREATE USER appadm@localhost;
		GRANT ALL ON tg.* TO appadm@localhost" &&
	src_sql "CREATE DATABASE tg;
		CREATE TABLE tg.t1 (id INT PRIMARY KEY, v INT);
		CREATE TABLE tg.log (t1_id INT, what CHAR(1), PRIMARY KEY (t1_id, what));
		CREATE TRIGGER tg.tr_ins BEFORE INSERT ON tg.t1 FOR EACH ROW SET NEW.v = NEW.v * 10;
		CREATE TRIGGER tg.tr_log AFTER INSERT ON tg.t1 FOR EACH ROW
			INSERT INTO tg.log (t1_id, what) VALUES (NEW.id, \"i\");
		SET sql_mode = \"PIPES_AS_CONCAT\";
		CREATE DEFINER = appadm@localhost TRIGGER tg.tr_first AFTER INSERT ON tg.t1
			FOR EACH ROW PRECEDES tr_log INSERT INTO tg.log (t1_id, what) VALUES (NEW.id, \"f\" || \"\");
		SET sql_mode = DEFAULT;
		INSERT INTO tg.t1 (id, v) VALUES (1, 1), (2, 2)" &&
	test "$(src_sql "SELECT GROUP_CONCAT(t1_id, what ORDER BY t1_id, what) FROM tg.log")" = 1f,1i,2f,2i &&
	dst_sql "CREATE USER mallory@localhost IDENTIFIED BY \"mallory\";
		GRANT SELECT, INSERT ON tg.* TO mallory@localhost;
		CREATE USER tmpuser@localhost IDENTIFIED BY \"tmpuser\";
		GRANT SELECT, INSERT ON tg.* TO tmpuser@localhost;
		GRANT CREATE TEMPORARY TABLES ON *.* TO tmpuser@localhost;
		CREATE USER appadm@localhost; GRANT ALL ON tg.* TO appadm@localhost" &&
	seal_new && deliver
'

test_expect_success 'a definer that cannot read srdf.apply_sessions: the wagon fails and says what to grant' '
	# An srdf-apply account that may not grant.
	dst_sql "CREATE USER srdfapply@127.0.0.1 IDENTIFIED BY \"srdfapply\";
		GRANT ALL ON tg.* TO srdfapply@127.0.0.1;
		GRANT ALL ON srdf.* TO srdfapply@127.0.0.1;
		GRANT SET USER ON *.* TO srdfapply@127.0.0.1" &&
	sed -e "s/^user=.*/user=srdfapply/" "$DST_CNF" >limited.cnf &&
	echo password=srdfapply >>limited.cnf &&
	test_expect_code 75 srdf-apply --dir "$D" --key-file key --defaults-file limited.cnf \
		--once 2>>apply.err &&
	grep -q "cannot GRANT SELECT ON srdf.apply_sessions TO PUBLIC" apply.err &&
	grep "a trigger.s definer needs SELECT on srdf.apply_sessions.*GRANT SELECT ON srdf.apply_sessions TO PUBLIC" apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM tg.t1")" = 0
'

test_expect_success 'an account that may grant makes the grant itself, and the wagon applies' '
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	dst_sql "SHOW GRANTS FOR PUBLIC" | grep -q "GRANT SELECT ON .srdf.\..apply_sessions. TO PUBLIC"
'

test_expect_success 'srdf-apply'"'"'s rows fire no trigger: the target is the source' '
	checksum_both tg.t1 tg.log &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", v ORDER BY id) FROM tg.t1")" = 1:10,2:20 &&
	test "$(dst_sql "SELECT COUNT(*) FROM tg.log")" = 4
'

test_expect_success 'the target'"'"'s triggers carry the guard, in the source'"'"'s order' '
	for t in tr_first tr_ins tr_log; do
		dst_sql "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS
			WHERE TRIGGER_SCHEMA = \"tg\" AND TRIGGER_NAME = \"$t\"" >body.$t &&
		grep -qF "$guard" body.$t || return 1
	done &&
	triggers src_sql | cut -f 1-8 >src.head &&
	triggers dst_sql | cut -f 1-8 >dst.head &&
	test_cmp src.head dst.head
'

test_expect_success 'a user with SELECT and INSERT who sets @srdf_apply fires the triggers' '
	as_user mallory "SET @srdf_apply = 1; INSERT INTO tg.t1 (id, v) VALUES (101, 1)" &&
	fired 101 &&
	as_user mallory "SET @srdf_apply = 1, @srdf_apply_session = CONNECTION_ID();
		INSERT INTO tg.t1 (id, v) VALUES (102, 1)" &&
	fired 102
'

test_expect_success 'nor can that user put its own session into srdf.apply_sessions' '
	test_must_fail as_user mallory "INSERT INTO srdf.apply_sessions
		VALUES (CONNECTION_ID(), \"mallory\", NOW(6))" 2>reg.err &&
	grep "command denied to user" reg.err &&
	test_must_fail as_user mallory "REPLACE INTO srdf.apply_sessions
		SELECT CONNECTION_ID(), \"mallory\", NOW(6)" &&
	test "$(dst_sql "SELECT COUNT(*) FROM srdf.apply_sessions WHERE user = \"mallory\"")" = 0
'

# A temporary table hides the table of its name from its session, and
# its creator may write it: the guard then fails rather than pass.
test_expect_success 'a temporary srdf.apply_sessions holding the session'"'"'s id: the insert fails, nothing bypasses the triggers' '
	test_must_fail as_user tmpuser "CREATE TEMPORARY TABLE srdf.apply_sessions
			(id BIGINT UNSIGNED PRIMARY KEY, user VARCHAR(128), connected_at DATETIME(6));
		INSERT INTO srdf.apply_sessions VALUES (CONNECTION_ID(), USER(), NOW(6));
		SET @srdf_apply = 1; INSERT INTO tg.t1 (id, v) VALUES (103, 1)" 2>tmp.err &&
	grep "PARTITION () clause on non partitioned table" tmp.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM tg.t1 WHERE id = 103")" = 0 &&
	as_user tmpuser "SET @srdf_apply = 1; INSERT INTO tg.t1 (id, v) VALUES (104, 1)" &&
	fired 104
'

test_expect_success 'srdf-apply'"'"'s rows after them fire no trigger either' '
	src_sql "INSERT INTO tg.t1 (id, v) VALUES (3, 3), (4, 4)" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	source_rows src_sql >src.rows && source_rows dst_sql >dst.rows &&
	test_cmp src.rows dst.rows &&
	test "$(dst_sql "SELECT GROUP_CONCAT(v ORDER BY id) FROM tg.t1 WHERE id < 100")" = 10,20,30,40
'

# Rows of sessions that are gone: one of this account, as a srdf-apply
# killed leaves it, one of another account's srdf-apply.
test_expect_success 'srdf-apply removes the rows of its account'"'"'s sessions that are gone; a restart empties the table' '
	dst_sql "INSERT INTO srdf.apply_sessions VALUES (4000000001, \"root\", NOW(6)),
		(4000000002, \"other\", NOW(6))" &&
	apply_once &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id) FROM srdf.apply_sessions WHERE id > 3999999999")" = 4000000002 &&
	test "$(dst_sql "SELECT COUNT(*) FROM srdf.apply_sessions")" -ge 2 &&
	srdf_servers restart-target &&
	test "$(dst_sql "SELECT COUNT(*) FROM srdf.apply_sessions")" = 0 &&
	as_user mallory "SET @srdf_apply = 1; INSERT INTO tg.t1 (id, v) VALUES (105, 1)" &&
	fired 105
'

# A target of an earlier build: its triggers test @srdf_apply, in the
# source's text otherwise.  tr_log keeps its place after tr_first.
test_expect_success 'the guard @srdf_apply IS NULL of an earlier srdf-apply is replaced in place at the next start' '
	dst_sql "DELIMITER //
		CREATE OR REPLACE DEFINER = root@localhost TRIGGER tg.tr_ins BEFORE INSERT ON tg.t1 FOR EACH ROW IF @srdf_apply IS NULL THEN SET NEW.v = NEW.v * 10
; END IF //
		CREATE OR REPLACE DEFINER = root@localhost TRIGGER tg.tr_log AFTER INSERT ON tg.t1 FOR EACH ROW FOLLOWS tr_first
			IF @srdf_apply IS NULL THEN INSERT INTO tg.log (t1_id, what) VALUES (NEW.id, \"i\")
; END IF //" &&
	triggers dst_sql | grep -c "IF @srdf_apply IS NULL THEN " >old.count &&
	test "$(cat old.count)" = 2 &&
	src_sql "INSERT INTO tg.t1 (id, v) VALUES (5, 5)" &&
	seal_new && deliver && apply_once &&
	grep "trigger tg.tr_ins: the guard @srdf_apply IS NULL, which any session can set, replaced" apply.err &&
	grep "trigger tg.tr_log: the guard @srdf_apply IS NULL, which any session can set, replaced" apply.err &&
	! triggers dst_sql | grep -q "@srdf_apply" &&
	test "$(triggers dst_sql | grep -cF "$guard")" = 3 &&
	triggers dst_sql | cut -f 1-8 >dst.head &&
	test_cmp src.head dst.head &&
	source_rows src_sql >src.rows && source_rows dst_sql >dst.rows &&
	test_cmp src.rows dst.rows &&
	as_user mallory "SET @srdf_apply = 1; INSERT INTO tg.t1 (id, v) VALUES (106, 1)" &&
	fired 106
'

promote() {
	srdf-promote --dir "$D" --key-file key --defaults-file "$DST_CNF" "$@"
}

test_expect_success 'srdf-promote --dry-run says which triggers it would restore' '
	promote --dry-run >dry.out 2>dry.err &&
	grep -x "would restore: trigger tg.tr_first" dry.out &&
	grep -x "would restore: trigger tg.tr_ins" dry.out &&
	grep -x "would restore: trigger tg.tr_log" dry.out &&
	test "$(triggers dst_sql | grep -cF "$guard")" = 3
'

test_expect_success 'srdf-promote --force: the triggers as the source wrote them, in its order, with its sql_mode' '
	promote --force >promote.out 2>promote.err &&
	grep -x "trigger tg.tr_first: restored as the source wrote it" promote.out &&
	grep -x "trigger tg.tr_ins: restored as the source wrote it" promote.out &&
	grep -x "trigger tg.tr_log: restored as the source wrote it" promote.out &&
	triggers src_sql >src.triggers && triggers dst_sql >dst.triggers &&
	test_cmp src.triggers dst.triggers &&
	! triggers dst_sql | grep -q "srdf" &&
	for t in tr_first tr_ins tr_log; do
		src_sql "SHOW CREATE TRIGGER tg.$t" | cut -f 3 >src.create.$t &&
		dst_sql "SHOW CREATE TRIGGER tg.$t" | cut -f 3 >dst.create.$t &&
		test_cmp src.create.$t dst.create.$t || return 1
	done
'

test_expect_success 'after the promotion the triggers fire for mallory, and for a session in srdf.apply_sessions' '
	as_user mallory "SET @srdf_apply = 1; INSERT INTO tg.t1 (id, v) VALUES (201, 1)" &&
	fired 201 &&
	dst_sql "SET @srdf_apply = 1; INSERT INTO srdf.apply_sessions SELECT CONNECTION_ID(), \"root\", NOW(6);
		INSERT INTO tg.t1 (id, v) VALUES (202, 1); DELETE FROM srdf.apply_sessions WHERE id = CONNECTION_ID()" &&
	fired 202
'

# A promotion cut short before tr_log was restored: that trigger still
# has the guard, the others are restored.
test_expect_success 'srdf-promote run again restores what a cut-short run left, and nothing else' '
	dst_sql "DELIMITER //
		CREATE OR REPLACE DEFINER = root@localhost TRIGGER tg.tr_log AFTER INSERT ON tg.t1 FOR EACH ROW FOLLOWS tr_first
			${guard}INSERT INTO tg.log (t1_id, what) VALUES (NEW.id, \"i\")
; END IF //" &&
	test "$(triggers dst_sql | grep -cF "$guard")" = 1 &&
	promote >again.out 2>again.err &&
	grep "^trigger " again.out >again.triggers &&
	echo "trigger tg.tr_log: restored as the source wrote it" | test_cmp - again.triggers &&
	triggers dst_sql >dst.triggers &&
	test_cmp src.triggers dst.triggers &&
	dst_sql "SHOW CREATE TRIGGER tg.tr_log" | cut -f 3 >dst.create.tr_log &&
	test_cmp src.create.tr_log dst.create.tr_log &&
	promote >third.out 2>third.err &&
	! grep "^trigger " third.out
'

test_done
