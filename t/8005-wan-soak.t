#!/bin/bash
test_description='soak (make soak only): 30 minutes of load across a degraded WAN link, cut for the middle 10: no wagon dead, the RPO back under 2 s within a minute of the heal, both sides equal'
# The whole pipeline on two "hosts" (t/8-wan-lib.sh) under sysbench at
# WAN_RATE tps for SOAK_BEFORE + SOAK_CUT + SOAK_AFTER seconds (default
# 600 + 600 + 600), the link degraded (WAN_DEGRADE: 10 Mbit/s, 1 % loss,
# 80 ms RTT) all along and cut for SOAK_CUT.  srdf-ship runs with
# --pipeline 8 (WAN_SHIP_ARGS), as on a link with a long round trip.
# The RPO is srdf-status's (the age of the oldest source commit not
# confirmed), sampled every second.  Only with SRDF_SOAK=1: it takes
# over half an hour.
. "$(dirname "$0")/lib.sh"
[ "${SRDF_SOAK:-0}" != 0 ] || skip_all "a soak of over 30 minutes: make soak (SRDF_SOAK=1)"
SOAK_BEFORE=${SOAK_BEFORE:-600}
SOAK_CUT=${SOAK_CUT:-600}
SOAK_AFTER=${SOAK_AFTER:-600}
WAN_SHIP_ARGS=${WAN_SHIP_ARGS:---pipeline 8}
srdf_wan_up
srdf_servers_start
. "$top/t/5-apply-lib.sh"
. "$top/t/8-wan-lib.sh"

# rpo: the source's RPO in seconds (srdf-status --json), "null" when unknown.
rpo() {
	srdf-status --dir "$S" --json 2>/dev/null | jq -r .rpo_seconds
}

# rpo_sample SECONDS FILE: one RPO a second into FILE for SECONDS s,
# checking on the way that no wagon is dead and the daemons live.
rpo_sample() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		echo "$SECONDS $(rpo)" >>"$2"
		wan_no_dead && test_pid_alive "$(cat ship.pid)" &&
			test_pid_alive "$(cat apply.pid)" || return 1
		sleep 1
	done
}

# p FILE Q: the Q-th quantile (0..1) of the RPOs in FILE, nearest rank.
p() {
	awk '$2 != "null" { print $2 }' "$1" | sort -g |
		awk -v q="$2" '{ v[NR] = $1 } END { i = int(q * NR + 0.999999); if (i < 1) i = 1; print v[i] }'
}

test_expect_success "setup: link ($WAN_DEGRADE), sysbench tables, srdf-bootstrap" '
	wan_setup &&
	srdf_wan status
'

test_expect_success "the pipeline across the link for $SOAK_BEFORE s under load: no wagon dead" '
	wan_daemons_start &&
	wan_load $((SOAK_BEFORE + SOAK_CUT + SOAK_AFTER)) &&
	wan_mark before &&
	rpo_sample "$SOAK_BEFORE" rpo.before &&
	echo "RPO before the cut: p50 $(p rpo.before 0.5) s, p99 $(p rpo.before 0.99) s, max $(p rpo.before 1) s"
'

test_expect_success "the link cut for $SOAK_CUT s under load: nothing dead, srdf-ship at its last step" '
	srdf_wan cut &&
	wan_mark cut &&
	rpo_sample "$SOAK_CUT" rpo.cut &&
	wan_mark healed &&
	echo "RPO at the end of the cut: $(tail -n 1 rpo.cut | cut -d" " -f2) s; ship attempts of one wagon: $(wan_max_attempts)"
'

test_expect_success 'the link heals: the RPO is back under 2 s within a minute' '
	srdf_wan heal &&
	t0=$SECONDS && back= &&
	while [ $((SECONDS - t0)) -le 120 ]; do
		r=$(rpo) &&
		echo "$((SECONDS - t0)) $r" >>rpo.heal &&
		if [ -z "$back" ] && [ "$r" != null ] && awk "BEGIN { exit !($r < 2) }"; then
			back=$((SECONDS - t0))
		fi
		[ -n "$back" ] && [ $((SECONDS - t0)) -ge $((back + 10)) ] && break
		sleep 1
	done &&
	echo "RPO under 2 s again $back s after the heal" &&
	test -n "$back" && test "$back" -le 60
'

test_expect_success "the rest of the load ($SOAK_AFTER s) on the degraded link; then drained, every wagon confirmed" '
	rpo_sample $((SOAK_AFTER - 70)) rpo.after &&
	while test_pid_alive "$(cat load.pid)"; do sleep 1; done &&
	grep "transactions:" load.out &&
	echo "RPO after the heal: p50 $(p rpo.after 0.5) s, p99 $(p rpo.after 0.99) s, max $(p rpo.after 1) s" &&
	wan_mark after &&
	wan_drained 150
'

test_expect_success 'no wagon dead; every wagon applied exactly once' '
	wan_no_dead &&
	wan_applied_once &&
	echo "$(wc -l <applied.seqs) wagons"
'

test_expect_success 'CHECKSUM TABLE is equal on every table; srdf-verify agrees' '
	wan_tables >tables &&
	checksum_both $(cat tables) &&
	test "$(dst_sql "SELECT GROUP_CONCAT(phase ORDER BY id) FROM wan.marks")" = before,cut,healed,after &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sbtest,wan >verify.out 2>verify.err &&
	cat verify.out
'

test_expect_success 'the daemons stop cleanly' '
	test_bg_stop ship && test_bg_stop apply && test_bg_stop recv0 && test_bg_stop ackd
'

test_done
