#!/bin/bash
test_description='srdf-apply: every column type and extreme value, through capture, dedup and seal, with and without a primary key'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# The torture table (t/torture.sql, as t/1001 and t/8001 use it), twice: tt.torture with a
# primary key (net delta), tt.nopk without (rows found by all values:
# FLOAT, DOUBLE, BIT, GEOMETRY, JSON, binary strings must compare equal).
cp "$top/t/torture.sql" torture.sql

test_expect_success 'setup: schema on both sides through DDL wagons' '
	apply_setup &&
	sed -n "/^CREATE DATABASE/,/^) DEFAULT CHARSET/p" torture.sql >schema.sql &&
	src_sql <schema.sql &&
	src_sql "CREATE TABLE tt.nopk LIKE tt.torture; ALTER TABLE tt.nopk DROP PRIMARY KEY" &&
	seal_new && deliver && apply_once &&
	test "$(dst_sql "SHOW TABLES FROM tt" | wc -l)" = 2
'

test_expect_success 'the torture rows, updates and deletes, applied: equal' '
	sed "1,/^) DEFAULT CHARSET/d" torture.sql >rows.sql &&
	src_sql <rows.sql &&
	sed "s/tt\.torture/tt.nopk/g" rows.sql | src_sql &&
	seal_new && deliver && apply_once &&
	checksum_both tt.torture tt.nopk
'

test_expect_success 'updates and deletes of the rows without a key find them by every value' '
	src_sql "SET time_zone = \"+00:00\";
		UPDATE tt.nopk SET vc = CONCAT(vc, \"!\") WHERE id IN (1, 3, 6);
		UPDATE tt.nopk SET f = f * 2, dbl = -dbl, b9 = b9 ^ 1 WHERE id = 6;
		DELETE FROM tt.nopk WHERE id = 4;
		UPDATE tt.torture SET f = f * 2, g = ST_GeomFromText(\"POINT(1 1)\") WHERE id = 6;
		DELETE FROM tt.torture WHERE id = 2" &&
	seal_new && deliver && apply_once &&
	checksum_both tt.torture tt.nopk &&
	test -z "$(grep "touched 0 of" apply.err)"
'

test_expect_success 'a latin1 DDL and its data keep their bytes' '
	printf "SET NAMES latin1; CREATE TABLE tt.l1 (id INT PRIMARY KEY, v VARCHAR(10) CHARACTER SET latin1 DEFAULT \x27\xe9t\xe9\x27) DEFAULT CHARSET=latin1; INSERT INTO tt.l1 (id) VALUES (1); INSERT INTO tt.l1 VALUES (2, \x27\xe0\x27);" >l1.sql &&
	src_sql <l1.sql &&
	seal_new && deliver && apply_once &&
	checksum_both tt.l1 &&
	test "$(dst_sql "SELECT HEX(v) FROM tt.l1 WHERE id = 1")" = E974E9
'

test_expect_success 'a 10 MiB BLOB of every byte value, under the target'"'"'s default max_allowed_packet (16 MiB): applied byte for byte' '
	test "$(dst_sql "SELECT @@max_allowed_packet")" = 16777216 &&
	src_sql "CREATE TABLE tt.blobs (id INT PRIMARY KEY, b LONGBLOB, t VARCHAR(300) CHARACTER SET latin1);
		SET @all = (SELECT GROUP_CONCAT(CHAR(seq USING binary) ORDER BY seq SEPARATOR \"\") FROM tt.seq_0_to_255);
		INSERT INTO tt.blobs VALUES (1, REPEAT(@all, 40960), NULL), (2, RANDOM_BYTES(1024), CONVERT(@all USING latin1)),
			(3, @all, CONVERT(REPEAT(\"\\\\\x27\", 10) USING latin1)), (4, \"\", \"\")" &&
	seal_new && deliver && apply_once &&
	checksum_both tt.blobs &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, LENGTH(b), MD5(b), MD5(t)) FROM tt.blobs")" = \
		"$(src_sql "SELECT GROUP_CONCAT(id, LENGTH(b), MD5(b), MD5(t)) FROM tt.blobs")"
'

test_expect_success 'what only a lax sql_mode on the source stores (invalid and zero dates, an ENUM'"'"'s error value), with and without a key: applied, equal; the session stays strict otherwise' '
	src_sql "CREATE TABLE tt.lax (id INT PRIMARY KEY, d DATE, dt DATETIME, e ENUM(\"a\",\"b\") NOT NULL,
			e2 ENUM(\"\",\"x\"), s VARCHAR(5));
		CREATE TABLE tt.laxnk (d DATE, e ENUM(\"a\",\"b\"), n INT)" &&
	seal_new && deliver && apply_once &&
	src_sql "SET SESSION sql_mode = \"ALLOW_INVALID_DATES\";
		INSERT INTO tt.lax VALUES (1, \"2004-04-31\", \"2004-02-30 10:00:00\", \"a\", \"\", \"x\");
		SET SESSION sql_mode = \"\";
		INSERT INTO tt.lax VALUES (2, \"0000-00-00\", \"2004-00-00 00:00:00\", \"zzz\", \"x\", \"toolong\"),
			(3, NULL, NULL, \"b\", NULL, \"ok\"), (4, NULL, NULL, \"nope\", \"\", NULL);
		INSERT INTO tt.laxnk VALUES (\"2004-02-30\", \"zzz\", 1), (\"2004-02-30\", \"a\", 2), (NULL, \"zzz\", 3);
		UPDATE tt.lax SET e = \"bad\" WHERE id = 3;
		UPDATE tt.laxnk SET n = n + 10 WHERE n = 1; DELETE FROM tt.laxnk WHERE n = 3" &&
	test "$(src_sql "SELECT GROUP_CONCAT(id, \":\", e + 0 ORDER BY id) FROM tt.lax")" = "1:1,2:0,3:0,4:0" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tt.lax tt.laxnk &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", e + 0, \":\", d ORDER BY id) FROM tt.lax WHERE id < 3")" = "1:1:2004-04-31,2:0:0000-00-00" &&
	src_sql "SET SESSION sql_mode = \"\"; UPDATE tt.lax SET dt = \"2004-04-31 00:00:00\", e = \"a\" WHERE id = 2" &&
	seal_new && deliver && apply_once &&
	checksum_both tt.lax tt.laxnk
'

test_expect_success 'FLOAT at its limits (+-FLT_MAX, denormals, -0), as a key and in a row without one: inserted, updated, deleted, equal' '
	src_sql "CREATE TABLE tt.flk (f FLOAT PRIMARY KEY, n INT);
		CREATE TABLE tt.fln (f FLOAT, n INT)" &&
	seal_new && deliver && apply_once &&
	src_sql "INSERT INTO tt.flk VALUES (-3.402823466E+38, 1), (3.402823466E+38, 2),
			(1.401298464e-45, 3), (1.17549435e-38, 4), (-1e-50, 5), (0.1, 6);
		INSERT INTO tt.fln SELECT * FROM tt.flk" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tt.flk tt.fln &&
	src_sql "UPDATE tt.flk SET n = n + 10; DELETE FROM tt.flk WHERE n = 11;
		UPDATE tt.flk SET f = -f WHERE n = 12;
		UPDATE tt.fln SET n = n + 10 WHERE n < 6; DELETE FROM tt.fln WHERE n = 12;
		UPDATE tt.fln SET f = 3.402823466E+38 WHERE n = 6" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tt.flk tt.fln &&
	src_sql "DELETE FROM tt.flk; DELETE FROM tt.fln" &&
	seal_new && deliver && apply_once &&
	test "$(dst_sql "SELECT COUNT(*) FROM tt.flk") $(dst_sql "SELECT COUNT(*) FROM tt.fln")" = "0 0" &&
	test -z "$(grep "touched 0 of" apply.err)"
'

test_expect_success 'an empty GEOMETRY (a NOT NULL one a lax source left without a value), with and without a key: inserted, updated, deleted, equal' '
	src_sql "CREATE TABLE tt.geo (id INT PRIMARY KEY, p POINT NOT NULL, g GEOMETRY NOT NULL,
			n GEOMETRY NULL, v INT);
		CREATE TABLE tt.geonk (p POINT NOT NULL, v INT)" &&
	seal_new && deliver && apply_once &&
	src_sql "SET SESSION sql_mode = \"\";
		INSERT INTO tt.geo (id, v) VALUES (1, 1);
		INSERT INTO tt.geo (id, p, v) VALUES (2, POINT(1, 2), 2), (3, POINT(3, 4), 3);
		INSERT IGNORE INTO tt.geo SELECT 4, NULL, POINT(5, 6), NULL, 4;
		INSERT INTO tt.geonk (v) VALUES (1), (2);
		INSERT IGNORE INTO tt.geonk SELECT NULL, 3;
		INSERT INTO tt.geonk VALUES (POINT(0, 0), 4)" &&
	test "$(src_sql "SELECT GROUP_CONCAT(id, \":\", LENGTH(p), \":\", LENGTH(g) ORDER BY id) FROM tt.geo")" = "1:0:0,2:25:0,3:25:0,4:0:25" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tt.geo tt.geonk &&
	src_sql "UPDATE tt.geo SET v = v + 10; UPDATE tt.geo SET id = 5 WHERE id = 1;
		UPDATE tt.geonk SET v = v + 10 WHERE v IN (1, 4); DELETE FROM tt.geonk WHERE v = 2;
		DELETE FROM tt.geo WHERE id = 3" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tt.geo tt.geonk &&
	test -z "$(grep "touched 0 of" apply.err)"
'

test_expect_success 'an empty GEOMETRY in a table with a trigger (where writing the column by its name is NULL): applied, equal, the session strict after it' '
	src_sql "CREATE TABLE tt.geotr (id VARCHAR(20) PRIMARY KEY, n INT, p POINT NOT NULL);
		CREATE TABLE tt.geotr_log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40));
		CREATE TRIGGER tt.geotr_bu BEFORE UPDATE ON tt.geotr FOR EACH ROW SET NEW.n = IFNULL(NEW.n, 0) + 1000" &&
	seal_new && deliver && apply_once &&
	src_sql "SET SESSION sql_mode = \"\";
		INSERT IGNORE INTO tt.geotr (id) VALUES (\"a\");
		INSERT INTO tt.geotr (id, n) VALUES (\"b\", 1), (\"c\", 2);
		INSERT INTO tt.geotr VALUES (\"d\", 3, POINT(1, 1));
		UPDATE tt.geotr SET id = \"e\" WHERE id = \"b\"" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tt.geotr &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", IFNULL(n, \"-\"), \":\", LENGTH(p) ORDER BY id) FROM tt.geotr")" = "a:-:0,c:2:0,d:3:25,e:1001:0" &&
	src_sql "INSERT INTO tt.geotr_log (what) VALUES (\"x\")" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)"
'

test_expect_success 'a generated column whose expression a lax source evaluated with a warning (12abc * 2): applied again at once without strict mode, equal; strict again after' '
	src_sql "CREATE TABLE tt.gx (id INT PRIMARY KEY, s VARCHAR(10), v INT AS (s * 2) VIRTUAL, w INT AS (s + 1) STORED)" &&
	seal_new && deliver && apply_once &&
	src_sql "SET SESSION sql_mode = \"\"; INSERT INTO tt.gx (id, s) VALUES (1, \"12abc\"), (2, \"7\"); UPDATE tt.gx SET s = \"x9\" WHERE id = 2" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both tt.gx &&
	grep -q "on tt.gx: Truncated incorrect DOUBLE value: (value withheld) (error 1292): a generated column.s expression.*applying the wagon again so" apply.err &&
	! grep -q 12abc apply.err &&
	src_sql "INSERT INTO tt.gx (id, s) VALUES (3, \"3\")" &&
	dst_sql "ALTER TABLE tt.geotr MODIFY id VARCHAR(2)" &&
	src_sql "INSERT INTO tt.geotr (id, n, p) VALUES (\"long id\", 1, POINT(0, 0))" &&
	seal_new && deliver &&
	test_expect_code 65 apply_once --retry none &&
	grep -q "Data too long for column .id." apply.err &&
	dst_sql "ALTER TABLE tt.geotr MODIFY id VARCHAR(20)" &&
	apply_once && checksum_both tt.gx tt.geotr
'

test_done
