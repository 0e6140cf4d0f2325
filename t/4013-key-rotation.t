#!/bin/bash
test_description='key rotation under load (srdf-keygen(1) KEY ROTATION): SIGHUP, target first then source, then source first; no restart, no dead wagon, every wagon applied once, new wagons under the new key, old keys retired'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

S=$PWD/src
D=$PWD/dst

listening() {
	local n
	for n in $(seq 100); do
		sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' "$1.err" |
			head -n 1 | grep . && return 0
		sleep 0.1
	done
	return 1
}

# the PIDs of the daemons: recv, apply, ship, and srdf-seal in the chain
pids() {
	echo "recv $(cat recv.pid) apply $(cat apply.pid) ship $(cat ship.pid)" \
		"seal $(ps --ppid "$(cat chain.pid)" -o pid=,comm= | awk '$2 == "srdf-seal" { print $1 }')"
}

all_alive() {
	local w
	for w in $(pids); do
		case $w in [0-9]*) kill -0 "$w" || return 1 ;; esac
	done
}

hup_target() {
	kill -HUP "$(cat recv.pid)" "$(cat apply.pid)"
}

hup_source() {
	kill -HUP "$(cat ship.pid)" \
		"$(ps --ppid "$(cat chain.pid)" -o pid=,comm= | awk '$2 == "srdf-seal" { print $1 }')"
}

# newest FILE: the key id of the newest key of a key file (its last line)
newest() {
	tail -n 1 "$1" | awk '{ print $2 }'
}

# cpkey FROM TO: the key file copied as an operator would, in one rename
cpkey() {
	cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
}

# applied_under KEYID: some wagon sealed under KEYID is applied on the
# target (its sequence at or below srdf.applied's)
applied_under() {
	local seq
	seq=$(srdf-cat --header "$S/outbox/new" 2>/dev/null |
		jq -r "select(.key_id == \"$1\") | .seq" | head -n 1) &&
	[ -n "$seq" ] &&
	[ "$(dst_sql "SELECT seq FROM srdf.applied" 2>/dev/null || echo 0)" -ge "$seq" ]
}

# no_dead: neither ledger holds a dead wagon, nor did srdf-apply
# dead-letter one
no_dead() {
	! ledger-wagons "$S" | jq -e -s "map(select(.state == \"dead\")) | length > 0" >/dev/null &&
	! ledger-wagons "$D" | jq -e -s "map(select(.state == \"dead\")) | length > 0" >/dev/null &&
	! grep -q "dead-lettered" apply.err
}

test_expect_success 'setup: a table and a counter, one key on both hosts' '
	src_sql "CREATE DATABASE d; CREATE TABLE d.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL); CREATE TABLE d.c (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO d.c VALUES (1, 0)" &&
	dst_sql "CREATE DATABASE d; CREATE TABLE d.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL); CREATE TABLE d.c (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO d.c VALUES (1, 0)" &&
	srdf-keygen -o tkey 2>/dev/null && cpkey tkey skey &&
	newest skey >k1 &&
	mkdir -p "$S" "$D" &&
	ledger-meta "$S" bootstrap_gtid "$(src_sql "SELECT @@gtid_binlog_pos")"
'

test_expect_success 'the daemons start: capture | dedup | seal, ship --ack-pull, recv, apply --ack-pull; a continuous load' '
	test_bg recv srdf-recv --dir "$D" --key-file tkey --listen 127.0.0.1:0 --insecure &&
	listening recv >recv.url &&
	test_bg chain bash -c "set -o pipefail; srdf-capture --defaults-file \"$SRC_CNF\" --dir \"$S\" --heartbeat 1 2>capture.err | srdf-dedup --window 300ms 2>dedup.err | srdf-seal --dir \"$S\" --key-file skey 2>seal.err" &&
	test_wait_until 30 "test -d \"$S/outbox/new\"" &&
	test_bg ship srdf-ship --dir "$S" --to "$(cat recv.url)" --key-file skey --insecure \
		--ack-pull --retry 200ms,500ms,1s &&
	test_bg apply srdf-apply --dir "$D" --key-file tkey --defaults-file "$DST_CNF" \
		--ack-pull --retry 200ms,500ms,1s &&
	test_bg load bash -c "n=0; while [ ! -e load.stop ]; do n=\$((n + 1)); mariadb --defaults-file=\"$SRC_ADMIN_CNF\" -e \"INSERT INTO d.t (v) VALUES (\$n); UPDATE d.c SET n = n + 1 WHERE id = 1\" || exit 1; echo \$n >load.count; sleep 0.05; done" &&
	test_wait_until 30 "applied_under $(cat k1)" &&
	test_wait_until 10 "pids | grep -q \"seal [0-9]\"" &&
	pids >pids.start && cat pids.start
'

test_expect_success 'round 1, target first: --rotate the target key file, SIGHUP recv and apply; then the source' '
	srdf-keygen --rotate tkey 2>/dev/null && newest tkey >k2 &&
	! test "$(cat k1)" = "$(cat k2)" &&
	hup_target && sleep 3 &&
	cpkey tkey skey && hup_source &&
	test_wait_until 60 "applied_under $(cat k2)" &&
	grep -q "read key file .*skey again" seal.err &&
	grep -q "read key file .*skey again" ship.err &&
	grep -q "read key file .*tkey again" recv.err &&
	grep -q "read key file .*tkey again" apply.err &&
	no_dead && all_alive
'

test_expect_success 'round 2, source first: what the source signs with the new key is refused and retried until the target holds it, never dead' '
	srdf-keygen --rotate skey 2>/dev/null && newest skey >k3 &&
	hup_source && sleep 4 &&
	! applied_under "$(cat k3)" &&
	grep -q "unknown key id $(cat k3)" recv.err &&
	no_dead &&
	cpkey skey tkey && hup_target &&
	test_wait_until 60 "applied_under $(cat k3)" &&
	no_dead && all_alive
'

test_expect_success 'the old keys retired on both sides (SIGHUP): replication goes on' '
	for k in $(cat k1 k2); do
		srdf-keygen --retire "$k" tkey 2>/dev/null || return 1
	done &&
	cpkey tkey skey && hup_target && hup_source &&
	test "$(wc -l <tkey)" = 1 &&
	before=$(dst_sql "SELECT seq FROM srdf.applied") &&
	test_wait_until 30 "test \$(dst_sql \"SELECT seq FROM srdf.applied\") -gt \$((before + 3))" &&
	no_dead && all_alive
'

test_expect_success 'the load stops; the target catches up: nothing lost, nothing applied twice, CHECKSUM TABLE equal' '
	touch load.stop && test_wait_until 20 "! test_pid_alive \$(cat load.pid)" &&
	n=$(cat load.count) && echo "$n transactions" && test "$n" -gt 50 &&
	test "$(src_sql "SELECT n FROM d.c")" = "$n" &&
	last=$(src_sql "SELECT @@gtid_binlog_pos") &&
	test_wait_until 60 "test \"\$(dst_sql \"SELECT gtid_pos FROM srdf.applied\")\" = \"$last\"" &&
	test "$(dst_sql "SELECT n FROM d.c")" = "$n" &&
	test "$(dst_sql "SELECT COUNT(*) FROM d.t")" = "$n" &&
	checksum_both d.t d.c
'

test_expect_success 'the wagons carry k1, then k2, then k3, in sequence order; same processes, none dead' '
	srdf-cat --header "$S/outbox/new" | jq -r .key_id | uniq >actual &&
	cat k1 k2 k3 >expect && test_cmp expect actual &&
	pids >pids.end && test_cmp pids.start pids.end &&
	no_dead &&
	! grep -q "draining\|stopped" recv.err ship.err apply.err
'

test_expect_success 'SIGTERM: ship, apply and recv drain and exit 0' '
	test_bg_stop ship && test_bg_stop apply && test_bg_stop recv
'

test_done
