#!/bin/bash
test_description='srdf-status: the key ids the kept wagons and pending ACKs use, per side; with --key-file, an old key of the ring is retirable once srdf-ackd purged its wagons'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

# kv FILE NAME ID: the value of series NAME{...key_id="ID"} in FILE.
kv() {
	sed -n "s/^$2{.*key_id=\"$3\"} //p" "$1"
}

# ack SEQ: srdf-apply's ACK of wagon SEQ, signed with the newest key of
# key, posted to srdf-ackd; prints the HTTP status.
ack() {
	mkack "$(cat sid)" "$1" applied >ack.json &&
	curl -s -o answer -w '%{http_code}' --cacert tls.crt \
		-H "X-Srdf-Auth: $(hsign key POST /v1/acks ack.json)" \
		--data-binary @ack.json "$URL/v1/acks"
}

test_expect_success 'setup: wagons 1-3 sealed with key A, shipped and received' '
	srdf-keygen -o key 2>/dev/null &&
	cut -d" " -f2 key >A &&
	mkgroups 100 3 | srdf-seal --dir src --key-file key 2>/dev/null &&
	ledger-meta src source_id >sid &&
	mkdir xfer && srdf-ship --dir src --to dir:xfer --once 2>/dev/null &&
	srdf-recv --dir dst --key-file key --import xfer 2>/dev/null &&
	ledger-wagons src | jq -s -e --arg a "$(cat A)" "length == 3 and all(.[]; .key_id == \$a)" &&
	ledger-wagons dst | jq -s -e --arg a "$(cat A)" "length == 3 and all(.[]; .key_id == \$a)"
'

test_expect_success 'one key: its wagons; without --key-file nothing is judged retirable' '
	srdf-status --dir src --json >st.json &&
	a=$(cat A) &&
	jq -e --arg a "$a" ".keys.ids == {(\$a): {wagons: 3, pending_acks: 0,
		in_key_file: null, newest: null, retirable: null}} and
		.keys.retirable == null and .keys.unknown_wagons == 0 and
		.keys.pending_acks == null and .keys.key_file == null" st.json
'

test_expect_success 'setup: rotate to key B; wagons 4-5 sealed with B, shipped and received' '
	srdf-keygen --rotate key 2>/dev/null &&
	test "$(wc -l <key)" = 2 &&
	tail -n1 key | cut -d" " -f2 >B && ! cmp -s A B &&
	mkgroups -g 4 200 2 | srdf-seal --dir src --key-file key 2>/dev/null &&
	srdf-ship --dir src --to dir:xfer --once 2>/dev/null &&
	srdf-recv --dir dst --key-file key --import xfer 2>/dev/null &&
	ledger-wagons src | jq -s -e --arg b "$(cat B)" "length == 5 and
		(map(select(.seq > 3)) | all(.[]; .key_id == \$b))" &&
	ledger-wagons dst | jq -s -e "length == 5"
'

test_expect_success 'source: A and B with their wagons; A is kept, so not retirable' '
	a=$(cat A) b=$(cat B) &&
	srdf-status --dir src --key-file key --json >st.json &&
	jq -e --arg a "$a" --arg b "$b" ".keys.key_file == \"key\" and
		.keys.newest == \$b and .keys.retirable == [] and
		.keys.ids[\$a] == {wagons: 3, pending_acks: 0, in_key_file: true,
			newest: false, retirable: false} and
		.keys.ids[\$b] == {wagons: 2, pending_acks: 0, in_key_file: true,
			newest: true, retirable: false}" st.json &&
	srdf-status --dir src --key-file key >table &&
	grep -Eq "^keys: wagons kept per key id; the ring of key has 2$" table &&
	grep -Eq "^  $a +3  in use$" table &&
	grep -Eq "^  $b +2  newest$" table &&
	srdf-status --dir src --key-file key --prometheus >prom &&
	test "$(kv prom srdf_key_wagons $a)" = 3 &&
	test "$(kv prom srdf_key_wagons $b)" = 2 &&
	test "$(kv prom srdf_key_retirable $a)" = 0 &&
	test "$(kv prom srdf_key_retirable $b)" = 0
'

test_expect_success 'target: the same counts from srdf-recv'"'"'s records; a pending ACK counts against the newest key' '
	a=$(cat A) b=$(cat B) &&
	srdf-status --dir dst --key-file key --json >st.json &&
	jq -e --arg a "$a" --arg b "$b" ".keys.ids[\$a].wagons == 3 and
		.keys.ids[\$b].wagons == 2 and .keys.pending_acks == 0 and
		.keys.retirable == []" st.json &&
	body=$(mkack "$(cat sid)" 5 applied) &&
	ledger-wagon-set dst 5 "$(jq -nc --arg b "$body" "{ack: \$b}")" &&
	srdf-status --dir dst --key-file key --json >st.json &&
	jq -e --arg a "$a" --arg b "$b" ".keys.pending_acks == 1 and
		.keys.ids[\$b].pending_acks == 1 and
		.keys.ids[\$a].pending_acks == 0" st.json &&
	srdf-status --dir dst --json >st.json &&
	jq -e --arg b "$b" ".keys.pending_acks == 1 and
		.keys.ids[\$b].pending_acks == null" st.json &&
	srdf-status --dir dst --key-file key >table &&
	grep -Eq "^  $a +3 +0  in use$" table &&
	grep -Eq "^  $b +2 +1  newest$" table &&
	srdf-status --dir dst --prometheus >prom &&
	grep -q "^srdf_pending_acks{.*} 1$" prom
'

test_expect_success 'srdf-ackd takes the ACKs of wagons 1-3 and purges them (--keep 0)' '
	make_cert tls &&
	daemon_start ackd srdf-ackd --dir src --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key tls.key --keep 0 --sweep-interval 200ms &&
	test_wait_until 5 "got=\$(ack 1); ! grep -q \"not after\" answer" &&
	answer_is 201 accepted &&
	got=$(ack 2) && answer_is 201 accepted &&
	got=$(ack 3) && answer_is 201 accepted &&
	test_wait_until 10 "test \"\$(ledger-meta src purged_wagons)\" = 3" &&
	ls src/outbox/new >actual &&
	printf "%s\n" 00000000000000000004.wagon 00000000000000000005.wagon >expect &&
	test_cmp expect actual
'

test_expect_success 'source: A is retirable now, B is not' '
	a=$(cat A) b=$(cat B) &&
	srdf-status --dir src --key-file key --json >st.json &&
	jq -e --arg a "$a" --arg b "$b" ".keys.retirable == [\$a] and
		.keys.ids[\$a] == {wagons: 0, pending_acks: 0, in_key_file: true,
			newest: false, retirable: true} and
		.keys.ids[\$b].wagons == 2 and .keys.ids[\$b].retirable == false" st.json &&
	srdf-status --dir src --key-file key >table &&
	grep -Eq "^  $a +0  retirable$" table &&
	srdf-status --dir src --key-file key --prometheus >prom &&
	test "$(kv prom srdf_key_retirable $a)" = 1 &&
	test "$(kv prom srdf_key_wagons $a)" = 0 &&
	srdf-status --dir src --json >st.json &&
	jq -e --arg b "$b" ".keys.ids | keys == [\$b]" st.json
'

test_expect_success 'after srdf-keygen --retire A, the ring has B alone' '
	srdf-keygen --retire "$(cat A)" key 2>/dev/null &&
	srdf-status --dir src --key-file key --json >st.json &&
	jq -e --arg b "$(cat B)" ".keys.ids | keys == [\$b]" st.json &&
	jq -e ".keys.retirable == []" st.json
'

test_expect_success 'a record without key_id (an older srdf-seal) is unknown, not a key' '
	ledger-wagon-set src 5 "{\"key_id\": null}" &&
	srdf-status --dir src --json >st.json &&
	jq -e ".keys.unknown_wagons == 1 and .keys.ids[\"$(cat B)\"].wagons == 1" st.json &&
	srdf-status --dir src >table &&
	grep -Eq "^  unknown +1  records that name no key" table
'

# srdf-ackd runs until here: once stopped, srdf-status flags it (down) and
# exits 1.
test_expect_success 'srdf-ackd stops' '
	test_bg_stop ackd
'

test_expect_success 'an unreadable --key-file: 78' '
	test_expect_code 78 srdf-status --dir src --key-file nowhere 2>err &&
	grep -q "nowhere" err
'

test_done
