#!/bin/bash
test_description='srdf-status: counts, sequences and errors of a source and a target directory, as a table, JSON and Prometheus text; exit 1 on a failed wagon'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# ledger-wagons' count of wagons in STATE in DIR
lw_count() {
	ledger-wagons "$1" | jq -s "map(select(.state == \"$2\")) | length"
}

lw_bytes() {
	ledger-wagons "$1" | jq -s "map(select(.state == \"$2\") | .wagon_bytes) | add // 0"
}

test_expect_success 'a directory without a ledger: 66' '
	mkdir empty &&
	test_expect_code 66 srdf-status --dir empty 2>err &&
	grep -q "no ledger" err
'

test_expect_success 'setup: sealed wagons on the source' '
	apply_setup &&
	src_sql "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20));
		INSERT INTO shop.t VALUES (1, \"a\")" &&
	seal_new &&
	src_sql "INSERT INTO shop.t VALUES (2, \"b\")" &&
	seal_new &&
	n=$(wagon_count) && test "$n" -ge 2 &&
	test "$(lw_count "$S" sealed)" = "$n" &&
	ledger-wagons "$S" | jq -e "select(.seq == $n) | .last_ts > 1000000000" >/dev/null
'

test_expect_success 'source: --json numbers equal the ledger'"'"'s' '
	srdf-status --dir "$S" --json >st.json &&
	jq -e . st.json >/dev/null &&
	test "$(jq -r .side st.json)" = source &&
	for s in sealed sending received confirmed failed dead; do
		test "$(jq ".wagons.$s.count" st.json)" = "$(lw_count "$S" $s)" &&
		test "$(jq ".wagons.$s.bytes" st.json)" = "$(lw_bytes "$S" $s)" || return 1
	done &&
	test "$(jq .wagons.total.count st.json)" = "$(wagon_count)" &&
	test "$(jq .spool.new st.json)" = "$(wagon_count)" &&
	test "$(jq .last.sealed.seq st.json)" = "$(wagon_count)" &&
	test "$(jq -r .last.sealed.gtid st.json)" = \
		"$(ledger-wagons "$S" | jq -r "select(.seq == $(wagon_count)) | .last_gtid")" &&
	test "$(jq .last.confirmed st.json)" = null &&
	# Nothing confirmed: the RPO is the age of wagon 1'"'"'s first commit.
	first=$(ledger-wagons "$S" | jq "select(.seq == 1) | .first_ts") &&
	jq -e --argjson f "$first" ".rpo_unconfirmed and .rpo_seq == 1 and
		(.rpo_seconds - (.now - \$f) | fabs) < 0.01" st.json &&
	test "$(jq .stale.count st.json)" = 0 &&
	test "$(jq .last_error st.json)" = null
'

test_expect_success 'source: the table and the exit status 0' '
	srdf-status --dir "$S" >table &&
	grep -q "source ledger" table &&
	grep -Eq "^  sealed +$(wagon_count) " table &&
	grep -Eq "^last sealed +$(wagon_count) " table &&
	grep -q "^outbox/new: $(wagon_count) " table
'

test_expect_success 'source: stale after --stale seconds' '
	sleep 1.1 &&
	test_expect_code 1 srdf-status --dir "$S" --stale 1 --json >st.json &&
	test "$(jq .stale.count st.json)" = "$(wagon_count)" &&
	test "$(jq .stale.first_seq st.json)" = 1 &&
	test_expect_code 1 srdf-status --dir "$S" --stale 1 >table &&
	grep -q "^STALE: $(wagon_count) wagon" table &&
	test_expect_code 1 srdf-status --dir "$S" --stale 1 --prometheus >prom &&
	grep -q "^srdf_stale_wagons{.*} $(wagon_count)$" prom
'

test_expect_success 'setup: the target applies, then fails on a missing table' '
	deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	src_sql "SET sql_log_bin = 0; CREATE TABLE shop.m (id INT PRIMARY KEY); SET sql_log_bin = 1;
		INSERT INTO shop.m VALUES (1)" &&
	seal_new && bad=$(wagon_count) && echo $bad >bad &&
	deliver &&
	test_expect_code 75 apply_once &&
	test "$(wagon_state $bad)" = failed
'

test_expect_success 'target: exit 1, the failed wagon and the server'"'"'s error' '
	bad=$(cat bad) &&
	test_expect_code 1 srdf-status --dir "$D" >table &&
	grep -q "target ledger" table &&
	grep -Eq "^  failed +1 " table &&
	grep -Eq "^last error: wagon $bad \(failed\): .*shop.m.* does(n.t| not) exist" table &&
	grep -Eq "^last applied +$((bad - 1)) " table &&
	grep -q "^FAILED: 1 wagon" table
'

test_expect_success 'target: --json equals the ledger, the error with its wagon' '
	bad=$(cat bad) &&
	test_expect_code 1 srdf-status --dir "$D" --json >st.json &&
	test "$(jq -r .side st.json)" = target &&
	for s in received applied confirmed failed dead; do
		test "$(jq ".wagons.$s.count" st.json)" = "$(lw_count "$D" $s)" &&
		test "$(jq ".wagons.$s.bytes" st.json)" = "$(lw_bytes "$D" $s)" || return 1
	done &&
	test "$(jq .failed st.json)" = 1 &&
	test "$(jq .last_error.seq st.json)" = $bad &&
	test "$(jq -r .last_error.state st.json)" = failed &&
	jq -r .last_error.error st.json | grep -Eq "shop.m.* does(n.t| not) exist" &&
	test "$(jq .last.received.seq st.json)" = $bad &&
	test "$(jq .last.applied.seq st.json)" = $((bad - 1))
'

# Issue 16: the apply lag, from the target alone: srdf-apply keeps the
# source commit time of the last transaction it applied, in the ledger and
# in srdf.applied.source_commit_at.
test_expect_success 'target: the apply lag without a connection to the source' '
	bad=$(cat bad) && a=$((bad - 1)) &&
	ts=$(ledger-wagons "$S" | jq "select(.seq == $a) | .last_ts") &&
	test "$(ledger-wagons "$D" | jq "select(.seq == $a) | .last_ts")" = "$ts" &&
	test_expect_code 1 srdf-status --dir "$D" --json >lag.json &&
	jq -e --argjson ts "$ts" ".apply_lag.seq == $a and .apply_lag.source_commit_at == \$ts and
		.apply_lag.lag_seconds >= 0 and .apply_lag.lag_seconds < 60 and
		(.apply_lag.source_commit_age_seconds - (.now - \$ts) | fabs) < 0.01" lag.json &&
	test_expect_code 1 srdf-status --dir "$D" >lag.table &&
	grep -q "^apply lag: [0-9]* s (wagon $a, applied that long after its last source commit" lag.table &&
	test "$(dst_sql "SELECT UNIX_TIMESTAMP(source_commit_at) FROM srdf.applied" | cut -d. -f1)" = "$ts"
'

test_expect_success 'target: --prometheus' '
	bad=$(cat bad) &&
	test_expect_code 1 srdf-status --dir "$D" --prometheus >prom &&
	grep -q "^srdf_wagons{.*,state=\"failed\"} 1$" prom &&
	grep -q "^srdf_failed_wagons{.*} 1$" prom &&
	grep -q "^srdf_dead_wagons{.*} 0$" prom &&
	grep -q "^srdf_last_sequence{.*,stage=\"applied\"} $((bad - 1))$" prom &&
	grep -q "^srdf_last_sequence{.*,stage=\"received\"} $bad$" prom &&
	grep -q "^srdf_wagon_bytes{.*,state=\"applied\"} $(lw_bytes "$D" applied)$" prom &&
	grep -q "^# TYPE srdf_wagons gauge" prom &&
	grep -q "^srdf_wagons_received_total{.*} $bad$" prom
'

test_expect_success 'target: --defaults-file adds srdf.applied; no secret printed' '
	bad=$(cat bad) &&
	test_expect_code 1 srdf-status --dir "$D" --defaults-file "$DST_CNF" --json >st.json 2>err &&
	test "$(jq .target_db.seq st.json)" = $((bad - 1)) &&
	test "$(jq -r .target_db.last_gtid st.json)" = \
		"$(dst_sql "SELECT last_gtid FROM srdf.applied")" &&
	jq -e ".target_db.applied_at > 1000000000" st.json >/dev/null &&
	test_expect_code 1 srdf-status --dir "$D" --defaults-file "$DST_CNF" >table 2>>err &&
	grep -q "^target srdf.applied: $((bad - 1)) " table &&
	pw=$(sed -n "s/^password *= *//p" "$DST_CNF" | head -1) &&
	{ test -z "$pw" || ! grep -qF -- "$pw" st.json table err; }
'

test_expect_success 'the table created, the retry applies: exit 0' '
	dst_sql "CREATE TABLE shop.m (id INT PRIMARY KEY)" &&
	apply_once &&
	srdf-status --dir "$D" --json >st.json &&
	test "$(jq .failed st.json)" = 0 &&
	test "$(jq .last.applied.seq st.json)" = "$(wagon_count)"
'

test_expect_success 'read-only: the ledger is not modified' '
	cksum "$S/ledger/data.mdb" "$D/ledger/data.mdb" >before &&
	srdf-status --dir "$S" >/dev/null && srdf-status --dir "$D" >/dev/null &&
	cksum "$S/ledger/data.mdb" "$D/ledger/data.mdb" >after &&
	test_cmp before after
'

# Issue 16, third symptom: the RPO read 92 s when the only transaction not
# confirmed was 7 s old.
test_expect_success 'RPO: the age of the oldest commit not confirmed, not of the newest confirmed' '
	mkdir -p rpo/outbox/new &&
	now=$(date +%s) &&
	ledger-wagon-set rpo 1 "{\"state\":\"confirmed\",\"first_ts\":$((now - 95)),\"last_ts\":$((now - 92)),\"sealed_at\":$((now - 92))}" &&
	ledger-wagon-set rpo 2 "{\"state\":\"received\",\"first_ts\":$((now - 7)),\"last_ts\":$((now - 7)),\"sealed_at\":$((now - 7))}" &&
	srdf-status --dir rpo --json >rpo.json &&
	jq -e ".rpo_seq == 2 and .rpo_unconfirmed and .rpo_seconds >= 7 and .rpo_seconds < 9" rpo.json &&
	srdf-status --dir rpo >rpo.table &&
	grep -q "^rpo: [78] s (the first commit of wagon 2, the oldest not confirmed)" rpo.table &&
	test_expect_code 1 srdf-status --dir rpo --max-rpo 5 >rpo5.table &&
	grep -q "^RPO: [78] s, over --max-rpo 5 s" rpo5.table &&
	srdf-status --dir rpo --max-rpo 60 >/dev/null &&
	ledger-wagon-set rpo 2 "{\"state\":\"confirmed\"}" &&
	srdf-status --dir rpo --json >rpo2.json &&
	jq -e ".rpo_seq == 2 and (.rpo_unconfirmed | not) and .rpo_seconds >= 7 and .rpo_seconds < 9" rpo2.json
'

# Issue 16, second symptom: srdf-status said "fine" with srdf-recv down,
# and called a refused start a crash for ever.
test_expect_success 'srdf-recv stopped: DOWN, since when, exit 1' '
	mkdir -p hb &&
	test_bg recv srdf-recv --dir hb --key-file key --listen 127.0.0.1:0 --insecure &&
	test_wait_until 10 "grep -q \"listening on\" recv.err" &&
	srdf-status --dir hb >hb0.table &&
	grep -Eq "^  srdf-recv +[0-9]+ running " hb0.table &&
	test_bg_stop recv &&
	test_expect_code 1 srdf-status --dir hb >hb.table &&
	grep -Eq "^  srdf-recv +[0-9]+ DOWN " hb.table &&
	grep -q "^DOWN: srdf-recv, which ran as a daemon, stopped [0-9]* s ago (exit 0, a clean stop)" hb.table
'

test_expect_success 'srdf-apply --once refusing a promoted target (78): no crash, no DEAD, exit 0' '
	srdf-status --dir "$D" >/dev/null &&
	ledger-meta "$D" promoted "2026-12-07T00:00:00Z" &&
	test_expect_code 78 apply_once &&
	srdf-status --dir "$D" --json >p.json &&
	jq -e ".processes[] | select(.tool == \"srdf-apply\") |
		.state == \"stopped\" and .exit == 78 and .flag == null" p.json &&
	srdf-status --dir "$D" >p.table &&
	grep -q "^note: the last run of srdf-apply refused to start [0-9]* s ago (exit 78: a configuration error)" p.table &&
	! grep -q "DEAD" p.table
'

test_done
