#!/bin/bash
test_description='srdf-ship --pipeline 4: several wagons in flight, srdf-recv killed -9 twice, every wagon exactly once'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

recv_start() {
	daemon_start "$1" srdf-recv --dir dst --key-file key --listen "127.0.0.1:$2" --insecure
}

test_expect_success 'setup' '
	mkwagons key key &&
	mkwagons seal src key 400 1500
'

test_expect_success 'ship with --pipeline 4 while srdf-recv dies twice' '
	recv_start recv0 0 && PORT=${URL##*:} &&
	test_bg ship srdf-ship --dir src --to $URL --insecure --key-file key --pipeline 4 \
		--retry 100ms,200ms,300ms,500ms,1s,1s,2s,2s,3s &&
	sleep 0.3 && kill9 recv0 && sleep 0.2 && recv_start recv1 $PORT &&
	sleep 0.5 && kill9 recv1 && recv_start recv2 $PORT &&
	test_wait_until 40 "states src | grep -qx \"received 400\"" &&
	test_bg_stop ship && test_bg_stop recv2
'

test_expect_success 'every wagon is in the inbox exactly once, byte for byte' '
	ls dst/inbox/new >names &&
	seq -f %020g.wagon 1 400 >expect && test_cmp expect names &&
	for f in src/outbox/new/*.wagon; do
		cmp -s $f dst/inbox/new/${f##*/} || { echo "differs: $f"; return 1; }
	done &&
	printf "received 400\n" >expect && states dst >actual && test_cmp expect actual
'

test_expect_success 'more than one request was in flight at a time' '
	grep -h "from 127.0.0.1:" recv*.err | sed -n "s/.*from 127.0.0.1:\([0-9]*\): accepted.*/\1/p" |
		sort -u | wc -l >ports &&
	test $(cat ports) -ge 4
'

test_done
