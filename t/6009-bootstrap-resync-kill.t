#!/bin/bash
test_description='srdf-bootstrap --resync under a write load: a kill -9 of srdf-bootstrap, of srdf-capture or of srdf-apply during the copy, then a restart, still ends equal, nothing applied twice'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
. "$top/t/6-resync-lib.sh"
srdf_servers_start

# drift: rows of r.t changed, deleted and added on the target alone.
drift() {
	dst_sql "SET sql_log_bin = 0;
		UPDATE r.t SET v = -1 WHERE id % 97 = $1;
		DELETE FROM r.t WHERE id % 89 = $1;
		INSERT IGNORE INTO r.t SELECT seq, 0, \"extra\" FROM r.seq_30001_to_30020"
}

chunk() {
	resync_chunk r t
}

resync_bg() {
	test_bg resync srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync r.t --chunk-rows 100 --resync-spool 4
}

test_expect_success 'setup: a running pipeline, r.t (20000 rows) and r.cnt on the target, a write load' '
	resync_setup &&
	chain_start && deliver_start && apply_start &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60));
		INSERT INTO r.t SELECT seq, seq, REPEAT(\"p\", seq % 50) FROM r.seq_1_to_20000;
		CREATE TABLE r.cnt (id INT PRIMARY KEY, n BIGINT NOT NULL);
		INSERT INTO r.cnt SELECT seq, 0 FROM r.seq_0_to_9" &&
	test_wait_until 30 caught_up &&
	load_start 6009
'

test_expect_success 'kill -9 of srdf-bootstrap in the middle; run again, it resumes after the last committed chunk' '
	drift 1 &&
	resync_bg &&
	test_wait_until 30 "test \$(chunk) -ge 30" &&
	kill -9 "$(cat resync.pid)" && { wait "$(cat resync.pid)"; true; } &&
	n=$(chunk) && echo "killed after chunk $n" &&
	test "$n" -lt 200 &&
	test "$(src_sql "SELECT state FROM srdf.resync WHERE tbl = \"t\"")" = copying &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.t \
		--chunk-rows 100 2>resync1.err &&
	cat resync1.err &&
	grep -q "resuming the resync after chunk" resync1.err &&
	grep -q "resync copied r.t" resync1.err &&
	test -z "$(ls -A "$S/resync")"
'

test_expect_success 'kill -9 of srdf-capture in the middle; the chain restarts from the last sealed GTID' '
	drift 2 &&
	resync_bg &&
	test_wait_until 30 "test \$(chunk) -ge 30" &&
	chain_kill &&
	n=$(chunk) && echo "capture killed at chunk $n" &&
	chain_start &&
	wait "$(cat resync.pid)" &&
	cat resync.err &&
	grep -q "resync copied r.t" resync.err &&
	test -z "$(ls -A "$S/resync")"
'

test_expect_success 'kill -9 of srdf-apply in the middle; started again, it goes on from its checkpoint' '
	drift 3 &&
	resync_bg &&
	test_wait_until 30 "test \$(chunk) -ge 30" &&
	kill -9 "$(cat apply.pid)" && { wait "$(cat apply.pid)"; true; } &&
	cat apply.err >>apply-killed.err &&
	apply_start &&
	wait "$(cat resync.pid)" &&
	grep -q "resync copied r.t" resync.err
'

test_expect_success 'the load stops; the pipeline catches up: equal, the counters once, no wagon failed' '
	load_stop &&
	test_wait_until 90 caught_up &&
	checksum_both r.t r.cnt &&
	test "$(src_sql "SELECT SUM(n) FROM r.cnt")" = "$(dst_sql "SELECT SUM(n) FROM r.cnt")" &&
	test "$(dst_sql "SELECT COUNT(*) FROM r.t WHERE id > 30000")" = 0 &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases r >verify.out &&
	grep -q "^equal:" verify.out &&
	no_failures
'

test_done
