#!/bin/bash
test_description='the mistake the delay is for: sysbench on the source, the target at --delay 30s, a DELETE without WHERE; srdf-apply --until-before its GTID leaves every table equal (CHECKSUM TABLE) to a native MariaDB replica of the source stopped by START SLAVE UNTIL master_gtid_pos at the transaction before it; started again without --until it ends equal to the source'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
command -v sysbench >/dev/null || skip_all "no sysbench"
srdf_servers_start

DELAY=30
TABLES="sbtest.sbtest1 sbtest.sbtest2 sbtest.sbtest3 app.orders"

# A third server, the independent truth: the target of a second pair
# (whose source is not needed), a native replica of our source.
d2=$(mktemp -d /tmp/srdf.XXXXXX) && _tl_server_dirs+=("$d2") &&
	"$top/t/srdf-servers" start "$d2" >/dev/null 2>&1 9<&- &&
	"$top/t/srdf-servers" kill-source "$d2" >/dev/null 2>&1 9<&- ||
	error "cannot start the replica's server"
REPL_CNF=$(. "$d2/env" && echo "$DST_ADMIN_CNF")
repl_sql() {
	_tl_sql "$REPL_CNF" "$@"
}

sb() {
	sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" \
		--mysql-user=root --mysql-db=sbtest --tables=3 --table-size=300 \
		--rand-seed=1 "$@"
}

# receive: new wagons through srdf-recv --import, as 5022 does.
receive() {
	local f n
	mkdir -p xfer/new &&
	for f in "$S"/outbox/new/*.wagon; do
		[ -e "$f" ] || continue
		n=${f##*/}
		[ -e "xfer/cur/$n" ] || [ -e "xfer/new/$n" ] || cp "$f" xfer/new/ || return
	done &&
	srdf-recv --dir "$D" --key-file key --import xfer 2>>recv.err
}

# feed: the source's changes sealed (a large transaction alone: solo)
# and received every second until the file stop.feed appears.
feed() {
	while [ ! -e stop.feed ]; do
		seal_new --solo-rows 100 && receive || return
		sleep 1
	done
	seal_new --solo-rows 100 && receive
}

# checksums SQLFN: CHECKSUM TABLE of every table, one line each.
checksums() {
	local t
	for t in $TABLES; do
		"$1" "CHECKSUM TABLE $t" || return
	done
}

test_expect_success 'setup: tables, sysbench prepared, the replica connected (not started), the target at --delay 30s' '
	apply_setup &&
	src_sql "CREATE DATABASE sbtest; CREATE DATABASE app;
		CREATE TABLE app.orders (id INT PRIMARY KEY, qty INT NOT NULL);
		INSERT INTO app.orders SELECT seq, seq FROM app.seq_1_to_500" &&
	sb prepare >prepare.out &&
	port=$(sed -n "s/^port=//p" "$SRC_CNF") &&
	user=$(sed -n "s/^user=//p" "$SRC_CNF") &&
	pass=$(sed -n "s/^password=//p" "$SRC_CNF") &&
	repl_sql "CHANGE MASTER TO master_host=\"127.0.0.1\", master_port=$port,
		master_user=\"$user\", master_password=\"$pass\",
		master_use_gtid=slave_pos" &&
	seal_new && receive &&
	test_bg apply srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--delay ${DELAY}s
'

test_expect_success 'under load, the DELETE without WHERE is received at once but not applied' '
	t0=$(date +%s) &&
	test_bg load sb --threads=2 --rate=40 --time=$((DELAY + 8)) --report-interval=0 run &&
	test_bg feed feed &&
	sleep $((DELAY + 2)) &&
	bad=$(src_sql "DELETE FROM sbtest.sbtest2; SELECT @@last_gtid" | tail -1) &&
	echo "the mistake: $bad" && echo "$bad" >bad &&
	wait $(cat load.pid) &&
	touch stop.feed && wait $(cat feed.pid) &&
	last=$(src_sql "SELECT @@gtid_binlog_pos") &&
	test "$(ledger-wagons "$D" | jq -r "select(.last_gtid == \"$last\") | .state")" != "" &&
	srdf-status --dir "$D" >st.txt && cat st.txt &&
	grep -q "^received up to: wagon [0-9]*, GTID $last" st.txt &&
	grep -q "^apply delay: --delay $DELAY s" st.txt &&
	applied=$(applied_seq) && echo "applied up to wagon $applied after $(($(date +%s) - t0)) s" &&
	test "$applied" -gt 2 &&
	test "$(dst_sql "SELECT COUNT(*) FROM sbtest.sbtest2")" -gt 0 &&
	test_bg_stop apply
'

test_expect_success 'srdf-apply --until-before the DELETE: stops right before it, one line on stdout' '
	bad=$(cat bad) && before=0-1-$((${bad##*-} - 1)) &&
	srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--until-before "$bad" >until.out 2>until.err &&
	cat until.out && test "$(wc -l <until.out)" = 1 &&
	grep -q "^stopped at --until-before $bad: checkpoint wagon [0-9]*, part [0-9]*, GTID $before: " until.out &&
	grep -q "stopped at --until-before $bad" until.err &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$before" &&
	test "$(dst_sql "SELECT COUNT(*) FROM sbtest.sbtest2")" -gt 0
'

test_expect_success 'every table equals the native replica stopped at START SLAVE UNTIL master_gtid_pos before it' '
	bad=$(cat bad) && before=0-1-$((${bad##*-} - 1)) &&
	repl_sql "START SLAVE UNTIL master_gtid_pos = \"$before\"" &&
	test_wait_until 60 "test \"\$(repl_sql \"SELECT @@gtid_slave_pos\")\" = \"$before\"" &&
	repl_sql "STOP SLAVE" &&
	test "$(repl_sql "SELECT @@gtid_slave_pos")" = "$before" &&
	checksums repl_sql >replica.sums && checksums dst_sql >target.sums &&
	cat target.sums && test_cmp replica.sums target.sums &&
	checksums src_sql >source.sums && ! test_cmp source.sums target.sums >/dev/null
'

test_expect_success 'started again without --until: it goes on from the checkpoint and ends equal to the source' '
	apply_once &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(src_sql "SELECT @@gtid_binlog_pos")" &&
	checksum_both $TABLES
'

test_done
