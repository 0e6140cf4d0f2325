#!/bin/bash
test_description='srdf-seal under failed fsync, rename and write, a full disk and crash litter: nothing half-sealed, the same sequence on the rerun'
. "$(dirname "$0")/lib.sh"

D=$PWD/state
NEW=$D/outbox/new

snapshot() {
	{ (cd "$NEW" && ls -l --time-style=+%s.%N) &&
	  ledger-wagons "$D" && ledger-meta "$D" last_sealed_gtid; } >"$1"
}

# fails CODE FAULT PATTERN: srdf-seal on g3.in with SRDF_FAULT=FAULT
# exits CODE, says PATTERN, and leaves new/, tmp/ and the ledger as they
# were.
fails() {
	snapshot before &&
	SRDF_FAULT=$2 test_expect_code "$1" srdf-seal --dir "$D" --key-file key <g3.in 2>err &&
	grep -Eq "$3" err &&
	grep -q "cannot store wagon 3 in $D/outbox/new: nothing sealed from group 3 chunk 1; the ledger is unchanged" err &&
	snapshot after &&
	test_cmp before after &&
	test -z "$(ls "$D/outbox/tmp")"
}

test_expect_success 'setup: a key, two sealed wagons' '
	srdf-keygen -o key &&
	mkgroups 100 2 | srdf-seal --dir "$D" --key-file key &&
	mkgroups -g 3 102 1 >g3.in &&
	mkgroups -g 4 103 1 >g4.in &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-101,1-2-9"
'

test_expect_success 'fsync of the wagon fails: exit 74, nothing sealed' '
	fails 74 fsync:1 "cannot fsync $D/outbox/tmp/00000000000000000003.wagon: Input/output error"
'

test_expect_success 'rename into new/ fails: exit 74, nothing sealed' '
	fails 74 rename:1 "cannot rename $D/outbox/tmp/00000000000000000003.wagon to $NEW/00000000000000000003.wagon"
'

test_expect_success 'fsync of new/ after the rename fails: exit 74, the wagon taken back' '
	fails 74 fsync:2 "cannot fsync $NEW: Input/output error"
'

test_expect_success 'a write fails with EIO: exit 74' '
	fails 74 write:1 "cannot write $D/outbox/tmp/00000000000000000003.wagon: Input/output error"
'

test_expect_success 'a full disk (ENOSPC): exit 75, temporary' '
	fails 75 write:1:ENOSPC "No space left on device" &&
	fails 75 fsync:1:EDQUOT "Disk quota exceeded"
'

test_expect_success 'the rerun without a fault seals the same group as wagon 3' '
	srdf-seal --dir "$D" --key-file key <g3.in &&
	(cd "$NEW" && ls) >actual &&
	printf "%020d.wagon\n" 1 2 3 >expect &&
	test_cmp expect actual &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-102,1-2-9" &&
	srdf-cat --key-file key "$NEW/00000000000000000003.wagon" | cmp g3.in -
'

test_expect_success 'a fault at the second wagon of a run: the first is sealed, the second not' '
	cat g4.in >two.in &&
	mkgroups -g 5 104 1 >g5.in &&
	cat g5.in >>two.in &&
	SRDF_FAULT=fsync:3 test_expect_code 74 srdf-seal --dir "$D" --key-file key <two.in 2>err &&
	grep -q "cannot store wagon 5" err &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-103,1-2-9" &&
	ledger-wagons "$D" | jq -r .seq | tail -n 1 | grep -qx 4 &&
	test ! -e "$NEW/00000000000000000005.wagon"
'

test_expect_success 'capture resumes after 0-1-103: the rest is sealed as wagon 5' '
	srdf-seal --dir "$D" --key-file key <g5.in &&
	ledger-wagons "$D" | jq -r .seq >actual &&
	seq 5 >expect &&
	test_cmp expect actual &&
	srdf-cat --key-file key "$D/outbox" >all &&
	{ mkgroups 100 2 && cat g3.in two.in; } | cmp - all
'

test_expect_success 'crash before the rename: tmp/ litter is removed at the next start' '
	echo partial >"$D/outbox/tmp/00000000000000000006.wagon" &&
	srdf-seal --dir "$D" --key-file key </dev/null 2>err &&
	grep -q "removed $D/outbox/tmp/00000000000000000006.wagon left by a crash" err &&
	test -z "$(ls "$D/outbox/tmp")"
'

test_expect_success 'crash after the rename, before the ledger commit: the orphan is removed, the group sealed again as the same sequence' '
	mkgroups -g 6 105 1 >g6.in &&
	cp "$NEW/00000000000000000005.wagon" "$NEW/00000000000000000006.wagon" &&
	snapshot before &&
	srdf-seal --dir "$D" --key-file key </dev/null 2>err &&
	grep -q "removed $NEW/00000000000000000006.wagon: stored by a run that died before its ledger commit" err &&
	test ! -e "$NEW/00000000000000000006.wagon" &&
	cp "$NEW/00000000000000000005.wagon" "$NEW/00000000000000000006.wagon" &&
	srdf-seal --dir "$D" --key-file key <g6.in &&
	srdf-cat --key-file key "$NEW/00000000000000000006.wagon" | cmp g6.in - &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-105,1-2-9"
'

test_expect_success 'a wagon further beyond the ledger: refused, nothing removed' '
	cp "$NEW/00000000000000000006.wagon" "$NEW/00000000000000000008.wagon" &&
	snapshot before &&
	test_expect_code 70 srdf-seal --dir "$D" --key-file key </dev/null 2>err &&
	grep -q "00000000000000000008.wagon is beyond the ledger.s last wagon, 6: the ledger in $D does not belong to this outbox; nothing removed" err &&
	snapshot after &&
	test_cmp before after &&
	rm "$NEW/00000000000000000008.wagon"
'

test_expect_success 'the outbox disk nearly full: exit 75 before reading, nothing sealed' '
	mkgroups -g 7 106 1 >g7.in &&
	snapshot before &&
	test_expect_code 75 srdf-seal --dir "$D" --key-file key --min-free 1000000G <g7.in 2>err &&
	grep -q "$D/outbox has less than .* free: free space there" err &&
	grep -q "nothing was sealed" err &&
	snapshot after &&
	test_cmp before after &&
	test_expect_code 64 srdf-seal --dir "$D" --key-file key --min-free 1X </dev/null
'

test_expect_success 'a ledger that cannot be opened: exit 73, nothing in the outbox' '
	mkdir broken && echo x >broken/ledger &&
	test_expect_code 73 srdf-seal --dir "$PWD/broken" --key-file key <g7.in 2>err &&
	grep -q "cannot open the ledger in $PWD/broken" err &&
	test -z "$(ls broken/outbox/new)"
'

test_done
