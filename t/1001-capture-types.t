#!/bin/bash
test_description='srdf-capture: every column type, extreme values, lossless'
. "$(dirname "$0")/lib.sh"
srdf_servers_start


test_expect_success 'the torture table is written on the source' '
	src_sql <"$top/t/torture.sql" &&
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

test_expect_success 'a FLOAT is the shortest decimal that reads back as it, never beyond FLT_MAX: its limits, denormals, -0' '
	src_sql "CREATE TABLE tt.fl (id INT PRIMARY KEY, f FLOAT);
		INSERT INTO tt.fl VALUES (1, -3.402823466E+38), (2, 3.402823466E+38),
			(3, 1.401298464e-45), (4, 1.17549435e-38), (5, -1e-50), (6, 0.1),
			(7, 3.14159274), (8, NULL)" &&
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "" --until-end \
		>records 2>err &&
	grep "\"table\":\"fl\"" records | grep -o "\"f\":[^,}]*" >actual &&
	cat >expect <<-\EOF &&
	"f":-3.4028234e+38
	"f":3.4028234e+38
	"f":1e-45
	"f":1.1754944e-38
	"f":-0
	"f":0.1
	"f":3.1415927
	"f":null
	EOF
	test_cmp expect actual &&
	dst_sql "CREATE DATABASE IF NOT EXISTS tt; CREATE TABLE tt.fl (id INT PRIMARY KEY, f FLOAT)" &&
	sed "s/\"f\"://; =" actual | paste -d, - - |
		sed "s/^/SET sql_mode=\"STRICT_ALL_TABLES\"; INSERT INTO tt.fl VALUES (/; s/\$/);/" |
		dst_sql &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id, \":\", CAST(f AS DOUBLE) ORDER BY id) FROM tt.fl WHERE id <> 5")" = \
		"$(src_sql "SELECT GROUP_CONCAT(id, \":\", CAST(f AS DOUBLE) ORDER BY id) FROM tt.fl WHERE id <> 5")"
'

test_done
