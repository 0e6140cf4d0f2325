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
	test "$(jq .rpo_seconds st.json)" = null &&
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
	srdf-status --dir "$S" --stale 1 --json >st.json &&
	test "$(jq .stale.count st.json)" = "$(wagon_count)" &&
	test "$(jq .stale.first_seq st.json)" = 1 &&
	srdf-status --dir "$S" --stale 1 >table &&
	grep -q "^STALE: $(wagon_count) wagon" table &&
	srdf-status --dir "$S" --stale 1 --prometheus >prom &&
	grep -qx "srdf_stale_wagons $(wagon_count)" prom
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

test_expect_success 'target: --prometheus' '
	bad=$(cat bad) &&
	test_expect_code 1 srdf-status --dir "$D" --prometheus >prom &&
	grep -qx "srdf_wagons{state=\"failed\"} 1" prom &&
	grep -qx "srdf_failed_wagons 1" prom &&
	grep -qx "srdf_dead_wagons 0" prom &&
	grep -qx "srdf_last_sequence{stage=\"applied\"} $((bad - 1))" prom &&
	grep -qx "srdf_last_sequence{stage=\"received\"} $bad" prom &&
	grep -qx "srdf_wagon_bytes{state=\"applied\"} $(lw_bytes "$D" applied)" prom &&
	grep -q "^# TYPE srdf_wagons gauge" prom
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

test_done
