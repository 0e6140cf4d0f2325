#!/bin/bash
test_description='the failback drill: A replicates to B under load, A is killed -9 with a tail never shipped, B is promoted and written to, A comes back; srdf-failback reports exactly the lost tail, undoes it and A follows B without a bootstrap; then a planned switch-back makes A the primary again with B following, nothing lost'
# B, the DR target, must keep a binlog to become a source (srdf-promote(1)).
export SRDF_TARGET_OPTS="--log-bin=binlog --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --binlog-checksum=CRC32 --gtid-strict-mode=ON"
. "$(dirname "$0")/lib.sh"
srdf_servers_start

# A is the harness's source server, B its target.
A_CNF=$SRC_ADMIN_CNF
B_CNF=$DST_ADMIN_CNF
a_sql() { src_sql "$@"; }
b_sql() { dst_sql "$@"; }
TABLES="drill.c drill.acct drill.nokey drill.log"

# pipeline N FROM_CNF TO_CNF [--start-gtid POS]: capture | dedup | seal
# into state directory sN (from FROM_CNF), srdf-ship to srdf-recv into
# dN, srdf-apply to TO_CNF, ACKs pulled; background names capN, recvN...
pipeline() {
	local n=$1 from=$2 to=$3
	shift 3
	mkdir -p s$n d$n &&
	test_bg recv$n srdf-recv --dir "$PWD/d$n" --key-file key --listen 127.0.0.1:0 --insecure &&
	test_wait_until 30 "grep -q 'listening on http' recv$n.err" &&
	url=$(sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' recv$n.err | head -n 1) &&
	test_bg cap$n sh -c "exec srdf-capture --defaults-file \"$from\" --dir \"$PWD/s$n\" --server-id 42$n $* |
		srdf-dedup --window 200ms | srdf-seal --dir \"$PWD/s$n\" --key-file key" &&
	test_wait_until 30 "test -d \"s$n/outbox/new\"" &&
	test_bg ship$n srdf-ship --dir "$PWD/s$n" --to "$url" --key-file key --insecure \
		--retry 200ms,500ms,1s --ack-pull &&
	test_bg apply$n srdf-apply --dir "$PWD/d$n" --key-file key --defaults-file "$to" --ack-pull
}

# stop NAME...: the background processes, whatever their exit, and
# what they started (the pipeline's capture, dedup and seal under sh).
stop() {
	local p kids
	for p; do
		kids=$(pgrep -P "$(cat "$p.pid")")
		[ -z "$kids" ] || kill $kids 2>/dev/null
		test_bg_stop "$p" || :
		for k in $kids; do
			test_wait_until 10 "! test_pid_alive $k" || kill -9 $k
		done
	done
}

# equal SQL_A_CNF SQL_B_CNF: CHECKSUM TABLE of every table the same on both
# servers, with rows.
equal() {
	for t in $TABLES; do
		a=$(mariadb --defaults-file="$1" -N -B -e "CHECKSUM TABLE $t" | cut -f2) &&
		b=$(mariadb --defaults-file="$2" -N -B -e "CHECKSUM TABLE $t" | cut -f2) &&
		test -n "$a" && test "$a" != NULL && test "$a" = "$b" ||
			{
				echo "$t: $a vs $b"
				diff <(mariadb --defaults-file="$1" -N -B -e "SELECT * FROM $t ORDER BY 1, 2") \
					<(mariadb --defaults-file="$2" -N -B -e "SELECT * FROM $t ORDER BY 1, 2") | head -n 20
				return 1
			}
	done
}

# load FROM TO: transactions FROM..TO on A as the application writes them:
# an insert, an update of a hot row, a delete of an older row, a keyless row.
load_sql() {
	seq "$1" "$2" | awk '{
		printf "BEGIN; INSERT INTO drill.c VALUES (%d, NOW(6), REPEAT(\"x\", %d));", $1, $1 % 50
		printf " UPDATE drill.acct SET bal = bal + %d WHERE id = %d;", $1, $1 % 10
		if ($1 % 7 == 0) printf " DELETE FROM drill.c WHERE n = %d;", $1 - 5
		if ($1 % 5 == 0) printf " INSERT INTO drill.nokey VALUES (%d, \"k\");", $1
		print " COMMIT;"
	}'
}

test_expect_success 'setup: A and B with binlogs, the schema, the key' '
	srdf-keygen -o key 2>/dev/null &&
	test "$(b_sql "SELECT @@log_bin")" = 1 &&
	mkdir -p s1 &&
	ledger-meta s1 bootstrap_gtid "$(a_sql "SELECT @@gtid_binlog_pos")" &&
	a_sql "CREATE DATABASE drill;
		CREATE TABLE drill.c (n INT PRIMARY KEY, at DATETIME(6) NOT NULL, v VARCHAR(64));
		CREATE TABLE drill.acct (id INT PRIMARY KEY, bal BIGINT NOT NULL);
		CREATE TABLE drill.nokey (a INT, b VARCHAR(8));
		CREATE TABLE drill.log (id INT AUTO_INCREMENT PRIMARY KEY, n INT);
		CREATE TRIGGER drill.c_log AFTER INSERT ON drill.c FOR EACH ROW
			INSERT INTO drill.log (n) VALUES (NEW.n);
		CREATE EVENT drill.tick ON SCHEDULE EVERY 1 HOUR DO
			DELETE FROM drill.log WHERE n IS NULL;
		INSERT INTO drill.acct SELECT seq, 0 FROM drill.seq_0_to_9" &&
	b_sql "SET GLOBAL read_only = ON"
'

test_expect_success 'A replicates to B under load' '
	pipeline 1 "$A_CNF" "$B_CNF" &&
	load_sql 1 400 | mariadb --defaults-file="$A_CNF" &&
	test_wait_until 60 "test \"\$(b_sql \"SELECT COUNT(*) FROM drill.c WHERE n = 400\")\" = 1" &&
	equal "$A_CNF" "$B_CNF"
'

test_expect_success 'the link is held (srdf-ship stopped); A commits a tail that never reaches B; A is killed -9' '
	stop ship1 &&
	a_sql "SELECT @@gtid_binlog_pos" >a.before-tail &&
	load_sql 401 700 | mariadb --defaults-file="$A_CNF" &&
	a_sql "UPDATE drill.acct SET bal = -bal WHERE id < 3; DELETE FROM drill.nokey WHERE a < 50" &&
	test_wait_until 30 "test \"\$(ledger-meta s1 last_sealed_gtid)\" = \"\$(a_sql \"SELECT @@gtid_binlog_pos\")\"" &&
	srdf_servers kill-source &&
	stop cap1 recv1
'

test_expect_success 'B is promoted: the report gives the recovery point, its binlog start and the failback line' '
	stop apply1 &&
	srdf-promote --dir "$PWD/d1" --key-file key --defaults-file "$B_CNF" >promote1.out 2>promote1.err &&
	cat promote1.out &&
	R=$(sed -n "s/^failback: srdf-failback --recovery-point \([^ ]*\) --promoted-pos .*/\1/p" promote1.out) &&
	P=$(sed -n "s/^new primary.s binlog starts at: //p" promote1.out) &&
	grep -x "failback: srdf-failback --recovery-point $R --promoted-pos $P" promote1.out &&
	test "$(ledger-meta d1 promoted_pos)" = "$P" &&
	test "$(ledger-meta d1 promoted_gtid)" = "$(b_sql "SELECT last_gtid FROM srdf.applied")" &&
	test "$R" = "$(cat a.before-tail)" &&
	echo "$R" >R && echo "$P" >P &&
	{ srdf-status --dir "$PWD/d1" >status1.out; test $? -le 1; } &&
	grep -x "new primary.s binlog starts at: $P" status1.out &&
	grep -x "failback: srdf-failback --recovery-point $R --promoted-pos $P" status1.out &&
	{ srdf-status --dir "$PWD/d1" --json >status1.json; test $? -le 1; } &&
	jq -e ".promoted.binlog_pos == \"$P\" and .promoted.gtid_pos == \"$R\""
'

test_expect_success 'B takes writes as the primary' '
	b_sql "INSERT INTO drill.c SELECT -seq, NOW(6), \"on B\" FROM drill.seq_1_to_50;
		UPDATE drill.acct SET bal = bal * 2 WHERE id >= 5;
		INSERT INTO drill.nokey VALUES (-1, \"B\")" &&
	b_sql "CHECKSUM TABLE drill.c, drill.acct, drill.nokey" >b.at-failback
'

test_expect_success 'A restarts; its binlog beyond R is the lost tail' '
	srdf_servers restart-source &&
	test "$(a_sql "SELECT @@read_only")" = 0 &&
	mariadb-binlog "$SRC_DATADIR"/binlog.[0-9]* 2>/dev/null |
		sed -n "s/.*GTID \(0-1-[0-9]*\).*/\1/p" >a.gtids &&
		r=$(sed "s/.*-//" R) &&
	awk -F- -v r=$r "\$3 > r" a.gtids >lost.expect &&
	test "$(wc -l <lost.expect)" -gt 300
'

test_expect_success 'srdf-failback on A: read-only, the report of exactly the lost tail, undone, A at R' '
	start=$(date +%s.%N) &&
	srdf-failback --defaults-file "$A_CNF" --recovery-point "$(cat R)" \
		--promoted-pos "$(cat P)" --report lost.jsonl >fb.out 2>fb.err &&
	end=$(date +%s.%N) &&
	cat fb.out && echo "failback took $(echo "$end - $start" | bc) s" &&
	grep -x "read_only: OFF -> ON" fb.out &&
	test "$(a_sql "SELECT @@read_only")" = 1 &&
	jq -r .gtid lost.jsonl >lost.actual &&
	test_cmp lost.expect lost.actual &&
	grep -x "lost transactions: $(wc -l <lost.expect) (the binlog beyond the recovery point: $(wc -l <lost.expect)), [0-9]* row changes" fb.out &&
	test "$(jq "select(.gtid == \"$(sed -n 2p lost.expect)\") | .changes | map(.op + \" \" + .table) == [\"insert c\", \"insert log\", \"update acct\"] and .[2].before.bal + 402 == .[2].after.bal" lost.jsonl)" = true &&
	jq -s -e "map(select(.changes[0].op == \"insert\")) | length == 300 and all(.changes[0].table == \"c\" and .changes[0].after.n > 400)" lost.jsonl &&
	grep -A4 "^transaction $(tail -n 1 lost.expect), committed 20.*, server 1, 9 changes$" lost.jsonl.txt | grep "^    before: {\"a\":" &&
	grep "^verified: [0-9]* rows as at the recovery point$" fb.out &&
	grep -x "trigger drill.c_log: guarded (srdf-apply.s rows do not fire it)" fb.out &&
	grep -x "event drill.tick: DISABLE ON SLAVE (srdf-promote enables it)" fb.out &&
	a_sql "SHOW CREATE TRIGGER drill.c_log" | grep -q "srdf.apply_sessions" &&
	test "$(a_sql "SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_NAME = \"tick\"")" = SLAVESIDE_DISABLED &&
	grep "^failed back: " fb.out
'

test_expect_success 'A holds exactly B as of the promotion: the rows B wrote since are all that differ' '
	test "$(a_sql "SELECT COUNT(*) FROM drill.c WHERE n > 400")" = 0 &&
	test "$(a_sql "SELECT MAX(n) FROM drill.c")" = 400 &&
	b_sql "SELECT n, at, v FROM drill.c WHERE n > 0 ORDER BY n" >b.c &&
	a_sql "SELECT n, at, v FROM drill.c ORDER BY n" >a.c &&
	test_cmp b.c a.c
'

test_expect_success 'the reverse replication, B to A, starts without a bootstrap; A equals B (CHECKSUM TABLE, srdf-verify)' '
	pipeline 2 "$B_CNF" "$A_CNF" --start-gtid "$(cat P)" &&
	b_sql "INSERT INTO drill.c SELECT -seq, NOW(6), \"later on B\" FROM drill.seq_51_to_80" &&
	test_wait_until 60 "test \"\$(a_sql \"SELECT COUNT(*) FROM drill.c WHERE n < 0\")\" = 80" &&
	equal "$A_CNF" "$B_CNF" &&
	srdf-verify --source "$B_CNF" --target "$A_CNF" --wait-seconds 30 >verify.out 2>&1 &&
	grep -c "starting after --start-gtid" cap2.err
'

test_expect_success 'a second srdf-failback for the same recovery point refuses to undo what A applied since' '
	srdf-failback --defaults-file "$A_CNF" --recovery-point "$(cat R)" \
		--promoted-pos "$(cat P)" --report again.jsonl >again.out 2>again.err &&
	grep "^failed back to $(cat R) at .* already: nothing to do" again.out &&
	equal "$A_CNF" "$B_CNF"
'

test_expect_success 'planned switch-back: B read-only, A drains everything B sealed, A promoted' '
	load_sql 2001 2100 | sed "s/drill.c VALUES (/drill.c VALUES (-/" | mariadb --defaults-file="$B_CNF" &&
	b_sql "SET GLOBAL read_only = ON" &&
	b_sql "SELECT @@gtid_binlog_pos" >b.final &&
	test_wait_until 30 "test \"\$(ledger-meta s2 last_sealed_gtid)\" = \"\$(cat b.final)\"" &&
	last=$(ledger-wagons s2 | jq -s "map(.seq) | max") &&
	test_wait_until 30 "test \"\$(a_sql \"SELECT MAX(seq) FROM srdf.applied\")\" = $last" &&
	stop apply2 cap2 ship2 recv2 &&
	srdf-promote --dir "$PWD/d2" --key-file key --defaults-file "$A_CNF" >promote2.out 2>promote2.err &&
	cat promote2.out &&
	sed -n "s/^failback: srdf-failback --recovery-point \([^ ]*\) --promoted-pos .*/\1/p" promote2.out >R2 &&
	sed -n "s/^new primary.s binlog starts at: //p" promote2.out >P2 &&
	test "$(cat R2)" = "$(cat b.final)" &&
	test "$(a_sql "SELECT @@read_only")" = 0 &&
	! a_sql "SHOW CREATE TRIGGER drill.c_log" | grep -q "srdf.apply_sessions" &&
	test "$(a_sql "SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_NAME = \"tick\"")" = ENABLED &&
	equal "$A_CNF" "$B_CNF"
'

test_expect_success 'srdf-failback on B: nothing to undo' '
	srdf-failback --defaults-file "$B_CNF" --recovery-point "$(cat R2)" \
		--promoted-pos "$(cat P2)" --report lost2.jsonl >fb2.out 2>fb2.err &&
	cat fb2.out &&
	grep -x "read_only: ON -> ON" fb2.out &&
	grep -x "lost transactions: 0 (the binlog beyond the recovery point: 0), 0 row changes" fb2.out &&
	grep -x "undone: nothing (the old primary is at the recovery point)" fb2.out &&
	grep -x "trigger drill.c_log: guarded (srdf-apply.s rows do not fire it)" fb2.out &&
	test "$(b_sql "SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_NAME = \"tick\"")" = SLAVESIDE_DISABLED &&
	test_cmp /dev/null lost2.jsonl
'

test_expect_success 'A is the primary again, B follows, equal; nothing committed anywhere was lost' '
	pipeline 3 "$A_CNF" "$B_CNF" --start-gtid "$(cat P2)" &&
	load_sql 3001 3100 | mariadb --defaults-file="$A_CNF" &&
	test_wait_until 60 "test \"\$(b_sql \"SELECT COUNT(*) FROM drill.c WHERE n = 3100\")\" = 1" &&
	equal "$A_CNF" "$B_CNF" &&
	test "$(b_sql "SELECT COUNT(*) FROM drill.c WHERE n < 0")" = 180 &&
	test "$(a_sql "SELECT COUNT(*) FROM drill.c WHERE n < 0")" = 180 &&
	test "$(a_sql "SELECT COUNT(*) FROM drill.c WHERE n BETWEEN 1 AND 400")" = "$(b_sql "SELECT COUNT(*) FROM drill.c WHERE n BETWEEN 1 AND 400")" &&
	test "$(a_sql "SELECT COUNT(*) FROM drill.c WHERE n BETWEEN 401 AND 700")" = 0 &&
	test "$(b_sql "SELECT COUNT(*) FROM drill.log WHERE n BETWEEN 3001 AND 3100")" = 100 &&
	stop apply3 cap3 ship3 recv3
'

test_done
