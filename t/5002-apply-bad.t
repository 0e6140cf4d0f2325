#!/bin/bash
test_description='srdf-apply: a wagon that cannot be applied fails with the reason, stops the stream, is retried, dead-lettered, skipped only by the operator'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

last_error() {
	wagon_field "$1" last_error
}

test_expect_success 'setup: a table on both sides' '
	apply_setup &&
	src_sql "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20));
		CREATE TABLE shop.w (id INT PRIMARY KEY, v VARCHAR(20));
		CREATE TABLE shop.w2 (id INT PRIMARY KEY, v VARCHAR(20))" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)"
'

test_expect_success 'a table missing on the target: dead, named, nothing after it applied' '
	src_sql "SET sql_log_bin = 0; CREATE TABLE shop.m (id INT PRIMARY KEY); SET sql_log_bin = 1;
		INSERT INTO shop.m VALUES (1)" &&
	seal_new && bad=$(wagon_count) &&
	src_sql "INSERT INTO shop.t VALUES (1, \"after\")" &&
	seal_new && deliver &&
	test_expect_code 65 apply_once --retry none &&
	test "$(applied_seq)" = $((bad - 1)) &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.t")" = 0 &&
	test "$(wagon_state $bad)" = dead &&
	last_error $bad >msg &&
	grep -q "shop.m does not exist on the target: create it, or initialise it with srdf-bootstrap" msg &&
	grep -q "wagon $bad failed (attempt 1 of 1): .*shop.m does not exist" apply.err &&
	grep -q "dead-lettered" apply.err
'

test_expect_success 'the table created by hand, a restart applies it and the rest' '
	dst_sql "CREATE TABLE shop.m (id INT PRIMARY KEY)" &&
	apply_once --retry none &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both shop.t shop.m &&
	test "$(wagon_field $bad attempts)" = 2
'

test_expect_success 'a value too long for the target column: the server error, kept' '
	dst_sql "ALTER TABLE shop.w MODIFY v VARCHAR(3)" &&
	src_sql "INSERT INTO shop.w VALUES (2, \"too long\")" &&
	seal_new && bad=$(wagon_count) &&
	src_sql "INSERT INTO shop.m VALUES (2)" &&
	seal_new && deliver &&
	test_expect_code 75 apply_once &&
	test "$(wagon_state $bad)" = failed &&
	last_error $bad >msg &&
	grep -q "insert on shop.w: Data too long for column .v. at row 1 (error 1406)" msg &&
	grep -q "wagon $bad failed (attempt 1 of 6)" apply.err &&
	test "$(applied_seq)" = $((bad - 1)) &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.w WHERE id = 2")" = 0 &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.m WHERE id = 2")" = 0
'

test_expect_success '--skip only the next wagon' '
	test_expect_code 64 apply_once --skip $((bad + 1)) &&
	grep -q "only the next wagon, $bad, can be skipped" apply.err &&
	test "$(applied_seq)" = $((bad - 1))
'

test_expect_success '--skip moves past it: checkpoint, ledger, bad/, the rest applied' '
	apply_once --skip $bad &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.w WHERE id = 2")" = 0 &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.m WHERE id = 2")" = 1 &&
	test "$(wagon_state $bad)" = dead &&
	test "$(wagon_field $bad skipped)" = true &&
	test -e "$D/inbox/bad/$(wagon_name $bad)" &&
	grep -q "skipped by the operator" "$D/inbox/bad/$(wagon_name $bad).reason" &&
	grep -q "skipped wagon $bad at the operator.s request" apply.err &&
	dst_sql "ALTER TABLE shop.w MODIFY v VARCHAR(20)" &&
	dst_sql "INSERT INTO shop.w VALUES (2, \"too long\")" &&
	checksum_both shop.w shop.m
'

# A key id the key file lacks may be a key rotation under way
# (srdf-keygen(1) KEY ROTATION): failed and retried, never dead.
test_expect_success 'a wagon sealed with another key: failed with the check, never applied, never dead' '
	srdf-keygen -o key2 2>/dev/null &&
	src_sql "INSERT INTO shop.t VALUES (3, \"other key\")" &&
	srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --until-end 2>>capture.err |
		srdf-dedup 2>>dedup.err | srdf-seal --dir "$S" --key-file key2 2>>seal.err &&
	bad=$(wagon_count) && deliver &&
	test_expect_code 75 apply_once --retry none &&
	last_error $bad >msg &&
	grep -q "sealed with key id $(cut -d" " -f2 key2), the key file holds $(cut -d" " -f2 key); retried until the key file holds that key" msg &&
	test "$(wagon_state $bad)" != dead &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.t WHERE id = 3")" = 0 &&
	srdf-apply --dir "$D" --key-file key2 --defaults-file "$DST_CNF" --once 2>>apply.err &&
	test "$(applied_seq)" = $bad &&
	checksum_both shop.t
'

test_expect_success 'a tampered wagon: authentication fails, nothing applied; the original applies' '
	src_sql "INSERT INTO shop.t VALUES (4, \"tampered\")" &&
	seal_new && bad=$(wagon_count) &&
	cp "$S/outbox/new/$(wagon_name $bad)" "$D/inbox/new/" &&
	wagon-edit flip "$D/inbox/new/$(wagon_name $bad)" 300 &&
	wagon-edit resum "$D/inbox/new/$(wagon_name $bad)" &&
	test_expect_code 65 apply_once --retry none &&
	last_error $bad >msg &&
	grep -q "authentication failed" msg &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.t WHERE id = 4")" = 0 &&
	cp "$S/outbox/new/$(wagon_name $bad)" "$D/inbox/new/" &&
	apply_once --retry none &&
	checksum_both shop.t
'

test_expect_success 'an unknown database: the option named; --create-databases creates it' '
	src_sql "SET sql_log_bin = 0; CREATE DATABASE other; SET sql_log_bin = 1;
		CREATE TABLE other.x (id INT PRIMARY KEY); INSERT INTO other.x VALUES (1)" &&
	seal_new && deliver &&
	test_expect_code 65 apply_once --retry none &&
	last_error "$(applied_seq | xargs expr 1 +)" >msg &&
	grep -q "Unknown database .other." msg &&
	grep -q -- "--create-databases" msg &&
	apply_once --retry none --create-databases &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	grep -q "creating database other on the target" apply.err &&
	checksum_both other.x
'

test_expect_success 'the daemon retries per --retry, then dead-letters; SIGHUP tries again' '
	dst_sql "ALTER TABLE shop.w2 MODIFY v VARCHAR(3)" &&
	src_sql "INSERT INTO shop.w2 VALUES (5, \"long again\")" &&
	seal_new && deliver && bad=$(wagon_count) &&
	test_bg daemon srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" --retry 1s,1s &&
	test_wait_until 20 "grep -q \"wagon $bad is dead-lettered\" daemon.err" &&
	grep -q "wagon $bad failed (attempt 3 of 3)" daemon.err &&
	grep -q "retrying wagon $bad in 1 s" daemon.err &&
	test "$(wagon_state $bad)" = dead &&
	dst_sql "ALTER TABLE shop.w2 MODIFY v VARCHAR(20)" &&
	kill -HUP "$(cat daemon.pid)" &&
	test_wait_until 20 "test \"\$(applied_seq)\" = $bad" &&
	# The ledger follows the COMMIT (srdf-apply(1)): wait for it too.
	test_wait_until 10 "test \"\$(wagon_state $bad)\" = applied" &&
	checksum_both shop.w2 &&
	test_bg_stop daemon
'

test_expect_success 'XA groups are no longer refused: the prepared row is applied with its XA COMMIT (t/5011)' '
	src_sql "CREATE TABLE shop.xa (id INT PRIMARY KEY)" &&
	seal_new && deliver && apply_once &&
	src_sql "XA START \"x1\"; INSERT INTO shop.xa VALUES (1); XA END \"x1\"; XA PREPARE \"x1\"; XA COMMIT \"x1\"" &&
	seal_new && deliver &&
	apply_once --retry none &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.xa")" = 1
'

test_expect_success 'the checkpoint moved by another writer: nothing of the group commits' '
	src_sql "CREATE TABLE shop.big (id INT PRIMARY KEY, pad VARCHAR(200))" &&
	seal_new && deliver && apply_once &&
	first=$(($(wagon_count) + 1)) &&
	src_sql "INSERT INTO shop.big SELECT seq, REPEAT(\"x\", 200) FROM shop.seq_1_to_300" &&
	seal_new --max-bytes 16K && last=$(wagon_count) &&
	deliver $(seq $first $((last - 1))) &&
	test_bg daemon srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" &&
	test_wait_until 20 "grep -q \"chunk $((last - first)) of group\" daemon.err" &&
	dst_sql "UPDATE srdf.applied SET seq = seq + 100" &&
	deliver $last &&
	test_wait_until 20 "grep -q \"moved under srdf-apply\" daemon.err" &&
	test "$(dst_sql "SELECT COUNT(*) FROM shop.big")" = 0 &&
	test_bg_stop daemon &&
	dst_sql "UPDATE srdf.applied SET seq = seq - 100" &&
	apply_once &&
	test "$(applied_seq)" = $last &&
	checksum_both shop.big
'

test_expect_success 'a target table out of space: failed with what to do, tried again however many times, never dead; applied once there is room' '
	src_sql "CREATE TABLE shop.roomless (id INT PRIMARY KEY, pad VARCHAR(200))" &&
	seal_new && deliver && apply_once &&
	dst_sql "SET SESSION max_heap_table_size = 65536; ALTER TABLE shop.roomless ENGINE = MEMORY" &&
	src_sql "INSERT INTO shop.roomless SELECT seq, REPEAT(\"m\", 200) FROM shop.seq_1_to_2000" &&
	seal_new && full=$(wagon_count) && deliver &&
	for i in 1 2 3; do
		test_expect_code 75 srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
			--once --retry none 2>>apply.err || return 1
	done &&
	test "$(applied_seq)" = $((full - 1)) &&
	test "$(wagon_state $full)" = failed &&
	test "$(wagon_field $full attempts)" = 3 &&
	last_error $full | grep -q "is full (error 1114): the target is out of space" &&
	grep -q "make room there; the wagon is tried again and not given up for this" apply.err &&
	! grep -q "wagon $full is dead-lettered" apply.err &&
	# MEMORY does not roll back: the rows the attempts left go first.
	dst_sql "DELETE FROM shop.roomless; SET SESSION max_heap_table_size = 67108864;
		ALTER TABLE shop.roomless ENGINE = MEMORY" &&
	apply_once --retry none &&
	test "$(applied_seq)" = $full &&
	checksum_both shop.roomless
'

# Issue 16: a lock wait timeout (or a deadlock) is a failure that passes:
# past --retry it is tried again at the last step, never dead.
test_expect_success 'a row locked on the target past the retry policy: failed, never dead; applied once the lock goes' '
	src_sql "INSERT INTO shop.t VALUES (900, \"locked\")" && seal_new && deliver && n=$(wagon_count) &&
	apply_once &&
	src_sql "UPDATE shop.t SET v = \"moved\" WHERE id = 900" && seal_new && deliver && n=$(wagon_count) &&
	dst_sql "SET GLOBAL innodb_lock_wait_timeout = 1" &&
	mkfifo hold &&
	{ mariadb --defaults-file="$DST_ADMIN_CNF" -N -B --unbuffered <hold >locker.out 2>&1 & } &&
	exec 7>hold &&
	echo "BEGIN; SELECT id FROM shop.t WHERE id = 900 FOR UPDATE; SELECT \"locked\";" >&7 &&
	test_wait_until 10 "grep -q ^locked locker.out" &&
	for i in 1 2; do
		test_expect_code 75 srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
			--once --retry 100ms 2>>lock.err || return 1
	done &&
	dst_sql "SET GLOBAL innodb_lock_wait_timeout = 50" &&
	test "$(wagon_state $n)" = failed &&
	test "$(wagon_field $n attempts)" = 2 &&
	grep -q "Lock wait timeout exceeded" lock.err &&
	! grep -q "wagon $n is dead-lettered" lock.err &&
	echo "ROLLBACK;" >&7 && exec 7>&- &&
	apply_once --retry 100ms &&
	test "$(applied_seq)" = $n &&
	checksum_both shop.t
'

test_done
