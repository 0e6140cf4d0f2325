#!/bin/bash
test_description='system-versioned tables (WITH SYSTEM VERSIONING, hidden or declared period, with and without a primary key): srdf-bootstrap copies their history, srdf-apply writes their later changes and history with the source'"'"'s periods, srdf-verify compares the current rows'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# The current rows of database vt, period columns left out.
rows() { # src_sql | dst_sql
	"$1" "SELECT 'imp', id, v FROM vt.imp ORDER BY id;
		SELECT 'dec', id, v FROM vt.dec ORDER BY id;
		SELECT 'nopk', a, b FROM vt.nopk ORDER BY a, b;
		SELECT 'late', id, v FROM vt.late ORDER BY id"
}

# Every version of the rows of the tables versioned from the start, with
# its period: the history.
history() { # src_sql | dst_sql
	"$1" "SELECT 'imp', id, v, row_start, row_end FROM vt.imp
			FOR SYSTEM_TIME ALL ORDER BY id, row_end;
		SELECT 'dec', id, v, s, e FROM vt.dec
			FOR SYSTEM_TIME ALL ORDER BY id, e;
		SELECT 'nopk', a, b, row_start, row_end FROM vt.nopk
			FOR SYSTEM_TIME ALL ORDER BY a, b, row_end, row_start"
}

history_equal() {
	history src_sql >src.hist && history dst_sql >dst.hist &&
	test_cmp src.hist dst.hist &&
	checksum_both vt.imp vt.dec vt.nopk
}

test_expect_success 'setup: versioned tables with history on the source, copied by srdf-bootstrap' '
	srdf-keygen -o key 2>/dev/null && mkdir -p "$S" "$D/inbox/new" &&
	src_sql "CREATE DATABASE vt;
		CREATE TABLE vt.imp (id INT PRIMARY KEY, v VARCHAR(20)) WITH SYSTEM VERSIONING;
		CREATE TABLE vt.dec (id INT PRIMARY KEY, v VARCHAR(20),
			s TIMESTAMP(6) GENERATED ALWAYS AS ROW START,
			e TIMESTAMP(6) GENERATED ALWAYS AS ROW END,
			PERIOD FOR SYSTEM_TIME(s, e)) WITH SYSTEM VERSIONING;
		CREATE TABLE vt.nopk (a INT, b VARCHAR(20)) WITH SYSTEM VERSIONING;
		CREATE TABLE vt.late (id INT PRIMARY KEY, v VARCHAR(20));
		INSERT INTO vt.imp VALUES (1, \"a\"), (2, \"b\"), (3, \"c\");
		UPDATE vt.imp SET v = \"a2\" WHERE id = 1; DELETE FROM vt.imp WHERE id = 3;
		INSERT INTO vt.dec (id, v) VALUES (1, \"a\"), (2, \"b\"), (3, \"c\");
		UPDATE vt.dec SET v = \"a2\" WHERE id = 1; DELETE FROM vt.dec WHERE id = 3;
		INSERT INTO vt.nopk VALUES (1, \"x\"), (2, \"y\"), (2, \"y\"), (3, \"z\");
		UPDATE vt.nopk SET b = \"x2\" WHERE a = 1;
		INSERT INTO vt.late VALUES (1, \"a\"), (2, \"b\");
		SET timestamp = 1700000000.25;
		INSERT INTO vt.imp VALUES (9, \"gone\"); DELETE FROM vt.imp WHERE id = 9;
		INSERT INTO vt.dec (id, v) VALUES (9, \"gone\"); DELETE FROM vt.dec WHERE id = 9;
		INSERT INTO vt.nopk VALUES (9, \"gone\"); DELETE FROM vt.nopk WHERE a = 9;
		CREATE TABLE vt.uq (id INT PRIMARY KEY, u INT, UNIQUE KEY (u)) WITH SYSTEM VERSIONING;
		INSERT INTO vt.uq VALUES (2, 3); DELETE FROM vt.uq WHERE id = 2;
		SET timestamp = DEFAULT;
		INSERT INTO vt.uq VALUES (1, 3)" &&
	test "$(src_sql "SELECT COUNT(*) FROM vt.imp FOR SYSTEM_TIME ALL")" = 5 &&
	test "$(src_sql "SELECT COUNT(*) FROM vt.imp FOR SYSTEM_TIME ALL WHERE row_start = row_end")" = 1 &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases vt 2>bootstrap.err >copy.jsonl &&
	srdf-seal --dir "$S" --key-file key <copy.jsonl 2>>seal.err &&
	deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	rows src_sql >src.rows && rows dst_sql >dst.rows && test_cmp src.rows dst.rows &&
	test "$(dst_sql "SELECT TABLE_TYPE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = \"vt\" AND TABLE_NAME = \"dec\"")" = "SYSTEM VERSIONED"
'

test_expect_success 'the copy holds the source'"'"'s history, each version with its period' '
	! grep -q "system-versioned" bootstrap.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM vt.imp FOR SYSTEM_TIME ALL")" = 5 &&
	test "$(dst_sql "SELECT COUNT(*) FROM vt.dec FOR SYSTEM_TIME ALL WHERE s = e")" = 1 &&
	q="SELECT id, u, row_start, row_end FROM vt.uq FOR SYSTEM_TIME ALL ORDER BY id" &&
	src_sql "$q" >src.uq && dst_sql "$q" >dst.uq && test_cmp src.uq dst.uq &&
	history_equal
'

test_expect_success 'inserts, updates, deletes, a transaction that folds, DELETE HISTORY: the target has the source'"'"'s current rows' '
	src_sql "INSERT INTO vt.imp VALUES (10, \"j\"), (11, \"k\");
		UPDATE vt.imp SET v = \"b2\" WHERE id = 2; DELETE FROM vt.imp WHERE id = 1;
		START TRANSACTION;
		INSERT INTO vt.imp VALUES (20, \"t\"); UPDATE vt.imp SET v = \"t2\" WHERE id = 20;
		UPDATE vt.imp SET v = \"t3\" WHERE id = 20; DELETE FROM vt.imp WHERE id = 11;
		INSERT INTO vt.imp VALUES (21, \"gone\"); DELETE FROM vt.imp WHERE id = 21;
		UPDATE vt.imp SET v = \"j2\" WHERE id = 10;
		COMMIT;
		START TRANSACTION;
		UPDATE vt.dec SET v = \"c1\" WHERE id = 2; UPDATE vt.dec SET v = \"c2\" WHERE id = 2;
		UPDATE vt.nopk SET b = \"w1\" WHERE a = 4;
		COMMIT;
		INSERT INTO vt.dec (id, v) VALUES (10, \"j\");
		UPDATE vt.dec SET v = \"b2\" WHERE id = 2; DELETE FROM vt.dec WHERE id = 1;
		INSERT INTO vt.nopk VALUES (4, \"w\"); UPDATE vt.nopk SET b = \"y2\" WHERE a = 2 LIMIT 1;
		DELETE FROM vt.nopk WHERE a = 3;
		UPDATE vt.nopk SET b = \"dup\" WHERE a = 2;
		DELETE HISTORY FROM vt.imp;
		SET @mid = (SELECT MIN(e) FROM vt.dec FOR SYSTEM_TIME ALL WHERE id = 2);
		DELETE HISTORY FROM vt.dec BEFORE SYSTEM_TIME @mid + INTERVAL 1 MICROSECOND" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	rows src_sql >src.rows && rows dst_sql >dst.rows && test_cmp src.rows dst.rows &&
	grep -q "^nopk	2	dup$" dst.rows && grep -q "^imp	20	t3$" dst.rows
'

test_expect_success 'the target holds the source'"'"'s history: every version with the source'"'"'s period, CHECKSUM TABLE equal' '
	test "$(src_sql "SELECT COUNT(*) FROM vt.imp FOR SYSTEM_TIME ALL")" = 3 &&
	test "$(src_sql "SELECT COUNT(*) FROM vt.dec FOR SYSTEM_TIME ALL WHERE id = 2")" = 3 &&
	test "$(src_sql "SELECT COUNT(*) FROM vt.dec FOR SYSTEM_TIME ALL WHERE id = 1")" = 1 &&
	test "$(src_sql "SELECT COUNT(*) FROM vt.nopk FOR SYSTEM_TIME ALL WHERE a = 2")" = 5 &&
	history_equal
'

test_expect_success 'a table made versioned while replicating: its changes apply' '
	src_sql "ALTER TABLE vt.late ADD SYSTEM VERSIONING;
		UPDATE vt.late SET v = \"a2\" WHERE id = 1; DELETE FROM vt.late WHERE id = 2;
		INSERT INTO vt.late VALUES (3, \"c\")" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	rows src_sql >src.rows && rows dst_sql >dst.rows && test_cmp src.rows dst.rows
'

test_expect_success 'srdf-verify compares their current rows: equal, then a row changed on the target is found' '
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases vt --json >verify.json &&
	test "$(jq -r "[.tables[] | .status] | unique | join(\",\")" verify.json)" = equal &&
	test "$(jq -r ".tables | length" verify.json)" = 5 &&
	dst_sql "SET @srdf_apply = 1; UPDATE vt.nopk SET b = \"drift\" WHERE a = 4; UPDATE vt.dec SET v = \"drift\" WHERE id = 10" &&
	test_expect_code 1 srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases vt --wait-seconds 1 --json >drift.json &&
	test "$(jq -r "[.tables[] | select(.status != \"equal\") | .table] | join(\",\")" drift.json)" = "dec,nopk" &&
	test "$(jq -c "[.tables[] | select(.table == \"dec\") | .changed[]]" drift.json)" = "[{\"id\":10}]"
'

test_expect_success 'a row that one REPLACE wrote and replaced at one instant (keys equal under the collation): applied, current rows equal' '
	src_sql "CREATE TABLE vt.ci (id VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT) WITH SYSTEM VERSIONING;
		INSERT INTO vt.ci VALUES (\"a\", 0), (\"b\", 0)" &&
	src_sql "REPLACE INTO vt.ci VALUES (\"A\", 1), (\"ä\", 2), (\"b\", 3)" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	src_sql "SELECT id, v FROM vt.ci ORDER BY id" >src.ci &&
	dst_sql "SELECT id, v FROM vt.ci ORDER BY id" >dst.ci &&
	test_cmp src.ci dst.ci
'

test_expect_success 'a versioned row whose STORED generated column the source left stale (MariaDB): found by its other columns, its later updates applied' '
	src_sql "CREATE TABLE vt.g (id INT PRIMARY KEY, n INT, gs VARCHAR(40) AS (CONCAT(\"n=\", n)) STORED) WITH SYSTEM VERSIONING;
		CREATE TABLE vt.o (id INT PRIMARY KEY);
		CREATE TRIGGER vt.g_bu BEFORE UPDATE ON vt.g FOR EACH ROW SET NEW.n = IFNULL(NEW.n, 0) + 1000;
		INSERT INTO vt.g (id, n) VALUES (1, 1), (2, 2), (3, 3); INSERT INTO vt.o VALUES (1)" &&
	seal_new && deliver && apply_once &&
	src_sql "UPDATE vt.o, vt.g SET vt.g.n = 5 WHERE vt.o.id = 1" &&
	test "$(src_sql "SELECT COUNT(*) FROM vt.g WHERE gs <> CONCAT(\"n=\", n)")" -gt 0 &&
	src_sql "UPDATE vt.g SET n = 7 WHERE id IN (2, 3); DELETE FROM vt.g WHERE id = 1" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	q="SELECT id, n FROM vt.g FOR SYSTEM_TIME ALL ORDER BY id, row_end" &&
	src_sql "$q" >src.g && dst_sql "$q" >dst.g && test_cmp src.g dst.g
'

test_expect_success 'an empty GEOMETRY (a lax source, NOT NULL) in a versioned table: inserted, updated, its history written' '
	src_sql "CREATE TABLE vt.geo (id INT PRIMARY KEY, n INT, p POINT NOT NULL) WITH SYSTEM VERSIONING" &&
	seal_new && deliver && apply_once &&
	src_sql "SET SESSION sql_mode = \"\"; INSERT INTO vt.geo (id, n) VALUES (1, 1), (2, 2);
		UPDATE vt.geo SET n = 3 WHERE id = 1; DELETE FROM vt.geo WHERE id = 2" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	q="SELECT id, n, LENGTH(p), row_start, row_end FROM vt.geo FOR SYSTEM_TIME ALL ORDER BY id, row_end" &&
	src_sql "$q" >src.geo && dst_sql "$q" >dst.geo && test_cmp src.geo dst.geo &&
	checksum_both vt.geo
'

test_done
