#!/bin/bash
test_description='srdf-apply: groups applied in one transaction each, equal to the source, never twice; gaps wait; chunks commit together'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

test_expect_success 'setup: key, state directories, schema through DDL wagons' '
	apply_setup &&
	src_sql "CREATE DATABASE shop" &&
	src_sql "CREATE TABLE shop.t (id INT PRIMARY KEY, u INT, v VARCHAR(20), UNIQUE KEY (u))" &&
	src_sql "CREATE TABLE shop.c (a INT, b VARCHAR(10), v TEXT, PRIMARY KEY (a, b))" &&
	src_sql "CREATE TABLE shop.n (a INT, b TEXT)" &&
	src_sql "CREATE TABLE shop.cnt (id INT PRIMARY KEY, n INT NOT NULL)" &&
	src_sql "CREATE TABLE shop.g (id INT PRIMARY KEY, a INT, v INT AS (a * 2) VIRTUAL, s INT AS (a * 3) PERSISTENT)" &&
	src_sql "CREATE TABLE shop.p (id INT PRIMARY KEY, name VARCHAR(20))" &&
	src_sql "CREATE TABLE shop.k (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES shop.p (id) ON DELETE CASCADE)" &&
	src_sql "INSERT INTO shop.cnt VALUES (1, 0), (2, 0)" &&
	seal_new && deliver &&
	apply_once &&
	test "$(dst_sql "SHOW TABLES FROM shop" | wc -l)" = 7 &&
	test "$(applied_seq)" = "$(wagon_count)"
'

test_expect_success 'one group: unique swap, key change, insert then delete, child before parent, cascade' '
	src_sql "INSERT INTO shop.t VALUES (1, 1, \"a\"), (2, 2, \"b\"), (3, 3, \"c\");
		INSERT INTO shop.c VALUES (1, \"x\", \"one\"), (2, \"y\", NULL);
		INSERT INTO shop.n VALUES (1, \"dup\"), (1, \"dup\"), (2, NULL);
		INSERT INTO shop.g (id, a) VALUES (1, 5), (2, 6);
		INSERT INTO shop.p VALUES (1, \"one\"), (2, \"two\");
		INSERT INTO shop.k VALUES (10, 1), (11, 1), (20, 2)" &&
	seal_new && deliver && apply_once &&
	before=$(wagon_count) &&
	src_sql "BEGIN; UPDATE shop.t SET u = 4 WHERE id = 1; UPDATE shop.t SET u = 1 WHERE id = 2;
			UPDATE shop.t SET u = 2 WHERE id = 1; COMMIT;
		UPDATE shop.t SET id = 30 WHERE id = 3;
		INSERT INTO shop.t VALUES (4, 40, \"gone\"); DELETE FROM shop.t WHERE id = 4;
		UPDATE shop.c SET b = \"z\" WHERE a = 1; DELETE FROM shop.c WHERE a = 2;
		DELETE FROM shop.n WHERE a = 1 LIMIT 1; UPDATE shop.n SET b = \"set\" WHERE a = 2;
		UPDATE shop.g SET a = 7 WHERE id = 1;
		SET foreign_key_checks = 0; INSERT INTO shop.k VALUES (30, 3); SET foreign_key_checks = 1;
		INSERT INTO shop.p VALUES (3, \"three\");
		DELETE FROM shop.p WHERE id = 1;
		UPDATE shop.cnt SET n = n + 1; UPDATE shop.cnt SET n = n + 1 WHERE id = 1" &&
	seal_new && deliver &&
	test $(($(wagon_count) - before)) = 1 &&
	apply_once &&
	checksum_both shop.t shop.c shop.n shop.cnt shop.g shop.p shop.k &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.k WHERE p = 1")" = 0
'

test_expect_success 'srdf.applied holds the last wagon and the source GTID' '
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(dst_sql "SELECT last_gtid FROM srdf.applied")" = \
		"$(src_sql "SELECT @@gtid_binlog_pos")" &&
	test "$(dst_sql "SELECT source_id FROM srdf.applied")" = \
		"$(ledger-meta "$S" source_id)" &&
	test "$(wagon_state "$(wagon_count)")" = applied &&
	test -z "$(ls "$D/inbox/new")" &&
	# Nothing was delivered twice yet: a wagon it applied itself is not
	# "already applied" to srdf-apply.
	! grep "at or below the checkpoint" apply.err
'

test_expect_success 'counters: n = n + 1 a hundred times, folded' '
	for i in $(seq 100); do echo "UPDATE shop.cnt SET n = n + 1 WHERE id = 2;"; done | src_sql &&
	seal_new && deliver && apply_once &&
	checksum_both shop.cnt &&
	test "$(dst_sql "SELECT n FROM shop.cnt WHERE id = 2")" = 101
'

test_expect_success 'every wagon delivered again, ledger lost too: nothing applied twice' '
	cp "$D"/inbox/cur/*.wagon "$D/inbox/new/" &&
	rm -rf "$D/ledger" &&
	apply_once &&
	checksum_both shop.t shop.c shop.n shop.cnt shop.g shop.p shop.k &&
	test "$(dst_sql "SELECT n FROM shop.cnt WHERE id = 2")" = 101 &&
	test -z "$(ls "$D/inbox/new")" &&
	grep -q "at or below the checkpoint" apply.err
'

test_expect_success 'a gap: --once applies up to it and exits 0, the rest waits' '
	first=$(($(wagon_count) + 1)) &&
	for i in 1 2 3; do
		src_sql "UPDATE shop.cnt SET n = n + 1 WHERE id = 1" && seal_new || return 1
	done &&
	test "$(wagon_count)" = $((first + 2)) &&
	deliver $first $((first + 2)) &&
	apply_once 2>err &&
	test "$(applied_seq)" = $first &&
	test -e "$D/inbox/new/$(wagon_name $((first + 2)))" &&
	grep -q "waiting for wagon $((first + 1)): 1 later wagon is in the inbox" apply.err &&
	deliver $((first + 1)) &&
	apply_once &&
	test "$(applied_seq)" = $((first + 2)) &&
	checksum_both shop.cnt
'

test_expect_success 'a chunked group: nothing visible until its last chunk' '
	first=$(($(wagon_count) + 1)) &&
	src_sql "CREATE TABLE shop.big (id INT PRIMARY KEY, pad VARCHAR(200))" &&
	seal_new && deliver && apply_once &&
	first=$(($(wagon_count) + 1)) &&
	src_sql "INSERT INTO shop.big SELECT seq, REPEAT(\"x\", 200) FROM shop.seq_1_to_300" &&
	seal_new --max-bytes 16K &&
	last=$(wagon_count) &&
	test $((last - first)) -ge 2 &&
	deliver $(seq $first $((last - 1))) &&
	apply_once &&
	grep -q "group commits with its last chunk" apply.err &&
	grep -q "rolled back until the rest of the group is here" apply.err &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.big")" = 0 &&
	test "$(applied_seq)" = $((first - 1)) &&
	deliver $last &&
	apply_once &&
	test "$(applied_seq)" = $last &&
	checksum_both shop.big &&
	test "$(wagon_state $first)" = applied
'

test_expect_success 'the daemon: chunks wait in an open transaction; kill -9 leaves nothing' '
	first=$(($(wagon_count) + 1)) &&
	src_sql "UPDATE shop.big SET pad = REPEAT(\"y\", 200)" &&
	seal_new --max-bytes 16K &&
	last=$(wagon_count) &&
	deliver $(seq $first $((last - 1))) &&
	test_bg daemon srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" &&
	test_wait_until 20 "grep -q \"chunk $((last - first)) of group\" daemon.err" &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.big WHERE pad LIKE \"y%\"")" = 0 &&
	kill -9 "$(cat daemon.pid)" &&
	{ wait "$(cat daemon.pid)"; true; } &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.big WHERE pad LIKE \"y%\"")" = 0 &&
	test "$(applied_seq)" = $((first - 1))
'

test_expect_success 'the daemon applies wagons as they arrive, stops on SIGTERM' '
	last=$(wagon_count) &&
	test_bg daemon srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" &&
	test_wait_until 20 "grep -q started daemon.err" &&
	deliver $last &&
	test_wait_until 20 "test \"\$(applied_seq)\" = $last" &&
	checksum_both shop.big &&
	src_sql "INSERT INTO shop.t VALUES (50, 50, \"live\")" &&
	seal_new && deliver &&
	test_wait_until 20 "test \"\$(applied_seq)\" = $((last + 1))" &&
	checksum_both shop.t &&
	test_bg_stop daemon
'

test_expect_success '--dry-run prints the SQL and changes nothing' '
	src_sql "UPDATE shop.t SET v = \"dry\" WHERE id = 50; DELETE FROM shop.n" &&
	seal_new && deliver &&
	seq=$(wagon_count) &&
	srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" --dry-run >dry.sql 2>dry.err &&
	grep -q "^-- wagon $seq" dry.sql &&
	grep -q "^INSERT INTO \`shop\`.\`t\` (\`id\`,\`u\`,\`v\`) VALUES (50,50,.dry.);" dry.sql &&
	grep -q "^DELETE FROM \`shop\`.\`n\` WHERE .* LIMIT 1;" dry.sql &&
	grep -q "^UPDATE srdf.applied SET seq=$seq" dry.sql &&
	test "$(applied_seq)" = $((seq - 1)) &&
	test -e "$D/inbox/new/$(wagon_name $seq)" &&
	test "$(dst_sql "SELECT v FROM shop.t WHERE id = 50")" = live &&
	dst_sql <dry.sql &&
	checksum_both shop.t shop.n &&
	apply_once &&
	test "$(applied_seq)" = $seq
'

test_done
