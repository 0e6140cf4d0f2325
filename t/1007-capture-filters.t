#!/bin/bash
test_description='srdf-capture: --include/--exclude, system schemas never captured'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

test_expect_success 'setup' '
	src_sql "SELECT @@gtid_binlog_pos" >start &&
	src_sql "CREATE DATABASE shop; CREATE DATABASE logs; CREATE DATABASE srdf" &&
	src_sql "CREATE TABLE shop.orders (id INT PRIMARY KEY); CREATE TABLE shop.tmp_x (id INT PRIMARY KEY)" &&
	src_sql "CREATE TABLE logs.l (id INT PRIMARY KEY); CREATE TABLE srdf.applied (id INT PRIMARY KEY)" &&
	src_sql "INSERT INTO shop.orders VALUES (1); INSERT INTO shop.tmp_x VALUES (1); INSERT INTO logs.l VALUES (1); INSERT INTO srdf.applied VALUES (1)" &&
	src_sql "CREATE USER someone@localhost; GRANT SELECT ON shop.* TO someone@localhost; INSERT INTO mysql.plugin VALUES (\"x\", \"y\")"
'

test_expect_success 'without filters: everything but the srdf and system schemas' '
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat start)" --until-end >all 2>err &&
	jq -r "select(.after) | .db + \".\" + .table" all | sort >actual &&
	printf "logs.l\nshop.orders\nshop.tmp_x\n" >expect &&
	test_cmp expect actual &&
	! jq -r "select(.type==\"ddl\") | .sql" all | grep -i -e srdf -e "user" -e grant
'

test_expect_success 'every transaction still has its begin/commit' '
	test "$(jq -r "select(.type==\"begin\") | .gtid" all | wc -l)" = "$(jq -r "select(.type==\"commit\") | .gtid" all | wc -l)" &&
	test "$(jq -r "select(.type==\"commit\") | .gtid" all | tail -1)" = "$(src_sql "SELECT @@gtid_binlog_pos")"
'

test_expect_success '--include and --exclude select tables by pattern' '
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat start)" --until-end \
		--include "shop.*" --exclude "*.tmp_*" >some 2>err &&
	jq -r "select(.after) | .db + \".\" + .table" some >actual &&
	echo shop.orders >expect &&
	test_cmp expect actual &&
	jq -r "select(.type==\"ddl\") | .sql" some >ddl &&
	grep "CREATE DATABASE shop" ddl &&
	! grep "logs" ddl
'

test_done
