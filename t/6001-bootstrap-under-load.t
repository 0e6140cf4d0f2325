#!/bin/bash
test_description='srdf-bootstrap under a sysbench write load: copy, catch up from its GTID, verify equal'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

D=$PWD/state
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK"
	--mysql-user=root --mysql-db=sbtest --tables=4 --table-size=20000)

# The type torture table, shared with t/1001 and t/8001.
cp "$top/t/torture.sql" torture.sql

cat >objects.sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.nopk (a INT, b VARCHAR(20), c DATETIME(3)) ENGINE=InnoDB;
INSERT INTO shop.nopk VALUES (1, 'x', '2020-01-01 00:00:00.123'), (1, 'x', '2020-01-01 00:00:00.123'), (NULL, NULL, NULL);
CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, qty INT NOT NULL,
  price DECIMAL(10,2) NOT NULL, total DECIMAL(12,2), note VARCHAR(30) CHARACTER SET latin1);
CREATE TRIGGER shop.orders_total BEFORE INSERT ON shop.orders FOR EACH ROW SET NEW.total = NEW.qty * NEW.price;
CREATE TRIGGER shop.orders_total_u BEFORE UPDATE ON shop.orders FOR EACH ROW SET NEW.total = NEW.qty * NEW.price;
INSERT INTO shop.orders (qty, price, note) VALUES (1, 9.99, 'caf'), (3, 0.50, NULL), (2, 100.00, 'x');
CREATE FUNCTION shop.twice(x INT) RETURNS INT DETERMINISTIC RETURN 2 * x;
CREATE VIEW shop.big_orders AS SELECT id, shop.twice(qty) AS q2, total FROM shop.orders WHERE total > 5;
CREATE VIEW shop.top AS SELECT * FROM shop.big_orders ORDER BY total DESC LIMIT 1;
SQL

test_expect_success 'setup: sysbench tables, torture table, no-PK table, view, trigger' '
	src_sql "SET sql_log_bin = 0;
		GRANT SHOW VIEW, TRIGGER ON *.* TO '\''srdf'\''@'\''127.0.0.1'\'', '\''srdf'\''@'\''localhost'\''" &&
	src_sql "CREATE DATABASE sbtest" &&
	"${sb[@]}" prepare >/dev/null &&
	src_sql <torture.sql &&
	src_sql <objects.sql &&
	src_sql "UPDATE shop.orders SET note = CONCAT(note, X'\''E9'\'') WHERE id = 1" &&
	test "$(src_sql "SELECT total FROM shop.orders WHERE id = 2")" = 1.50 &&
	srdf-keygen -o key 2>/dev/null && mkdir -p "$D"
'

cat >writer.sh <<'SH'
# Small writes to the no-PK table, the trigger table and the torture table;
# SIGTERM ends it between two of them.
trap 'exit 0' TERM
while :; do
	mariadb --defaults-file="$SRC_ADMIN_CNF" -e "
		INSERT INTO shop.nopk VALUES (FLOOR(RAND() * 5), 'w', NOW(3));
		DELETE FROM shop.nopk WHERE a = 4 LIMIT 1;
		INSERT INTO shop.orders (qty, price) VALUES (FLOOR(1 + RAND() * 9), 1.25);
		UPDATE shop.orders SET qty = qty + 1 WHERE id = 1;
		UPDATE tt.torture SET i = i + 1 WHERE id = 4" || exit 1
	sleep 0.05
done
SH

test_expect_success 'a write load runs: sysbench, and writes to the no-PK and trigger tables' '
	test_bg sysbench "${sb[@]}" --threads=2 --time=600 --rate=200 run &&
	test_bg writer bash writer.sh &&
	test_wait_until 10 "test \$(src_sql \"SELECT COUNT(*) FROM shop.orders\") -gt 10"
'

test_expect_success 'srdf-bootstrap copies everything while the load runs' '
	before=$(src_sql "SELECT @@gtid_binlog_pos") &&
	if [ -x "$top/bin/srdf-seal" ]; then
		srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$D" --parallel 2 \
			--chunk-rows 1000 2>bootstrap.err |
			srdf-seal --dir "$D" --key-file key 2>seal.err &&
		srdf-cat --key-file key "$D/outbox" >copy.jsonl
	else
		srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$D" --parallel 2 \
			--chunk-rows 1000 >copy.jsonl 2>bootstrap.err
	fi &&
	after=$(src_sql "SELECT @@gtid_binlog_pos") &&
	snap=$(ledger-meta "$D" bootstrap_gtid) &&
	echo "before $before snapshot $snap after $after" &&
	test "${before##*-}" -lt "${snap##*-}" &&
	test "${snap##*-}" -lt "${after##*-}" &&
	grep -q "the copy is complete" bootstrap.err &&
	grep -E -q "shared by every reader|share one snapshot" bootstrap.err
'

test_expect_success 'the records: groups at the snapshot, ddl first, triggers last' '
	jq -e -s "all(.[]; .v == 1)" copy.jsonl >/dev/null &&
	jq -r "select(.type==\"group_end\") | .gtid_pos" copy.jsonl | sort -u >pos &&
	echo "$snap" >expect && test_cmp expect pos &&
	jq -r "select(.type==\"group_end\") | .reason" copy.jsonl | uniq -c | awk "{print \$2}" >reasons &&
	printf "%s\n" ddl bootstrap ddl >expect && test_cmp expect reasons &&
	jq -r "select(.type==\"ddl\") | .object" copy.jsonl | uniq >objects &&
	printf "%s\n" database table routine view bootstrap trigger >expect.tmp &&
	grep -v bootstrap expect.tmp >expect && test_cmp expect objects &&
	test "$(jq -s "[.[] | select(.type==\"insert\" and .table==\"sbtest1\")] | length" copy.jsonl)" -ge 20000 &&
	test "$(jq -s "[.[] | select(.type==\"group_end\" and .reason==\"bootstrap\") | .events_in] | max" copy.jsonl)" -le 1000
'

test_expect_success 'the target gets the copy' '
	rec2sql <copy.jsonl >copy.sql &&
	dst_sql <copy.sql
'

test_expect_success 'the load stops; srdf-capture catches up from the ledger' '
	test_pid_alive "$(cat writer.pid)" && test_pid_alive "$(cat sysbench.pid)" &&
	{ test_bg_stop writer; test_bg_stop sysbench; true; } &&
	test ! -s writer.err &&
	test_wait_until 10 "test \$(src_sql \"SELECT COUNT(*) FROM information_schema.PROCESSLIST
		WHERE DB = '\''sbtest'\''\") = 0" &&
	srdf-capture --defaults-file "$SRC_CNF" --dir "$D" --until-end \
		>catchup.jsonl 2>capture.err &&
	grep -q "starting after the GTID position .$snap." capture.err &&
	rec2sql <catchup.jsonl >catchup.sql &&
	dst_sql <catchup.sql
'

test_expect_success 'srdf-verify reports every table equal' '
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" >verify.out 2>verify.err &&
	cat verify.out &&
	grep -q "^equal:" verify.out &&
	grep -q "^sbtest.sbtest1 .*equal$" verify.out &&
	grep -q "^shop.nopk .*equal$" verify.out
'

test_expect_success 'CHECKSUM TABLE agrees on every table' '
	src_sql "SELECT CONCAT(TABLE_SCHEMA, \".\", TABLE_NAME) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA IN (\"sbtest\", \"tt\", \"shop\") AND TABLE_TYPE = \"BASE TABLE\"" >tables &&
	test "$(wc -l <tables)" = 7 &&
	checksum_both $(cat tables)
'

test_expect_success 'the view, the function and the triggers are on the target' '
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \"shop\"")" = 2 &&
	test "$(src_sql "SELECT * FROM shop.top")" = "$(dst_sql "SELECT * FROM shop.top")" &&
	test "$(dst_sql "SELECT shop.twice(21)")" = 42
'

test_done
