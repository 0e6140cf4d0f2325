#!/bin/bash
test_description='the DR drill: the source killed -9 under load, srdf-promote refuses while srdf-apply runs and on a gap, --dry-run changes nothing, --force promotes at the recovery point, the target then equals the source at that GTID and srdf-apply refuses'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

S=$PWD/src
D=$PWD/dst

# ack_pull=1 (t/7008-promote-drill-pull.t): the ACKs go back in
# the pull mode, srdf-apply --ack-pull and srdf-ship --ack-pull, with no
# srdf-ackd and nothing listening on the source.
ack_pull=${ack_pull:-}
pull_opt=${ack_pull:+--ack-pull}

# listening NAME: the URL a daemon logs as "listening on URL"
listening() {
	test_wait_until 30 "grep -q 'listening on http' $1.err" &&
	sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' "$1.err" |
		head -n 1
}

promote() {
	srdf-promote --dir "$D" --key-file key --defaults-file "$DST_CNF" "$@"
}

# As the application: a user without READ ONLY ADMIN, which read_only stops.
app_sql() {
	mariadb --no-defaults --socket="$DST_SOCK" --user=app --password=app \
		-N -B -e "$1"
}

# rows N: count and a digest of the source's or the target's rows 1..N
rows_digest() {
	echo "SELECT COUNT(*), MAX(n), BIT_XOR(CRC32(CONCAT_WS(',', n, at))) FROM drill.c WHERE n BETWEEN 1 AND $1"
}

test_expect_success 'setup: source schema, a read-only target, the application user' '
	srdf-keygen -o key 2>/dev/null &&
	mkdir -p "$S" "$D" &&
	ledger-meta "$S" bootstrap_gtid "$(src_sql "SELECT @@gtid_binlog_pos")" &&
	src_sql "CREATE DATABASE drill;
		CREATE TABLE drill.c (n INT PRIMARY KEY, at DATETIME(6) NOT NULL);
		CREATE TABLE drill.static (id INT PRIMARY KEY, v VARCHAR(20));
		INSERT INTO drill.static VALUES (1, \"one\"), (2, \"two\"), (3, \"three\")" &&
	src_sql "SELECT @@gtid_binlog_pos" | sed "s/.*-//" >base &&
	dst_sql "CREATE USER app@localhost IDENTIFIED BY \"app\";
		GRANT SELECT, INSERT ON drill.* TO app@localhost;
		SET GLOBAL read_only = ON" &&
	test "$(dst_sql "SELECT @@read_only")" = 1
'

test_expect_success 'the chain runs: capture | dedup | seal, ship, recv, apply' '
	mkfifo p1 p2 &&
	test_bg recv srdf-recv --dir "$D" --key-file key --listen 127.0.0.1:0 --insecure &&
	listening recv >recv.url &&
	test_bg seal sh -c "exec srdf-seal --dir \"$S\" --key-file key <p2" &&
	test_bg dedup sh -c "exec srdf-dedup --window 200ms <p1 >p2" &&
	test_bg capture sh -c "exec srdf-capture --defaults-file \"$SRC_CNF\" --dir \"$S\" >p1" &&
	# srdf-seal makes the outbox once the fifos are open; srdf-ship
	# refuses a directory without one.
	test_wait_until 30 "test -d \"$S/outbox/new\"" &&
	test_bg ship srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file key \
		--insecure --retry 200ms,500ms,1s,2s,5s $pull_opt &&
	test_bg apply srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" $pull_opt &&
	test_wait_until 60 "test \"\$(dst_sql \"SELECT COUNT(*) FROM drill.static\" 2>/dev/null)\" = 3"
'

test_expect_success 'under load, with srdf-apply applying to the read-only target' '
	test_bg load sh -c "seq 1 1000000 | sed \"s/.*/INSERT INTO drill.c VALUES (&, NOW(6));/\" |
		mariadb --defaults-file=\"$SRC_ADMIN_CNF\"" &&
	test_wait_until 60 "test \"\$(dst_sql \"SELECT COUNT(*) FROM drill.c\")\" -ge 500"
'

[ -z "$ack_pull" ] ||
test_expect_success 'pull mode: the source has the signed ACKs (wagons confirmed) without srdf-ackd' '
	test_wait_until 30 "test -n \"\$(ledger-wagons \"$S\" | jq -r \"select(.state == \\\"confirmed\\\") | .seq\")\"" &&
	grep -q "confirmed (applied on the target" ship.err &&
	jq -s -e "map(select(.tool == \"srdf-ship\" and .to == \"confirmed\")) | length > 0" "$S/audit.log" &&
	jq -s -e "map(select(.tool == \"srdf-recv\" and .to == \"confirmed\")) | length > 0" "$D/audit.log"
'

test_expect_success 'srdf-promote refuses while srdf-apply runs, and changes nothing' '
	test_expect_code 75 promote >busy.out 2>busy.err &&
	grep "srdf-apply is running on $D" busy.err &&
	grep "stop it first (systemctl stop srdf-apply)" busy.err &&
	test "$(dst_sql "SELECT @@read_only")" = 1 &&
	test_must_fail ledger-meta "$D" promoted
'

test_expect_success 'srdf-apply stops; wagons pile up; the source host dies under load: mariadbd and every source tool killed -9' '
	test_bg_stop apply &&
	test_wait_until 60 "test \$(ls \"$D/inbox/new\" | wc -l) -ge 4" &&
	kill -9 $(cat capture.pid dedup.pid seal.pid ship.pid) &&
	srdf_servers kill-source &&
	test_wait_until 30 "! test_pid_alive \$(cat load.pid)" &&
	for t in capture dedup seal ship; do
		test_wait_until 10 "! test_pid_alive \$(cat $t.pid)" || return 1
	done
'

test_expect_success 'srdf-recv stops; the inbox holds what arrived before the disaster' '
	test_bg_stop recv &&
	ls "$D/inbox/new" >pending &&
	test "$(wc -l <pending)" -ge 4
'

test_expect_success '--dry-run says what it would do and changes nothing' '
	ledger-wagons "$D" >ledger.before &&
	dst_sql "SELECT seq, last_gtid FROM srdf.applied" >applied.before &&
	promote --dry-run --source-dir "$S" >dry.out 2>dry.err &&
	grep "^dry run: nothing is changed" dry.out &&
	grep "^would run: .*srdf-apply --once --dir $D" dry.out &&
	grep "^would apply: wagons " dry.out &&
	grep "^would run: SET GLOBAL read_only=OFF (now ON)" dry.out &&
	grep "^would record: promoted" dry.out &&
	test "$(dst_sql "SELECT @@read_only")" = 1 &&
	test_must_fail ledger-meta "$D" promoted &&
	ledger-wagons "$D" >ledger.after &&
	test_cmp ledger.before ledger.after &&
	dst_sql "SELECT seq, last_gtid FROM srdf.applied" >applied.after &&
	test_cmp applied.before applied.after &&
	ls "$D/inbox/new" | test_cmp pending - &&
	! grep -q srdf-promote "$D/audit.log"
'

test_expect_success 'the application cannot write to the read-only target' '
	test_must_fail app_sql "INSERT INTO drill.c VALUES (-1, NOW())" 2>ro.err &&
	grep -i "read-only" ro.err
'

test_expect_success 'a gap in the inbox: srdf-promote refuses and says what to do' '
	gap=$(sed -n "$(( $(wc -l <pending) - 1 ))p" pending) &&
	mkdir aside && mv "$D/inbox/new/$gap" aside/ &&
	gapseq=$(echo "$gap" | sed "s/^0*//; s/\.wagon$//") &&
	test_expect_code 75 promote >gap.out 2>gap.err &&
	grep "^gap: wagon $gapseq missing" gap.out &&
	grep "the inbox has a gap: wagon $gapseq is missing while $((gapseq + 1)) was received" gap.err &&
	grep "with --force" gap.err &&
	test "$(dst_sql "SELECT @@read_only")" = 1 &&
	test_must_fail ledger-meta "$D" promoted &&
	test "$(dst_sql "SELECT seq FROM srdf.applied")" = $((gapseq - 1))
'

test_expect_success '--force promotes at the recovery point: writable, RTO, audit, hook' '
	promote --force --source-dir "$S" \
		--hook "env | grep ^SRDF_PROMOTE_ | sort >hook.env; exit 3" \
		>promote.out 2>promote.err &&
	cat promote.out &&
	grep "^recovery point: wagon $((gapseq - 1)), GTID 0-1-[0-9]*$" promote.out &&
	grep "^source commit time: 20" promote.out &&
	grep "^gap: wagon $gapseq missing" promote.out &&
	grep "^source sealed: wagon [0-9]*, GTID 0-1-[0-9]*: [0-9]* wagons* beyond the recovery point" promote.out &&
	grep "^read_only: ON -> OFF$" promote.out &&
	grep "^RTO: [0-9]*\.[0-9]* s" promote.out &&
	grep "^hook: exited 3 (the promotion stands)" promote.out &&
	grep "^new primary.s binlog starts at: unknown (no binary log at the promotion" promote.out &&
	! grep "^failback:" promote.out &&
	grep "has no binary log (log_bin=OFF): it can be promoted, but it cannot be the source of a failback" promote.err &&
	test_must_fail ledger-meta "$D" promoted_pos &&
	grep "given up" promote.err &&
	test "$(dst_sql "SELECT @@read_only")" = 0 &&
	ledger-meta "$D" promoted | grep "^20..-..-..T..:..:..Z$" &&
	test "$(ledger-meta "$D" promoted_seq)" = $((gapseq - 1)) &&
	gtid=$(sed -n "s/^recovery point: wagon [0-9]*, GTID //p" promote.out) &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$gtid" &&
	grep -x "SRDF_PROMOTE_GTID=$gtid" hook.env &&
	grep -x "SRDF_PROMOTE_SEQ=$((gapseq - 1))" hook.env &&
	grep "^SRDF_PROMOTE_TIME=20" hook.env &&
	jq -e "select(.tool == \"srdf-promote\") | .item == \"target\" and .by == \"operator\" and .from == \"replica\" and .to == \"promoted\" and (.detail | contains(\"GTID $gtid,\") and endswith(\", forced\"))" "$D/audit.log" &&
	echo "$gtid" >gtid
'

test_expect_success 'the application writes to the promoted target' '
	app_sql "INSERT INTO drill.c VALUES (-1, NOW())" &&
	test "$(dst_sql "SELECT COUNT(*) FROM drill.c WHERE n = -1")" = 1
'

test_expect_success 'srdf-apply refuses to apply to the promoted target' '
	mv aside/* "$D/inbox/new/" &&
	test_expect_code 78 srdf-apply --dir "$D" --key-file key \
		--defaults-file "$DST_CNF" --once 2>refused.err &&
	grep "was promoted at 20.*(srdf-promote): it is no longer a replica" refused.err &&
	test_expect_code 78 srdf-apply --dir "$D" --key-file key \
		--defaults-file "$DST_CNF" --dry-run >/dev/null 2>>refused.err &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat gtid)"
'

test_expect_success 'srdf-recv refuses wagons for the promoted target, naming the promotion' '
	mkdir -p xfer/new &&
	cp "$(ls "$S"/outbox/new/*.wagon | tail -n 1)" xfer/new/ &&
	n=$(ls "$D/inbox/new" | wc -l) &&
	test_must_fail srdf-recv --dir "$D" --key-file key --import xfer 2>imp.err &&
	grep "rejected: this target was promoted at 20.* (srdf-promote): it takes no more wagons" imp.err &&
	test "$(ls "$D/inbox/new" | wc -l)" = "$n"
'

test_expect_success 'the target holds the source exactly at the recovery point, nothing beyond' '
	srdf_servers restart-source &&
	k=$(( $(sed "s/.*-//" gtid) - $(cat base) )) &&
	test "$k" -gt 500 &&
	test "$(dst_sql "SELECT COUNT(*), MAX(n) FROM drill.c WHERE n > 0")" = "$k	$k" &&
	test "$(src_sql "$(rows_digest $k)")" = "$(dst_sql "$(rows_digest $k)")" &&
	test "$(src_sql "SELECT MAX(n) FROM drill.c")" -gt "$k" &&
	checksum_both drill.static
'

test_expect_success 'running srdf-promote again finishes nothing twice: already writable' '
	promote >again.out 2>again.err &&
	grep "promoted at .* already" again.err &&
	grep "^read_only: OFF -> OFF" again.out &&
	test "$(jq -c "select(.tool == \"srdf-promote\") | [.from, .to]" "$D/audit.log")" = "$(printf "%s\n" "[\"replica\",\"promoted\"]" "[\"promoted\",\"promoted\"]")"
'

test_done
