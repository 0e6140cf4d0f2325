#!/bin/bash
test_description='srdf-ship: back-off, dead letters, refusals, damaged outbox wagons, --retry-dead'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

test_expect_success 'setup' '
	mkwagons key key &&
	mkwagons seal src key 5 &&
	port=$(free_port) && echo $port >port
'

test_expect_success 'receiver down: each --once run makes one attempt (health), exit 75' '
	port=$(cat port) &&
	ship="srdf-ship --dir src --to http://127.0.0.1:$port --insecure --key-file key --retry 3s,3s --once" &&
	test_expect_code 75 $ship 2>s1.err &&
	rec src 1 | jq -e ".state == \"sending\" and .failures == 1" &&
	ledger-wagons --attempts src | jq -e ".seq == 1 and .http_status == 0 and (.error | test(\"health: .*(refused|connect)\"))"
'

test_expect_success 'the back-off is kept in the ledger and honoured across runs' '
	test_expect_code 75 $ship 2>s2.err && grep -q "waits until" s2.err &&
	test $(ledger-wagons --attempts src | wc -l) = 1 &&
	sleep 3.1 && test_expect_code 75 $ship 2>s3.err &&
	rec src 1 | jq -e ".failures == 2"
'

# Issue 16: a failure that may pass (here: connection refused) never makes
# a wagon dead; the back-off stays at its last step, said at attempts 2^k.
test_expect_success 'past the last step of the policy: never dead, the back-off stays at its last step' '
	sleep 3.1 && test_expect_code 75 $ship 2>s4.err &&
	grep -q "wagon 1: attempt 3 failed: .*retried every 3 s until it goes, whatever it takes (said again at attempt 4)" s4.err &&
	rec src 1 | jq -e ".state == \"sending\" and .failures == 2 and .attempts == 3" &&
	sleep 3.1 && test_expect_code 75 $ship 2>s5.err &&
	grep -q "attempt 4 failed: .*said again at attempt 8" s5.err &&
	sleep 3.1 && test_expect_code 75 $ship 2>s6.err &&
	! grep -q "attempt 5 failed" s6.err &&
	rec src 1 | jq -e ".state == \"sending\" and .attempts == 5 and .next_attempt_at - now < 3.1" &&
	test $(ledger-wagons --attempts src | wc -l) = 5 &&
	test -f src/outbox/new/00000000000000000001.wagon
'

test_expect_success 'a wagon that an earlier srdf-ship made dead when its retries were spent is revived at start' '
	ledger-wagon-set src 1 "{\"state\":\"dead\",\"dead_cause\":\"retries spent\",\"dead_at\":1}" &&
	test_expect_code 75 $ship 2>s6b.err &&
	grep -q "wagon 1: dead -> sending (dead after a transient failure by an earlier srdf-ship" s6b.err &&
	rec src 1 | jq -e ".state == \"sending\" and (has(\"dead_cause\") | not)"
'

test_expect_success 'the receiver comes back: all 5 go, no operator needed' '
	daemon_start recv srdf-recv --dir dst --key-file key --listen 127.0.0.1:$port --insecure &&
	sleep 1 &&
	ship="srdf-ship --dir src --to $URL --insecure --key-file key --retry 300ms,300ms,300ms,300ms --once" &&
	test_wait_until 10 "$ship 2>s7b.err" &&
	printf "received 5\n" >expect && states src >actual && test_cmp expect actual
'

test_expect_success 'a wagon the receiver refuses (409: other content) is dead at once, exit 65' '
	mkwagons seal src key 3 &&
	sid=$(ledger-meta src source_id) &&
	mkwagons one key 7 2000 $sid >w7-other &&
	curl -s -o answer -H "X-Srdf-Auth: $(hsign key POST /v1/wagons w7-other)" \
		--data-binary @w7-other $URL/v1/wagons &&
	jq -e ".status == \"accepted\"" answer &&
	test_expect_code 65 srdf-ship --dir src --to $URL --insecure --key-file key --once 2>s8.err &&
	rec src 6 | jq -e ".state == \"received\"" &&
	rec src 7 | jq -e ".state == \"dead\" and .dead_cause == \"refused\" and (.last_error | test(\"409 rejected.*different content\"))" &&
	rec src 8 | jq -e ".state == \"sealed\"" &&
	test_expect_code 65 srdf-ship --dir src --to $URL --insecure --key-file key --once 2>s9.err &&
	grep -q "wagon 7 is dead" s9.err &&
	test_expect_code 65 srdf-ship --dir src --to $URL --insecure --key-file key --once --retry-dead 2>s9b.err &&
	grep -q "wagon 7: dead -> sending (--retry-dead)" s9b.err &&
	rec src 7 | jq -e ".state == \"dead\" and .dead_cause == \"refused\""
'

test_expect_success 'a wagon damaged in the outbox goes to outbox/bad, dead, exit 65; nothing after it goes' '
	mkwagons seal src2 key 3 &&
	flip src2/outbox/new/00000000000000000002.wagon 500 &&
	daemon_start recv2 srdf-recv --dir dst2 --key-file key --listen 127.0.0.1:0 --insecure &&
	test_wait_until 10 "srdf-ship --dir src2 --to $URL --insecure --key-file key --once 2>s10.err; test \$? = 65" &&
	rec src2 1 | jq -e ".state == \"received\"" &&
	rec src2 2 | jq -e ".state == \"dead\" and .dead_cause == \"damaged\" and (.last_error | test(\"checksum\"))" &&
	rec src2 3 | jq -e ".state == \"sealed\"" &&
	test -f src2/outbox/bad/00000000000000000002.wagon &&
	test -f src2/outbox/bad/00000000000000000002.wagon.reason &&
	ls dst2/inbox/new >actual && echo 00000000000000000001.wagon >expect && test_cmp expect actual
'

test_expect_success 'a receiver that stops answering (SIGSTOP): the attempt times out, later succeeds' '
	mkwagons seal src3 key 2 &&
	daemon_start recv3 srdf-recv --dir dst3 --key-file key --listen 127.0.0.1:0 --insecure &&
	sleep 1.1 &&
	test_bg ship3 srdf-ship --dir src3 --to $URL --insecure --key-file key --timeout 1s --retry 200ms,200ms,200ms,200ms,200ms,200ms,1s,1s,1s,1s &&
	test_wait_until 10 "states src3 | grep -qx \"received 2\"" &&
	kill -STOP $(cat recv3.pid) &&
	mkwagons seal src3 key 1 &&
	test_wait_until 10 "ledger-wagons --attempts src3 | grep -q \"timed out\"" &&
	kill -CONT $(cat recv3.pid) &&
	test_wait_until 15 "states src3 | grep -qx \"received 3\"" &&
	test_bg_stop ship3 &&
	grep -q "attempt [0-9]* failed: timed out" ship3.err
'

# Issue 21 finding 3: an answer counts only when it is signed with the
# key (X-Srdf-Answer), with --insecure too.  Nobody without the key can
# mark a wagon received or make one dead.
test_expect_success 'an impostor receiver without the key: nothing sent, nothing received, nothing dead' '
	mkwagons seal src4 key 2 &&
	test_bg fake fakerecv fakeport accept &&
	test_wait_until 5 "test -s fakeport" &&
	for i in 1 2 3 4 5; do
		test_expect_code 75 srdf-ship --dir src4 --to http://127.0.0.1:$(cat fakeport) --insecure \
			--key-file key --retry 100ms,100ms --once 2>>s11.err || return 1
		sleep 0.15
	done &&
	test_bg_stop fake &&
	! grep -q POST fake.err &&
	rec src4 1 | jq -e ".state == \"sending\" and .failures == 2 and .attempts == 5" &&
	rec src4 2 | jq -e ".state == \"sealed\"" &&
	ledger-wagons --attempts src4 | jq -e "select(.seq == 1) | .error | test(\"health: HTTP 200 answer not believed.*no X-Srdf-Answer\")"
'

test_expect_success 'a man in the middle relaying the health check, forging "accepted" and 409: nothing received, nothing dead' '
	daemon_start recv4 srdf-recv --dir dst4 --key-file key --listen 127.0.0.1:0 --insecure &&
	real=$URL && sleep 1.1 &&
	test_bg mitm fakerecv mitmport accept $real &&
	test_wait_until 5 "test -s mitmport" &&
	sleep 0.2 &&
	test_expect_code 75 srdf-ship --dir src4 --to http://127.0.0.1:$(cat mitmport) --insecure \
		--key-file key --retry 100ms,100ms --once 2>s12.err &&
	grep -q "POST /v1/wagons" mitm.err &&
	rec src4 1 | jq -e ".state == \"sending\"" &&
	ledger-wagons --attempts src4 | jq -e "select(.seq == 1 and .attempt == 6) | .error | test(\"HTTP 201 answer not believed\")" &&
	test_bg_stop mitm && rm -f mitmport &&
	test_bg mitm2 fakerecv mitmport refuse $real &&
	test_wait_until 5 "test -s mitmport" &&
	for i in 1 2 3 4; do
		sleep 0.15
		test_expect_code 75 srdf-ship --dir src4 --to http://127.0.0.1:$(cat mitmport) --insecure \
			--key-file key --retry 100ms,100ms --once 2>>s13.err || return 1
	done &&
	test_bg_stop mitm2 &&
	grep -q "HTTP 409 answer not believed" s13.err &&
	rec src4 1 | jq -e ".state == \"sending\"" &&
	test -z "$(ls dst4/inbox/new)"
'

test_expect_success 'then the real receiver takes both wagons, each once' '
	test_wait_until 10 "srdf-ship --dir src4 --to $real --insecure --key-file key --retry 100ms --once 2>s14.err" &&
	printf "received 2\n" >expect && states src4 >actual && test_cmp expect actual &&
	ls dst4/inbox/new | wc -l | grep -qx 2 &&
	test_bg_stop recv4
'

test_expect_success 'receivers stop cleanly' '
	kill -CONT $(cat recv3.pid) &&
	test_bg_stop recv && test_bg_stop recv2 && test_bg_stop recv3
'

test_done
