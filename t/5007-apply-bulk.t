#!/bin/bash
test_description='srdf-apply: inserts as array-bound bulk INSERT keep every value exact, and fall back to INSERT when the target refuses it or a row does not fit'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# bulk inserts are the only prepared statements srdf-apply executes
loads() {
	dst_sql "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | cut -f 2
}

# 600 rows of the types a bulk insert carries, with the bytes LOAD DATA treated
# specially (tab, newline, backslash, \N, NUL, quotes, ^Z, CR), NULLs,
# empty strings, 4-byte UTF-8, extreme numbers, zero and negative times;
# a generated column.  A second table goes by INSERT: its nullable
# TIMESTAMP holds NULLs, its latin1 strings travel as bytes (_binary'...').
rows_sql() { # FROM TO
	cat <<EOF
INSERT INTO bk.t (id, ti, bi, de, c, vc, tx, d, dt, ts, tm)
SELECT seq,
	CASE seq % 3 WHEN 0 THEN -128 WHEN 1 THEN 127 ELSE NULL END,
	CASE seq % 4 WHEN 0 THEN 18446744073709551615 WHEN 1 THEN 0 ELSE seq * 1000003 END,
	CASE seq % 3 WHEN 0 THEN -12345678901234567890.0123456789 WHEN 1 THEN 0.0000000001 ELSE NULL END,
	CASE seq % 5 WHEN 0 THEN '' WHEN 1 THEN 'N' WHEN 2 THEN '\\\\N' WHEN 3 THEN 'NULL' ELSE NULL END,
	CONCAT('a\tb\nc\\\\d\\'e"f', CHAR(0), 'g', CHAR(26), 'h', CHAR(13), '\\\\', seq),
	CASE seq % 4 WHEN 0 THEN REPEAT('\\\\', seq % 7) WHEN 1 THEN CONCAT('\\\\N', CHAR(9)) WHEN 2 THEN '' ELSE CONCAT('😀 é ß ', seq) END,
	CASE seq % 3 WHEN 0 THEN '0000-00-00' WHEN 1 THEN '9999-12-31' ELSE NULL END,
	CASE seq % 2 WHEN 0 THEN '1000-01-01 00:00:00.000001' ELSE '2038-01-19 03:14:08.999999' END,
	FROM_UNIXTIME(1 + seq),
	CASE seq % 3 WHEN 0 THEN '-838:59:59.000' WHEN 1 THEN '838:59:59.999' ELSE NULL END
FROM bk.seq_$1_to_$2;
INSERT INTO bk.n (id, ts, l1) SELECT seq, IF(seq % 2, NULL, FROM_UNIXTIME(seq)),
	CONVERT(CONCAT('é', seq, CHAR(9)) USING latin1) FROM bk.seq_$1_to_$2;
EOF
}

test_expect_success 'setup: tables of the types a bulk insert carries' '
	apply_setup &&
	src_sql "CREATE DATABASE bk;
		CREATE TABLE bk.t (id INT PRIMARY KEY, ti TINYINT, bi BIGINT UNSIGNED,
			de DECIMAL(30,10), c CHAR(10), vc VARCHAR(100), tx TEXT,
			d DATE, dt DATETIME(6),
			ts TIMESTAMP(6) NOT NULL DEFAULT 0, tm TIME(3),
			g INT AS (id * 2) VIRTUAL, KEY (ti)) DEFAULT CHARSET=utf8mb4;
		CREATE TABLE bk.n (id INT PRIMARY KEY, ts TIMESTAMP NULL,
			l1 VARCHAR(20) CHARACTER SET latin1)" &&
	seal_new && deliver && apply_once &&
	test "$(dst_sql "SHOW TABLES FROM bk" | wc -l)" = 2
'

test_expect_success 'inserts by bulk insert: equal' '
	n0=$(loads) &&
	rows_sql 1 600 | src_sql &&
	seal_new && deliver && apply_once &&
	checksum_both bk.t bk.n &&
	test "$(loads)" -gt "$n0" &&
	test "$(dst_sql "SELECT COUNT(*) FROM bk.t WHERE c IS NULL")" = 120 &&
	test "$(dst_sql "SELECT HEX(vc) FROM bk.t WHERE id = 7")" = "$(src_sql "SELECT HEX(vc) FROM bk.t WHERE id = 7")"
'

test_expect_success 'updated rows (delete, then the after-images loaded): equal' '
	src_sql "UPDATE bk.t SET vc = CONCAT(vc, \"\\\\t\"), de = -de, bi = 1 WHERE id <= 400;
		DELETE FROM bk.t WHERE id > 550" &&
	seal_new && deliver && apply_once &&
	checksum_both bk.t bk.n
'

test_expect_success 'a duplicate key fails the wagon as INSERT would, nothing of it applied' '
	dst_sql "INSERT INTO bk.t (id, ts) VALUES (700, FROM_UNIXTIME(5))" &&
	rows_sql 601 900 | src_sql &&
	seal_new && deliver &&
	test_expect_code 65 apply_once --retry none &&
	grep -q "insert on bk.t: Duplicate entry (value withheld) for key .PRIMARY." apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM bk.t")" = 551 &&
	dst_sql "DELETE FROM bk.t WHERE id = 700" &&
	apply_once &&
	checksum_both bk.t bk.n
'

test_expect_success 'a value the target cannot hold: the error of INSERT, in strict mode' '
	dst_sql "ALTER TABLE bk.t MODIFY tx TINYTEXT" &&
	rows_sql 901 1200 | src_sql &&
	src_sql "UPDATE bk.t SET tx = REPEAT(\"x\", 300) WHERE id = 1000" &&
	seal_new && deliver &&
	test_expect_code 65 apply_once --retry none &&
	grep -q "insert on bk.t: Data too long for column .tx." apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM bk.t")" = 850 &&
	dst_sql "ALTER TABLE bk.t MODIFY tx TEXT" &&
	apply_once &&
	checksum_both bk.t bk.n
'

test_expect_success 'a target that refuses prepared statements: a notice, then multi-row INSERT' '
	dst_sql "SET GLOBAL max_prepared_stmt_count = 0" &&
	rows_sql 1201 1500 | src_sql &&
	seal_new && deliver &&
	n0=$(loads) &&
	apply_once &&
	dst_sql "SET GLOBAL max_prepared_stmt_count = 16382" &&
	checksum_both bk.t bk.n &&
	test "$(loads)" = "$n0" &&
	grep -q "the target refuses array-bound prepared statements" apply.err
'

rollbacks() {
	dst_sql "SHOW GLOBAL STATUS LIKE 'Com_rollback_to_savepoint'" | cut -f 2
}

# Updated rows go by a bulk REPLACE (not deleted first): rows that
# swap UNIQUE values, a parent of an ON DELETE CASCADE key whose
# children must stay, deletes and inserts in the same group.
test_expect_success 'UNIQUE swaps and a cascading parent, replaced: equal' '
	src_sql "CREATE TABLE bk.u (id INT PRIMARY KEY, u INT NOT NULL, v VARCHAR(20),
			UNIQUE KEY (u));
		CREATE TABLE bk.c (id INT PRIMARY KEY, p INT NOT NULL,
			FOREIGN KEY (p) REFERENCES bk.u (id) ON DELETE CASCADE);
		INSERT INTO bk.u SELECT seq, seq, CONCAT(\"v\", seq) FROM bk.seq_1_to_400;
		INSERT INTO bk.c SELECT seq, seq FROM bk.seq_1_to_400" &&
	seal_new && deliver && apply_once &&
	checksum_both bk.u bk.c &&
	r0=$(rollbacks) &&
	src_sql "BEGIN;
		UPDATE bk.u SET u = -u;
		UPDATE bk.u SET u = IF(id % 2, id + 1, id - 1), v = CONCAT(v, \"s\") WHERE id <= 300;
		UPDATE bk.u SET u = -u WHERE u < 0;
		DELETE FROM bk.u WHERE id = 400;
		INSERT INTO bk.u VALUES (401, 1000, \"new\");
		COMMIT" &&
	seal_new && deliver && apply_once &&
	checksum_both bk.u bk.c &&
	test "$(dst_sql "SELECT COUNT(*) FROM bk.c")" = 399 &&
	test "$(rollbacks)" = "$r0"
'

test_expect_success 'a row the target lacks: DELETE and INSERT after all, with the warning' '
	dst_sql "DELETE FROM bk.u WHERE id = 5" &&
	r0=$(rollbacks) &&
	src_sql "UPDATE bk.u SET v = CONCAT(v, \"t\") WHERE id <= 300" &&
	seal_new && deliver && apply_once &&
	checksum_both bk.u &&
	test "$(rollbacks)" -gt "$r0" &&
	grep -q "delete on bk.u touched 299 of 300 rows" apply.err
'

test_expect_success '--no-bulk-load: no bulk insert' '
	rows_sql 1501 1800 | src_sql &&
	seal_new && deliver &&
	n0=$(loads) &&
	apply_once --no-bulk-load &&
	test "$(loads)" = "$n0" &&
	checksum_both bk.t bk.n
'

test_done
