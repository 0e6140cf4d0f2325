#!/bin/bash
test_description='srdf-bootstrap --add: a database and a table that srdf-capture left out are put into the running pipeline under a write load on them; their schema and rows reach the target, capture follows them from then on (also after a kill -9), the target ends equal and nothing is applied twice'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
. "$top/t/6-resync-lib.sh"
srdf_servers_start

CAPTURE_ARGS="--include r.*"

test_expect_success 'setup: capture takes r.* only; n and m exist on the source alone' '
	resync_setup &&
	chain_start && deliver_start && apply_start &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.cnt (id INT PRIMARY KEY, n BIGINT NOT NULL);
		INSERT INTO r.cnt SELECT seq, 0 FROM r.seq_0_to_9;
		CREATE DATABASE n DEFAULT CHARACTER SET latin1;
		CREATE TABLE n.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60));
		INSERT INTO n.t SELECT seq, seq, REPEAT(\"n\", seq % 50) FROM r.seq_1_to_8000;
		CREATE TABLE n.b (k VARCHAR(20), j INT, note TEXT, PRIMARY KEY (k, j));
		INSERT INTO n.b SELECT CONCAT(\"k\", seq % 7), seq, \"b\" FROM r.seq_1_to_700;
		CREATE DATABASE m;
		CREATE TABLE m.one (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60));
		INSERT INTO m.one SELECT seq, seq, \"o\" FROM r.seq_1_to_5000;
		CREATE TABLE m.two (id INT PRIMARY KEY)" &&
	test_wait_until 30 caught_up &&
	checksum_both r.cnt &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (\"n\", \"m\")")" = 0
'

test_expect_success 'srdf-bootstrap --add n.* under a write load on n.t' '
	load_start 6010 n.t &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --add "n.*" \
		--chunk-rows 300 2>add1.err &&
	cat add1.err &&
	grep -q -- "--add n.\*: 2 tables in the selection" add1.err &&
	grep -q "resync copied n.t" add1.err &&
	grep -q "resync copied n.b" add1.err &&
	grep -q -- "--add n.\*: done" add1.err &&
	test "$(ledger-meta "$S" selection_added)" = "[\"n.*\"]" &&
	grep -q "n.\* is in the selection from GTID" capture.err
'

test_expect_success 'the load goes on; changes to n.t after the copy replicate too; equal' '
	sleep 1 && load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both n.t n.b r.cnt &&
	test "$(src_sql "SELECT SUM(n) FROM r.cnt")" = "$(dst_sql "SELECT SUM(n) FROM r.cnt")" &&
	test "$(dst_sql "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \"n\"")" = latin1 &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases n >verify1.out &&
	grep -q "^equal:" verify1.out &&
	no_failures
'

test_expect_success '--add m.one with a kill -9 of srdf-capture during its copy: capture restarts with it in its selection' '
	load_start 6011 m.one &&
	test_bg add srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--add m.one --chunk-rows 100 --resync-spool 4 &&
	test_wait_until 30 "test \$(resync_chunk m one) -ge 10" &&
	echo "capture killed at chunk $(resync_chunk m one)" &&
	chain_kill && chain_start &&
	wait "$(cat add.pid)" &&
	cat add.err &&
	grep -q "resync copied m.one" add.err &&
	test "$(ledger-meta "$S" selection_added)" = "[\"n.*\",\"m.one\"]" &&
	sleep 1 && load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both m.one n.t n.b r.cnt &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = \"m\"")" = 1 &&
	no_failures
'

test_expect_success 'after the add, DDL and rows of the added table replicate; m.two stays out' '
	src_sql "ALTER TABLE m.one ADD COLUMN w INT DEFAULT 5; UPDATE m.one SET w = 6 WHERE id < 100;
		INSERT INTO m.two VALUES (1)" &&
	test_wait_until 30 caught_up &&
	checksum_both m.one &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = \"m\"")" = 1
'

test_expect_success '--add p.* with a kill -9 of srdf-bootstrap, then of srdf-apply, during its copy: run again, it resumes; equal' '
	src_sql "CREATE DATABASE p;
		CREATE TABLE p.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60));
		INSERT INTO p.t SELECT seq, seq, \"p\" FROM r.seq_1_to_8000" &&
	load_start 6012 p.t &&
	test_bg add2 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--add "p.*" --chunk-rows 100 --resync-spool 4 &&
	test_wait_until 30 "test \$(resync_chunk p t) -ge 10" &&
	kill -9 "$(cat add2.pid)" && { wait "$(cat add2.pid)"; true; } &&
	echo "srdf-bootstrap killed at chunk $(resync_chunk p t)" &&
	test_bg add3 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--add "p.*" --chunk-rows 100 --resync-spool 4 &&
	test_wait_until 30 "test \$(resync_chunk p t) -ge 40" &&
	kill -9 "$(cat apply.pid)" && { wait "$(cat apply.pid)"; true; } &&
	echo "srdf-apply killed at chunk $(resync_chunk p t)" &&
	cat apply.err >>apply-killed.err && apply_start &&
	wait "$(cat add3.pid)" &&
	cat add3.err &&
	grep -q -- "--add p.\*: resuming: its tables are in the selection" add3.err &&
	grep -q "r.t: resuming the resync after chunk\|p.t: resuming the resync after chunk" add3.err &&
	grep -q -- "--add p.\*: done" add3.err &&
	sleep 1 && load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both p.t m.one n.t n.b r.cnt &&
	test "$(src_sql "SELECT SUM(n) FROM r.cnt")" = "$(dst_sql "SELECT SUM(n) FROM r.cnt")" &&
	no_failures
'

test_expect_success 'refusals: a pattern without a table, a system-versioned table' '
	test_expect_code 64 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--add "nothing.*" 2>none.err &&
	grep -q "no table of the source matches" none.err &&
	src_sql "CREATE DATABASE v; CREATE TABLE v.h (id INT PRIMARY KEY) WITH SYSTEM VERSIONING" &&
	test_expect_code 64 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--add "v.*" 2>vers.err &&
	grep -q "v.h is system-versioned" vers.err
'

test_expect_success '--add of a database with a table without a primary key, a view, a routine and a trigger: all there, the table copied whole, followed after; equal' '
	src_sql "CREATE DATABASE k; CREATE TABLE k.nopk (a INT, b TEXT);
		CREATE TABLE k.audit (id INT AUTO_INCREMENT PRIMARY KEY, a INT);
		INSERT INTO k.nopk SELECT seq % 10, \"x\" FROM k.seq_1_to_300;
		CREATE VIEW k.twos AS SELECT a, b FROM k.nopk WHERE a = 2;
		CREATE FUNCTION k.twice (x INT) RETURNS INT DETERMINISTIC RETURN 2 * x;
		CREATE TRIGGER k.nopk_ai AFTER INSERT ON k.nopk FOR EACH ROW
			INSERT INTO k.audit (a) VALUES (NEW.a)" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --add "k.*" 2>nopk.err &&
	src_sql "UPDATE k.nopk SET b = \"y\" WHERE a = 2 LIMIT 4; INSERT INTO k.nopk VALUES (2, \"y\")" &&
	test_wait_until 60 caught_up &&
	checksum_both k.nopk k.audit &&
	test "$(dst_sql "SELECT COUNT(*) FROM k.twos WHERE b = \"y\"")" = 5 &&
	test "$(dst_sql "SELECT k.twice(21)")" = 42 &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \"k\" AND TRIGGER_NAME = \"nopk_ai\"")" = 1 &&
	test "$(dst_sql "SELECT COUNT(*) FROM k.audit")" = 1
'

test_done
