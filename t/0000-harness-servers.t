#!/bin/bash
test_description='t/srdf-servers and t/lib.sh: throwaway source and target'
. "$(dirname "$0")/lib.sh"

srdf_servers_start

test_expect_success 'the source writes a ROW binlog with full images and metadata' '
	src_sql "select @@log_bin, @@binlog_format, @@binlog_row_image,
		@@binlog_row_metadata, @@binlog_checksum, @@gtid_strict_mode,
		@@server_id, @@character_set_server" >actual &&
	printf "1\tROW\tFULL\tFULL\tCRC32\t1\t1\tutf8mb4\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the binlog starts empty; an insert advances @@gtid_binlog_pos' '
	test -z "$(src_sql "select @@gtid_binlog_pos")" &&
	src_sql "create database h; create table h.t (id int primary key, v varchar(20))" &&
	before=$(src_sql "select @@gtid_binlog_pos") &&
	src_sql "insert into h.t values (1, \"one\")" &&
	after=$(src_sql "select @@gtid_binlog_pos") &&
	test "$before" != "$after" &&
	echo "$after" | grep -qx "0-1-[0-9]*"
'

test_expect_success 'the srdf user connects over TCP with source.cnf (mode 0600)' '
	test "$(stat -c %a "$SRC_CNF")" = 600 &&
	grep -qx "port=$SRC_PORT" "$SRC_CNF" &&
	mariadb --defaults-file="$SRC_CNF" -N -B -e "select current_user()" >actual &&
	echo srdf@127.0.0.1 >expect &&
	test_cmp expect actual
'

test_expect_success 'the srdf user has REPLICATION SLAVE, BINLOG MONITOR, SELECT, SHOW VIEW, TRIGGER' '
	mariadb --defaults-file="$SRC_CNF" -N -B -e "show grants" >grants &&
	grep "REPLICATION SLAVE" grants &&
	grep "BINLOG MONITOR" grants &&
	grep "GRANT SELECT" grants &&
	mariadb --defaults-file="$SRC_CNF" -N -B -e "show binary logs" >logs &&
	grep "^binlog\.000001" logs &&
	mariadb --defaults-file="$SRC_CNF" -N -B -e "select v from h.t" >actual &&
	echo one >expect &&
	test_cmp expect actual
'

test_expect_success 'the srdf user cannot create tables nor write' '
	test_must_fail mariadb --defaults-file="$SRC_CNF" \
		-e "create table h.u (id int primary key)" 2>err &&
	grep -i "denied" err &&
	test_must_fail mariadb --defaults-file="$SRC_CNF" \
		-e "insert into h.t values (2, \"two\")" &&
	test "$(src_sql "select count(*) from h.t")" = 1
'

test_expect_success 'the target answers on DST_CNF, without a binlog' '
	test "$(stat -c %a "$DST_CNF")" = 600 &&
	mariadb --defaults-file="$DST_CNF" -N -B \
		-e "select @@server_id, @@log_bin, @@character_set_server" >actual &&
	printf "2\t0\tutf8mb4\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'checksum_both agrees on equal tables, and only on them' '
	dst_sql "create database h; create table h.t (id int primary key, v varchar(20))" &&
	test_must_fail checksum_both h.t 2>err &&
	grep "h.t: source [0-9]*, target 0" err &&
	dst_sql "insert into h.t values (1, \"one\")" &&
	checksum_both h.t &&
	test_must_fail checksum_both h.t h.missing 2>err &&
	grep "h.missing: source NULL, target NULL" err
'

test_expect_success 'test_must_fail and test_expect_code do not accept a crash' '
	test_must_fail false &&
	! test_must_fail true 2>/dev/null &&
	! test_must_fail sh -c "kill -SEGV \$\$" 2>/dev/null &&
	! test_must_fail sh -c "exit 134" 2>/dev/null &&
	! test_must_fail no-such-command-srdf 2>/dev/null &&
	test_expect_code 75 sh -c "exit 75" &&
	! test_expect_code 75 true 2>/dev/null
'

test_expect_success 'restart-source keeps the port, the data and the binlog position' '
	old_pid=$SRC_PID && old_port=$SRC_PORT &&
	gtid=$(src_sql "select @@gtid_binlog_pos") &&
	srdf_servers restart-source &&
	! test_pid_alive "$old_pid" &&
	test "$SRC_PID" != "$old_pid" &&
	test_pid_alive "$SRC_PID" &&
	test "$SRC_PORT" = "$old_port" &&
	test "$(src_sql "select @@gtid_binlog_pos")" = "$gtid" &&
	test "$(mariadb --defaults-file="$SRC_CNF" -N -B -e "select v from h.t")" = one
'

test_expect_success 'kill-source is a crash; restart-source recovers every commit' '
	src_sql "insert into h.t values (2, \"two\")" &&
	gtid=$(src_sql "select @@gtid_binlog_pos") &&
	old_pid=$SRC_PID &&
	srdf_servers kill-source &&
	! test_pid_alive "$old_pid" &&
	test_must_fail src_sql "select 1" 2>/dev/null &&
	srdf_servers restart-source &&
	test "$(src_sql "select @@gtid_binlog_pos")" = "$gtid" &&
	test "$(src_sql "select count(*) from h.t")" = 2
'

test_expect_success 'stop --keep stops both by PID and keeps the datadirs; stop removes' '
	dir=$SRDF_SERVERS_DIR &&
	srdf_servers stop --keep &&
	! test_pid_alive "$SRC_PID" &&
	! test_pid_alive "$DST_PID" &&
	test -d "$SRC_DATADIR/mysql" &&
	test -s "$SRC_ERRLOG" &&
	"$top/t/srdf-servers" stop "$dir" &&
	test ! -e "$dir"
'

test_expect_success 'SRDF_SOURCE_OPTS and SRDF_TARGET_OPTS come last and win' '
	SRDF_SOURCE_OPTS="--log-bin-compress=ON --binlog-format=MIXED" \
	SRDF_TARGET_OPTS="--log-bin=tbin --server-id=7" \
		srdf_servers_start &&
	src_sql "select @@log_bin_compress, @@binlog_format" >actual &&
	printf "1\tMIXED\n" >expect &&
	test_cmp expect actual &&
	dst_sql "select @@log_bin, @@server_id" >actual &&
	printf "1\t7\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'srdf-servers: help, and usage errors exit 64' '
	"$top/t/srdf-servers" help >out &&
	grep "restart-source" out &&
	test_expect_code 64 "$top/t/srdf-servers" 2>/dev/null &&
	test_expect_code 64 "$top/t/srdf-servers" start 2>/dev/null &&
	test_expect_code 64 "$top/t/srdf-servers" start "$SRDF_SERVERS_DIR" 2>err &&
	grep "not empty" err
'

test_done
