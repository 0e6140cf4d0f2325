#!/bin/bash
test_description='srdf-ship --ack-pull: ACKs fetched from srdf-recv confirm and purge wagons with nothing listening on the source; replayed, forged and unknown-wagon ACKs refused; fetches idempotent'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

# applied DIR SEQ...: what srdf-apply --ack-pull leaves in the target
# ledger after applying each wagon: state applied and the ACK it owes,
# and meta ack_low at or below it (apply/acks.c).
applied() {
	local d=$1 s
	shift
	for s; do
		ledger-wagon-set "$d" "$s" "$(jq -n --arg ack "$(mkack "$(cat sid)" "$s" applied "0-1-$((s * 10))")" \
			"{state: \"applied\", applied_at: 1, ack: \$ack}")" || return 1
	done
	ledger-meta "$d" ack_low 1
}

# recv_confirmed: how many applied -> confirmed lines srdf-recv audited
recv_confirmed() {
	jq -c "select(.tool == \"srdf-recv\" and .to == \"confirmed\")" dst/audit.log | wc -l
}

# acks DIR: the sequences whose record still holds an ACK, one a line
acks() {
	ledger-wagons "$1" | jq -r "select(.ack != null) | .seq"
}

test_expect_success 'setup: key, 5 wagons, srdf-recv, srdf-ship --ack-pull --keep 0' '
	mkwagons key key && mkwagons seal src key 5 &&
	ledger-meta src source_id >sid &&
	daemon_start recv srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 --insecure &&
	echo "$URL" >recv.url &&
	test_bg ship srdf-ship --dir src --to "$URL" --key-file key --insecure \
		--retry 100ms,200ms --ack-pull --keep 0 &&
	test_wait_until 20 "states dst | grep -qx \"received 5\"" &&
	states src | grep -qx "received 5"
'

test_expect_success 'usage: --ack-pull wants HTTP; srdf-apply takes --ack-to or --ack-pull, not both' '
	mkdir xfer &&
	test_expect_code 64 srdf-ship --dir src --to dir:xfer --ack-pull --once 2>usage.err &&
	grep -q "with --to dir: run srdf-ackd" usage.err &&
	test_expect_code 64 srdf-apply --dir dst --key-file key --ack-to http://127.0.0.1:1 \
		--ack-pull --insecure 2>usage.err &&
	grep -q "one of the two" usage.err
'

# listening NAME: the inodes of the listening TCP sockets that test_bg
# process NAME holds
listening() {
	for f in /proc/$(cat "$1.pid")/fd/*; do readlink "$f"; done |
		sed -n "s/^socket:\[\([0-9]*\)\]\$/\1/p" | sort >"$1.socks" &&
	awk "\$4 == \"0A\" { print \$10 }" /proc/net/tcp /proc/net/tcp6 | sort >all.listen &&
	comm -12 "$1.socks" all.listen
}

test_expect_success 'nothing listens on the source: srdf-ship holds no listening socket (srdf-recv does)' '
	test -n "$(listening recv)" &&
	test -z "$(listening ship)"
'

test_expect_success 'the target applies 1-5: srdf-ship confirms them, srdf-recv forgets the ACKs, the outbox is purged' '
	applied dst 1 2 3 4 5 &&
	test_wait_until 20 "test -z \"\$(acks dst)\"" &&
	printf "confirmed 5\n" >expect && states dst >actual && test_cmp expect actual &&
	# --keep 0: each confirmed wagon is purged, but the newest record
	# (and its file) always stays (srdf-ship(1), --keep).
	test_wait_until 10 "test \$(ls src/outbox/new | wc -l) = 1" &&
	ls src/outbox/new | grep -qx 00000000000000000005.wagon &&
	rec src 5 | jq -e ".state == \"confirmed\" and .applied_gtid == \"0-1-50\"" &&
	test "$(ledger-meta src purged_wagons)" = 4 &&
	test "$(jq -c "select(.tool == \"srdf-ship\" and .to == \"confirmed\" and .from != .to)" src/audit.log | wc -l)" = 5 &&
	jq -s -e "map(select(.tool == \"srdf-ship\" and .to == \"confirmed\" and .from != .to and .item == \"wagon\" and .seq == 3)) |
		length == 1 and (.[0].detail | startswith(\"ACK from $(cat recv.url) (pulled by srdf-ship): applied on the target, GTID 0-1-30\"))" src/audit.log &&
	# (audit lines follow the ledger commit)
	test_wait_until 5 "test \$(recv_confirmed) = 5"
'

test_expect_success 'fetching is idempotent: GET twice gives the same ACKs; an ACK taken twice is a duplicate' '
	URL=$(cat recv.url) &&
	applied dst 2 && ledger-meta dst ack_low 1 &&
	req_started GET /v1/acks/pending - >code1 && cp answer a1 &&
	req GET /v1/acks/pending - >code2 && cp answer a2 &&
	test "$(cat code1 code2)" = "$(printf "200\n200")" &&
	jq -c .acks a1 >l1 && jq -c .acks a2 >l2 && test_cmp l1 l2 &&
	jq -e ".acks | length == 1" a1 &&
	# A wagon goes out: srdf-ship, idle until then, asks within 1 s.
	mkwagons seal src key 1 &&
	test_wait_until 20 "test -z \"\$(acks dst)\"" &&
	grep -q "ACK of wagon 2 from .*: duplicate: confirmed and purged already" ship.err &&
	test "$(jq -c "select(.tool == \"srdf-ship\" and .to == \"confirmed\" and .from != .to)" src/audit.log | wc -l)" = 5
'

test_expect_success 'an ACK for a wagon the source never had, or another source, is refused and stays on the target' '
	applied dst 99 &&
	ledger-wagon-set dst 98 "$(jq -n --arg ack "$(mkack 0123456789abcdef0123456789abcdef 98 applied 0-1-1)" \
		"{state: \"applied\", ack: \$ack}")" &&
	test_wait_until 20 "grep -q \"ACK of wagon 99 from .*: rejected: no such wagon\" ship.err" &&
	test_wait_until 20 "grep -q \"ACK of wagon 98 from .*: rejected: source 0123456789abcdef0123456789abcdef is not this source\" ship.err" &&
	sleep 2 &&
	test "$(acks dst | tr "\n" " ")" = "98 99 " &&
	test -z "$(rec src 99)" && test -z "$(rec src 98)" &&
	test "$(grep -c "ACK of wagon 99 from" ship.err)" = 1
'

test_expect_success 'a replayed answer is not believed: nothing taken' '
	test_bg_stop ship &&
	ledger-wagon-set dst 98 "{\"ack\": null}" && ledger-wagon-set dst 99 "{\"ack\": null}" &&
	mkwagons seal src key 1 &&
	srdf-ship --dir src --to "$(cat recv.url)" --key-file key --insecure --once 2>once.err &&
	states src | grep -qx "received 2" &&
	applied dst 6 &&
	test_bg proxy ackproxy proxy.port "$(cat recv.url)" replay &&
	test_wait_until 10 "test -s proxy.port" &&
	# The first fetch through the proxy is genuine: 6 is confirmed.
	srdf-ship --dir src --to http://127.0.0.1:$(cat proxy.port) --key-file key --insecure \
		--once --ack-pull 2>first.err &&
	rec src 6 | jq -e ".state == \"confirmed\"" &&
	# The answer that confirmed 6 played back for a "failed" ACK of 7.
	ledger-wagon-set dst 7 "$(jq -n --arg ack "$(mkack "$(cat sid)" 7 failed - "boom")" \
		"{state: \"failed\", ack: \$ack}")" &&
	ledger-meta dst ack_low 7 &&
	srdf-ship --dir src --to http://127.0.0.1:$(cat proxy.port) --key-file key --insecure \
		--once --ack-pull 2>replay.err &&
	grep "cannot fetch ACKs from .*not believed" replay.err &&
	! grep -q "ACK of wagon" replay.err &&
	rec src 7 | jq -e ".state == \"received\"" &&
	test "$(acks dst)" = 7 &&
	test_bg_stop proxy
'

test_expect_success 'a forged answer (no key) is not believed: nothing taken' '
	rm -f proxy.port &&
	mkack "$(cat sid)" 7 applied 0-1-70 >ack7 &&
	jq -n --rawfile a ack7 "{status: \"ok\", reason: \"1 ACK\", acks: [\$a], more: false}" >forged.json &&
	test_bg proxy ackproxy proxy.port "$(cat recv.url)" forge forged.json &&
	test_wait_until 10 "test -s proxy.port" &&
	srdf-ship --dir src --to http://127.0.0.1:$(cat proxy.port) --key-file key --insecure \
		--once --ack-pull 2>forge.err &&
	grep "cannot fetch ACKs from .*not believed" forge.err &&
	rec src 7 | jq -e ".state == \"received\"" &&
	test_bg_stop proxy
'

test_expect_success 'the real receiver then hands out the "failed" ACK of 7: the source records it' '
	srdf-ship --dir src --to "$(cat recv.url)" --key-file key --insecure --once --ack-pull 2>last.err &&
	rec src 7 | jq -e ".state == \"failed\" and .last_error == \"boom\"" &&
	test -z "$(acks dst)" &&
	rec dst 7 | jq -e ".state == \"failed\""
'

test_expect_success 'srdf-recv stops cleanly' '
	test_bg_stop recv
'

test_done
