#!/bin/bash
test_description='srdf-recv: every documented answer, one request each (plain HTTP)'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

test_expect_success 'setup: keys and wagons' '
	mkwagons key key && mkwagons key key2 &&
	mkwagons seal src key 3 &&
	sid=$(ledger-meta src source_id) &&
	echo "$sid" >sid &&
	cp src/outbox/new/00000000000000000001.wagon w1 &&
	cp src/outbox/new/00000000000000000002.wagon w2 &&
	mkwagons one key 2 2000 "$sid" >w2-other &&
	mkwagons one key 3 2000 00000000000000000000000000000001 >w3-stranger &&
	mkwagons one key2 3 2000 "$sid" >w3-key2
'

test_expect_success 'usage errors exit 64' '
	test_expect_code 64 srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 &&
	test_expect_code 64 srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 --insecure --cert x --tls-key y &&
	test_expect_code 64 srdf-recv --dir dst --listen 127.0.0.1:0 --insecure &&
	test_expect_code 64 srdf-recv --bogus &&
	srdf-recv --help | grep -q "^usage: srdf-recv" &&
	srdf-recv --version | grep -q "^srdf-recv "
'

test_expect_success 'a key file readable by others is refused (78)' '
	cp key loose && chmod 644 loose &&
	test_expect_code 78 srdf-recv --dir dst --key-file loose --listen 127.0.0.1:0 --insecure 2>err &&
	grep -q "mode 0644" err
'

test_expect_success 'start srdf-recv' '
	date +%s >started &&
	daemon_start recv srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 --insecure \
		--max-body 64K --max-memory 64K --idle-timeout 1s &&
	test -n "$URL"
'

test_expect_success 'requests signed before it started are refused (503 busy), then health is ready' '
	auth=$(hsign key GET /v1/health - $(cat started)) &&
	got=$(curl -s -D busy.headers -o answer -w "%{http_code}" -H "X-Srdf-Auth: $auth" $URL/v1/health) &&
	answer_is 503 busy "not after this verifier started.*sign it again" &&
	# From a holder of the key: signed, so the sender waits, believing it.
	grep -qi "^X-Srdf-Answer: v2 keyid=" busy.headers &&
	test_wait_until 5 "got=\$(req GET /v1/health -); [ \$got = 200 ]" &&
	answer_is 200 ready &&
	jq -e ".inbox_depth == 0 and .last_received_seq == 0 and .last_applied_seq == 0" answer
'

test_expect_success '201 accepted: a new wagon is stored' '
	got=$(req POST /v1/wagons w1) && answer_is 201 accepted &&
	jq -e ".seq == 1" answer &&
	cmp w1 dst/inbox/new/00000000000000000001.wagon
'

test_expect_success '200 duplicate: the same wagon again' '
	got=$(req POST /v1/wagons w1) && answer_is 200 duplicate "received before"
'

test_expect_success '409 rejected: the same sequence with other content' '
	got=$(req POST /v1/wagons w2) && answer_is 201 accepted &&
	got=$(req POST /v1/wagons w2-other) &&
	answer_is 409 rejected "different content" &&
	cmp w2 dst/inbox/new/00000000000000000002.wagon
'

test_expect_success '409 rejected: a wagon from another source' '
	got=$(req POST /v1/wagons w3-stranger) && answer_is 409 rejected "unknown source"
'

test_expect_success '503 busy: a wagon sealed under a key id the key file lacks (retried, never dead)' '
	got=$(req POST /v1/wagons w3-key2) &&
	answer_is 503 busy "sealed under key id [0-9a-f]{16}, which the key file .*key does not hold \\(newest here: [0-9a-f]{16}\\).*srdf-keygen\\(1\\) KEY ROTATION"
'

test_expect_success '400 invalid_payload: a flipped bit (checksum)' '
	cp src/outbox/new/00000000000000000003.wagon bad && flip bad 700 &&
	got=$(req POST /v1/wagons bad) && answer_is 400 invalid_payload "checksum"
'

test_expect_success '400 invalid_payload: a flipped bit with a fixed checksum (AEAD tag)' '
	cp src/outbox/new/00000000000000000003.wagon bad && flip bad 700 &&
	n=$(($(stat -c %s bad) - 32)) &&
	head -c $n bad >body && sha256sum body | cut -c1-64 | xxd -r -p >sum &&
	cat body sum >bad &&
	got=$(req POST /v1/wagons bad) && answer_is 400 invalid_payload "authentication failed"
'

test_expect_success '400 invalid_payload: a header field out of range' '
	cp src/outbox/new/00000000000000000003.wagon bad && flip bad 10 &&
	n=$(($(stat -c %s bad) - 32)) &&
	head -c $n bad >body && sha256sum body | cut -c1-64 | xxd -r -p >sum &&
	cat body sum >bad &&
	got=$(req POST /v1/wagons bad) && answer_is 400 invalid_payload "codec"
'

test_expect_success '400 invalid_payload: garbage, truncation, an empty body' '
	head -c 5000 /dev/urandom >garbage &&
	got=$(req POST /v1/wagons garbage) && answer_is 400 invalid_payload "not a wagon" &&
	head -c 1000 src/outbox/new/00000000000000000003.wagon >trunc &&
	got=$(req POST /v1/wagons trunc) && answer_is 400 invalid_payload "truncated" &&
	: >empty && got=$(req POST /v1/wagons empty) && answer_is 400 invalid_payload
'

test_expect_success '401 rejected: no signature, malformed, another key' '
	got=$(curl -s -o answer -w "%{http_code}" --data-binary @w1 $URL/v1/wagons) &&
	answer_is 401 rejected "no X-Srdf-Auth" &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: v1 nonsense" --data-binary @w1 $URL/v1/wagons) &&
	answer_is 401 rejected "malformed" &&
	got=$(req POST /v1/wagons w1 key2) && answer_is 401 rejected "unknown key id"
'

test_expect_success '400, 401: a body, path or method changed after signing' '
	cp w1 tampered && flip tampered 300 &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $(hsign key POST /v1/wagons w1)" \
		--data-binary @tampered $URL/v1/wagons) &&
	answer_is 400 invalid_payload "not the one signed" &&
	head -c 100 w1 >short &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $(hsign key POST /v1/wagons w1)" \
		--data-binary @short $URL/v1/wagons) &&
	answer_is 400 invalid_payload "signed as" &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $(HSIGN_TO=ackd hsign key POST /v1/wagons w1)" \
		--data-binary @w1 $URL/v1/wagons) &&
	answer_is 401 rejected "signature mismatch" &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $(hsign key GET /v1/health -)" \
		--data-binary @w1 $URL/v1/wagons) &&
	answer_is 401 rejected "signature mismatch"
'

test_expect_success '401 rejected: a clock 1000 s off' '
	auth=$(hsign key POST /v1/wagons w1 $(($(date +%s) - 1000))) &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $auth" --data-binary @w1 $URL/v1/wagons) &&
	answer_is 401 rejected "behind"
'

test_expect_success '401 rejected: a replayed request' '
	auth=$(hsign key POST /v1/wagons w1) &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $auth" --data-binary @w1 $URL/v1/wagons) &&
	answer_is 200 duplicate &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $auth" --data-binary @w1 $URL/v1/wagons) &&
	answer_is 401 rejected "replayed"
'

test_expect_success '413 rejected: a body over --max-body, refused before it is read' '
	head -c 100000 /dev/urandom >big &&
	got=$(req POST /v1/wagons big) && answer_is 413 rejected "over the limit"
'

test_expect_success '411 invalid_payload: a chunked body, a POST without Content-Length' '
	got=$(req POST /v1/wagons w1 key -H "Transfer-Encoding: chunked") &&
	answer_is 411 invalid_payload "Content-Length" &&
	got=$(req POST /v1/wagons - key -0) &&
	answer_is 411 invalid_payload "Content-Length"
'

test_expect_success '400 invalid_payload: two Content-Length headers' '
	exec 5<>/dev/tcp/127.0.0.1/${URL##*:} &&
	printf "POST /v1/wagons HTTP/1.1\r\nHost: x\r\nX-Srdf-Auth: %s\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" \
		"$(hsign key POST /v1/wagons -)" >&5 &&
	timeout 5 cat <&5 >dup.out; exec 5>&- &&
	head -1 dup.out | grep -q "^HTTP/1.1 400" &&
	grep -q "more than one Content-Length" dup.out
'

test_expect_success '400 rejected: a query string or a %-escape in the target, even under a good signature' '
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $(hsign key GET /v1/health -)" \
		"$URL/v1/%68ealth") &&
	answer_is 400 rejected "plain path" &&
	got=$(curl -s -o answer -w "%{http_code}" -H "X-Srdf-Auth: $(hsign key GET /v1/health -)" \
		"$URL/v1/health?x=1") &&
	answer_is 400 rejected "plain path"
'

test_expect_success '404 and 405 rejected' '
	got=$(req GET /v1/nothing -) && answer_is 404 rejected "no such endpoint" &&
	got=$(req PUT /v1/wagons w1) && answer_is 405 rejected "not allowed"
'

test_expect_success 'an escaped control character in a request path is logged as sent, never a line of its own' '
	got=$(curl -s -o answer -w "%{http_code}" "$URL/v1/x%0a%3c3%3esrdf-recv:%20FORGED-LOG-LINE") &&
	answer_is 400 rejected "plain path" &&
	test_wait_until 5 "grep -q FORGED-LOG-LINE recv.err" &&
	grep FORGED-LOG-LINE recv.err &&
	! untime recv.err | grep -q "^<3>srdf-recv: FORGED-LOG-LINE" &&
	grep -q "GET /v1/x%0a%3c3%3esrdf-recv:%20FORGED-LOG-LINE from" recv.err
'

test_expect_success '503 busy: signed bodies in flight would pass --max-memory' '
	head -c 65000 /dev/urandom >b65000 &&
	exec 5<>/dev/tcp/127.0.0.1/${URL##*:} &&
	printf "POST /v1/wagons HTTP/1.1\r\nHost: x\r\nX-Srdf-Auth: %s\r\nContent-Length: 65000\r\n\r\nabc" \
		"$(hsign key POST /v1/wagons b65000)" >&5 &&
	sleep 0.3 &&
	got=$(req POST /v1/wagons w1) && answer_is 503 busy "max-memory" &&
	exec 5>&-
'

test_expect_success 'idle connections are closed after --idle-timeout, without an answer' '
	exec 5<>/dev/tcp/127.0.0.1/${URL##*:} &&
	exec 6<>/dev/tcp/127.0.0.1/${URL##*:} &&
	printf "POST /v1/wagons HTTP/1.1\r\nHost: x\r\n" >&5 &&
	t0=$(date +%s%N) &&
	timeout 10 cat <&5 >idle5.out &&
	timeout 10 cat <&6 >idle6.out &&
	t1=$(date +%s%N) &&
	exec 5>&- 6>&- &&
	! test -s idle5.out && ! test -s idle6.out &&
	test $(((t1 - t0) / 1000000)) -lt 5000 &&
	got=$(req GET /v1/health -) && answer_is 200 ready
'

test_expect_success 'the inbox holds exactly the accepted wagons, nothing else' '
	ls dst/inbox/new >actual &&
	printf "%s\n" 00000000000000000001.wagon 00000000000000000002.wagon >expect &&
	test_cmp expect actual &&
	test -z "$(find dst/inbox/tmp dst/inbox/bad -type f)" &&
	ledger-wagons dst | jq -r "[.seq, .state, .source_id == \"$(cat sid)\"] | @tsv" >actual &&
	printf "1\treceived\ttrue\n2\treceived\ttrue\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'health reports depth, last received and last applied' '
	ledger-meta dst last_applied_seq 1 &&
	got=$(req GET /v1/health -) && answer_is 200 ready &&
	jq -e ".inbox_depth == 2 and .last_received_seq == 2 and .last_applied_seq == 1 and .source_id == \"$(cat sid)\"" answer
'

test_expect_success 'a second srdf-recv on the same directory exits 75' '
	test_expect_code 75 srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 --insecure 2>err &&
	grep -q "another srdf-recv" err
'

test_expect_success 'SIGTERM: it stops cleanly, exit 0' '
	test_bg_stop recv &&
	grep -q "stopped" recv.err
'

test_expect_success 'at start: a wagon in inbox/new without a record is recorded, a damaged one moved to bad/' '
	cp src/outbox/new/00000000000000000003.wagon dst/inbox/new/ &&
	cp w1 dst/inbox/new/00000000000000000007.wagon &&
	daemon_start recv2 srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 --insecure &&
	grep -q "recorded wagon 3" recv2.err &&
	test -f dst/inbox/bad/00000000000000000007.wagon &&
	grep -q "holds wagon 1" dst/inbox/bad/00000000000000000007.wagon.reason &&
	ledger-wagons dst | jq -r .seq | tr "\n" " " >actual &&
	printf "1 2 3 " >expect && test_cmp expect actual &&
	got=$(req_started POST /v1/wagons w1) &&
	answer_is 200 duplicate &&
	test_bg_stop recv2
'

test_expect_success 'a wagon at or below last_applied_seq is a duplicate even without its record' '
	ledger-meta dst last_applied_seq 10 &&
	mkwagons one key 9 2000 "$(cat sid)" >w9 &&
	daemon_start recv3 srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 --insecure &&
	got=$(req_started POST /v1/wagons w9) &&
	answer_is 200 duplicate "last applied" &&
	got=$(req GET /v1/health -) && jq -e ".last_applied_seq == 10" answer &&
	test ! -f dst/inbox/new/00000000000000000009.wagon &&
	test_bg_stop recv3
'

test_expect_success '503 busy: the disk is nearly full (--min-free); health says busy' '
	daemon_start full srdf-recv --dir dst2 --key-file key --listen 127.0.0.1:0 --insecure --min-free 100000G &&
	got=$(req_started POST /v1/wagons w1) &&
	answer_is 503 busy "nearly full" &&
	got=$(req GET /v1/health -) && answer_is 503 busy "nearly full" &&
	test -z "$(ls dst2/inbox/new)" &&
	test_bg_stop full
'

# Issue 21 finding 1: nobody without the key can hold memory or every
# connection slot.  16 slow clients from 127.0.0.2 (8 trickling headers,
# 8 trickling a 1 MiB body under a made-up signature) against
# --max-body 1M --max-memory 2M: a signed wagon from 127.0.0.1 is
# still taken at once.
test_expect_success 'unauthenticated slow clients neither reserve memory nor hold off a signed wagon' '
	daemon_start slow srdf-recv --dir dst4 --key-file key --listen 127.0.0.1:0 --insecure \
		--max-body 1M --max-memory 2M --idle-timeout 30s &&
	test_wait_until 5 "got=\$(req GET /v1/health -); [ \$got = 200 ]" &&
	test_bg peers slowpeers 127.0.0.1 ${URL##*:} 127.0.0.2 16 4 &&
	test_wait_until 5 "grep -q ready peers.out" &&
	sleep 1 &&
	got=$(curl -s -o answer -w "%{http_code} %{time_total}" \
		-H "X-Srdf-Auth: $(hsign key POST /v1/wagons w1)" --data-binary @w1 $URL/v1/wagons) &&
	echo "signed wagon: $got" &&
	secs=${got#* } && got=${got% *} &&
	answer_is 201 accepted &&
	awk -v t="$secs" "BEGIN { exit !(t < 1.0) }" &&
	test_wait_until 10 "grep -q held peers.out" &&
	cat peers.out && grep -q "held 8 closed 8" peers.out &&
	grep -c "401 rejected" slow.err >n401 && test $(cat n401) -ge 8
'

test_expect_success '--max-peer-connections: one address holds at most that many connections' '
	test_bg_stop slow &&
	daemon_start slow2 srdf-recv --dir dst4 --key-file key --listen 127.0.0.1:0 --insecure \
		--max-peer-connections 4 --idle-timeout 30s &&
	test_bg peers2 slowpeers 127.0.0.1 ${URL##*:} 127.0.0.2 16 3 &&
	test_wait_until 5 "grep -q ready peers2.out" &&
	got=$(req_started GET /v1/health -) && answer_is 200 ready &&
	test_wait_until 10 "grep -q held peers2.out" &&
	cat peers2.out &&
	held=$(sed -n "s/held \([0-9]*\).*/\1/p" peers2.out) &&
	test "$held" -le 4 &&
	test_bg_stop slow2
'

test_done
