#!/bin/bash
test_description='groups that delete or change the parent of a cascading foreign key (ON DELETE/ON UPDATE CASCADE or SET NULL) go unfolded, in source order, and the target'"'"'s own constraints make the cascades the source made: no orphan, no stale SET NULL, no duplicate key, no lost child, inside one transaction and across a group'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

tables="fk.p fk.c fk.n fk.s fk.u fk.cu fk.k fk.ck fk.g fk.cg fk.gg"

# one_group SQL...: each argument a source transaction; all of them go
# into one consistency group (--window 1h), are applied, and both sides
# must be equal.
one_group() {
	local t
	for t; do src_sql "$t" || return; done
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $tables
}

test_expect_success 'setup: parents and children with every cascading rule' '
	apply_setup &&
	src_sql "CREATE DATABASE fk;
		CREATE TABLE fk.p (id INT PRIMARY KEY, v INT);
		CREATE TABLE fk.c (id INT PRIMARY KEY, pid INT,
			FOREIGN KEY (pid) REFERENCES fk.p (id) ON DELETE CASCADE ON UPDATE CASCADE);
		CREATE TABLE fk.n (id INT PRIMARY KEY, pid INT,
			FOREIGN KEY (pid) REFERENCES fk.p (id) ON DELETE SET NULL ON UPDATE SET NULL);
		CREATE TABLE fk.s (id INT PRIMARY KEY, a INT, parent_id INT,
			FOREIGN KEY (parent_id) REFERENCES fk.s (id) ON DELETE CASCADE);
		CREATE TABLE fk.u (id INT PRIMARY KEY, code VARCHAR(10) UNIQUE);
		CREATE TABLE fk.cu (id INT PRIMARY KEY, uid INT,
			FOREIGN KEY (uid) REFERENCES fk.u (id) ON DELETE CASCADE);
		CREATE TABLE fk.k (id INT PRIMARY KEY, code VARCHAR(10) UNIQUE);
		CREATE TABLE fk.ck (id INT PRIMARY KEY, code VARCHAR(10),
			FOREIGN KEY (code) REFERENCES fk.k (code) ON UPDATE SET NULL ON DELETE RESTRICT);
		CREATE TABLE fk.g (id INT PRIMARY KEY);
		CREATE TABLE fk.cg (id INT PRIMARY KEY, gid INT,
			FOREIGN KEY (gid) REFERENCES fk.g (id) ON DELETE CASCADE);
		CREATE TABLE fk.gg (id INT PRIMARY KEY, cid INT,
			FOREIGN KEY (cid) REFERENCES fk.cg (id) ON DELETE CASCADE)" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)"
'

test_expect_success 'B: a parent inserted, children inserted, the parent deleted or its key changed, in one group' '
	one_group "INSERT INTO fk.p VALUES (1, 0)" \
		"INSERT INTO fk.c VALUES (1, 1), (2, 1); INSERT INTO fk.n VALUES (1, 1)" \
		"DELETE FROM fk.p WHERE id = 1" \
		"INSERT INTO fk.p VALUES (2, 0); INSERT INTO fk.c VALUES (3, 2); INSERT INTO fk.n VALUES (2, 2)" \
		"UPDATE fk.p SET id = 3 WHERE id = 2" &&
	test "$(dst_sql "SELECT COUNT(*) FROM fk.c")" = 1 &&
	test "$(dst_sql "SELECT CONCAT(id, \",\", IFNULL(pid, \"NULL\")) FROM fk.n ORDER BY id" | tr "\n" " ")" = "1,NULL 2,NULL "
'

test_expect_success 'B in one transaction: a self-referencing child inserted with its parent and the parent deleted' '
	one_group "BEGIN; INSERT INTO fk.s (id, a) VALUES (4, 2); INSERT INTO fk.s VALUES (6, 1, 4); DELETE FROM fk.s WHERE id = 4; COMMIT" &&
	test "$(dst_sql "SELECT COUNT(*) FROM fk.s")" = 0
'

test_expect_success 'B: a child inserted and deleted in a group orphans no grandchild' '
	one_group "INSERT INTO fk.g VALUES (1); INSERT INTO fk.cg VALUES (1, 1); INSERT INTO fk.gg VALUES (1, 1)" \
		"DELETE FROM fk.cg WHERE id = 1" &&
	test "$(dst_sql "SELECT COUNT(*) FROM fk.gg")" = 0
'

test_expect_success 'C: a parent deleted and inserted again under the same key cascades' '
	src_sql "INSERT INTO fk.p VALUES (6, 0); INSERT INTO fk.c VALUES (10, 6); INSERT INTO fk.n VALUES (10, 6)" &&
	seal_new && deliver && apply_once &&
	one_group "BEGIN; DELETE FROM fk.p WHERE id = 6; INSERT INTO fk.p VALUES (6, 1); COMMIT" &&
	test "$(dst_sql "SELECT COUNT(*) FROM fk.c WHERE id = 10")" = 0 &&
	test "$(dst_sql "SELECT IFNULL(pid, \"NULL\") FROM fk.n WHERE id = 10")" = NULL
'

test_expect_success 'D: a deleted parent'"'"'s UNIQUE value taken by another row, and REPLACE over it' '
	src_sql "INSERT INTO fk.u VALUES (2, \"k\"), (7, \"C2\"); INSERT INTO fk.cu VALUES (1, 2), (2, 7)" &&
	seal_new && deliver && apply_once &&
	one_group "BEGIN; DELETE FROM fk.u WHERE id = 2; INSERT INTO fk.u VALUES (5, \"k\"); COMMIT" \
		"REPLACE INTO fk.u (id, code) VALUES (3, \"C2\"), (8, \"c2\")" &&
	test "$(dst_sql "SELECT COUNT(*) FROM fk.cu")" = 0
'

test_expect_success 'G: a one-statement key shift of a parent keeps every child, folded and not' '
	src_sql "DELETE FROM fk.p; INSERT INTO fk.p VALUES (1, 0), (2, 0), (3, 0);
		INSERT INTO fk.c VALUES (21, 1), (22, 2), (23, 3)" &&
	seal_new && deliver && apply_once &&
	one_group "UPDATE fk.p SET id = id + 1 ORDER BY id DESC" &&
	test "$(dst_sql "SELECT GROUP_CONCAT(pid ORDER BY id) FROM fk.c")" = "2,3,4" &&
	one_group "UPDATE fk.p SET id = id + 1 ORDER BY id DESC" "UPDATE fk.p SET v = 9 WHERE id = 5" &&
	test "$(dst_sql "SELECT GROUP_CONCAT(pid ORDER BY id) FROM fk.c")" = "3,4,5"
'

test_expect_success 'G: a referenced UNIQUE value changed (ON UPDATE SET NULL) and its parent deleted (RESTRICT) in one group' '
	src_sql "INSERT INTO fk.k VALUES (1, \"a\"); INSERT INTO fk.ck VALUES (1, \"a\")" &&
	seal_new && deliver && apply_once &&
	one_group "UPDATE fk.k SET code = \"b\" WHERE id = 1" "DELETE FROM fk.k WHERE id = 1" &&
	test "$(dst_sql "SELECT IFNULL(code, \"NULL\") FROM fk.ck")" = NULL
'

test_expect_success 'srdf-dedup left those groups unfolded, and folds a group that only inserts into a parent' '
	src_sql "INSERT INTO fk.p VALUES (100, 0); UPDATE fk.c SET pid = NULL WHERE id = 21; UPDATE fk.c SET pid = 4 WHERE id = 21" &&
	srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --until-end 2>/dev/null >stream &&
	grep -q "\"table\":\"p\".*\"cascade\":true" stream &&
	! grep "\"table\":\"c\".*\"cascade\"" stream &&
	srdf-dedup --window 1h <stream 2>/dev/null >folded &&
	test "$(grep -c "\"table\":\"c\"" folded)" = 1
'

test_expect_success 'a cascading key added while srdf-capture follows: the parent is marked from that DDL on, and the group cascades' '
	src_sql "CREATE TABLE fk.lp (id INT PRIMARY KEY); CREATE TABLE fk.lc (id INT PRIMARY KEY, pid INT)" &&
	seal_new && deliver && apply_once &&
	test_bg cap srdf-capture --defaults-file "$SRC_CNF" --dir "$S" &&
	test_wait_until 10 "grep -q \"reading the binlog\" cap.err" &&
	src_sql "INSERT INTO fk.lp VALUES (1); INSERT INTO fk.lc VALUES (1, 1)" &&
	src_sql "ALTER TABLE fk.lc ADD FOREIGN KEY (pid) REFERENCES fk.lp (id) ON DELETE CASCADE" &&
	src_sql "INSERT INTO fk.lp VALUES (2); INSERT INTO fk.lc VALUES (2, 2); DELETE FROM fk.lp WHERE id = 2" &&
	echo "\"gtid\":\"$(src_sql "SELECT @@gtid_binlog_pos")\"" >last &&
	test_wait_until 10 "grep -qF -f last cap.out" &&
	test_bg_stop cap &&
	grep "\"table\":\"lp\"" cap.out >lp.rows &&
	test "$(head -n 1 lp.rows | grep -c "\"cascade\"")" = 0 &&
	test "$(tail -n 2 lp.rows | grep -c "\"cascade\":true")" = 2 &&
	srdf-dedup --window 1h <cap.out 2>>dedup.err | srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both fk.lp fk.lc &&
	test "$(dst_sql "SELECT COUNT(*) FROM fk.lc")" = 1
'

# srdf-capture reads the parents from the source as it is now; behind a
# RENAME (or DROP) of a parent, the binlog's name is no table now: it
# counts as a parent, and the REPLACE that cascaded on the source
# cascades on the target (difftest seed 70769a).
test_expect_success 'a parent renamed after its rows changed, capture far behind: its rows still cascade' '
	src_sql "CREATE TABLE fk.rp (id INT PRIMARY KEY, v INT);
		CREATE TABLE fk.rc (a INT, b VARCHAR(10), pid INT, PRIMARY KEY (a, b),
			FOREIGN KEY (pid) REFERENCES fk.rp (id) ON DELETE CASCADE);
		INSERT INTO fk.rp VALUES (4, 0); INSERT INTO fk.rc VALUES (1, \"y\", 4)" &&
	seal_new && deliver && apply_once &&
	src_sql "REPLACE INTO fk.rp VALUES (4, 1); RENAME TABLE fk.rp TO fk.rp2;
		INSERT INTO fk.rc VALUES (1, \"Y\", 4)" &&
	test "$(src_sql "SELECT GROUP_CONCAT(b) FROM fk.rc")" = Y &&
	srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --until-end 2>/dev/null >stream &&
	grep -q "\"table\":\"rp\".*\"cascade\":true" stream &&
	srdf-dedup --window 1h <stream 2>>dedup.err | srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both fk.rp2 fk.rc
'

test_done
