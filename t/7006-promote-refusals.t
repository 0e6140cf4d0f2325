#!/bin/bash
test_description='srdf-promote: refuses a target that applied nothing and a failed wagon, says what to do; an incomplete group does not block; --force promotes before the failed wagon'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

promote() {
	srdf-promote --dir "$D" --key-file key --defaults-file "$DST_CNF" "$@"
}

test_expect_success 'setup: the first wagon writes to a table the target lacks' '
	apply_setup &&
	src_sql "SET sql_log_bin = 0; CREATE DATABASE shop;
		CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(200));
		SET sql_log_bin = 1; INSERT INTO shop.t VALUES (1, \"one\")" &&
	seal_new && deliver &&
	test "$(wagon_count)" = 1 &&
	test_expect_code 75 apply_once
'

test_expect_success 'nothing applied and wagon 1 failed: refused, with the reasons' '
	test_expect_code 65 promote >p1.out 2>p1.err &&
	grep "^recovery point: none: the target has applied no wagon" p1.out &&
	grep "^failed: wagon 1: .*shop.t does not exist on the target" p1.out &&
	grep "the target has applied no wagon of source .*: promoting it would start from an empty copy" p1.err &&
	grep "wagon 1 is failed and blocks the apply: .*shop.t does not exist.*; fix the cause and run srdf-promote again, skip the wagon (srdf-apply --skip 1: its changes will be missing), or promote at wagon 0 with --force" p1.err &&
	test_must_fail ledger-meta "$D" promoted &&
	test "$(applied_seq)" = 0
'

test_expect_success 'the table created by hand: --dry-run would apply wagon 1 and promote' '
	dst_sql "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(200))" &&
	promote --dry-run >p2.out 2>p2.err &&
	grep "^would apply: wagons 1..1 (recovery point then wagon 1, GTID 0-1-" p2.out &&
	grep "^read_only: OFF already" p2.out &&
	test "$(applied_seq)" = 0
'

test_expect_success 'chunks of a group without its last chunk: reported, not blocking' '
	first=$(($(wagon_count) + 1)) &&
	src_sql "INSERT INTO shop.t SELECT seq, REPEAT(\"x\", 200) FROM shop.seq_2_to_300" &&
	seal_new --max-bytes 16K &&
	last=$(wagon_count) &&
	test $((last - first)) -ge 2 &&
	deliver $(seq $first $((last - 1))) &&
	promote --dry-run >p3.out 2>p3.err &&
	grep "^would apply: wagons 1..1 " p3.out &&
	grep "^incomplete group: wagons $first..$((last - 1)) are chunks of a group whose last chunk was not received" p3.out
'

test_expect_success 'a failed wagon after applied ones: refused; the apply step went up to it' '
	deliver $last &&
	dst_sql "CREATE TABLE shop.w (id INT PRIMARY KEY, v VARCHAR(3))" &&
	src_sql "SET sql_log_bin = 0; CREATE TABLE shop.w (id INT PRIMARY KEY, v VARCHAR(20));
		SET sql_log_bin = 1; INSERT INTO shop.w VALUES (1, \"too long\")" &&
	seal_new && bad=$(wagon_count) && deliver &&
	test_expect_code 65 promote >p4.out 2>p4.err &&
	test "$(applied_seq)" = $last &&
	grep "^recovery point: wagon $last, GTID 0-1-" p4.out &&
	grep "^failed: wagon $bad: insert on shop.w: Data too long" p4.out &&
	grep "wagon $bad is failed and blocks the apply" p4.err &&
	grep "or promote at wagon $last with --force" p4.err &&
	test_must_fail ledger-meta "$D" promoted
'

test_expect_success '--force promotes at the wagon before it; srdf-apply then refuses' '
	promote --force >p5.out 2>p5.err &&
	grep "^recovery point: wagon $last, GTID $(dst_sql "SELECT last_gtid FROM srdf.applied")\$" p5.out &&
	grep "^RTO: " p5.out &&
	grep "wagon $bad (failed) and every wagon after it are given up" p5.err &&
	test "$(ledger-meta "$D" promoted_seq)" = $last &&
	checksum_both shop.t &&
	test_expect_code 78 apply_once &&
	grep "was promoted at" apply.err &&
	test "$(applied_seq)" = $last
'

test_done
