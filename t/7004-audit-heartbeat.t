#!/bin/bash
test_description='audit.log: every transition of a wagon, on the host that made it, as JSON lines with the server error of a failed one; heartbeats: srdf-status shows the running srdf-apply, flags it after kill -9, shows it stopped after SIGTERM'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
. "$top/t/4-transport-lib.sh"
srdf_servers_start

# trail DIR SEQ: the "tool:from/to" of wagon SEQ in DIR/audit.log, sorted,
# one line.  Sorted: programs reacting to each other's files (srdf-apply
# to srdf-recv's inbox/new) may write their lines in either order
# (srdf-audit(5)); the from/to chain says the order.
trail() {
	jq -r "select(.item == \"wagon\" and .seq == $2) |
		\"\(.tool):\(.from // \"-\")/\(.to)\"" "$1/audit.log" | LC_ALL=C sort | paste -sd' '
}

# sorted WORD...: the words sorted, one line
sorted() {
	printf '%s\n' "$@" | LC_ALL=C sort | paste -sd' '
}

# trail_is DIR SEQ WORD...: waits (10 s) until trail DIR SEQ is the words:
# a line follows the ledger commit it describes.
trail_is() {
	local d=$1 n=$2 want
	shift 2
	want=$(sorted "$@")
	test_wait_until 10 "test \"\$(trail \"$d\" $n)\" = \"$want\"" ||
		{ echo "trail of $n in $d: $(trail "$d" $n)" >&2; return 1; }
}

apply_start() { # NAME: srdf-apply as a daemon, ACKs to srdf-ackd
	test_bg "$1" srdf-apply --dir "$D" --key-file key \
		--defaults-file "$DST_CNF" --ack-to "$(cat ackd.url)" --insecure \
		--retry 1h
}

test_expect_success 'setup: a wagon sealed; srdf-recv and srdf-ackd run' '
	apply_setup &&
	src_sql "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20));
		INSERT INTO shop.t VALUES (1, \"a\"), (2, \"b\")" &&
	seal_new && wagon_count >w1 && test "$(cat w1)" -ge 2 &&
	daemon_start recv srdf-recv --dir "$D" --key-file key --listen 127.0.0.1:0 --insecure &&
	echo "$URL" >recv.url &&
	got=$(req_started GET /v1/health -) && answer_is 200 ready &&
	daemon_start ackd srdf-ackd --dir "$S" --key-file key --listen 127.0.0.1:0 --insecure &&
	echo "$URL" >ackd.url &&
	got=$(HSIGN_TO=ackd req_started GET /v1/health -) && answer_is 200 ready
'

test_expect_success 'the wagon travels: ship, apply, ACK' '
	srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file key --insecure --once 2>ship.err &&
	apply_start apply1 &&
	w=$(cat w1) &&
	test_wait_until 20 "test \"\$(rec \"\$S\" $w | jq -r .state)\" = confirmed" &&
	test_wait_until 20 "test \"\$(wagon_state $w)\" = confirmed" &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.t")" = 2
'

test_expect_success 'its life in the source audit.log: sealed, sending, received, confirmed' '
	trail_is "$S" "$(cat w1)" srdf-seal:-/sealed srdf-ship:sealed/sending srdf-ship:sending/received srdf-ackd:received/confirmed
'

test_expect_success 'and in the target audit.log: received, applied, confirmed' '
	trail_is "$D" "$(cat w1)" srdf-recv:-/received srdf-apply:received/applied srdf-apply:applied/confirmed
'

test_expect_success 'every line is one JSON object with time, host, tool, pid, source id' '
	sid=$(ledger-meta "$S" source_id) &&
	for f in "$S/audit.log" "$D/audit.log"; do
		test "$(jq -c . "$f" | wc -l)" = "$(wc -l <"$f")" &&
		jq -e --arg h "$(hostname)" --arg s "$sid" "
			(.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\\\.[0-9]{6}Z$\")) and
			.v == 1 and .host == \$h and (.pid | type) == \"number\" and
			.by == \"tool\" and .source_id == \$s" "$f" >out &&
		! grep -qv true out || return 1
	done &&
	grep "\"to\":\"sealed\"" "$S/audit.log" | jq -e ".detail | test(\"GTID 0-1-\")"
'

test_expect_success 'heartbeats: srdf-status shows srdf-apply and srdf-recv alive, with their pids' '
	# Progress reaches the file within one beat (heartbeat.h).
	test_wait_until 10 "srdf-status --dir \"\$D\" --json | jq -e \".processes | map(select(.seq == $(cat w1))) | length == 2\" >/dev/null" &&
	srdf-status --dir "$D" --json >st.json &&
	jq -e --argjson p "$(cat apply1.pid)" ".processes[] | select(.tool == \"srdf-apply\") |
		.pid == \$p and .state == \"running\" and .alive == true and .flag == null and
		.heartbeat_age_seconds < 60 and .seq == $(cat w1) and .interval_seconds == 5" st.json &&
	jq -e --argjson p "$(cat recv.pid)" ".processes[] | select(.tool == \"srdf-recv\") |
		.pid == \$p and .alive == true and .seq == $(cat w1)" st.json &&
	test "$(jq .flagged_processes st.json)" = 0 &&
	srdf-status --dir "$D" >table &&
	grep -Eq "^  srdf-apply +$(cat apply1.pid) running " table &&
	srdf-status --dir "$D" --prometheus >prom &&
	grep -q "^srdf_process_up{.*,tool=\"srdf-apply\"} 1$" prom &&
	grep -q "^srdf_process_flagged{.*,tool=\"srdf-apply\"} 0$" prom &&
	grep -q "^srdf_process_state{.*,tool=\"srdf-apply\",state=\"running\"} 1$" prom &&
	grep -q "^srdf_process_heartbeat_age_seconds{.*,tool=\"srdf-apply\"} [0-9.]*$" prom
'

test_expect_success 'the source side: seal and ship stopped cleanly, ackd runs' '
	srdf-status --dir "$S" --json >st.json &&
	jq -e ".processes[] | select(.tool == \"srdf-seal\") | .state == \"stopped\" and .exit == 0 and .seq == $(cat w1) and .flag == null" st.json &&
	jq -e ".processes[] | select(.tool == \"srdf-ship\") | .state == \"stopped\" and .exit == 0" st.json &&
	jq -e ".processes[] | select(.tool == \"srdf-ackd\") | .state == \"running\" and .alive == true" st.json &&
	jq -e ".processes[] | select(.tool == \"srdf-capture\") | .state == \"stopped\" and (.gtid | test(\"^0-1-\"))" st.json
'

test_expect_success 'a failed wagon: its audit lines carry the server error, on both sides' '
	src_sql "SET sql_log_bin = 0; CREATE TABLE shop.m (id INT PRIMARY KEY); SET sql_log_bin = 1;
		INSERT INTO shop.m VALUES (1)" &&
	seal_new && wagon_count >w2 && w=$(cat w2) && test $w = $(($(cat w1) + 1)) &&
	srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file key --insecure --once 2>>ship.err &&
	test_wait_until 20 "test \"\$(rec \"\$S\" $w | jq -r .state)\" = failed" &&
	trail_is "$D" $w srdf-recv:-/received srdf-apply:received/failed &&
	# The ACK may overtake srdf-ship'"'"'s own record (srdf-ackd(1)).
	a=$(sorted srdf-seal:-/sealed srdf-ship:sealed/sending srdf-ship:sending/received srdf-ackd:received/failed) &&
	b=$(sorted srdf-seal:-/sealed srdf-ship:sealed/sending srdf-ackd:sending/failed) &&
	test_wait_until 10 "t=\$(trail \"\$S\" $w); test \"\$t\" = \"$a\" || test \"\$t\" = \"$b\"" &&
	jq -r "select(.seq == $w and .to == \"failed\") | .detail" "$D/audit.log" >d.err &&
	grep -Eq "^attempt 1: .*shop.m.* does(n.t| not) exist" d.err &&
	jq -r "select(.seq == $w and .to == \"failed\") | .detail" "$S/audit.log" >s.err &&
	grep -E "^ACK from 127.0.0.1:[0-9]+: .*shop.m.* does(n.t| not) exist" s.err
'

test_expect_success 'kill -9 of srdf-apply: srdf-status flags it dead, exit 1' '
	kill9 apply1 &&
	test_expect_code 1 srdf-status --dir "$D" --json >st.json &&
	jq -e ".processes[] | select(.tool == \"srdf-apply\") |
		.state == \"running\" and .alive == false and .flag == \"dead\"" st.json &&
	test "$(jq .flagged_processes st.json)" = 1 &&
	test_expect_code 1 srdf-status --dir "$D" >table &&
	grep -q "^DEAD: srdf-apply (pid $(cat apply1.pid)) ended without a clean stop" table &&
	test_expect_code 1 srdf-status --dir "$D" --prometheus >prom &&
	grep -q "^srdf_process_up{.*,tool=\"srdf-apply\"} 0$" prom &&
	grep -q "^srdf_process_flagged{.*,tool=\"srdf-apply\"} 1$" prom &&
	grep -q "^srdf_process_state{.*,tool=\"srdf-apply\",state=\"dead\"} 1$" prom
'

test_expect_success 'restarted, it applies the wagon once the table exists; SIGTERM: stopped, exit 0' '
	dst_sql "CREATE TABLE shop.m (id INT PRIMARY KEY)" &&
	apply_start apply2 && w=$(cat w2) &&
	test_wait_until 20 "test \"\$(wagon_state $w)\" = confirmed" &&
	trail_is "$D" $w srdf-recv:-/received srdf-apply:received/failed srdf-apply:failed/applied srdf-apply:applied/confirmed &&
	test_wait_until 20 "test \"\$(rec \"\$S\" $w | jq -r .state)\" = confirmed" &&
	test_bg_stop apply2 &&
	# A daemon that stopped, cleanly or not, leaves its stage down.
	test_expect_code 1 srdf-status --dir "$D" --json >st.json &&
	jq -e ".processes[] | select(.tool == \"srdf-apply\") |
		.state == \"stopped\" and .exit == 0 and .flag == \"down\" and .daemon and .seq == $w" st.json &&
	test_expect_code 1 srdf-status --dir "$D" >table &&
	grep -Eq "^  srdf-apply +$(cat apply2.pid) DOWN " table &&
	grep -q "^DOWN: srdf-apply, which ran as a daemon, stopped [0-9]* s ago (exit 0, a clean stop)" table
'

test_expect_success 'a running tool silent for longer than --stale is flagged stale' '
	mkdir -p fake && ln -sf "$(command -v sleep)" fake/srdf-capture &&
	test_bg fakecap fake/srdf-capture 60 &&
	test_wait_until 5 "test \"\$(cat /proc/\$(cat fakecap.pid)/comm)\" = srdf-capture" &&
	cp "$S/run/srdf-capture.heartbeat" capture.hb &&
	jq -c --argjson p "$(cat fakecap.pid)" ".pid = \$p | .time = (now - 100) | .state = \"running\" | del(.exit)" capture.hb >"$S/run/srdf-capture.heartbeat" &&
	test_expect_code 1 srdf-status --dir "$S" --json >st.json &&
	jq -e ".processes[] | select(.tool == \"srdf-capture\") | .alive == true and .flag == \"stale\"" st.json &&
	test_expect_code 1 srdf-status --dir "$S" >table &&
	grep -q "^STALE: srdf-capture (pid $(cat fakecap.pid)) runs but its last heartbeat is 10[0-9] s old" table &&
	srdf-status --dir "$S" --stale 200 >/dev/null &&
	kill9 fakecap && cp capture.hb "$S/run/srdf-capture.heartbeat"
'

test_expect_success 'an unwritable audit.log: the pipeline goes on, one warning' '
	mv "$S/audit.log" "$S/audit.log.1" && mkdir "$S/audit.log" &&
	src_sql "INSERT INTO shop.t VALUES (3, \"c\")" && seal_new &&
	src_sql "INSERT INTO shop.t VALUES (4, \"d\")" && seal_new &&
	w=$(wagon_count) && test $w = $(($(cat w2) + 2)) &&
	srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file key --insecure --once 2>ship3.err &&
	test "$(rec "$S" $w | jq -r .state)" != sealed &&
	test "$(grep -c "cannot append to $S/audit.log" ship3.err)" = 1 &&
	grep -q "cannot append to $S/audit.log: Is a directory" seal.err &&
	rmdir "$S/audit.log" && mv "$S/audit.log.1" "$S/audit.log"
'

test_expect_success 'operator: srdf-ship --retry-dead is recorded as the operators' '
	src_sql "INSERT INTO shop.t VALUES (5, \"e\")" && seal_new && w=$(wagon_count) &&
	# A receiver pinned to another source refuses it (409): dead.
	daemon_start pinned srdf-recv --dir pinned --key-file key --listen 127.0.0.1:0 --insecure \
		--source-id 00000000000000000000000000000001 &&
	sleep 1.1 &&
	test_expect_code 65 srdf-ship --dir "$S" --to "$URL" \
		--key-file key --insecure --once 2>ship4.err &&
	test_bg_stop pinned &&
	test "$(rec "$S" $w | jq -r .state)" = dead &&
	srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file key --insecure --once --retry-dead 2>ship5.err &&
	jq -s -e "map(select(.seq == $w and .by == \"operator\")) |
		length == 1 and .[0].from == \"dead\" and .[0].to == \"sending\" and
		.[0].tool == \"srdf-ship\" and .[0].detail == \"srdf-ship --retry-dead\"" "$S/audit.log" &&
	jq -r "select(.seq == $w and .to == \"dead\") | .detail" "$S/audit.log" >d.err &&
	grep "^attempt 1 failed: HTTP 409 rejected" d.err
'

test_done
