#!/bin/bash
test_description='srdf-apply: srdf-bootstrap wagons (a FLOAT at its limits, empty GEOMETRY values too), and the window of changes the copy already holds, applied idempotently'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

test_expect_success 'setup: a source with rows, a view the target cannot have, a trigger' '
	apply_setup &&
	src_sql "CREATE DATABASE ext; CREATE TABLE ext.e (id INT PRIMARY KEY);
		CREATE DATABASE bs;
		CREATE TABLE bs.t (id INT PRIMARY KEY, v VARCHAR(20), u INT, UNIQUE KEY (u));
		CREATE TABLE bs.n (a INT, b TEXT);
		CREATE TABLE bs.fl (id INT PRIMARY KEY, f FLOAT);
		INSERT INTO bs.fl VALUES (1, -3.402823466E+38), (2, 3.402823466E+38),
			(3, 1.401298464e-45), (4, 1.17549435e-38), (5, 0.1);
		CREATE TABLE bs.g (id INT PRIMARY KEY, p POINT NOT NULL);
		CREATE TABLE bs.gn (p POINT NOT NULL, v INT);
		SET SESSION sql_mode = \"\";
		INSERT INTO bs.g (id) SELECT seq FROM bs.seq_1_to_300;
		UPDATE bs.g SET p = POINT(id, 0) WHERE id % 2 = 0;
		INSERT INTO bs.gn (v) VALUES (1), (2);
		CREATE TABLE bs.en (id INT PRIMARY KEY, c ENUM(\"\", \"a\", \"b\"));
		CREATE TABLE bs.enk (c ENUM(\"\", \"a\"), v INT);
		INSERT INTO bs.en VALUES (1, 0), (2, \"\"), (3, \"zz\"), (4, \"a\"), (5, NULL);
		INSERT INTO bs.enk VALUES (0, 1), (\"\", 2), (\"a\", 3);
		CREATE TABLE bs.tree (id INT PRIMARY KEY, pid INT,
			FOREIGN KEY (pid) REFERENCES bs.tree (id) ON DELETE CASCADE);
		INSERT INTO bs.tree VALUES (1, NULL), (2, 1);
		CREATE TABLE bs.st (id INT PRIMARY KEY, s SET(\"\", \"x\", \"y\"));
		INSERT INTO bs.st VALUES (1, -1), (2, \"\"), (3, \"x\"), (4, 3);
		SET SESSION sql_mode = DEFAULT;
		INSERT INTO bs.t VALUES (1, \"a\", 1), (2, \"b\", 2), (3, \"c\", 3);
		INSERT INTO bs.n VALUES (1, \"x\"), (1, \"x\");
		CREATE VIEW bs.v AS SELECT id, v FROM bs.t;
		CREATE VIEW bs.vx AS SELECT id FROM ext.e;
		CREATE TRIGGER bs.trg BEFORE INSERT ON bs.t FOR EACH ROW
			SET NEW.v = COALESCE(NEW.v, \"dflt\")" &&
	src_sql "SELECT @@gtid_binlog_pos" >g1
'

test_expect_success 'changes after G1, then the copy at G2; capture made to start at G1' '
	src_sql "INSERT INTO bs.t VALUES (4, \"d\", 4);
		UPDATE bs.t SET u = 10 WHERE id = 1; UPDATE bs.t SET u = 1 WHERE id = 2;
		DELETE FROM bs.t WHERE id = 3; INSERT INTO bs.t (id, u) VALUES (5, 5);
		SET SESSION sql_mode = \"\"; INSERT INTO bs.g (id) VALUES (301);
		UPDATE bs.en SET c = \"zz\" WHERE id = 4; INSERT INTO bs.en VALUES (6, 0);
		UPDATE bs.st SET s = -1 WHERE id = 3; INSERT INTO bs.st VALUES (5, 5);
		INSERT INTO bs.tree VALUES (13, 1); DELETE FROM bs.tree WHERE id = 1;
		INSERT INTO bs.tree VALUES (1, NULL), (3, 1)" &&
	srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir "$S" --databases bs \
		2>bootstrap.err |
		srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	boot=$(wagon_count) &&
	echo "$boot" >boot &&
	test "$boot" -ge 3 && # schema, rows of the small tables, triggers
	ledger-meta "$S" last_sealed_gtid "$(cat g1)" &&
	src_sql "UPDATE bs.t SET v = \"after\" WHERE id = 4; DELETE FROM bs.t WHERE id = 1;
		INSERT INTO bs.n VALUES (2, \"y\");
		SET SESSION sql_mode = \"\"; INSERT INTO bs.g (id) VALUES (302)" &&
	seal_new && deliver &&
	test "$(wagon_count)" -gt "$boot"
'

test_expect_success 'applied: equal, the window idempotent, the refused view skipped' '
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both bs.t bs.n bs.fl bs.g bs.gn bs.en bs.enk bs.st bs.tree &&
	test "$(dst_sql "SELECT GROUP_CONCAT(id ORDER BY id) FROM bs.tree")" = "1,3" &&
	q="SELECT GROUP_CONCAT(id, \":\", s + 0 ORDER BY id) FROM bs.st" &&
	test "$(src_sql "$q")" = "1:7,2:0,3:7,4:3,5:5" && test "$(dst_sql "$q")" = "$(src_sql "$q")" &&
	q="SELECT GROUP_CONCAT(id, \":\", c + 0 ORDER BY id) FROM bs.en" &&
	test "$(src_sql "$q")" = "1:0,2:1,3:0,4:0,6:0" && test "$(dst_sql "$q")" = "$(src_sql "$q")" &&
	q="SELECT GROUP_CONCAT(v, \":\", c + 0 ORDER BY v) FROM bs.enk" &&
	test "$(dst_sql "$q")" = "1:0,2:1,3:2" &&
	test "$(dst_sql "SELECT COUNT(*) FROM bs.g WHERE LENGTH(p) = 0")" = 152 &&
	grep -q "applied idempotently" apply.err &&
	! sed -n "s/.*wagon \([0-9]*\) (GTID .*applied idempotently.*/\1/p" apply.err |
		awk -v b="$(cat boot)" "\$1 <= b { bad = 1 } END { exit !bad }" &&
	grep -q "the view is skipped" apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM bs.v")" = "$(src_sql "SELECT COUNT(*) FROM bs.v")" &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \"bs\"")" = 1 &&
	test -n "$(dst_sql "SELECT bootstrap_pos FROM srdf.applied")"
'

test_expect_success 'after the window, a duplicate key is an error again, its key named, its value nowhere' '
	dst_sql "INSERT INTO bs.t VALUES (987654321, \"target only\", 99)" &&
	src_sql "INSERT INTO bs.t VALUES (987654321, \"source\", 98)" &&
	seal_new && deliver &&
	test_expect_code 65 apply_once --retry none &&
	grep -q "Duplicate entry (value withheld) for key .PRIMARY." apply.err &&
	ledger-wagons "$D" | grep -q "Duplicate entry (value withheld)" &&
	! grep -rq 987654321 apply.err "$D/audit.log" &&
	! ledger-wagons "$D" | grep -q 987654321 &&
	! ledger-wagons --attempts "$D" | grep -q 987654321
'

test_done
