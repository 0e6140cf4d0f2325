#!/bin/bash
test_description='srdf-rewind --records: the transactions of a captured tail undone on the server, newest first, exact (keyless rows, a key change), out of the binlog, crash-safe and run again; a row written since is a refusal naming it'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

# The source plays the old primary: its tail beyond a point is undone on
# it.  CHECKSUM TABLE of every table at the point is the truth.
sums() {
	src_sql "CHECKSUM TABLE r.k, r.n, r.c" | cut -f2
}

test_expect_success 'setup: tables with a key, without one, a composite key; the point P' '
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.k (id INT PRIMARY KEY, v VARCHAR(20), f FLOAT, d DATETIME(6), b BLOB);
		CREATE TABLE r.n (a INT, s VARCHAR(10));
		CREATE TABLE r.c (x INT, y VARCHAR(5), z INT, PRIMARY KEY (x, y));
		INSERT INTO r.k VALUES (1, \"one\", 0.1, \"2026-01-01 00:00:00.5\", \"a\"),
			(2, \"two\", -0, NULL, NULL), (3, \"three\", 3.5, NULL, \"c\");
		INSERT INTO r.n VALUES (1, \"x\"), (1, \"x\"), (2, \"X\");
		INSERT INTO r.c VALUES (1, \"a\", 1), (1, \"b\", 2)" &&
	src_sql "SELECT @@gtid_binlog_pos" >point &&
	sums >at-point
'

test_expect_success 'the tail: inserts, updates, deletes, a key change, one of two equal keyless rows' '
	src_sql "INSERT INTO r.k VALUES (4, \"four\", 4, NOW(6), \"d\")" &&
	src_sql "BEGIN; UPDATE r.k SET v = \"ONE\", f = 1e-45 WHERE id = 1;
		DELETE FROM r.k WHERE id = 2; UPDATE r.k SET id = 30 WHERE id = 3; COMMIT" &&
	src_sql "DELETE FROM r.n WHERE a = 1 LIMIT 1" &&
	src_sql "UPDATE r.n SET s = \"y\" WHERE a = 2" &&
	src_sql "UPDATE r.c SET y = \"c\" WHERE x = 1 AND y = \"a\"; INSERT INTO r.c VALUES (2, \"a\", 3)" &&
	src_sql "UPDATE r.k SET v = \"FOUR\" WHERE id = 4" &&
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat point)" --until-end >tail 2>capture.err &&
	test "$(grep -c "\"type\":\"commit\"" tail)" = 7 &&
	sums >after-tail &&
	! test_cmp at-point after-tail
'

test_expect_success '--dry-run prints the plan and changes nothing' '
	srdf-rewind --records tail --defaults-file "$SRC_ADMIN_CNF" --dry-run >plan 2>err3 &&
	grep "^tail: 7 transactions (GTID .*), 9 row changes, undone newest first:" plan &&
	grep "r.k: 1 row put back, 3 changed back, 1 removed" plan &&
	sums >now && test_cmp after-tail now
'

test_expect_success 'a row written since the tail: refused, naming the transaction, table and key; nothing undone' '
	src_sql "SET sql_log_bin = 0; UPDATE r.c SET z = 9 WHERE x = 2" &&
	sums >tampered &&
	test_expect_code 65 srdf-rewind --records tail --defaults-file "$SRC_ADMIN_CNF" 2>err4 &&
	grep "srdf-rewind: transaction 0-1-[0-9]* of tail: delete on r.c key (2,.a.) touched 0 of 1 rows: the row on the server is not the one the transaction left (written since?); nothing of it was undone; 1 of 7 transactions are (srdf.rewound): reconcile the row, then run srdf-rewind again" err4 &&
	src_sql "SET sql_log_bin = 0; UPDATE r.c SET z = 3 WHERE x = 2"
'

test_expect_success 'a kill -9 after the second transaction (--batch 1: a commit each), then the run again: the state at P, and nothing in the binlog' '
	pos=$(src_sql "SELECT @@gtid_binlog_pos") &&
	test_expect_code 137 env SRDF_REWIND_CRASH_AFTER_COMMIT=2 \
		srdf-rewind --records tail --batch 1 --defaults-file "$SRC_ADMIN_CNF" 2>crash5 &&
	test "$(src_sql "SELECT done FROM srdf.rewound")" = 3 &&
	test "$(grep -c "undone (" crash5)" = 2 &&
	srdf-rewind --records tail --defaults-file "$SRC_ADMIN_CNF" 2>err5 &&
	grep "3 of 7 transactions were undone by an earlier run: going on from there" err5 &&
	sums >now && test_cmp at-point now &&
	test "$(src_sql "SELECT @@gtid_binlog_pos")" = "$pos" &&
	test "$(src_sql "SELECT COUNT(*) FROM r.n WHERE a = 1")" = 2
'

test_expect_success 'run once more: nothing to do' '
	srdf-rewind --records tail --defaults-file "$SRC_ADMIN_CNF" 2>err6 &&
	grep "all 7 transactions are undone already (srdf.rewound): nothing to do" err6 &&
	sums >now && test_cmp at-point now
'

test_expect_success 'a DDL in the stream: refused before anything is undone' '
	src_sql "SELECT @@gtid_binlog_pos" >p2 &&
	src_sql "INSERT INTO r.k VALUES (5, \"five\", 5, NULL, NULL)" &&
	src_sql "ALTER TABLE r.n ADD COLUMN t INT" &&
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat p2)" --until-end >tail2 2>capture.err &&
	test_expect_code 65 srdf-rewind --records tail2 --defaults-file "$SRC_ADMIN_CNF" 2>err7 &&
	grep "tail2: transaction 0-1-[0-9]* cannot be undone: it holds a DDL statement, which has no before-image to undo it with; nothing was undone" err7 &&
	test "$(src_sql "SELECT COUNT(*) FROM r.k WHERE id = 5")" = 1
'

test_expect_success 'a system-versioned table in the stream: refused before anything is undone' '
	src_sql "CREATE TABLE r.v (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING" &&
	src_sql "SELECT @@gtid_binlog_pos" >p3 &&
	src_sql "INSERT INTO r.v VALUES (1, 1)" &&
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat p3)" --until-end >tail3 2>capture.err &&
	test_expect_code 65 srdf-rewind --records tail3 --defaults-file "$SRC_ADMIN_CNF" 2>err8 &&
	grep "srdf-rewind: tail3: its transactions change r.v, a system-versioned table, whose history an undo cannot take back; nothing was undone" err8 &&
	test "$(src_sql "SELECT COUNT(*) FROM r.v")" = 1
'

test_expect_success 'the parent of a cascading foreign key in a batch: every transaction of it undone, each in turn (not folded), and counted' '
	src_sql "CREATE TABLE r.p (id INT PRIMARY KEY) ENGINE=InnoDB;
		CREATE TABLE r.ch (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES r.p (id) ON DELETE CASCADE) ENGINE=InnoDB" &&
	src_sql "SELECT @@gtid_binlog_pos" >p4 &&
	src_sql "CHECKSUM TABLE r.p, r.ch" >at-p4 &&
	src_sql "INSERT INTO r.p VALUES (1)" && src_sql "INSERT INTO r.ch VALUES (10, 1)" &&
	src_sql "INSERT INTO r.p VALUES (2)" && src_sql "UPDATE r.ch SET p = 2 WHERE id = 10" &&
	src_sql "DELETE FROM r.ch WHERE id = 10" && src_sql "INSERT INTO r.ch VALUES (20, 1)" &&
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat p4)" --until-end >tail4 2>capture.err &&
	test "$(grep -c "\"type\":\"commit\"" tail4)" = 6 &&
	srdf-rewind --records tail4 --defaults-file "$SRC_ADMIN_CNF" 2>err9 &&
	src_sql "CHECKSUM TABLE r.p, r.ch" >now && test_cmp at-p4 now &&
	test "$(src_sql "SELECT done FROM srdf.rewound ORDER BY rewound_at DESC LIMIT 1")" = 6
'

test_done
