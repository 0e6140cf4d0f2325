#!/bin/bash
test_description='srdf-apply --delay: wagons received and stored at once, applied only once their last source commit is that old (also a backlog that would merge, and with --parallel); the wait answers SIGHUP and SIGTERM without spinning; srdf-status shows received up to, applied up to and the delay'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

DELAY=5

# receive: the wagons sealed since the last call, shipped (srdf-ship --to
# dir:, the source's ledger says received) and taken in by srdf-recv
# --import as a transport would leave them (inbox/new, ledger received).
receive() {
	mkdir -p xfer &&
	srdf-ship --dir "$S" --to dir:xfer --once 2>>ship.err &&
	srdf-recv --dir "$D" --key-file key --import xfer 2>>recv.err
}

row() { # ID: the row on the target, or nothing
	dst_sql "SELECT v FROM d.t WHERE id = $1"
}

cpu_ticks() { # PID: user + system clock ticks so far
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

test_expect_success 'setup: a table, applied without delay' '
	apply_setup &&
	src_sql "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT)" &&
	seal_new && receive && apply_once &&
	checksum_both d.t
'

test_expect_success 'a wagon is received and stored at once, not applied before --delay, applied after' '
	test_bg apply srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--delay ${DELAY}s --parallel 4 &&
	src_sql "INSERT INTO d.t VALUES (1, 1)" && seal_new &&
	n=$(wagon_count) && receive &&
	test -e "$D/inbox/new/$(wagon_name $n)" &&
	test "$(wagon_state $n)" = received &&
	ts=$(wagon_field $n last_ts) && test "$ts" -gt 0 &&
	test_wait_until 10 "grep -q \"wagon $n .* waits [0-9]* s more for --delay $DELAY s\" apply.err" &&
	# Not applied while the commit is younger than the delay (looked at
	# as long as it is: a slow host may leave little of it).
	while [ "$(date +%s)" -lt $((ts + DELAY - 1)) ]; do
		test -z "$(row 1)" && test "$(wagon_state $n)" = received || return 1
		sleep 0.5
	done &&
	test_wait_until 15 "test \"\$(row 1)\" = 1" &&
	test "$(date +%s)" -ge $((ts + DELAY)) &&
	test "$(applied_seq)" = "$n" &&
	test_wait_until 5 "test \"\$(wagon_state $n)\" = applied" &&
	at=$(wagon_field $n applied_at) &&
	awk "BEGIN { exit !($at - $ts >= $DELAY) }"
'

test_expect_success 'srdf-status on the target: received up to and applied up to, with the source commit times, and the delay' '
	src_sql "INSERT INTO d.t VALUES (2, 2)" && seal_new &&
	n=$(wagon_count) && receive &&
	srdf-status --dir "$D" >st.txt; cat st.txt &&
	grep -q "^received up to: wagon $n, GTID [0-9-]*, source commit 20[0-9T:-]*Z ([0-9]* s ago)" st.txt &&
	grep -q "^applied up to: wagon $((n - 1)), GTID [0-9-]*, source commit" st.txt &&
	grep -q "^apply delay: --delay $DELAY s" st.txt &&
	srdf-status --dir "$D" --json >st.json &&
	jq -e ".received_upto.seq == $n and .applied_upto.seq == $((n - 1)) and
		.apply_delay_seconds == $DELAY and
		.received_upto.source_commit_at == $(wagon_field $n last_ts)" st.json &&
	srdf-status --dir "$S" >src.txt; cat src.txt &&
	grep -q "^rpo: [0-9]* s (the first commit of wagon [0-9]*, the oldest not confirmed)" src.txt &&
	grep -q "^off-site: [0-9] s (every wagon received; the last commit of the newest)" src.txt &&
	srdf-status --dir "$S" --json | jq -e ".offsite_seconds < 10 and .offsite_seq == null" &&
	test_wait_until 15 "test \"\$(row 2)\" = 2"
'

test_expect_success 'a backlog that would merge: each wagon waits for its own commit time, none applied early' '
	first=$(($(wagon_count) + 1)) &&
	for i in 3 4 5; do
		src_sql "INSERT INTO d.t VALUES ($i, $i); UPDATE d.t SET v = v + 1 WHERE id = 1" &&
		seal_new && sleep 2 || return 1
	done &&
	last=$(wagon_count) && test $((last - first)) = 2 &&
	receive &&
	test_wait_until 20 "test \"\$(row 5)\" = 5" &&
	test_wait_until 5 "test \"\$(wagon_state $last)\" = applied" &&
	for s in $(seq "$first" "$last"); do
		ts=$(wagon_field $s last_ts) && at=$(wagon_field $s applied_at) &&
		echo "wagon $s: commit $ts, applied $at" &&
		awk "BEGIN { exit !($at - $ts >= $DELAY) }" || return 1
	done &&
	checksum_both d.t
'

test_expect_success '--parallel: a wagon of rows before a DDL wagon goes to a worker once due; the DDL and the rows after it wait for their own time' '
	first=$(($(wagon_count) + 1)) &&
	src_sql "INSERT INTO d.t VALUES (7, 7)" && seal_new && sleep 2 &&
	src_sql "CREATE TABLE d.u (id INT PRIMARY KEY, v INT)" && seal_new && sleep 2 &&
	src_sql "INSERT INTO d.t VALUES (8, 8)" && seal_new &&
	last=$(wagon_count) && test $((last - first)) = 2 &&
	# All three in the inbox before srdf-apply looks at the first: on a
	# slow host the first may be due already when it comes, and srdf-recv
	# --import brings them one by one.
	test_bg_stop apply &&
	receive &&
	test_bg apply srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--delay ${DELAY}s --parallel 4 &&
	test_wait_until 20 "test \"\$(row 8)\" = 8" &&
	test_wait_until 5 "test \"\$(wagon_state $last)\" = applied" &&
	grep -q "applied wagon $first on connection" apply.err &&
	for s in $(seq "$first" "$last"); do
		ts=$(wagon_field $s last_ts) && at=$(wagon_field $s applied_at) &&
		echo "wagon $s: commit $ts, applied $at" &&
		awk "BEGIN { exit !($at - $ts >= $DELAY) }" || return 1
	done &&
	checksum_both d.t d.u
'

test_expect_success 'waiting: no busy loop, SIGHUP answered, SIGTERM ends it at once, exit 0, the wagon left for later' '
	src_sql "INSERT INTO d.t VALUES (6, 6)" && seal_new &&
	n=$(wagon_count) && receive &&
	pid=$(cat apply.pid) &&
	test_wait_until 10 "grep -q \"wagon $n .* waits\" apply.err" &&
	c0=$(cpu_ticks $pid) && sleep 2 && c1=$(cpu_ticks $pid) &&
	echo "CPU ticks over 2 s of waiting: $((c1 - c0))" &&
	test $((c1 - c0)) -le 10 &&
	kill -HUP $pid &&
	test_wait_until 5 "grep -q \"SIGHUP: reloading\" apply.err" &&
	t0=$(date +%s) && test_bg_stop apply && t1=$(date +%s) &&
	test $((t1 - t0)) -le 2 &&
	test -z "$(row 6)" && test "$(wagon_state $n)" = received &&
	apply_once &&
	test "$(row 6)" = 6 && checksum_both d.t
'

test_expect_success 'a bad --delay is refused with the range' '
	test_expect_code 64 srdf-apply --dir "$D" --key-file key --delay 5x 2>bad.err &&
	grep -q "bad --delay 5x (want 0ms to" bad.err
'

test_done
