# t/6-resync-lib.sh — sourced by the online copy tests (t/6008 to t/6013)
# after t/lib.sh, t/5-apply-lib.sh and srdf_servers_start: a running
# pipeline (capture | dedup | seal on the source state directory $S,
# wagons copied into $D/inbox/new, srdf-apply as a daemon) and a write
# load on the source.
#
#	resync_setup             key, $S, $D; the source account may write
#	                         srdf.* (srdf.resync, the watermarks)
#	chain_start / chain_kill capture | dedup | seal through FIFOs (capture
#	                         with $CAPTURE_ARGS), each
#	                         pid in capture.pid, dedup.pid, seal.pid;
#	                         chain_kill kill -9s capture, the rest ends
#	                         at its end of input
#	deliver_start            a loop that delivers the new wagons
#	apply_start              srdf-apply as a daemon (apply.pid)
#	load_start SEED [TABLE]  load.sh: transactions on TABLE (r.t; ids up
#	                         to 4000) and increments of r.cnt (n = n + 1,
#	                         not idempotent), until SIGTERM
#	load_stop
#	sb_prepare DB N ROWS     creates DB and sysbench's DB.sbtest1..N of
#	                         ROWS rows each (sysbench oltp_write_only
#	                         prepare; a test using it first does
#	                         command -v sysbench || skip_all)
#	sb_start DB N SEED CNT   sysbench oltp_write_only on DB.sbtest1..N
#	                         (2 threads, --rate $SB_RATE (200), --rand-seed
#	                         SEED, errors ignored) and count.sh beside it:
#	                         transactions of one increment of CNT (n = n +
#	                         1, not idempotent); both until sb_stop
#	sb_deletes               the source's Com_delete: sysbench's
#	                         transactions so far (one DELETE each;
#	                         count.sh and srdf-bootstrap delete nothing)
#	sb_stop                  fails when sysbench had stopped before it
#	resync_chunk DB TBL      the chunks of DB.TBL's copy in progress
#	                         the source committed (0 when none is)
#	caught_up                everything the source did is sealed and
#	                         applied
#	no_failures              no wagon failed or died on the target

resync_setup() {
	srdf-keygen -o key 2>/dev/null &&
	mkdir -p "$S" "$D/inbox/new" &&
	src_sql "SET sql_log_bin = 0;
		GRANT ALL ON srdf.* TO 'srdf'@'127.0.0.1', 'srdf'@'localhost'" &&
	ledger-meta "$S" bootstrap_gtid "$(src_sql 'SELECT @@gtid_binlog_pos')"
}

chain_start() {
	rm -f c2d d2s && mkfifo c2d d2s &&
	{ srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --heartbeat 1 \
		$CAPTURE_ARGS >c2d 2>>capture.err & echo $! >capture.pid; } &&
	{ srdf-dedup --window 200ms <c2d >d2s 2>>dedup.err & echo $! >dedup.pid; } &&
	{ srdf-seal --dir "$S" --key-file key <d2s 2>>seal.err & echo $! >seal.pid; } &&
	_tl_bg_pids+=("$(cat capture.pid)" "$(cat dedup.pid)" "$(cat seal.pid)")
}

chain_kill() {
	kill -9 "$(cat capture.pid)" &&
	{ wait "$(cat capture.pid)"; true; } &&
	{ wait "$(cat dedup.pid)"; true; } &&
	{ wait "$(cat seal.pid)"; true; }
}

chain_stop() {
	kill -TERM "$(cat capture.pid)" &&
	{ wait "$(cat capture.pid)"; true; } &&
	{ wait "$(cat dedup.pid)"; true; } &&
	{ wait "$(cat seal.pid)"; true; }
}

deliver_loop() {
	trap 'exit 0' TERM
	while :; do
		deliver
		sleep 0.2
	done
}

deliver_start() {
	test_bg deliverer deliver_loop
}

apply_start() {
	test_bg apply srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF"
}

cat >load.sh <<'SH'
# load.sh SEED [TABLE]: batches of 20 transactions, each an update, a delete and
# an upsert of r.t rows (ids up to 4000) and an increment of a counter
# of r.cnt; errors (a deadlock, a lock wait) are skipped (--force), as
# the test compares the target with what the source committed.
RANDOM=$1
T=${2:-r.t}
trap 'exit 0' TERM
while :; do
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		echo "BEGIN;
		UPDATE $T SET v = v + 1, pad = REPEAT('u', $((RANDOM % 40))) WHERE id = $((RANDOM % 4000 + 1));
		DELETE FROM $T WHERE id = $((RANDOM % 4000 + 1));
		INSERT INTO $T VALUES ($((RANDOM % 4000 + 1)), $RANDOM, 'i') ON DUPLICATE KEY UPDATE v = v - 1;
		UPDATE r.cnt SET n = n + 1 WHERE id = $((RANDOM % 10));
		COMMIT;"
	done | mariadb --defaults-file="$SRC_ADMIN_CNF" --force 2>/dev/null
	echo batch >>load.batches
done
SH

load_start() {
	rm -f load.batches
	test_bg load bash load.sh "$1" "$2" &&
	test_wait_until 20 "test -s load.batches"
}

load_stop() {
	test_bg_stop load || true
}

sb_prepare() {
	src_sql "CREATE DATABASE $1" &&
	sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" \
		--mysql-user=root --mysql-db="$1" --tables="$2" --table-size="$3" \
		prepare >"sb-$1.prepare"
}

cat >count.sh <<'SH'
# count.sh SEED TABLE: batches of 20 transactions, each an increment of a
# counter of TABLE (ids 0 to 9; n = n + 1, so a change applied twice or
# lost shows in SUM(n)), until SIGTERM.
RANDOM=$1
trap 'exit 0' TERM
while :; do
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		echo "UPDATE $2 SET n = n + 1 WHERE id = $((RANDOM % 10));"
	done | mariadb --defaults-file="$SRC_ADMIN_CNF" --force 2>/dev/null
	echo batch >>count.batches
	sleep 0.05
done
SH

sb_start() {
	rm -f count.batches
	test_bg sysbench sysbench oltp_write_only --db-driver=mysql \
		--mysql-socket="$SRC_SOCK" --mysql-user=root --mysql-db="$1" \
		--tables="$2" --rand-seed="$3" --threads=2 --rate="${SB_RATE:-200}" --time=0 \
		--mysql-ignore-errors=all --report-interval=0 run &&
	test_bg count bash count.sh "$3" "$4" &&
	test_wait_until 20 "test -s count.batches"
}

sb_deletes() {
	src_sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
		WHERE VARIABLE_NAME = 'COM_DELETE'"
}

sb_stop() {
	local ec=0
	kill -0 "$(cat sysbench.pid)" 2>/dev/null ||
		{ echo "sysbench had stopped" && cat sysbench.err; ec=1; }
	test_bg_stop count || true
	test_bg_stop sysbench || true
	return $ec
}

resync_chunk() {
	src_sql "SELECT IF(state = 'copying', chunk, 0) FROM srdf.resync
		WHERE db = '$1' AND tbl = '$2'" 2>/dev/null | grep . || echo 0
}

caught_up() {
	test "$(ledger-meta "$S" last_sealed_gtid)" = "$(src_sql 'SELECT @@gtid_binlog_pos')" &&
	test "$(applied_seq)" = "$(wagon_count)"
}

no_failures() {
	! ledger-wagons "$D" | jq -e 'select(.state == "dead" or .state == "failed")' >/dev/null
}
