#!/bin/bash
test_description='1000 wagons over HTTPS while srdf-recv is killed -9, stopped, frozen, and bad requests fly: every wagon exactly once'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

# ack_pull=1 (t/4011): srdf-ship --ack-pull also fetches the ACKs that a
# stand-in for srdf-apply --ack-pull (play_apply) leaves in the target
# ledger, through the same srdf-recv that is being killed; then every
# wagon must end confirmed on both sides.
ack_pull=${ack_pull:-}
if [ -n "$ack_pull" ]; then pull_opt=--ack-pull want=confirmed; else pull_opt= want=received; fi

# play_apply: until apply.stop exists, what srdf-apply --ack-pull writes
# after applying each received wagon: state applied and its ACK, ack_low.
play_apply() {
	local sid s
	sid=$(ledger-meta src source_id) || return 1
	while [ ! -e apply.stop ]; do
		for s in $(ledger-wagons dst | jq -r "select(.state == \"received\") | .seq"); do
			ledger-wagon-set dst "$s" "$(jq -n --arg ack "$(mkack "$sid" "$s" applied "0-1-$s")" \
				"{state: \"applied\", applied_at: 1, ack: \$ack}")" || return 1
			ledger-meta dst ack_low 1 || return 1
		done
		sleep 0.3
	done
}

# recv_start NAME PORT: srdf-recv (TLS) on 127.0.0.1:PORT (0: any) in the
# background as NAME; sets URL when it listens.
recv_start() {
	daemon_start "$1" srdf-recv --dir dst --key-file key --listen "127.0.0.1:$2" \
		--cert tls.crt --tls-key tls.key --max-body 64K --idle-timeout 2s \
		--max-connections 32
}

# check KIND ERE: every answer of KIND in noise.log matches ERE.
check() {
	{ local -; set +x; } 2>/dev/null
	local bad
	bad=$(grep "^$1 " noise.log | grep -Ev "^$1 ($2)" || :)
	[ -z "$bad" ] || { echo "undocumented answers to $1:"; echo "$bad"; return 1; }
}

# write_noise: noise.sh, the bad requests, in a loop until noise.stop
# exists; one line per answer in noise.log: KIND HTTP-STATUS STATUS REASON.
write_noise() {
cat >noise.sh <<'EOF'
URL=$1 PORT=${1##*:}
post() { # KIND SIGNING-KEY BODY-SIGNED BODY-SENT [AUTH]
	local kind=$1 auth=${5:-$(hsign "$2" POST /v1/wagons "$3")} code
	rm -f ans.$kind
	code=$(curl -s --max-time 5 --cacert tls.crt -o ans.$kind -w '%{http_code}' \
		-H "X-Srdf-Auth: $auth" --data-binary "@$4" "$URL/v1/wagons")
	echo "$kind $code $(jq -r '[.status, .reason] | join(" ")' ans.$kind 2>/dev/null)" >>noise.log
}
n=0
while [ ! -e noise.stop ]; do
	n=$((n + 1))
	old=src/outbox/new/$(printf %020d.wagon $((RANDOM % 50 + 1)))
	post repost key "$old" "$old"
	auth=$(hsign key POST /v1/wagons "$old")
	post first key "$old" "$old" "$auth"
	post replay key "$old" "$old" "$auth"
	post wrongkey key2 "$old" "$old"
	# One byte inverted, so never the same (writing 0xff could be).
	cp "$old" flipped &&
	printf "$(printf '\\%03o' $((0x$(xxd -s 400 -l 1 -p "$old") ^ 0xff)))" |
		dd of=flipped bs=1 seek=400 conv=notrunc status=none
	post bitflip key flipped flipped
	post tampered key "$old" flipped
	post oversize key big big
	if [ $((n % 5)) = 1 ]; then
		# An idle connection: must be closed by srdf-recv, not by us.
		# 0: closed (EOF); 000: srdf-recv was down; 1: reset by a
		# kill -9; 124: still open after 10 s, the failure.
		( if exec 3<>/dev/tcp/127.0.0.1/$PORT; then
			timeout 10 cat <&3 >/dev/null; echo "idle $? - -"
		  else echo "idle 000 - -"; fi >>noise.log ) 2>/dev/null &
	fi
	sleep 0.1
done
wait
EOF
}

test_expect_success 'setup: keys, certificate, 400 small wagons' '
	mkwagons key key && mkwagons key key2 &&
	make_cert tls &&
	mkwagons seal src key 400 1500 &&
	head -c 100000 /dev/urandom >big &&
	write_noise
'

test_expect_success 'start srdf-recv, srdf-ship (fast back-off) and the bad requests' '
	recv_start recv0 0 && PORT=${URL##*:} && echo $PORT >port &&
	test_bg ship srdf-ship --dir src --to $URL --key-file key --ca-file tls.crt $pull_opt \
		--timeout 2s --retry 100ms,200ms,300ms,500ms,500ms,1s,1s,1s,2s,2s,2s,3s &&
	test_bg noise bash noise.sh $URL &&
	if [ -n "$ack_pull" ]; then test_bg apply play_apply; fi
'

# More wagons are sealed during the chaos (200 after disruptions 3, 6 and
# 9), so srdf-ship has wagons to send whatever the machine's speed.
test_expect_success 'chaos: kill -9 at random moments, a stop of 3 s, a freeze of 2 s, more wagons sealed meanwhile' '
	n=0 &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		sleep 0.$((RANDOM % 7 + 2)) &&
		case $i in
		4)	# stopped for a while: SIGTERM, down for 3 s
			test_bg_stop recv$n && sleep 3 ;;
		7)	# frozen: connections hang until srdf-ship gives up
			kill -STOP $(cat recv$n.pid) && sleep 2 &&
			kill -CONT $(cat recv$n.pid) && kill9 recv$n ;;
		*)	kill9 recv$n && sleep 0.$((RANDOM % 3)) ;;
		esac &&
		n=$((n + 1)) && recv_start recv$n $PORT || return 1
		case $i in 3|6|9) mkwagons seal src key 200 1500 || return 1 ;; esac
	done &&
	echo $n >last &&
	ls src/outbox/new | wc -l | grep -qx 1000
'

test_expect_success "srdf-ship delivers all 1000 (pull: and takes their 1000 ACKs), then stops cleanly on SIGTERM" '
	test_wait_until 90 "states src | grep -qx \"$want 1000\"" &&
	test_bg_stop ship &&
	grep -q "stopped:" ship.err
'

test_expect_success 'the chaos really happened: failed attempts are in the ledger' '
	ledger-wagons --attempts src >attempts &&
	failed=$(jq -s "map(select(.error != null)) | length" attempts) &&
	sum=$(ledger-wagons src | jq -s "map(.attempts) | add") &&
	logged=$(grep -c "attempt [0-9]* failed" ship.err || :) &&
	echo "attempts recorded $(wc -l <attempts), counted $sum, failed $failed, logged failed $logged" &&
	test "$failed" -gt 5 && test "$sum" = $(wc -l <attempts) && test "$logged" -gt 0
'

test_expect_success 'the inbox holds every wagon exactly once, byte for byte' '
	touch noise.stop && test_wait_until 20 "! test_pid_alive \$(cat noise.pid)" &&
	ls dst/inbox/new >names &&
	seq -f %020g.wagon 1 1000 >expect && test_cmp expect names &&
	for f in src/outbox/new/*.wagon; do
		cmp -s $f dst/inbox/new/${f##*/} || { echo "differs: $f"; return 1; }
	done &&
	test -z "$(find dst/inbox/tmp dst/inbox/bad -type f)"
'

test_expect_success 'the target ledger has one record per wagon, with its checksum' '
	if [ -n "$ack_pull" ]; then
		touch apply.stop && test_wait_until 20 "! test_pid_alive \$(cat apply.pid)" &&
		test -z "$(ledger-wagons dst | jq -r "select(.ack != null) | .seq")" || return 1
	fi &&
	printf "%s 1000\n" $want >expect && states dst >actual && test_cmp expect actual &&
	ledger-wagons dst | jq -r "[.seq, .sha256] | @tsv" | head -n 3 >recs &&
	while read -r seq sum; do
		f=dst/inbox/new/$(printf %020d.wagon $seq) &&
		test "$(tail -c 32 $f | xxd -p -c 64)" = "$sum" || return 1
	done <recs
'

test_expect_success 'every bad request got its documented answer (or none while srdf-recv was down)' '
	awk "{ print \$1 }" noise.log | sort | uniq -c &&
	# "not after this verifier started": signed in the second srdf-recv
	# (re)started, which it refuses as a possible replay.
	restart="503 busy signed at .*not after this verifier started" &&
	down="000|503 (draining|busy) " &&
	check repost "200 duplicate|201 accepted|$restart|$down" &&
	check replay "401 rejected replayed|$restart|$down" &&
	check wrongkey "401 rejected unknown key id|$down" &&
	check bitflip "400 invalid_payload checksum|$restart|$down" &&
	check tampered "400 invalid_payload the body is not the one signed|$restart|$down" &&
	check oversize "413 rejected body of 100000 bytes|$restart|$down" &&
	check idle "0 |000 |1 " &&
	for k in "repost 20[01]" "replay 401 rejected replayed" "wrongkey 401" "bitflip 400" \
		"tampered 400" "oversize 413" "idle 0"; do
		grep -q "^$k" noise.log || { echo "never answered: $k"; return 1; }
	done
'

test_expect_success 'the last srdf-recv stops cleanly' '
	test_bg_stop recv$(cat last)
'

test_done
