#!/bin/bash
test_description='a primary key, or a referenced UNIQUE column, changed on the parent of an ON UPDATE CASCADE or SET NULL foreign key: the target'"'"'s children follow as the source'"'"'s did (the change travels as one update, a move, and is applied as an UPDATE with foreign_key_checks=1), not deleted or set NULL by its ON DELETE rule'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

tables="mv.p mv.c mv.q mv.cq mv.s mv.cs mv.u mv.cu"

test_expect_success 'setup: parents with ON UPDATE rules and children, replicated' '
	apply_setup &&
	src_sql "CREATE DATABASE mv;
		CREATE TABLE mv.p (id INT PRIMARY KEY, v INT);
		CREATE TABLE mv.c (id INT PRIMARY KEY, pid INT,
			FOREIGN KEY (pid) REFERENCES mv.p (id) ON UPDATE CASCADE ON DELETE SET NULL);
		CREATE TABLE mv.q (a INT, b INT, v INT, PRIMARY KEY (a, b));
		CREATE TABLE mv.cq (id INT PRIMARY KEY, qa INT, qb INT,
			FOREIGN KEY (qa, qb) REFERENCES mv.q (a, b) ON UPDATE CASCADE ON DELETE CASCADE);
		CREATE TABLE mv.s (id INT PRIMARY KEY);
		CREATE TABLE mv.cs (id INT PRIMARY KEY, sid INT,
			FOREIGN KEY (sid) REFERENCES mv.s (id) ON UPDATE SET NULL);
		INSERT INTO mv.p VALUES (1, 1), (2, 2), (3, 3), (4, 4);
		INSERT INTO mv.c VALUES (1, 1), (2, 2), (3, 1), (4, 3), (5, 4);
		INSERT INTO mv.q VALUES (1, 1, 0), (1, 2, 0);
		INSERT INTO mv.cq VALUES (1, 1, 1), (2, 1, 2);
		INSERT INTO mv.s VALUES (1), (2); INSERT INTO mv.cs VALUES (1, 1), (2, 2);
		CREATE TABLE mv.u (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE, v INT);
		CREATE TABLE mv.cu (id INT PRIMARY KEY, code VARCHAR(10),
			FOREIGN KEY (code) REFERENCES mv.u (code) ON UPDATE CASCADE ON DELETE CASCADE);
		INSERT INTO mv.u VALUES (1, \"a\", 0), (2, \"b\", 0), (3, \"c\", 0);
		INSERT INTO mv.cu VALUES (1, \"a\"), (2, \"b\"), (3, \"a\"), (4, \"c\")" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $tables
'

test_expect_success 'keys changed, one with other columns, one with a child inserted before it in the same transaction: the children follow' '
	src_sql "UPDATE mv.p SET id = 10 WHERE id = 1;
		UPDATE mv.p SET id = 20, v = 22 WHERE id = 2;
		START TRANSACTION; INSERT INTO mv.c VALUES (6, 3); UPDATE mv.p SET id = 30 WHERE id = 3; COMMIT;
		UPDATE mv.q SET b = 5 WHERE a = 1 AND b = 2;
		UPDATE mv.s SET id = 9 WHERE id = 1" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $tables &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", IFNULL(pid, \"-\") ORDER BY id) FROM mv.c")" = "1:10,2:20,3:10,4:30,5:4,6:30" &&
	test "$(dst_sql "SELECT GROUP_CONCAT(qa, qb ORDER BY id) FROM mv.cq")" = "11,15" &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", IFNULL(sid, \"-\") ORDER BY id) FROM mv.cs")" = "1:-,2:2"
'

test_expect_success 'a referenced UNIQUE column changed, twice in one group for one row, with other columns; a row whose other columns only change: the children follow' '
	src_sql "UPDATE mv.u SET code = \"a2\", v = 1 WHERE id = 1;
		START TRANSACTION; INSERT INTO mv.cu VALUES (5, \"b\"); UPDATE mv.u SET code = \"b2\" WHERE id = 2;
		UPDATE mv.u SET code = \"b3\" WHERE id = 2; COMMIT;
		UPDATE mv.u SET v = 7 WHERE id = 3" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $tables &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", code ORDER BY id) FROM mv.cu")" = "1:a2,2:b3,3:a2,4:c,5:b3"
'

test_expect_success 'a key changed then deleted in one group: the ON DELETE rule acts (SET NULL)' '
	src_sql "START TRANSACTION; UPDATE mv.p SET id = 40 WHERE id = 4; DELETE FROM mv.p WHERE id = 40; COMMIT" &&
	seal_new && deliver && apply_once &&
	checksum_both $tables &&
	test "$(dst_sql "SELECT IFNULL(pid, \"-\") FROM mv.c WHERE id = 5")" = "-"
'

test_expect_success 'two wagons moving the same key, applied in one run: still followed' '
	src_sql "UPDATE mv.p SET id = 11 WHERE id = 10" && seal_new &&
	src_sql "UPDATE mv.p SET id = 12 WHERE id = 11" && seal_new &&
	deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $tables &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id ORDER BY id) FROM mv.c WHERE pid = 12")" = "1,3" &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases mv >verify.out
'

test_expect_success 'a moved row gives a UNIQUE value of its own to another row in the same transaction, inserted or updated: applied, the children follow' '
	src_sql "CREATE TABLE mv.e (id INT PRIMARY KEY, email VARCHAR(20) NOT NULL UNIQUE);
		CREATE TABLE mv.ce (id INT PRIMARY KEY, eid INT,
			FOREIGN KEY (eid) REFERENCES mv.e (id) ON UPDATE CASCADE);
		INSERT INTO mv.e VALUES (1, \"old\"), (5, \"five\");
		INSERT INTO mv.ce VALUES (1, 1), (2, 1), (3, 5)" &&
	seal_new && deliver && apply_once &&
	src_sql "START TRANSACTION; UPDATE mv.e SET id = 10, email = \"new\" WHERE id = 1;
		INSERT INTO mv.e VALUES (2, \"old\"); INSERT INTO mv.ce VALUES (4, 2); COMMIT" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	src_sql "START TRANSACTION; UPDATE mv.e SET id = 11, email = \"newer\" WHERE id = 10;
		UPDATE mv.e SET email = \"new\" WHERE id = 5; COMMIT" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both mv.e mv.ce &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", eid ORDER BY id) FROM mv.ce")" = "1:11,2:11,3:5,4:2"
'

test_expect_success 'a row whose referenced UNIQUE column changes in place gives its other UNIQUE value away in the same transaction: applied, the children follow' '
	src_sql "ALTER TABLE mv.u ADD COLUMN mail VARCHAR(20), ADD UNIQUE KEY (mail);
		UPDATE mv.u SET mail = CONCAT(\"m\", id)" &&
	seal_new && deliver && apply_once &&
	src_sql "START TRANSACTION; UPDATE mv.u SET code = \"a9\", mail = \"m9\" WHERE id = 1;
		INSERT INTO mv.u VALUES (4, \"d\", 0, \"m1\"); COMMIT" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $tables &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id ORDER BY id) FROM mv.cu WHERE code = \"a9\"")" = "1,3"
'

test_done
