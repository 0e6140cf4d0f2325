#!/bin/bash
test_description='srdf-capture: a damaged binlog event fails its CRC32 check'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

test_expect_success 'setup: a row with a marker value, then a new binlog' '
	src_sql "CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY, v VARCHAR(40))" &&
	start=$(src_sql "SELECT @@gtid_binlog_pos") && echo "$start" >start &&
	src_sql "INSERT INTO c.t VALUES (1, \"MARKER-d41d8cd98f00b204\"); FLUSH BINARY LOGS" &&
	f=$(src_sql "SHOW BINARY LOGS" | head -1 | cut -f1) &&
	echo "$SRC_DATADIR/$f" >binlog &&
	grep -c MARKER-d41d8cd98f00b204 "$(cat binlog)"
'

test_expect_success 'one flipped bit in the row image is refused (65)' '
	python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, \"rb\").read())
i = b.rindex(b\"MARKER-d41d8cd98f00b204\")  # the row image, not the annotation
b[i] ^= 0x01
open(p, \"r+b\").write(b)
" "$(cat binlog)" &&
	test_expect_code 65 srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat start)" --until-end >out 2>err &&
	grep "CRC32 mismatch in a .* event at binlog $(basename "$(cat binlog)") at position" err &&
	! grep -q "\"type\":\"insert\"" out
'

test_done
