#!/bin/bash
test_description='the WAN link cut under load, and meanwhile the DR host crashes: srdf-recv and the target mariadbd killed -9 and restarted before the heal; no wagon dead, every wagon applied once, both sides equal'
# As t/8003 (t/8-wan-lib.sh), with the target host's srdf-recv and
# mariadbd killed -9 a third into the partition and started again two
# thirds into it; srdf-apply keeps running and must wait for its server
# for as long as it takes.  WAN_PARTITION=60 s in CI, 300 s with
# SRDF_SOAK=1 (make soak).
. "$(dirname "$0")/lib.sh"
srdf_wan_up
srdf_servers_start
. "$top/t/5-apply-lib.sh"
. "$top/t/8-wan-lib.sh"

kill9() { # NAME: kill -9 a test_bg process and wait until it is gone
	local pid
	pid=$(cat "$1.pid") && kill -9 "$pid" &&
		{ wait "$pid" 2>/dev/null || :; } &&
		test_wait_until 10 "test_pid_gone $pid"
}

test_expect_success "setup: link ($WAN_DEGRADE), sysbench tables, srdf-bootstrap" '
	wan_setup
'

test_expect_success 'the daemons start on their hosts; changes are applied and confirmed across the link' '
	copy=$(ledger-wagons "$S" | wc -l) &&
	wan_daemons_start &&
	wan_load $((WAN_PARTITION + 25)) &&
	wan_mark before &&
	test_wait_until 90 "wan_confirmed $((copy + 3))"
'

test_expect_success "the link is cut for $WAN_PARTITION s; the DR host crashes and comes back meanwhile" '
	srdf_wan cut &&
	wan_mark cut &&
	sleep $((WAN_PARTITION / 3)) &&
	wan_no_dead &&
	kill9 recv0 &&
	old=$DST_PID &&
	srdf_servers kill-target &&
	test_wait_until 10 "test_pid_gone $old" &&
	wan_mark crashed &&
	sleep $((WAN_PARTITION / 3)) &&
	wan_no_dead &&
	test_pid_alive "$(cat apply.pid)" &&
	srdf_servers restart-target &&
	test "$DST_PID" != "$old" &&
	wan_recv_start recv1 "$(cat recv.port)" &&
	wan_mark restarted &&
	sleep $((WAN_PARTITION - 2 * (WAN_PARTITION / 3))) &&
	wan_no_dead &&
	test_pid_alive "$(cat ship.pid)" &&
	test_pid_alive "$(cat apply.pid)" &&
	wan_mark healed &&
	echo "most attempts for one wagon: $(wan_max_attempts)"
'

test_expect_success 'the link heals: the target catches up, every wagon confirmed on both sides' '
	srdf_wan heal &&
	t0=$SECONDS &&
	while test_pid_alive "$(cat load.pid)"; do sleep 1; done &&
	grep "transactions:" load.out &&
	t1=$SECONDS &&
	wan_mark after &&
	wan_drained 150 &&
	echo "load ended $((t1 - t0)) s after the heal, drained $((SECONDS - t1)) s later"
'

test_expect_success 'srdf-apply lived through it, the same process' '
	test_pid_alive "$(cat apply.pid)" &&
	grep -v "applied wagon" apply.err
'

test_expect_success 'no wagon dead; every wagon applied exactly once, in order, none missing' '
	wan_no_dead &&
	wan_applied_once &&
	echo "$(wc -l <applied.seqs) wagons"
'

test_expect_success 'CHECKSUM TABLE is equal on every table; srdf-verify agrees' '
	wan_tables >tables &&
	test "$(wc -l <tables)" = $((WAN_TABLES + 1)) &&
	checksum_both $(cat tables) &&
	test "$(dst_sql "SELECT GROUP_CONCAT(phase ORDER BY id) FROM wan.marks")" = before,cut,crashed,restarted,healed,after &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sbtest,wan >verify.out 2>verify.err
'

test_expect_success 'the daemons stop cleanly' '
	test_bg_stop ship && test_bg_stop apply && test_bg_stop recv1 && test_bg_stop ackd
'

test_done
