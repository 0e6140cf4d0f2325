#!/bin/bash
test_description='srdf-apply: every column type and extreme value, through capture, dedup and seal, with and without a primary key'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# The torture table of t/1001-capture-types.t, twice: tt.torture with a
# primary key (net delta), tt.nopk without (rows found by all values:
# FLOAT, DOUBLE, BIT, GEOMETRY, JSON, binary strings must compare equal).
cat >torture.sql <<'SQL'
CREATE DATABASE tt;
CREATE TABLE tt.torture (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  d65 DECIMAL(65,30), d10 DECIMAL(10,0), d52 DECIMAL(5,2) UNSIGNED, d3818 DECIMAL(38,18),
  f FLOAT, dbl DOUBLE,
  b1 BIT(1), b9 BIT(9), b64 BIT(64), y YEAR, dt DATE,
  t0 TIME, t1 TIME(1), t3 TIME(3), t6 TIME(6),
  dt0 DATETIME, dt2 DATETIME(2), dt6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts4 TIMESTAMP(4) NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  c10 CHAR(10), c255 CHAR(255), vc VARCHAR(300), tx TEXT, mt MEDIUMTEXT, lt LONGTEXT,
  cl CHAR(10) CHARACTER SET latin1, vl VARCHAR(50) CHARACTER SET latin1, tl TEXT CHARACTER SET latin1,
  bn BINARY(8), vb VARBINARY(300), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
  e ENUM('a','b','ç','d d'), el ENUM('x','é') CHARACTER SET latin1,
  s SET('x','y','z','ü'), j JSON, g GEOMETRY, ip INET6, u UUID
) DEFAULT CHARSET=utf8mb4;
SET time_zone='+00:00';
SET sql_mode='NO_ENGINE_SUBSTITUTION';
INSERT INTO tt.torture VALUES (1,
  -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
  -9223372036854775808, 18446744073709551615,
  '-99999999999999999999999999999999999.999999999999999999999999999999', -9999999999, 999.99,
  '-12345678901234567890.123456789012345678',
  -3.40282e38, -1.7976931348623157e308,
  b'1', b'100000001', b'1111111111111111111111111111111111111111111111111111111111111111', 0, '0000-00-00',
  '-838:59:59', '-838:59:59.9', '-00:00:00.001', '-838:59:59.999999',
  '0000-00-00 00:00:00', '9999-12-31 23:59:59.99', '1000-01-01 00:00:00.000001',
  '1970-01-01 00:00:01', '2038-01-19 03:14:07.9999', '2001-02-03 04:05:06.000007',
  'a😀b', REPEAT('é', 255), CONCAT('x', CHAR(0), 'y', '\t\n\r"\\'), REPEAT('日本', 1000), REPEAT('m', 70000), REPEAT('L', 100000),
  X'E9', X'C3A9E9FF00', X'00FF',
  X'01', X'000102FF', X'', X'00000000', REPEAT(X'00FF', 40000), REPEAT(X'AB', 300000),
  'ç', 'é', 'x,ü', '{"k": [1, 2.5, "ü", null]}', ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'),
  'fe80::1:2', '123e4567-e89b-12d3-a456-426655440000');
INSERT INTO tt.torture (id) VALUES (2);
INSERT INTO tt.torture VALUES (3,
  127, 0, 32767, 0, 8388607, 0, 2147483647, 0,
  9223372036854775807, 0,
  '99999999999999999999999999999999999.999999999999999999999999999999', 0, 0.01,
  '0.000000000000000001',
  1.17549435e-38, 2.2250738585072014e-308,
  b'0', b'0', b'0', 2155, '9999-12-31',
  '838:59:59', '00:00:00.1', '12:34:56.789', '838:59:59.999999',
  '1000-01-01 00:00:00', '2024-02-29 12:00:00.5', '2024-02-29 12:00:00.123456',
  '1999-12-31 23:59:59', '2020-06-15 10:20:30.0001', '2000-01-01 00:00:00.5',
  '', '', '', '', '', '',
  '', '', '',
  X'', X'', X'', X'', X'', X'',
  'd d', 'x', '', '[]', ST_GeomFromText('POINT(-1.5 2.25)'),
  '::', '00000000-0000-0000-0000-000000000000');
INSERT INTO tt.torture (id, f, dbl, d65, y, c10, vc, bn) VALUES
  (4, 0.1, 0.1, '-0.000000000000000000000000000001', 1901, 'trail  ', 'trail  ', X'4100'),
  (5, -0, 1e-320, '1', 2000, ' lead', ' lead', 'A'),
  (6, 3.14159274, 3.141592653589793, '-1', 1999, NULL, NULL, NULL);
UPDATE tt.torture SET ti = ti - 1, vc = CONCAT(vc, '+'), lb = REPEAT(X'CD', 1000), u = UUID() WHERE id = 3;
UPDATE tt.torture SET biu = 1, bi = -1, e = 'b', s = 'y,z', tx = NULL, g = NULL, j = NULL WHERE id = 1;
UPDATE tt.torture SET c10 = 'x' WHERE id = 2;
DELETE FROM tt.torture WHERE id = 5;
INSERT INTO tt.torture (id, s, e) VALUES (7, 'x,y,z,ü', 'ç');
SQL

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

test_done
