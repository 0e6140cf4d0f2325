#!/bin/bash
test_description='srdf-apply: signed ACKs to srdf-ackd, queued while it is away, failed ones with the error'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# ackd_start NAME [LISTEN]: srdf-ackd on the source's directory; waits for
# its "listening on" line and sets URL.  The port is not an ephemeral one:
# the tests stop srdf-ackd and start it again on the same port, which an
# outgoing connection of another test could take meanwhile.
ackd_start() {
	local name=$1
	test_bg "$name" srdf-ackd --dir "$S" --key-file key --insecure \
		--listen "${2:-127.0.0.1:$(test_free_port)}" &&
	test_wait_until 10 "grep -q 'listening on' $name.err" &&
	URL=$(sed -n 's|.*listening on \(http://[0-9.]*:[0-9]*\).*|\1|p' "$name.err") &&
	test -n "$URL"
}

# states LEDGER-DIR: the distinct states of its wagons
states() {
	ledger-wagons "$1" | jq -r .state | sort -u | tr '\n' ' '
}

test_expect_success 'setup: wagons, srdf-ackd' '
	apply_setup &&
	src_sql "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v INT)" &&
	seal_new &&
	src_sql "INSERT INTO shop.t VALUES (1, 1), (2, 2)" &&
	seal_new && deliver &&
	ackd_start ackd
'

test_expect_success '--ack-to over plain http needs --insecure' '
	test_expect_code 64 srdf-apply --dir "$D" --key-file key \
		--defaults-file "$DST_CNF" --once --ack-to "$URL" 2>err &&
	grep -q "plain http" err
'

test_expect_success 'applied wagons are confirmed on both sides' '
	apply_once --ack-to "$URL" --insecure &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(states "$S")" = "confirmed " &&
	test "$(states "$D")" = "confirmed " &&
	test -z "$(ledger-wagons "$D" | jq -r "select(.ack) | .seq")"
'

test_expect_success 'srdf-ackd away: the daemon applies on, ACKs wait, then go out' '
	port=${URL##*:} &&
	test_bg_stop ackd &&
	n=$(wagon_count) &&
	src_sql "UPDATE shop.t SET v = v + 1" && seal_new &&
	src_sql "UPDATE shop.t SET v = v + 1" && seal_new && deliver &&
	test_bg daemon srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--ack-to "$URL" --insecure &&
	test_wait_until 20 "test \"\$(applied_seq)\" = $((n + 2))" &&
	checksum_both shop.t &&
	test_wait_until 20 "grep -q \"cannot deliver the ACK of wagon $((n + 1))\" daemon.err" &&
	test "$(wagon_state $((n + 1)))" = applied &&
	test "$(wagon_state $((n + 2)))" = applied &&
	test "$(grep -c "cannot deliver" daemon.err)" = 1 &&
	ackd_start ackd2 "127.0.0.1:$port" &&
	test_wait_until 30 "test \"\$(states \"\$S\")\" = \"confirmed \"" &&
	test_wait_until 10 "test \"\$(states \"\$D\")\" = \"confirmed \"" &&
	grep -q "takes ACKs again" daemon.err &&
	test_bg_stop daemon
'

# Issue 16: after an outage the ACK queue has backed off (1, 2, 4, 8 s
# ...); a wagon applied once srdf-ackd is back must not wait that out: it
# came over the link, so the queue tries again at once.
test_expect_success 'srdf-ackd back after a long outage: a newly applied wagon sends the queue at once, not after the back-off' '
	port=${URL##*:} &&
	test_bg_stop ackd2 &&
	src_sql "UPDATE shop.t SET v = v + 1" && seal_new && deliver &&
	test_bg daemon2 srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--ack-to "$URL" --insecure &&
	test_wait_until 20 "test \"\$(applied_seq)\" = $(wagon_count)" &&
	# Past 1+2+4+8 s of failures the next try is 16 s away.
	sleep 17 &&
	ackd_start ackd3 "127.0.0.1:$port" &&
	src_sql "UPDATE shop.t SET v = v + 1" && seal_new && deliver &&
	t0=$(date +%s%N) &&
	test_wait_until 8 "test \"\$(states \"\$S\")\" = \"confirmed \"" &&
	echo "confirmed $((($(date +%s%N) - t0) / 1000000)) ms after the new wagon" &&
	test_bg_stop daemon2 &&
	test_bg_stop ackd3 &&
	ackd_start ackd2 "127.0.0.1:$port"
'

test_expect_success 'a failed wagon: a failed ACK with the error, then confirmed when it applies' '
	src_sql "SET sql_log_bin = 0; CREATE TABLE shop.m (id INT PRIMARY KEY); SET sql_log_bin = 1;
		INSERT INTO shop.m VALUES (1)" &&
	seal_new && deliver && bad=$(wagon_count) &&
	test_expect_code 65 apply_once --retry none --ack-to "$URL" --insecure &&
	ledger-wagons "$S" | jq -r "select(.seq == $bad) | .state, .last_error" >src5 &&
	test "$(head -n 1 src5)" = failed &&
	grep -q "shop.m does not exist on the target" src5 &&
	dst_sql "CREATE TABLE shop.m (id INT PRIMARY KEY)" &&
	apply_once --ack-to "$URL" --insecure &&
	test "$(states "$S")" = "confirmed "
'

test_expect_success 'a srdf-ackd with another key refuses: the ACK stays queued' '
	srdf-keygen -o key2 2>/dev/null &&
	test_bg_stop ackd2 &&
	test_bg ackd3 srdf-ackd --dir "$S" --key-file key2 --insecure --listen 127.0.0.1:0 &&
	test_wait_until 10 "grep -q \"listening on\" ackd3.err" &&
	url3=$(sed -n "s|.*listening on \(http://[0-9.]*:[0-9]*\).*|\1|p" ackd3.err) &&
	src_sql "INSERT INTO shop.t VALUES (3, 3)" && seal_new && deliver &&
	n=$(wagon_count) &&
	apply_once --ack-to "$url3" --insecure &&
	grep -q "cannot deliver the ACK of wagon $n to $url3: HTTP 401" apply.err &&
	test "$(wagon_state $n)" = applied &&
	wagon_field $n ack | jq -e ".status == \"applied\"" &&
	test_bg_stop ackd3 &&
	ackd_start ackd4 &&
	apply_once --ack-to "$URL" --insecure &&
	test "$(wagon_state $n)" = confirmed &&
	test "$(states "$S")" = "confirmed "
'

test_expect_success 'an impostor srdf-ackd without the key says "accepted": not believed, the ACK stays queued' '
	test_bg fake fakerecv fakeport accept &&
	test_wait_until 5 "test -s fakeport" &&
	src_sql "INSERT INTO shop.t VALUES (40, 40)" && seal_new && deliver &&
	n=$(wagon_count) &&
	apply_once --ack-to "http://127.0.0.1:$(cat fakeport)" --insecure &&
	test_bg_stop fake &&
	grep -q "POST /v1/acks" fake.err &&
	grep -q "cannot deliver the ACK of wagon $n .*HTTP 201 answer not believed" apply.err &&
	wagon_field $n ack | jq -e ".status == \"applied\"" &&
	test "$(wagon_state $n)" = applied &&
	apply_once --ack-to "$URL" --insecure &&
	test "$(wagon_state $n)" = confirmed
'

test_expect_success 'srdf-ackd down for a full round of ACKs, then up: --once delivers them before it exits' '
	for i in 4 5 6 7; do
		src_sql "INSERT INTO shop.t VALUES ($i, $i)" && seal_new || return 1
	done &&
	deliver &&
	n=$(wagon_count) &&
	port=${URL##*:} &&
	test_bg_stop ackd4 &&
	apply_once &&
	test "$(wagon_state $n)" = applied &&
	: >apply.err &&
	# The four ACKs in flight fail together (connection refused); the
	# round must back off once (1 s), not once per ACK (8 s, past the
	# 5 s that --once waits).  srdf-ackd comes up meanwhile.
	test_bg late sh -c "sleep 0.5; exec srdf-ackd --dir \"$S\" --key-file key \
		--insecure --listen 127.0.0.1:$port" &&
	apply_once --ack-to "$URL" --insecure &&
	grep -q "cannot deliver the ACK" apply.err &&
	grep -q "takes ACKs again" apply.err &&
	test "$(states "$D")" = "confirmed " &&
	test "$(states "$S")" = "confirmed "
'

test_expect_success '--keep: applied wagons older than it leave inbox/cur and the ledger, the checkpoint'"'"'s own stays; with --ack-to, not before their ACK is taken' '
	for i in 8 9; do
		src_sql "INSERT INTO shop.t VALUES ($i, $i)" && seal_new || return 1
	done &&
	deliver &&
	n=$(wagon_count) &&
	: >apply.err &&
	apply_once &&
	test "$(applied_seq)" = $n &&
	test "$(ls "$D/inbox/cur" | wc -l)" = $n &&
	: >apply.err &&
	apply_once --keep 0 &&
	test "$(ls "$D/inbox/cur")" = "$(wagon_name $n)" &&
	grep -q "purged $((n - 1)) wagons from $D/inbox/cur (1..$((n - 1)))" apply.err &&
	test "$(ledger-wagons "$D" | jq -s "map(.seq)" -c)" = "[$n]" &&
	test "$(ledger-meta "$D" purged_wagons)" = $((n - 1)) &&
	srdf-status --dir "$D" --json >st.json &&
	test "$(jq .wagons.purged.count st.json)" = $((n - 1)) &&
	test "$(jq .wagons.total.count st.json)" = $n &&
	test "$(wagon_state $n)" = applied &&
	grep -c "inbox copy purged (applied more than --keep 0 s ago)" "$D/audit.log" >count &&
	test "$(cat count)" = $((n - 1)) &&
	: >apply.err &&
	apply_once --keep 0 &&
	! grep -q purged apply.err &&
	src_sql "INSERT INTO shop.t VALUES (10, 10)" && seal_new && deliver &&
	apply_once --ack-to "http://127.0.0.1:9" --insecure --keep 0 &&
	test "$(applied_seq)" = $((n + 1)) &&
	test "$(wagon_state $n)" = applied &&
	test -e "$D/inbox/cur/$(wagon_name $n)" &&
	test_expect_code 64 srdf-apply --dir "$D" --key-file key --keep 2x 2>err &&
	grep -q "bad --keep 2x (want at least 0ms)" err
'

test_done
