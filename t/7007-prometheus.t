#!/bin/bash
test_description='srdf-status --prometheus: promtool check metrics clean on a source and a target directory of a real pipeline, labels on every series, counters that a purge does not lower; the example rules pass promtool check rules and test rules'
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null 2>&1 ||
	skip_all "promtool not installed (Debian: apt-get install prometheus)"
. "$top/t/5-apply-lib.sh"
. "$top/t/4-transport-lib.sh"
srdf_servers_start

rules=$top/examples/prometheus/srdf-rules.yml

# pv FILE NAME [LABEL=VALUE...]: the value of the one series NAME in the
# text format FILE whose labels include those given.
pv() {
	awk -v name="$2" -v want="${*:3}" '
	/^#/ { next }
	{
		i = index($1, "{"); n = i ? substr($1, 1, i - 1) : $1
		if (n != name) next
		k = split(want, w, " ")
		for (j = 1; j <= k; j++) {
			split(w[j], kv, "=")
			if (index($1, kv[1] "=\"" kv[2] "\"") == 0) next
		}
		print $2; found++
	}
	END { exit found == 1 ? 0 : 1 }' "$1"
}

# lint FILE: promtool check metrics says nothing and exits 0.
lint() {
	promtool check metrics <"$1" >"$1.lint" 2>&1 &&
	test_cmp /dev/null "$1.lint"
}

test_expect_success 'the example rules: promtool check rules' '
	promtool check rules "$rules" >out 2>&1 &&
	grep -q "SUCCESS" out
'

test_expect_success 'the example rules: promtool test rules' '
	promtool test rules "$top/examples/prometheus/srdf-rules.test.yml" >out 2>&1 &&
	grep -q "SUCCESS" out
'

test_expect_success 'setup: the pipeline: sealed, shipped, applied, confirmed; then srdf-recv and srdf-ackd stop' '
	apply_setup &&
	src_sql "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v INT);
		INSERT INTO shop.t VALUES (1, 1), (2, 2)" &&
	seal_new &&
	src_sql "UPDATE shop.t SET v = v + 1; UPDATE shop.t SET v = v + 1" &&
	seal_new &&
	src_sql "INSERT INTO shop.t VALUES (3, 3)" &&
	seal_new && n=$(wagon_count) && echo $n >n &&
	daemon_start recv srdf-recv --dir "$D" --key-file key --listen 127.0.0.1:0 --insecure &&
	echo "$URL" >recv.url &&
	got=$(req_started GET /v1/health -) && answer_is 200 ready &&
	daemon_start ackd srdf-ackd --dir "$S" --key-file key --listen 127.0.0.1:0 --insecure &&
	echo "$URL" >ackd.url &&
	got=$(HSIGN_TO=ackd req_started GET /v1/health -) && answer_is 200 ready &&
	srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file key --insecure --once 2>ship.err &&
	apply_once --ack-to "$(cat ackd.url)" --insecure &&
	test "$(applied_seq)" = $n &&
	test_wait_until 20 "test \"\$(rec \"\$S\" $n | jq -r .state)\" = confirmed" &&
	test_bg_stop recv && test_bg_stop ackd
'

test_expect_success 'source: promtool check metrics is clean' '
	{ srdf-status --dir "$S" --prometheus >src.prom; test $? -le 1; } &&
	lint src.prom
'

test_expect_success 'target: promtool check metrics is clean' '
	{ srdf-status --dir "$D" --prometheus >dst.prom; test $? -le 1; } &&
	lint dst.prom
'

test_expect_success 'every series names the source id, the side and the state directory' '
	sid=$(ledger-meta "$S" source_id) && test -n "$sid" &&
	for f in src.prom:source:$S dst.prom:target:$D; do
		IFS=: read -r file side dir <<-EOF || return 1
		$f
		EOF
		grep -v "^#" "$file" >series &&
		test -s series &&
		! grep -v "source_id=\"$sid\"" series &&
		! grep -v "side=\"$side\"" series &&
		! grep -v "state_dir=\"$dir\"" series || return 1
	done
'

test_expect_success 'two directories in one textfile collector: no series twice, one HELP and TYPE per name' '
	cat src.prom dst.prom | grep -v "^#" | sed "s/[^ ]*$//" | sort | uniq -d >dup &&
	test_cmp /dev/null dup &&
	cat src.prom dst.prom | grep "^# \(HELP\|TYPE\)" | sort -u |
		awk "{ print \$2, \$3 }" | sort | uniq -d >dup &&
	test_cmp /dev/null dup
'

test_expect_success 'counters end in _total; the wagons, bytes and row changes of the ledger' '
	grep "^# TYPE .* counter$" src.prom dst.prom | grep -v "_total counter$" >bad;
	test_cmp /dev/null bad &&
	n=$(cat n) &&
	test "$(pv src.prom srdf_wagons_sealed_total)" = $n &&
	test "$(pv dst.prom srdf_wagons_received_total)" = $n &&
	test "$(pv dst.prom srdf_wagons_applied_total)" = $n &&
	test "$(pv src.prom srdf_sealed_bytes_total)" = \
		"$(ledger-wagons "$S" | jq -s "map(.wagon_bytes) | add")" &&
	test "$(pv dst.prom srdf_received_bytes_total)" = \
		"$(ledger-wagons "$D" | jq -s "map(.wagon_bytes) | add")" &&
	test "$(pv src.prom srdf_row_changes_in_total)" = \
		"$(ledger-wagons "$S" | jq -s "map(.events_in) | add")" &&
	test "$(pv dst.prom srdf_row_changes_out_total)" = \
		"$(ledger-wagons "$D" | jq -s "map(.events_out) | add")" &&
	test "$(pv dst.prom srdf_apply_attempts_total)" = \
		"$(ledger-wagons "$D" | jq -s "map(.attempts // 0) | add")" &&
	test "$(pv src.prom srdf_ship_attempts_total)" = \
		"$(ledger-wagons "$S" | jq -s "map(.attempts // 0) | add")" &&
	test "$(pv src.prom srdf_wagons_shipped_total)" = $n &&
	test "$(pv src.prom srdf_wagons_confirmed_total)" = $n &&
	test "$(pv dst.prom srdf_wagons_confirmed_total)" = $n &&
	pv src.prom srdf_rpo_seconds >/dev/null &&
	test "$(pv dst.prom srdf_promoted)" = 0
'

test_expect_success 'a stopped daemon is down; the free space of the state directory' '
	test "$(pv dst.prom srdf_process_up tool=srdf-recv)" = 0 &&
	test "$(pv dst.prom srdf_process_state tool=srdf-recv state=down)" = 1 &&
	test "$(pv dst.prom srdf_process_state tool=srdf-recv state=running)" = 0 &&
	test "$(pv dst.prom srdf_process_state tool=srdf-apply state=stopped)" = 1 &&
	avail=$(pv dst.prom srdf_filesystem_avail_bytes) &&
	size=$(pv dst.prom srdf_filesystem_size_bytes) &&
	test "$avail" -gt 0 && test "$size" -ge "$avail"
'

test_expect_success 'a purge on both sides: the records go, no counter goes down' '
	srdf-ackd --dir "$S" --key-file key --once --keep 0 2>ackd.err &&
	apply_once --keep 0 &&
	test "$(ledger-meta "$S" purged_wagons)" -ge 1 &&
	test "$(ledger-meta "$D" purged_wagons)" -ge 1 &&
	{ srdf-status --dir "$S" --prometheus >src2.prom; test $? -le 1; } &&
	{ srdf-status --dir "$D" --prometheus >dst2.prom; test $? -le 1; } &&
	lint src2.prom && lint dst2.prom &&
	for f in src dst; do
		grep -h "^# TYPE .* counter$" $f.prom | cut -d" " -f3 | sort -u >counters &&
		test -s counters &&
		while read -r c; do
			a=$(pv $f.prom "$c") && b=$(pv ${f}2.prom "$c") || return 1
			awk -v a="$a" -v b="$b" -v c="$c" "BEGIN { if (b < a) { print c \": \" a \" -> \" b; exit 1 } }" || return 1
		done <counters || return 1
	done &&
	n=$(cat n) &&
	test "$(pv src2.prom srdf_wagons_sealed_total)" = $n &&
	test "$(pv src2.prom srdf_wagons_confirmed_total)" = $n &&
	test "$(pv dst2.prom srdf_wagons_confirmed_total)" = $n &&
	test "$(pv dst2.prom srdf_wagons_applied_total)" = $n &&
	test "$(pv dst2.prom srdf_wagons_purged_total)" = "$(ledger-meta "$D" purged_wagons)" &&
	test "$(pv dst2.prom srdf_wagons state=confirmed)" = 1
'

test_expect_success 'a promoted target says so, with the time' '
	ledger-meta "$D" promoted "2026-12-07T00:00:00Z" &&
	{ srdf-status --dir "$D" --prometheus >dst3.prom; test $? -le 1; } &&
	lint dst3.prom &&
	test "$(pv dst3.prom srdf_promoted)" = 1 &&
	test "$(pv dst3.prom srdf_promoted_timestamp_seconds)" = 1796601600
'

test_done
