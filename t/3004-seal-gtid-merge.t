#!/bin/bash
test_description='srdf-seal: last_sealed_gtid merges each group position domain by domain'
. "$(dirname "$0")/lib.sh"

group() { # N FIRST LAST POS
	printf '{"v":1,"type":"group_begin","group":%s,"chunk":1,"first_gtid":"%s"}\n' "$1" "$2"
	printf '{"v":1,"type":"insert","db":"d","table":"t","pk":["id"],"after":{"id":%s}}\n' "$1"
	printf '{"v":1,"type":"group_end","group":%s,"chunk":1,"last":true,"first_gtid":"%s","last_gtid":"%s","gtid_pos":"%s","trx":1,"events_in":1,"events_out":1,"reason":"window","first_ts":1,"last_ts":1}\n' "$1" "$2" "$3" "$4"
}

test_expect_success 'groups from two domains, then one domain again' '
	srdf-keygen -o key 2>/dev/null &&
	mkdir st &&
	{ group 1 0-1-5 0-1-5 0-1-5; group 2 1-2-3 1-2-3 1-2-3; } | srdf-seal --dir st --key-file key 2>err &&
	test "$(ledger-meta st last_sealed_gtid)" = "0-1-5,1-2-3" &&
	group 3 0-1-6 0-1-6 0-1-6 | srdf-seal --dir st --key-file key 2>err &&
	test "$(ledger-meta st last_sealed_gtid)" = "0-1-6,1-2-3"
'

test_expect_success 'a group position that is not a GTID position is refused' '
	group 4 0-1-7 0-1-7 "0-1" | test_expect_code 65 srdf-seal --dir st --key-file key 2>err &&
	test "$(ledger-meta st last_sealed_gtid)" = "0-1-6,1-2-3"
'

test_done
