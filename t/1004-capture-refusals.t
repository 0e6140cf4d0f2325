#!/bin/bash
test_description='srdf-capture: start-up checks and bad binlog content are refused clearly'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

cap() {
	srdf-capture --defaults-file "${CNF:-$SRC_CNF}" --from-gtid "${FROM-}" --until-end "$@" >out 2>err
}

# A binlog is purged only once its binlog checkpoint is written: retry.
purge_all_but_last() {
	local last
	last=$(src_sql "SHOW BINARY LOGS" | tail -1 | cut -f1)
	src_sql "PURGE BINARY LOGS TO '$last'" &&
	test "$(src_sql "SHOW BINARY LOGS" | wc -l)" = 1
}

with_global() { # VAR VALUE: set on the source, for the next capture only
	src_sql "SET GLOBAL $1=$2"
}

test_expect_success 'a server without log_bin is refused (78)' '
	CNF=$DST_CNF test_expect_code 78 cap &&
	grep "the source has log_bin=0, srdf needs 1: start the server with log_bin" err
'

test_expect_success 'binlog_format other than ROW is refused (78)' '
	with_global binlog_format MIXED &&
	test_expect_code 78 cap &&
	with_global binlog_format ROW &&
	grep "the source has binlog_format=MIXED, srdf needs ROW" err
'

test_expect_success 'binlog_row_image other than FULL is refused (78)' '
	with_global binlog_row_image MINIMAL &&
	test_expect_code 78 cap &&
	with_global binlog_row_image FULL &&
	grep "the source has binlog_row_image=MINIMAL, srdf needs FULL" err
'

test_expect_success 'binlog_row_metadata other than FULL is refused (78)' '
	with_global binlog_row_metadata MINIMAL &&
	test_expect_code 78 cap &&
	with_global binlog_row_metadata FULL &&
	grep "the source has binlog_row_metadata=MINIMAL, srdf needs FULL" err
'

test_expect_success 'a wrong password is refused (77)' '
	sed "s/^password=.*/password=wrong/" "$SRC_CNF" >bad.cnf &&
	CNF=bad.cnf test_expect_code 77 cap &&
	grep "cannot connect to the source with bad.cnf: Access denied for user" err &&
	grep "check user and password" err &&
	! grep -i wrong err
'

test_expect_success 'an unreachable source is refused (69)' '
	printf "[client]\nhost=127.0.0.1\nport=1\nuser=srdf\n" >down.cnf &&
	CNF=down.cnf test_expect_code 69 cap &&
	grep "cannot connect to the source" err
'

test_expect_success 'a user without REPLICATION SLAVE is refused (77)' '
	src_sql "CREATE USER weak@127.0.0.1 IDENTIFIED BY \"pw\"; GRANT SELECT ON *.* TO weak@127.0.0.1" &&
	printf "[client]\nhost=127.0.0.1\nport=%s\nuser=weak\npassword=pw\n" "$SRC_PORT" >weak.cnf &&
	CNF=weak.cnf test_expect_code 77 cap &&
	grep "grant the capture user REPLICATION SLAVE" err
'

test_expect_success 'a start GTID whose binlog was purged is refused (66)' '
	src_sql "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)" &&
	old=$(src_sql "SELECT @@gtid_binlog_pos") &&
	src_sql "INSERT INTO d.t VALUES (1); FLUSH BINARY LOGS" &&
	src_sql "INSERT INTO d.t VALUES (2); FLUSH BINARY LOGS" &&
	test_wait_until 30 purge_all_but_last &&
	FROM=$old test_expect_code 66 cap &&
	grep "is gone from the source" err &&
	grep "srdf-bootstrap" err
'

test_expect_success 'a row event without the full image is refused (65)' '
	from=$(src_sql "SELECT @@gtid_binlog_pos") &&
	src_sql "CREATE TABLE d.m (id INT PRIMARY KEY, v INT); INSERT INTO d.m VALUES (1, 1)" &&
	src_sql "SET SESSION binlog_row_image=MINIMAL; UPDATE d.m SET v=2 WHERE id=1" &&
	FROM=$from test_expect_code 65 cap &&
	grep "row event for d.m does not carry every column" err &&
	grep "binlog $(src_sql "SHOW BINARY LOGS" | tail -1 | cut -f1) at position" err
'

test_expect_success 'a statement-based DML event is refused (65)' '
	from=$(src_sql "SELECT @@gtid_binlog_pos") &&
	src_sql "SET SESSION binlog_format=STATEMENT; INSERT INTO d.t VALUES (9)" &&
	FROM=$from test_expect_code 65 cap &&
	grep "statement-based event at binlog" err &&
	grep "INSERT INTO d.t VALUES (9)" err &&
	grep "set binlog_format=ROW" err
'

test_expect_success 'a table versioned by transaction id (MariaDB logs its changes as statements): refused, passed over once excluded' '
	from=$(src_sql "SELECT @@gtid_binlog_pos") &&
	src_sql "CREATE TABLE d.tv (id INT PRIMARY KEY, v INT,
			s BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,
			e BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,
			PERIOD FOR SYSTEM_TIME(s, e)) WITH SYSTEM VERSIONING;
		INSERT INTO d.tv (id, v) VALUES (1, 1); UPDATE d.tv SET v = 2 WHERE id = 1;
		INSERT INTO d.m VALUES (7, 7); DELETE FROM d.tv WHERE id = 1" &&
	FROM=$from test_expect_code 65 cap &&
	grep "statement-based event at binlog .*INSERT INTO d.tv" err &&
	grep "one versioned by transaction id, must be left out with --exclude" err &&
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$from" --until-end \
		--exclude "d.tv" >out 2>err &&
	test "$(jq -c "select(.type == \"insert\") | [.table, .after.id]" out)" = "[\"m\",7]" &&
	test -z "$(jq -c "select(.table == \"tv\" and .type != \"ddl\")" out)" &&
	test "$(jq -r "select(.type==\"commit\") | .gtid" out | tail -1)" = "$(src_sql "SELECT @@gtid_binlog_pos")"
'

test_done
