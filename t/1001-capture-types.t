#!/bin/bash
test_description='srdf-capture: every column type, extreme values, lossless'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

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

test_expect_success 'the torture table is written on the source' '
	src_sql <torture.sql &&
	test "$(src_sql "select count(*) from tt.torture")" = 6
'

test_expect_success 'srdf-capture reads it to the end of the binlog' '
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "" --until-end \
		>records 2>err &&
	jq -c . records >/dev/null &&
	test "$(jq -r "select(.type==\"insert\") | .table" records | sort -u)" = torture
'

test_expect_success 'extreme integers are exact' '
	jq -c "select(.type==\"insert\" and .after.id==1) | .after | [.ti,.tiu,.si,.siu,.mi,.miu,.i,.iu,.bi,.biu]" records >actual &&
	echo "[-128,255,-32768,65535,-8388608,16777215,-2147483648,4294967295,\"-9223372036854775808\",\"18446744073709551615\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'DECIMAL, TIME, zero dates and YEAR 0 are exact text' '
	jq -c "select(.type==\"insert\" and .after.id==1) | .after | [.d65,.d10,.d52,.d3818,.y,.dt,.t0,.t1,.t3,.t6,.dt0,.dt2,.dt6,.ts0,.ts4,.ts6]" records >actual &&
	echo "[\"-99999999999999999999999999999999999.999999999999999999999999999999\",\"-9999999999\",\"999.99\",\"-12345678901234567890.123456789012345678\",0,\"0000-00-00\",\"-838:59:59\",\"-838:59:59.9\",\"-00:00:00.001\",\"-838:59:59.999999\",\"0000-00-00 00:00:00\",\"9999-12-31 23:59:59.99\",\"1000-01-01 00:00:00.000001\",\"1970-01-01 00:00:01\",\"2038-01-19 03:14:07.9999\",\"2001-02-03 04:05:06.000007\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'NULL and empty string stay distinct, BINARY padding restored' '
	jq -c "select(.type==\"insert\" and .after.id==4) | .after | [.c10,.vc,.bn,.tx]" records >actual &&
	echo "[\"trail\",\"trail  \",{\"b64\":\"QQAAAAAAAAA=\"},null]" >expect &&
	test_cmp expect actual &&
	jq -c "select(.type==\"insert\" and .after.id==3) | .after | [.c10,.vb,.tl]" records >actual &&
	echo "[\"\",{\"b64\":\"\"},\"\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'text in utf8mb4 is a string, latin1 non-ASCII is base64' '
	jq -c "select(.type==\"insert\" and .after.id==1) | .after | [.c10,.cl,.e,.el,.s]" records >actual &&
	echo "[\"a😀b\",{\"b64\":\"6Q==\"},\"ç\",{\"b64\":\"6Q==\"},\"x,ü\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'the primary key is named, updates carry both images' '
	jq -c "select(.type==\"update\" and .before.id==2) | [.pk, .before.c10, .after.c10]" records >actual &&
	echo "[[\"id\"],null,\"x\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'replayed on the target, the records give an equal table' '
	rec2sql <records >replay.sql &&
	dst_sql <replay.sql &&
	checksum_both tt.torture
'

test_done
