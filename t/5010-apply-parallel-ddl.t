#!/bin/bash
test_description='srdf-apply: a bulk load (a table loaded, its index built, the next table created and loaded) applied over several connections, DDL wagons among them; kill -9 mid-way; a DDL that fails there goes again alone and stops the run at itself'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# load NAME...: for each table, CREATE TABLE, N rows in one transaction,
# CREATE INDEX, as sysbench prepare does (ROWS each, default 4000).
load() {
	local t
	for t; do
		echo "CREATE TABLE bl.$t (id INT PRIMARY KEY, k INT NOT NULL,
				c CHAR(60) NOT NULL, pad VARCHAR(40));
			INSERT INTO bl.$t SELECT seq, seq * 7 % 1000, MD5(seq), REPEAT('p', seq % 40)
				FROM bl.seq_1_to_${ROWS:-4000};
			CREATE INDEX k_$t ON bl.$t (k);"
	done | src_sql
}

# on_connection: the wagons the log says a parallel connection applied
on_connection() {
	sed -n 's/.*applied wagon \([0-9]*\) on connection [0-9]*:.*/\1/p' apply.err
}

tables() {
	src_sql "SELECT GROUP_CONCAT(CONCAT('bl.', TABLE_NAME)) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = 'bl'" | tr , " "
}

test_expect_success 'setup' '
	apply_setup &&
	src_sql "CREATE DATABASE bl" &&
	seal_new && deliver && apply_once
'

test_expect_success 'four tables loaded and indexed one after the other: rows and DDL wagons over the connections, equal, the indexes there' '
	first=$(($(wagon_count) + 1)) &&
	load t1 t2 t3 t4 &&
	seal_new && deliver && : >apply.err &&
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	# the rows of t2.. and the DDL wagons went to the connections
	test "$(on_connection | wc -l)" -ge 8 &&
	ddl_par=0 &&
	for s in $(on_connection); do
		[ "$(wagon_field "$s" ddl)" = 1 ] && ddl_par=$((ddl_par + 1))
	done &&
	test "$ddl_par" -ge 4 &&
	checksum_both $(tables) &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = '\''bl'\'' AND INDEX_NAME LIKE '\''k\\_%'\''")" = 4 &&
	test "$(ledger-wagons "$D" | jq -r .state | sort -u)" = applied
'

test_expect_success '--parallel 1: the same shape on one connection, equal' '
	load t5 t6 &&
	seal_new && deliver && : >apply.err &&
	apply_once --parallel 1 &&
	test -z "$(on_connection)" &&
	checksum_both $(tables)
'

test_expect_success 'kill -9 five times while it applies such a load: every DDL once, equal' '
	first=$(($(wagon_count) + 1)) &&
	ROWS=20000 load t7 t8 t9 t10 t11 t12 &&
	seal_new && deliver && : >apply.err &&
	RANDOM=${CRASH_SEED:-5010} &&
	for round in 1 2 3 4 5; do
		test_bg daemon srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" &&
		test_wait_until 20 "grep -q started daemon.err" &&
		sleep "0.$((RANDOM % 6))$((RANDOM % 10))" &&
		kill -9 "$(cat daemon.pid)" &&
		{ wait "$(cat daemon.pid)"; true; } &&
		test_wait_until 20 "test_pid_gone $(cat daemon.pid)" &&
		cat daemon.err >>daemons.err &&
		echo "round $round: killed at wagon $(applied_seq) of $(wagon_count)" >>kills || return 1
	done &&
	cat kills &&
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	# (a DDL a kill cut is taken as applied when the server says it is
	# there: "was already applied before a crash")
	! grep "failed" daemons.err apply.err &&
	test "$(ledger-wagons "$D" | jq -r .state | sort -u)" = applied &&
	checksum_both $(tables) &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = '\''bl'\'' AND INDEX_NAME LIKE '\''k\\_%'\''")" = 12
'

test_expect_success 'a DDL wagon that fails on a connection: applied again alone, its error, the wagons before it committed, no row after it (a CREATE after it may have run ahead: empty)' '
	dst_sql "CREATE TABLE bl.t14 (x INT)" &&
	ROWS=20000 load t13 && load t14 t15 &&
	seal_new && deliver && : >apply.err &&
	test_expect_code 65 apply_once --retry none &&
	bad=$(ledger-wagons "$D" | jq -r "select(.state == \"dead\") | .seq") &&
	test -n "$bad" &&
	wagon_field "$bad" last_error | grep -q "Table .t14. already exists" &&
	# (on a parallel connection first, unless the wagons before it were
	# already done when its turn came)
	{ grep "wagon $bad failed on parallel connection [0-9]*: .*already exists.*; it is applied again alone" apply.err ||
	  echo "wagon $bad went alone at once"; } &&
	test "$(applied_seq)" = $((bad - 1)) &&
	test "$(dst_sql "SELECT COUNT(*) FROM bl.t13")" = 20000 &&
	test "$(dst_sql "SELECT COUNT(*) FROM bl.t14")" = 0 &&
	{ test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '\''bl'\'' AND TABLE_NAME = '\''t15'\''")" = 0 ||
	  test "$(dst_sql "SELECT COUNT(*) FROM bl.t15")" = 0; }
'

test_expect_success 'the stray table dropped: the rest applies, equal' '
	dst_sql "DROP TABLE bl.t14" &&
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $(tables)
'

test_done
