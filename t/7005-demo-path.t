#!/bin/bash
test_description='the demo'"'"'s path, shortened (examples/pipeline.sh'"'"'s functions): existing tables bootstrapped, capture from the snapshot, sysbench; srdf-status equals the ledgers and srdf.applied; srdf-apply killed: applied stops, RPO grows; restarted: both recover; CHECKSUM TABLE and srdf-verify equal, every wagon confirmed'
. "$(dirname "$0")/lib.sh"
command -v sysbench >/dev/null || skip_all "no sysbench"
srdf_servers_start

# The demo's own steps, with this test's directory as its work directory
# and test_bg starting its daemons (stopped at exit, however it exits).
. "$top/examples/pipeline.sh"
W=$PWD
S=$W/src
D=$W/dst
pl_bg() { test_bg "$@"; }
export DEMO_TABLES=2 DEMO_TABLE_SIZE=2000 DEMO_THREADS=2 DEMO_RATE=100

# view: from srdf-status --json (stdin), what the ledger can say too: the
# count and bytes of each state (the states that have wagons), the total,
# and the newest sequence sealed (source), received, applied, confirmed.
view_status() {
	jq -S -c '{counts: (.wagons | del(.total) | with_entries(select(.value.count > 0))),
		total: .wagons.total.count, sealed: .last.sealed.seq,
		received: .last.received.seq, applied: .last.applied.seq,
		confirmed: .last.confirmed.seq}'
}

# view_ledger DIR SIDE: the same, computed from ledger-wagons DIR (one JSON
# line per wagon), by srdf-status' rules: on the source every wagon is
# sealed and received once the target has it; applied is applied or
# confirmed.
view_ledger() {
	ledger-wagons "$1" | jq -S -c -s --arg side "$2" '
		def top(f): [.[] | select(f) | .seq] | max;
		{counts: (group_by(.state) | map({key: .[0].state, value:
			{count: length, bytes: (map(.wagon_bytes // 0) | add)}}) | from_entries),
		total: length,
		sealed: (if $side == "source" then top(true) else null end),
		received: (if $side == "source" then
			top(.state | IN("received", "failed", "applied", "confirmed"))
			else top(true) end),
		applied: top(.state | IN("applied", "confirmed")),
		confirmed: top(.state == "confirmed")}'
}

# status_is_ledger DIR SIDE: srdf-status' figures equal the ledger's.
# While the tools run, the ledger is read before and after srdf-status;
# only when both readings agree is the comparison made (the states only
# move forward, so srdf-status saw that same state); else it tries again.
status_is_ledger() {
	local n a s b
	for n in $(seq 100); do
		a=$(view_ledger "$1" "$2") &&
			s=$(srdf-status --dir "$1" --json | view_status) &&
			b=$(view_ledger "$1" "$2") || return 1
		if [ "$a" = "$b" ]; then
			echo "$1: the ledger stood still at reading $n: $a"
			[ "$s" = "$a" ] && return 0
			echo "srdf-status: $s"
			echo "ledger:      $a"
			return 1
		fi
		sleep 0.1
	done
	echo "the ledger of $1 never stood still for a second reading"
	return 1
}

# sj DIR FILTER: one figure of srdf-status --json on DIR (with srdf.applied
# on the target).
sj() {
	pl_status_json "$1" | jq -r "$2"
}

applied_row() {
	dst_sql "SELECT seq FROM srdf.applied"
}

test_expect_success 'existing data on the source before srdf: sysbench tables, the heartbeat row' '
	pl_prepare &&
	test "$(src_sql "SELECT COUNT(*) FROM sbtest.sbtest2")" = 2000
'

test_expect_success 'srdf-bootstrap | srdf-seal copies them; the daemons start; capture starts at the snapshot' '
	pl_bootstrap &&
	snap=$(ledger-meta "$S" bootstrap_gtid) && test -n "$snap" &&
	echo "$snap" >snap &&
	test "$(sj "$S" .wagons.sealed.count)" -ge 2 &&
	test "$(sj "$S" .last.sealed.gtid)" = "$snap" &&
	pl_start_transport && pl_start_apply && pl_start_capture &&
	pl_ready capture "starting after the GTID position '\''$snap'\''" &&
	copy=$(sj "$S" .last.sealed.seq) &&
	pl_wait_seq "$copy" 60 &&
	test "$(pl_gtid_applied)" = "$snap" &&
	checksum_both sbtest.sbtest1 sbtest.sbtest2 demo.heartbeat
'

test_expect_success 'sysbench and the heartbeat run; wagons are applied and confirmed' '
	pl_load 300 &&
	test_wait_until 60 "test \$(sj \"\$D\" \".target_db.seq // 0\") -gt $copy &&
		test \"\$(sj \"\$S\" .rpo_seconds)\" != null" &&
	test_pid_alive "$(cat load.pid)"
'

test_expect_success 'srdf-status equals the ledgers while it all runs' '
	status_is_ledger "$S" source &&
	status_is_ledger "$D" target
'

test_expect_success 'srdf-apply killed: applied stops, RPO grows, the load goes on' '
	pid=$(cat apply.pid) && kill -9 "$pid" &&
	{ wait "$pid" 2>/dev/null; true; } &&
	test_wait_until 10 "! test_pid_alive $pid" &&
	pl_status_json "$S" >s1.json && pl_status_json "$D" >d1.json &&
	rpo1=$(jq .rpo_seconds s1.json) && sealed1=$(jq .last.sealed.seq s1.json) &&
	echo "RPO $rpo1 s, sealed $sealed1, applied $(jq .target_db.seq d1.json)" &&
	grown=$(awk "BEGIN { print ($rpo1 + 5 > 7) ? $rpo1 + 5 : 7 }") &&
	test_wait_until 60 "awk \"BEGIN { exit !(\$(sj \"\$S\" .rpo_seconds) >= $grown) }\" &&
		test \$(sj \"\$S\" .last.sealed.seq) -gt $sealed1 &&
		test \$(sj \"\$D\" .last.received.seq) -gt \$(applied_row)" &&
	pl_status_json "$S" >s2.json && pl_status_json "$D" >d2.json &&
	echo "RPO $(jq .rpo_seconds s2.json) s, sealed $(jq .last.sealed.seq s2.json), applied $(jq .target_db.seq d2.json)" &&
	test_pid_alive "$(cat load.pid)" &&
	applied=$(applied_row) &&
	test "$(jq .target_db.seq d1.json)" = "$applied" &&
	test "$(jq .target_db.seq d2.json)" = "$applied" &&
	test "$(jq .last.applied.seq d2.json)" = "$(jq .last.applied.seq d1.json)" &&
	test "$(jq .last.applied.seq d2.json)" -le "$applied" &&
	test "$(jq .last.confirmed.seq s2.json)" -le "$applied" &&
	test "$(jq .last.received.seq d2.json)" -gt "$applied" &&
	echo "$rpo1" >rpo1
'

test_expect_success 'srdf-status equals the ledgers with srdf-apply down' '
	status_is_ledger "$S" source &&
	status_is_ledger "$D" target
'

test_expect_success 'srdf-apply restarted: applied catches up with sealed, RPO falls back' '
	sealed=$(sj "$S" .last.sealed.seq) &&
	bound=$(awk "BEGIN { print ($(cat rpo1) + 2 > 4) ? $(cat rpo1) + 2 : 4 }") &&
	pl_start_apply apply2 &&
	test_wait_until 90 "test \$(sj \"\$D\" .target_db.seq) -ge $sealed &&
		test \$(sj \"\$D\" .last.applied.seq) -ge $sealed &&
		awk \"BEGIN { exit !(\$(sj \"\$S\" .rpo_seconds) <= $bound) }\"" &&
	echo "RPO $(sj "$S" .rpo_seconds) s (bound $bound s), sealed $(sj "$S" .last.sealed.seq), applied $(applied_row)" &&
	test_pid_alive "$(cat load.pid)"
'

test_expect_success 'the load stops; the target reaches the source'"'"'s last GTID; equal' '
	{ test_bg_stop load; test_bg_stop heartbeat; true; } &&
	pl_src_quiet 30 &&
	! grep -i "fatal\|error" load.err &&
	last=$(src_sql "SELECT @@gtid_binlog_pos") &&
	pl_wait_gtid "$last" 120 &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$last" &&
	checksum_both $(pl_tables | tr , " ") &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases sbtest,demo >verify.out &&
	grep -q "^equal: source at GTID position '\''$last'\''" verify.out
'

test_expect_success 'every wagon confirmed; srdf-status equals the ledgers and srdf.applied' '
	seq=$(applied_row) &&
	test_wait_until 60 "pl_all_confirmed &&
		test \$(sj \"\$D\" .wagons.confirmed.count) = $seq" &&
	status_is_ledger "$S" source &&
	status_is_ledger "$D" target &&
	pl_status_json "$S" >s.json && pl_status_json "$D" >d.json &&
	test "$(jq .last.sealed.seq s.json)" = "$seq" &&
	test "$(jq .last.confirmed.seq s.json)" = "$seq" &&
	test "$(jq .wagons.confirmed.count s.json)" = "$seq" &&
	test "$(jq .last.applied.seq d.json)" = "$seq" &&
	test "$(jq .target_db.seq d.json)" = "$seq" &&
	test "$(jq .wagons.confirmed.count d.json)" = "$seq" &&
	test "$(jq -r .target_db.last_gtid d.json)" = "$(src_sql "SELECT @@gtid_binlog_pos")" &&
	test "$(jq .failed s.json)$(jq .dead s.json)$(jq .failed d.json)$(jq .dead d.json)" = 0000
'

test_expect_success 'the source idle and all confirmed: RPO is the age of capture'"'"'s last heartbeat, not of the last commit' '
	test_wait_until 30 "pl_status_json \"\$S\" >i.json &&
		test \"\$(jq .rpo_caught_up i.json)\" = true" &&
	jq -e ".rpo_seconds < 10" i.json &&
	srdf-status --dir "$S" | grep "^rpo: [0-9]* s (caught up: every wagon confirmed"
'

test_done
