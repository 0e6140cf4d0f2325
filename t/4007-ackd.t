#!/bin/bash
test_description='srdf-ackd: signed ACKs confirm or fail wagons; confirmed wagons leave the outbox after --keep, no others'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

# ack SEQ STATUS [GTID [ERROR]]: posts a signed ACK for this source,
# prints the HTTP status; the answer is in ./answer.
ack() {
	mkack "$(cat sid)" "$@" >ack.json &&
	curl -s -o answer -w '%{http_code}' --cacert tls.crt \
		-H "X-Srdf-Auth: $(hsign key POST /v1/acks ack.json)" \
		--data-binary @ack.json "$URL/v1/acks"
}

test_expect_success 'setup: 6 wagons, 1-4 shipped' '
	mkwagons key key && mkwagons key key2 &&
	make_cert tls &&
	mkwagons seal src key 6 &&
	ledger-meta src source_id >sid &&
	mkdir xfer && srdf-ship --dir src --to dir:xfer --once 2>/dev/null &&
	mkwagons seal src key 2 &&
	rec src 4 | jq -e ".state == \"received\"" &&
	rec src 7 | jq -e ".state == \"sealed\""
'

test_expect_success 'usage errors exit 64; --help, --version' '
	test_expect_code 64 srdf-ackd --dir src --key-file key &&
	test_expect_code 64 srdf-ackd --dir src --key-file key --listen 127.0.0.1:0 &&
	test_expect_code 64 srdf-ackd --dir src --once --keep 2x &&
	srdf-ackd --help | grep -q "^usage: srdf-ackd" &&
	srdf-ackd --version | grep -q "^srdf-ackd "
'

test_expect_success 'start srdf-ackd (HTTPS, --keep 2s, quick sweeps)' '
	daemon_start ackd srdf-ackd --dir src --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key tls.key --keep 2s --sweep-interval 200ms &&
	test_wait_until 5 "got=\$(ack 1 applied 0-1-20); ! grep -q \"not after\" answer" &&
	answer_is 201 accepted "received -> confirmed" &&
	rec src 1 | jq -e ".state == \"confirmed\" and .applied_gtid == \"0-1-20\" and .confirmed_at > 0"
'

test_expect_success 'the same ACK again is a duplicate' '
	got=$(ack 1 applied 0-1-20) && answer_is 200 duplicate "confirmed already"
'

test_expect_success 'failed: the wagon is failed with the target error; a retry that works confirms it' '
	got=$(ack 2 failed - "Table '\''shop.t'\'' doesn'\''t exist") &&
	answer_is 201 accepted "received -> failed" &&
	rec src 2 | jq -e ".state == \"failed\" and (.last_error | test(\"doesn.t exist\")) and .apply_failures == 1" &&
	got=$(ack 2 failed - "Table '\''shop.t'\'' doesn'\''t exist") &&
	answer_is 200 duplicate &&
	got=$(ack 2 applied 0-1-30) && answer_is 201 accepted "failed -> confirmed" &&
	got=$(ack 2 failed - "late") && answer_is 200 duplicate "confirmed already" &&
	rec src 2 | jq -e ".state == \"confirmed\" and .last_error == null"
'

test_expect_success 'an ACK can overtake ship: sealed/sending -> confirmed, and ship leaves it alone' '
	got=$(ack 7 applied 0-1-80) && answer_is 201 accepted "sealed -> confirmed" &&
	srdf-ship --dir src --to dir:xfer --once 2>ship2.err &&
	rec src 7 | jq -e ".state == \"confirmed\"" &&
	rec src 8 | jq -e ".state == \"received\""
'

test_expect_success 'refused: another source (409), an unknown wagon (409), bad JSON (400)' '
	mkack 00000000000000000000000000000001 3 applied >other.json &&
	got=$(curl -s -o answer -w "%{http_code}" --cacert tls.crt \
		-H "X-Srdf-Auth: $(hsign key POST /v1/acks other.json)" \
		--data-binary @other.json $URL/v1/acks) &&
	answer_is 409 rejected "this is source" &&
	got=$(ack 99 applied) && answer_is 409 rejected "not in this source" &&
	echo "{\"v\":1}" >bad.json &&
	got=$(curl -s -o answer -w "%{http_code}" --cacert tls.crt \
		-H "X-Srdf-Auth: $(hsign key POST /v1/acks bad.json)" \
		--data-binary @bad.json $URL/v1/acks) &&
	answer_is 400 invalid_payload "missing key"
'

test_expect_success 'refused: unsigned, another key, a replay (401); nothing changed' '
	mkack "$(cat sid)" 3 applied >a3.json &&
	got=$(curl -s -o answer -w "%{http_code}" --cacert tls.crt --data-binary @a3.json $URL/v1/acks) &&
	answer_is 401 rejected "no X-Srdf-Auth" &&
	got=$(curl -s -o answer -w "%{http_code}" --cacert tls.crt \
		-H "X-Srdf-Auth: $(hsign key2 POST /v1/acks a3.json)" --data-binary @a3.json $URL/v1/acks) &&
	answer_is 401 rejected "unknown key id" &&
	auth=$(hsign key POST /v1/acks a3.json) &&
	got=$(curl -s -o answer -w "%{http_code}" --cacert tls.crt \
		-H "X-Srdf-Auth: $auth" --data-binary @a3.json $URL/v1/acks) &&
	answer_is 201 accepted &&
	got=$(curl -s -o answer -w "%{http_code}" --cacert tls.crt \
		-H "X-Srdf-Auth: $auth" --data-binary @a3.json $URL/v1/acks) &&
	answer_is 401 rejected "replayed"
'

test_expect_success 'after --keep, the sweep removes confirmed wagons only' '
	test_wait_until 10 "! test -e src/outbox/new/00000000000000000001.wagon" &&
	test_wait_until 10 "! test -e src/outbox/new/00000000000000000007.wagon" &&
	test_wait_until 10 "! test -e src/outbox/new/00000000000000000003.wagon" &&
	ls src/outbox/new >actual &&
	printf "%020d.wagon\n" 4 5 6 8 >expect &&
	test_cmp expect actual &&
	test -z "$(rec src 1)" && test -z "$(rec src 3)" && test -z "$(rec src 7)" &&
	rec src 4 | jq -e ".state" &&
	n=$(ledger-meta src purged_wagons) && test "$n" -ge 3 &&
	test "$(ledger-meta src purged_bytes)" -gt 0 &&
	grep -q "purged" ackd.err &&
	test "$(grep -c "outbox copy purged" src/audit.log)" = "$n" &&
	test "$(ledger-wagons src | jq -s length)" = $((8 - n)) &&
	srdf-status --dir src --json >st.json &&
	test "$(jq .wagons.purged.count st.json)" = "$n" &&
	test "$(jq .wagons.total.count st.json)" = 8 &&
	test "$(jq .last.confirmed.seq st.json)" -ge 7
'

test_expect_success 'a late ACK of a purged wagon: duplicate, not an unknown wagon' '
	got=$(ack 1 applied) && answer_is 200 duplicate "confirmed and purged"
'

test_expect_success 'a confirmed wagon of 1 s is still kept (--keep is honoured)' '
	got=$(ack 4 applied) && answer_is 201 accepted &&
	sleep 0.5 && test -e src/outbox/new/00000000000000000004.wagon &&
	test_wait_until 10 "! test -e src/outbox/new/00000000000000000004.wagon"
'

test_expect_success 'SIGTERM: stops cleanly; --once sweeps and exits' '
	test_bg_stop ackd &&
	got=1 && mkack "$(cat sid)" 5 applied >a5.json &&
	srdf-ackd --dir src --once --keep 0 &&
	test -e src/outbox/new/00000000000000000005.wagon
'

test_done
