#!/bin/bash
test_description='srdf-ship to srdf-recv over HTTPS: delivery, the ledger, certificate checks'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

test_expect_success 'setup: key, certificate, 50 wagons' '
	mkwagons key key &&
	make_cert tls && make_cert other &&
	mkwagons seal src key 50 &&
	daemon_start recv srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key tls.key &&
	case $URL in https://127.0.0.1:*) ;; *) false ;; esac
'

test_expect_success 'usage: --to is required, plain http needs --insecure, --key-file for HTTP' '
	test_expect_code 64 srdf-ship --dir src --once &&
	test_expect_code 64 srdf-ship --dir src --to http://127.0.0.1:1 --key-file key --once 2>err &&
	grep -q "plain http" err &&
	test_expect_code 64 srdf-ship --dir src --to $URL --once &&
	test_expect_code 64 srdf-ship --dir src --to $URL/v1 --key-file key --once &&
	test_expect_code 64 srdf-ship --dir src --to $URL --key-file key --retry 1s,x &&
	srdf-ship --help | grep -q "^usage: srdf-ship" &&
	srdf-ship --version | grep -q "^srdf-ship "
'

test_expect_success 'a certificate it cannot verify: the attempt is recorded, exit 75' '
	test_expect_code 75 srdf-ship --dir src --to $URL --key-file key \
		--ca-file other.crt --retry 3s --once 2>ship1.err &&
	ledger-wagons --attempts src >attempts &&
	test $(wc -l <attempts) = 1 &&
	jq -e ".seq == 1 and .http_status == 0 and (.error | test(\"certificate|SSL\"))" attempts &&
	rec src 1 | jq -e ".state == \"sending\" and .failures == 1 and .next_attempt_at > 0" &&
	test -z "$(ls dst/inbox/new)"
'

test_expect_success '--once honours the back-off: no new attempt before next_attempt_at' '
	test_expect_code 75 srdf-ship --dir src --to $URL --key-file key \
		--ca-file tls.crt --once 2>ship2.err &&
	grep -q "waits until" ship2.err &&
	test $(ledger-wagons --attempts src | wc -l) = 1
'

test_expect_success 'after the back-off, --once delivers all 50 in order, then exits 0' '
	test_wait_until 15 "srdf-ship --dir src --to $URL --key-file key --ca-file tls.crt --once 2>ship3.err" &&
	grep -q "nothing left to ship: 50 wagons" ship3.err &&
	printf "received 50\n" >expect && states src >actual && test_cmp expect actual &&
	for f in src/outbox/new/*.wagon; do cmp $f dst/inbox/new/${f##*/} || return 1; done &&
	printf "received 50\n" >expect && states dst >actual && test_cmp expect actual
'

test_expect_success 'every attempt is in the ledger: time, status, answer, latency, error' '
	ledger-wagons --attempts src >attempts &&
	test $(wc -l <attempts) = 51 &&
	jq -s -e "map(select(.http_status == 201)) | length == 50 and
		all(.[]; .answer == \"accepted\" and .error == null and .latency_ms > 0 and .time > 0)" attempts &&
	ledger-wagons src | jq -s -e "map(.attempts) | add == 51"
'

test_expect_success 'wagons were sent in sequence order' '
	grep -o "wagon [0-9]*: received" ship3.err | cut -d" " -f2 | tr -d : >order &&
	sort -n order >sorted && test_cmp sorted order && test $(wc -l <order) = 50
'

test_expect_success 'nothing to ship: exit 0 without a request' '
	srdf-ship --dir src --to $URL --key-file key --ca-file tls.crt --once 2>ship4.err &&
	test $(ledger-wagons --attempts src | wc -l) = 51
'

test_expect_success 'ship never removes an outbox file' '
	test $(ls src/outbox/new | wc -l) = 50
'

test_expect_success 'a second srdf-ship on the same directory exits 75' '
	test_bg ship srdf-ship --dir src --to $URL --key-file key --ca-file tls.crt &&
	test_wait_until 5 "grep -q shipping ship.err" &&
	test_expect_code 75 srdf-ship --dir src --to $URL --key-file key --ca-file tls.crt --once 2>err &&
	grep -q "another srdf-ship" err
'

test_expect_success 'the daemon ships new wagons as they are sealed (inotify), stops on SIGTERM' '
	mkwagons seal src key 5 &&
	test_wait_until 10 "states src | grep -qx \"received 55\"" &&
	mkwagons seal src key 5 &&
	test_wait_until 10 "states src | grep -qx \"received 60\"" &&
	test_bg_stop ship &&
	grep -q "stopped: 10 wagons" ship.err
'

test_expect_success 'srdf-recv stops on SIGTERM, exit 0' '
	test_bg_stop recv
'

test_expect_success 'a TLS private key every user can read is refused (78); group may read it' '
	cp tls.key loose.key && chmod 644 loose.key &&
	test_expect_code 78 srdf-recv --dir dstx --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key loose.key 2>loose.err &&
	grep -q "tls-key loose.key has mode 0644.*chmod o-rwx" loose.err &&
	chmod 640 loose.key &&
	daemon_start recvg srdf-recv --dir dstx --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key loose.key &&
	test_bg_stop recvg
'

test_expect_success 'a state directory open to every user is closed to them (o-rwx), said once' '
	mkdir -m 0755 dsty &&
	daemon_start recvy srdf-recv --dir dsty --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key tls.key &&
	test_bg_stop recvy &&
	test "$(stat -c %a dsty)" = 750 &&
	grep -q "dsty had mode 0755, open to every user of this host: now 0750" recvy.err &&
	daemon_start recvy2 srdf-recv --dir dsty --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key tls.key &&
	test_bg_stop recvy2 &&
	! grep -q "open to every user" recvy2.err
'

test_done
