#!/bin/bash
test_description='the online copies under sysbench oltp_write_only on the tables copied: srdf-bootstrap --add of a database and of a table capture left out, --resync of a table the target corrupted, srdf-verify --repair of a drifted chunk; each ends with the target equal and a counter incremented beside sysbench applied once'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
command -v sysbench >/dev/null || skip_all "no sysbench"
. "$top/t/6-resync-lib.sh"
srdf_servers_start

# sb.sbtest3 and the database sb2 are left out of capture: sb's DDL
# reaches the target (capture filters DDL by database), sbtest3's rows
# do not; nothing of sb2 does.
CAPTURE_ARGS="--include sb.sbtest[12] --include r.*"
SB="sb.sbtest1 sb.sbtest2 sb.sbtest3"
SB2="sb2.sbtest1 sb2.sbtest2"

# gtid_seq: the sequence number of the source's last GTID.
gtid_seq() {
	local g
	g=$(src_sql "SELECT @@gtid_binlog_pos") && echo "${g##*-}"
}

# copy_starts / copy_ended WHAT: the source's GTID and sysbench's
# transactions (sb_deletes) when a copy starts and when it ends; both
# must have advanced by 100 or more while it ran.
copy_starts() {
	g0=$(gtid_seq) && d0=$(sb_deletes)
}

copy_ended() {
	local g1 d1
	g1=$(gtid_seq) && d1=$(sb_deletes) &&
	echo "during $1: source GTID ..$g0 to ..$g1, $((d1 - d0)) sysbench transactions" &&
	test $((g1 - g0)) -ge 100 && test $((d1 - d0)) -ge 100
}

# counted TABLE: SUM(n) equal on both sides and above 0.
counted() {
	local s
	s=$(src_sql "SELECT SUM(n) FROM $1") &&
	echo "SUM(n) of $1: $s" &&
	test "$s" -gt 0 &&
	test "$(dst_sql "SELECT SUM(n) FROM $1")" = "$s"
}

test_expect_success 'setup: capture takes sb.sbtest1, sb.sbtest2 and r.*; sysbench prepared in sb and sb2' '
	resync_setup &&
	chain_start && deliver_start && apply_start &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.cnt (id INT PRIMARY KEY, n BIGINT NOT NULL);
		INSERT INTO r.cnt SELECT seq, 0 FROM r.seq_0_to_9" &&
	sb_prepare sb 3 4000 && sb_prepare sb2 2 4000 &&
	src_sql "CREATE TABLE sb2.cnt (id INT PRIMARY KEY, n BIGINT NOT NULL);
		INSERT INTO sb2.cnt SELECT seq, 0 FROM r.seq_0_to_9" &&
	test_wait_until 30 caught_up &&
	checksum_both sb.sbtest1 sb.sbtest2 r.cnt &&
	test "$(dst_sql "SELECT COUNT(*) FROM sb.sbtest3")" = 0 &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \"sb2\"")" = 0
'

test_expect_success 'srdf-bootstrap --add sb2.* while sysbench writes to sb2 and sb2.cnt counts: equal, counted once' '
	sb_start sb2 2 6013 sb2.cnt &&
	copy_starts &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --add "sb2.*" \
		--chunk-rows 100 --resync-spool 1 2>add1.err &&
	copy_ended "--add sb2.*" &&
	grep -v "resync sb2" add1.err &&
	grep -q -- "--add sb2.\*: 3 tables in the selection" add1.err &&
	grep -q "resync copied sb2.sbtest1: .* in [4-9][0-9] chunks" add1.err &&
	grep -q -- "--add sb2.\*: done" add1.err &&
	sleep 1 && sb_stop &&
	test_wait_until 60 caught_up &&
	checksum_both $SB2 sb2.cnt r.cnt &&
	counted sb2.cnt &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sb2,r >verify1.out &&
	grep -q "^equal:" verify1.out &&
	no_failures
'

test_expect_success 'srdf-bootstrap --add sb.sbtest3 while sysbench writes to sb.sbtest1..3 and r.cnt counts: equal, counted once' '
	sb_start sb 3 6014 r.cnt &&
	copy_starts &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --add sb.sbtest3 \
		--chunk-rows 100 --resync-spool 1 2>add2.err &&
	copy_ended "--add sb.sbtest3" &&
	grep -v "resync sb" add2.err &&
	grep -q "resync copied sb.sbtest3: .* in [4-9][0-9] chunks" add2.err &&
	test "$(ledger-meta "$S" selection_added)" = "[\"sb2.*\",\"sb.sbtest3\"]" &&
	sleep 1 && sb_stop &&
	test_wait_until 60 caught_up &&
	checksum_both $SB $SB2 sb2.cnt r.cnt &&
	counted r.cnt &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sb,sb2,r >verify2.out &&
	grep -q "^equal:" verify2.out &&
	no_failures
'

test_expect_success 'the target corrupts sb.sbtest1 and r.cnt: rows changed, deleted and added there' '
	dst_sql "SET sql_log_bin = 0;
		UPDATE sb.sbtest1 SET k = -1, c = \"corrupt\" WHERE id % 97 = 0;
		DELETE FROM sb.sbtest1 WHERE id % 89 = 0 OR id IN (1, 4000);
		INSERT INTO sb.sbtest1 (id, k, c, pad) SELECT seq, 0, \"extra\", \"extra\" FROM r.seq_9001_to_9050;
		UPDATE r.cnt SET n = n + 1000 WHERE id = 3;
		DELETE FROM r.cnt WHERE id = 7;
		INSERT INTO r.cnt VALUES (99, 5)" &&
	test_expect_code 1 srdf-verify --source "$SRC_CNF" --target "$DST_CNF" \
		--databases sb,r >verify3.out &&
	grep -q "^sb.sbtest1 .*DRIFT" verify3.out &&
	grep -q "^r.cnt .*DRIFT" verify3.out
'

test_expect_success 'srdf-bootstrap --resync sb.sbtest1, then r.cnt, while sysbench writes to them and r.cnt counts: equal, counted once' '
	sb_start sb 3 6015 r.cnt &&
	copy_starts &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync sb.sbtest1 \
		--chunk-rows 100 --resync-spool 1 2>resync1.err &&
	copy_ended "--resync sb.sbtest1" &&
	g1=$(gtid_seq) &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.cnt \
		--chunk-rows 1 --resync-spool 1 2>resync2.err &&
	g2=$(gtid_seq) && echo "during --resync r.cnt: source GTID ..$g1 to ..$g2" &&
	test "$g2" -gt "$g1" &&
	grep -v "resync sb\|resync r" resync1.err resync2.err &&
	grep -q "resync copied sb.sbtest1: .* in [4-9][0-9] chunks" resync1.err &&
	grep -q "resync copied r.cnt: 10 rows of .* in 1[01] chunks" resync2.err &&
	sleep 1 && sb_stop &&
	test_wait_until 60 caught_up &&
	checksum_both $SB $SB2 sb2.cnt r.cnt &&
	counted r.cnt &&
	test "$(dst_sql "SELECT COUNT(*) FROM sb.sbtest1 WHERE id > 9000 OR c = \"corrupt\"")" = 0 &&
	test "$(dst_sql "SELECT COUNT(*) FROM r.cnt WHERE id = 99")" = 0 &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sb,sb2,r >verify4.out &&
	grep -q "^equal:" verify4.out &&
	no_failures
'

test_expect_success 'srdf-verify --repair of a drifted chunk of sb.sbtest2 and of r.cnt while sysbench writes to them and r.cnt counts: equal, counted once' '
	dst_sql "SET sql_log_bin = 0;
		UPDATE sb.sbtest2 SET k = -1 WHERE id BETWEEN 2001 AND 2010;
		DELETE FROM sb.sbtest2 WHERE id BETWEEN 3000 AND 3005;
		UPDATE r.cnt SET n = n - 1000 WHERE id = 5" &&
	sb_start sb 3 6016 r.cnt &&
	copy_starts &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sb,r \
		--chunk-rows 500 --repair --dir "$S" >repair.out 2>repair.err
	echo "srdf-verify --repair exited $?" &&
	copy_ended "srdf-verify --repair" &&
	cat repair.out && grep -E "repairing|chunk\(s\) copied|resync copied" repair.err &&
	grep -q "resync copied sb.sbtest2: " repair.err &&
	grep -q "resync copied r.cnt: " repair.err &&
	grep -q "chunk(s) copied again through the pipeline; comparing again" repair.err &&
	sleep 1 && sb_stop &&
	test_wait_until 60 caught_up &&
	checksum_both $SB $SB2 sb2.cnt r.cnt &&
	counted r.cnt &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sb,sb2,r >verify5.out &&
	grep -q "^equal:" verify5.out &&
	no_failures
'

test_done
