#!/bin/bash
test_description='srdf-bootstrap killed halfway under load resumes at a new snapshot and still ends equal'
. "$(dirname "$0")/lib.sh"
[ -x "$top/bin/srdf-seal" ] && [ -x "$top/bin/srdf-cat" ] ||
	skip_all "srdf-seal and srdf-cat are not built: resuming counts sealed groups"
srdf_servers_start

D=$PWD/state
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK"
	--mysql-user=root --mysql-db=sbtest --tables=4 --table-size=50000)

cat >writer.sh <<'SH'
# Keys that move, rows that come and go, in a composite latin1 key.
trap 'exit 0' TERM
i=0
while :; do
	i=$((i + 1))
	mariadb --defaults-file="$SRC_ADMIN_CNF" -e "
		UPDATE d.c SET b = b + 100000 WHERE a = CONCAT(CHAR(65 + $i % 5), X'E9') AND b = $i;
		DELETE FROM d.c WHERE b = $i + 2000;
		INSERT INTO d.c VALUES (CONCAT('n', X'E9'), $i, REPEAT('v', $i % 50));
		INSERT INTO d.np VALUES ($i % 7, NOW())" || exit 1
	sleep 0.02
done
SH

# bootstrap N: srdf-bootstrap | srdf-seal in the background, the
# bootstrap's PID in bs.pid, the pipeline's in pipe.pid.
bootstrap() {
	{ srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$D" --chunk-rows 500 \
		2>"bootstrap$1.err" & echo $! >bs.pid; wait; } |
		srdf-seal --dir "$D" --key-file key 2>"seal$1.err" &
	echo $! >pipe.pid
}

inserts() {
	jq -r "select(.type==\"insert\") | 1" "$@" | wc -l
}

test_expect_success 'setup: 4 x 50000 sysbench rows, a composite latin1 key, no primary key; a load' '
	src_sql "SET sql_log_bin = 0;
		GRANT SHOW VIEW, TRIGGER ON *.* TO '\''srdf'\''@'\''127.0.0.1'\''" &&
	src_sql "CREATE DATABASE sbtest; CREATE DATABASE d; USE d;
		CREATE TABLE d.c (a VARCHAR(10) CHARACTER SET latin1, b INT, v TEXT, PRIMARY KEY (a, b));
		INSERT INTO d.c SELECT CONCAT(CHAR(65 + seq % 5), X'\''E9'\''), seq, REPEAT('\''x'\'', seq % 100) FROM seq_1_to_20000;
		CREATE TABLE d.np (x INT, t DATETIME);
		INSERT INTO d.np SELECT seq % 7, NOW() FROM seq_1_to_100" &&
	"${sb[@]}" prepare >/dev/null &&
	srdf-keygen -o key 2>/dev/null &&
	test_bg sysbench "${sb[@]}" --threads=2 --time=600 --rate=100 run &&
	test_bg writer bash writer.sh
'

test_expect_success 'the first bootstrap is killed -9 halfway' '
	bootstrap 1 &&
	test_wait_until 60 "test \$(ls $D/outbox/new 2>/dev/null | wc -l) -ge 100" &&
	kill -9 "$(cat bs.pid)" &&
	{ wait "$(cat pipe.pid)"; true; } &&
	ledger-meta "$D" bootstrap_progress >progress1 &&
	jq -e ".state == \"copying\"" progress1 &&
	g1=$(jq -r .first_gtid progress1) &&
	test "$(ledger-meta "$D" bootstrap_gtid)" = "$g1" &&
	srdf-cat --key-file key "$D/outbox" >run1.jsonl &&
	echo "run 1 sealed $(inserts run1.jsonl) rows at $g1"
'

test_expect_success 'the second bootstrap resumes at a new snapshot, copying fewer rows' '
	sleep 1 &&
	bootstrap 2 &&
	wait "$(cat pipe.pid)" &&
	cat bootstrap2.err &&
	grep -q "resuming the copy begun at GTID position .$g1. (run 2)" bootstrap2.err &&
	grep -q "the copy is complete" bootstrap2.err &&
	ledger-meta "$D" bootstrap_progress >progress2 &&
	jq -e ".state == \"done\" and .runs == 2" progress2 &&
	g2=$(jq -r .snapshot_gtid progress2) &&
	test "${g2##*-}" -gt "${g1##*-}" &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "$g1" &&
	srdf-cat --key-file key "$D/outbox" >all.jsonl &&
	n1=$(inserts run1.jsonl) && n=$(inserts all.jsonl) &&
	total=$(src_sql "SELECT (SELECT COUNT(*) FROM d.c) + (SELECT COUNT(*) FROM d.np) +
		(SELECT SUM(TABLE_ROWS) FROM information_schema.TABLES WHERE TABLE_SCHEMA = \"sbtest\")") &&
	echo "run 1: $n1 rows, run 2: $((n - n1)) rows, source ~$total rows" &&
	test "$n1" -gt 0 && test "$((n - n1))" -gt 0 &&
	test "$((n - n1))" -lt "$((total * 9 / 10))" &&
	jq -r "select(.type==\"group_end\") | .gtid_pos" all.jsonl | sort -u >pos &&
	echo "$g1" >expect && test_cmp expect pos &&
	jq -r "select(.type==\"group_end\") | .snapshot_gtid" all.jsonl | uniq >snaps &&
	printf "%s\n" "$g1" "$g2" >expect && test_cmp expect snaps
'

test_expect_success 'the copy reaches the target; the load stops; capture catches up from G1' '
	rec2sql <all.jsonl | dst_sql &&
	{ test_bg_stop writer; test_bg_stop sysbench; true; } &&
	test ! -s writer.err &&
	test_wait_until 10 "test \$(src_sql \"SELECT COUNT(*) FROM information_schema.PROCESSLIST
		WHERE DB = '\''sbtest'\''\") = 0" &&
	srdf-capture --defaults-file "$SRC_CNF" --dir "$D" --until-end >catchup.jsonl 2>capture.err &&
	grep -q "starting after the GTID position .$g1." capture.err &&
	idem2sql "$g2" <catchup.jsonl | dst_sql
'

test_expect_success 'srdf-verify and CHECKSUM TABLE: equal' '
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" >verify.out &&
	cat verify.out &&
	grep -q "^equal:" verify.out &&
	checksum_both sbtest.sbtest1 sbtest.sbtest2 sbtest.sbtest3 sbtest.sbtest4 d.c d.np
'

test_expect_success 'a complete copy is not copied again; --restart copies afresh' '
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$D" >again.jsonl 2>again.err &&
	grep -q "is complete" again.err && test ! -s again.jsonl &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$D" --restart --include "d.*" >fresh.jsonl 2>fresh.err &&
	test "$(inserts fresh.jsonl)" = "$(src_sql "SELECT (SELECT COUNT(*) FROM d.c) + (SELECT COUNT(*) FROM d.np)")"
'

test_expect_success 'a complete copy whose wagons were confirmed and purged since is still complete' '
	srdf-keygen -o ekey 2>/dev/null && mkdir E &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir E --include "d.*" 2>e1.err |
		srdf-seal --dir E --key-file ekey 2>eseal.err &&
	test "$(ledger-wagons E | jq -s length)" -gt 2 &&
	ledger-confirm E &&
	srdf-ackd --dir E --once --keep 0 2>eackd.err &&
	test "$(ledger-wagons E | jq -s length)" = 1 &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir E --include "d.*" >e2.jsonl 2>e2.err &&
	grep -q "is complete" e2.err && test ! -s e2.jsonl &&
	test_expect_code 64 srdf-bootstrap --defaults-file "$SRC_CNF" --dir E \
		--include "d.*" --include "sbtest.*" >e3.jsonl 2>e3.err &&
	test ! -s e3.jsonl &&
	grep -q "ledger holds a copy with another selection (.*); run with the same options to resume it; to add databases or tables to the running pipeline, copy them online with srdf-bootstrap --add .db\.\*. (srdf-bootstrap(1), Adding tables online); --restart copies everything afresh" e3.err
'

test_done
