#!/bin/bash
test_description='srdf-rewind --to: a DELETE without WHERE under load, already applied, rewound to the transaction before it: every table equals a native MariaDB replica stopped there (START SLAVE UNTIL), keyless rows included; a kill -9 halfway and the run again give the same; srdf-apply then replays forward to the source'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

TABLES="r.a r.b r.c"
SUMS="r.a, r.b, r.c"

# The independent truth: the target of a second pair of servers (its
# source killed at once) as a native replica of our source.
test_expect_success 'setup: a native replica of the source, tables, the rows' '
	d2=$(mktemp -d /tmp/srdf.XXXXXX) && _tl_server_dirs+=("$d2") &&
	"$top/t/srdf-servers" start "$d2" 9<&- >/dev/null 2>&1 &&
	REPL_CNF=$(. "$d2/env" && echo "$DST_ADMIN_CNF") &&
	"$top/t/srdf-servers" kill-source "$d2" 9<&- &&
	echo "$REPL_CNF" >repl_cnf &&
	apply_setup &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.a (id INT PRIMARY KEY, v VARCHAR(30), n INT, UNIQUE KEY (v));
		CREATE TABLE r.b (a INT, s VARCHAR(10), f DOUBLE);
		CREATE TABLE r.c (x INT, y CHAR(3), z DECIMAL(8,2), PRIMARY KEY (x, y))" &&
	seq 1 300 | awk "{ printf \"INSERT INTO r.a VALUES (%d, \\\"v%d\\\", %d);\\n\", \$1, \$1, \$1 % 7 }" | src_sql &&
	src_sql "INSERT INTO r.b VALUES (1, \"x\", 0.1), (1, \"x\", 0.1), (2, \"y\", 1e300);
		INSERT INTO r.c VALUES (1, \"a\", 1.50), (1, \"b\", 2.25)" &&
	seal_new --max-events 1 && deliver && apply_once &&
	checksum_both $TABLES
'

# writer SEED N: N transactions on the three tables, 5 ms apart.
writer() {
	awk -v seed="$1" -v n="$2" "BEGIN { srand(seed);
		for (i = 0; i < n; i++) {
			k = int(rand() * 400) + 1; print \"BEGIN;\";
			r = rand();
			if (r < 0.3) printf \"INSERT IGNORE INTO r.a VALUES (%d, \\\"w%d-%d\\\", %d);\\n\", 400 + seed * 1000 + i, seed, i, i;
			else if (r < 0.6) printf \"UPDATE r.a SET n = n + 1 WHERE id = %d;\\n\", k;
			else if (r < 0.7) printf \"DELETE FROM r.a WHERE id = %d;\\n\", k;
			else if (r < 0.8) printf \"INSERT INTO r.b VALUES (%d, \\\"s%d\\\", %d.5);\\n\", k % 3, i, i;
			else if (r < 0.9) printf \"UPDATE r.b SET f = f + 1 WHERE a = %d LIMIT 1;\\n\", k % 3;
			else printf \"INSERT INTO r.c VALUES (%d, \\\"w%d\\\", %d.75) ON DUPLICATE KEY UPDATE z = z + 1;\\n\", k % 5, seed, i;
			print \"COMMIT; DO SLEEP(0.005);\" } }" | src_sql
}

test_expect_success 'the mistake under load: DELETE FROM r.a, between two writers, sealed as srdf-dedup --max-events 40 --solo-rows 100 does (the mistake a group of its own), applied on the target' '
	{ writer 1 150 & } && w1=$! &&
	{ writer 2 150 & } && w2=$! &&
	sleep 0.4 &&
	src_sql "DELETE FROM r.a; SELECT @@last_gtid" >bad &&
	g=$(cat bad) && echo "${g%-*}-$((${g##*-} - 1))" >before &&
	wait $w1 && wait $w2 &&
	src_sql "SELECT COUNT(*) FROM r.a" >left &&
	test "$(cat left)" -lt 200 &&
	seal_new --max-events 40 --solo-rows 100 && deliver && apply_once &&
	checksum_both $TABLES &&
	test "$(applied_seq)" = "$(wagon_count)"
'

test_expect_success 'the truth: the native replica stopped at the transaction before the mistake' '
	REPL_CNF=$(cat repl_cnf) &&
	user=$(sed -n "s/^user=//p" "$SRC_CNF") && pw=$(sed -n "s/^password=//p" "$SRC_CNF") &&
	mariadb --defaults-file="$REPL_CNF" -e "SET GLOBAL gtid_slave_pos = \"\";
		CHANGE MASTER TO MASTER_HOST = \"127.0.0.1\", MASTER_PORT = $SRC_PORT,
		MASTER_USER = \"$user\", MASTER_PASSWORD = \"$pw\", MASTER_USE_GTID = slave_pos;
		START SLAVE UNTIL master_gtid_pos = \"$(cat before)\"" &&
	test "$(mariadb --defaults-file="$REPL_CNF" -N -e "SELECT MASTER_GTID_WAIT(\"$(cat before)\", 60)")" = 0 &&
	sleep 1 &&
	test "$(mariadb --defaults-file="$REPL_CNF" -N -e "SELECT @@gtid_slave_pos")" = "$(cat before)" &&
	mariadb --defaults-file="$REPL_CNF" -N -e "CHECKSUM TABLE $SUMS" | cut -f2 >truth && test "$(grep -c "^[0-9][0-9]*$" truth)" = 3 &&
	test "$(mariadb --defaults-file="$REPL_CNF" -N -e "SELECT COUNT(*) FROM r.a")" -gt 250
'

test_expect_success '--dry-run: the plan, and nothing changed' '
	dst_sql "CHECKSUM TABLE $SUMS" | cut -f2 >applied &&
	srdf-rewind --dir "$D" --key-file key --defaults-file "$DST_CNF" --to "$(cat before)" --dry-run >plan 2>err &&
	grep "^checkpoint: wagon $(applied_seq) (GTID .*); back to wagon [0-9]* (GTID $(cat before)), [0-9]* groups undone, newest first:" plan &&
	grep -A1 "(GTID $(cat bad)..$(cat bad)), " plan | grep "r.a: [0-9][0-9]* rows put back, 0 changed back, 0 removed" &&
	dst_sql "CHECKSUM TABLE $SUMS" | cut -f2 >now && test_cmp applied now
'

test_expect_success 'a kill -9 after the first commit, a batch of two groups (--batch 2), then the rewind again: the replica'\''s state exactly' '
	cp_before=$(applied_seq) &&
	test "$(sed -n "s/^checkpoint: .*, \([0-9]*\) groups undone, newest first:$/\1/p" plan)" -ge 3 &&
	test_expect_code 137 env SRDF_REWIND_CRASH_AFTER_COMMIT=1 \
		srdf-rewind --dir "$D" --key-file key --defaults-file "$DST_CNF" --to "$(cat before)" --batch 2 2>crash.err &&
	test "$(applied_seq)" = $((cp_before - 2)) &&
	test -e "$D/inbox/cur/$(wagon_name $((cp_before - 1)))" &&
	srdf-rewind --dir "$D" --key-file key --defaults-file "$DST_CNF" --to "$(cat before)" 2>rewind.err &&
	grep "a rewind was cut short after its commit; back to" rewind.err &&
	grep "rewound from wagon $((cp_before - 2)) .* to wagon [0-9]* (GTID $(cat before)): .* row changes/s" rewind.err &&
	dst_sql "CHECKSUM TABLE $SUMS" | cut -f2 >rewound &&
	test_cmp truth rewound &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = "$(cat before)"
'

test_expect_success 'the rewound wagons are received in inbox/new, the ledger and the audit log say so' '
	cp=$(applied_seq) &&
	test "$(ls "$D/inbox/new" | wc -l)" = $(($(wagon_count) - cp)) &&
	test "$(wagon_state $((cp + 1)))" = received &&
	test "$(wagon_state "$(wagon_count)")" = received &&
	test "$(wagon_state "$cp")" = applied &&
	ledger-meta "$D" last_rewind | jq -e ".to_seq == $cp" &&
	jq -e "select(.item == \"target\" and .to == \"rewound\") | .by == \"operator\"" "$D/audit.log" &&
	test "$(jq -c "select(.from == \"applied\" and .to == \"received\")" "$D/audit.log" | wc -l)" = $(($(wagon_count) - cp))
'

test_expect_success 'run again: nothing to do' '
	srdf-rewind --dir "$D" --key-file key --defaults-file "$DST_CNF" --to "$(cat before)" 2>again.err &&
	grep "the target is at --to $(cat before) already" again.err
'

test_expect_success 'srdf-apply replays forward: the target equals the source again' '
	apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both $TABLES
'

test_done
