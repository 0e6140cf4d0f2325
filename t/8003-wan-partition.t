#!/bin/bash
test_description='the pipeline across a slow, lossy, delayed WAN link, cut under load for a minute (five with SRDF_SOAK=1): no wagon dead, every wagon applied once after the heal, both sides equal'
# The source and the target "hosts" are network namespaces (t/srdf-wan);
# only srdf-ship -> srdf-recv and srdf-apply -> srdf-ackd cross the link.
# srdf-ship's --retry is short (200ms,500ms,1s) so that during the cut its
# last step is reached and repeated many times: a failure that may pass
# must never make a wagon dead (srdf-ship(1)).  The CI form cuts for
# WAN_PARTITION=60 s; SRDF_SOAK=1 (make soak) for 300 s.  That a refusal
# (409) still makes a wagon dead at once is t/4004's test 7.
. "$(dirname "$0")/lib.sh"
srdf_wan_up
srdf_servers_start
. "$top/t/5-apply-lib.sh"
. "$top/t/8-wan-lib.sh"

test_expect_success "setup: link ($WAN_DEGRADE), sysbench tables, srdf-bootstrap" '
	wan_setup &&
	srdf_wan status
'

test_expect_success 'nothing crosses but the link: the target host cannot reach the source servers, the hosts reach each other' '
	test_must_fail on_dst bash -c "exec 3<>/dev/tcp/127.0.0.1/$SRC_PORT" 2>/dev/null &&
	test_must_fail on_src timeout 5 bash -c "exec 3<>/dev/tcp/$WAN_DST_IP/1" 2>err &&
	grep -q "refused" err
'

test_expect_success 'the daemons start on their hosts; the copy and the first changes are applied and confirmed across the link' '
	copy=$(ledger-wagons "$S" | wc -l) &&
	wan_daemons_start &&
	wan_load $((WAN_PARTITION + 25)) &&
	wan_mark before &&
	test_wait_until 90 "wan_confirmed $((copy + 3))" &&
	grep -q "received" ship.err
'

[ "$WAN_ACKS" != pull ] ||
test_expect_success 'pull mode: nothing listens on the source host (its namespace), yet wagons are confirmed' '
	on_src ss -H -ltn >src.listen &&
	test ! -s src.listen &&
	on_dst ss -H -ltn | grep -q "$WAN_DST_IP:$(cat recv.port)"
'

test_expect_success "the link is cut for $WAN_PARTITION s under load: nothing dead, srdf-ship at its last step again and again" '
	srdf_wan cut &&
	wan_mark cut &&
	at_cut=$(wan_max_attempts) &&
	end=$((SECONDS + WAN_PARTITION)) &&
	while [ $SECONDS -lt $end ]; do
		sleep 5 &&
		wan_no_dead &&
		test_pid_alive "$(cat ship.pid)" &&
		test_pid_alive "$(cat apply.pid)" || return 1
	done &&
	wan_mark healed &&
	attempts=$(wan_max_attempts) &&
	last_step=$(grep -c "retried every 1 s until it goes" ship.err) &&
	echo "most attempts for one wagon: $at_cut before the cut, $attempts at the heal; last-step lines: $last_step" &&
	test "$attempts" -ge $((at_cut + WAN_PARTITION / 8)) &&
	test "$last_step" -ge 1 &&
	src_sealed=$(wan_count "$S" sealed) && src_sending=$(wan_count "$S" sending) &&
	echo "waiting at the source: $src_sealed sealed, $src_sending sending" &&
	test $((src_sealed + src_sending)) -gt 3
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

test_expect_success 'no wagon dead; every wagon applied exactly once, in order, none missing' '
	wan_no_dead &&
	wan_applied_once &&
	echo "$(wc -l <applied.seqs) wagons"
'

test_expect_success 'CHECKSUM TABLE is equal on every table; srdf-verify agrees' '
	wan_tables >tables &&
	test "$(wc -l <tables)" = $((WAN_TABLES + 1)) &&
	checksum_both $(cat tables) &&
	test "$(dst_sql "SELECT GROUP_CONCAT(phase ORDER BY id) FROM wan.marks")" = before,cut,healed,after &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sbtest,wan >verify.out 2>verify.err
'

test_expect_success 'the daemons stop cleanly' '
	test_bg_stop ship && test_bg_stop apply && test_bg_stop recv0 &&
	if [ "$WAN_ACKS" != pull ]; then test_bg_stop ackd; fi
'

test_done
