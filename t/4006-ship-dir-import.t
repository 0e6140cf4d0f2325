#!/bin/bash
test_description='srdf-ship --to dir: and srdf-recv --import: the same checks without HTTP'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

test_expect_success 'setup' '
	mkwagons key key && mkwagons key key2 &&
	mkwagons seal src key 20 &&
	mkdir xfer
'

test_expect_success '--to dir: needs an existing directory' '
	test_expect_code 73 srdf-ship --dir src --to dir:nowhere --once &&
	test_expect_code 64 srdf-ship --dir src --to dir: --once &&
	test_expect_code 64 srdf-ship --dir src --to dir:xfer --pipeline 2 --once
'

test_expect_success 'ship copies every wagon into the spool, durably, and records it received' '
	srdf-ship --dir src --to dir:xfer --once 2>ship.err &&
	ls xfer/new >actual && ls src/outbox/new >expect && test_cmp expect actual &&
	for f in src/outbox/new/*; do cmp $f xfer/new/${f##*/} || return 1; done &&
	printf "received 20\n" >expect && states src >actual && test_cmp expect actual &&
	ledger-wagons --attempts src | jq -s -e "length == 20 and all(.[]; .answer == \"accepted\" and .to == \"dir:xfer\")" &&
	test -z "$(ls xfer/tmp)"
'

test_expect_success 'recv --import takes them in under the same checks and moves them to cur/' '
	srdf-recv --dir dst --key-file key --import xfer 2>imp.err &&
	ls dst/inbox/new >actual && ls src/outbox/new >expect && test_cmp expect actual &&
	ls xfer/cur >actual && test_cmp expect actual &&
	test -z "$(ls xfer/new)" &&
	printf "received 20\n" >expect && states dst >actual && test_cmp expect actual
'

test_expect_success 'a second copy is a duplicate; refused items go to bad/ with the reason, exit 65' '
	cp src/outbox/new/00000000000000000003.wagon xfer/new/ &&
	sid=$(ledger-meta src source_id) &&
	mkwagons one key 4 2000 $sid >xfer/new/00000000000000000004.wagon &&
	cp src/outbox/new/00000000000000000005.wagon xfer/new/damaged &&
	flip xfer/new/damaged 300 &&
	head -c 70000 /dev/urandom >xfer/new/huge &&
	test_expect_code 65 srdf-recv --dir dst --key-file key --import xfer --max-body 64K 2>imp2.err &&
	grep -q "wagon 3 from xfer/new/00000000000000000003.wagon: duplicate" imp2.err &&
	test -f xfer/cur/00000000000000000003.wagon &&
	grep -q "different content" xfer/bad/00000000000000000004.wagon.reason &&
	grep -q "checksum" xfer/bad/damaged.reason &&
	grep -q "max-body" xfer/bad/huge.reason &&
	test -z "$(ls xfer/new)" &&
	test $(ls dst/inbox/new | wc -l) = 20 &&
	test -z "$(ls dst/inbox/bad)"
'

# A key id the key file lacks may be a key rotation under way
# (srdf-keygen(1) KEY ROTATION): "busy", the wagon left where it is, exit
# 75; it goes in once the key file holds the key.
test_expect_success 'a wagon under a key id this host lacks: left in place, exit 75; taken once the key file holds it' '
	sid=$(ledger-meta src source_id) &&
	mkwagons one key2 99 2000 $sid >xfer/new/00000000000000000099.wagon &&
	test_expect_code 75 srdf-recv --dir dst --key-file key --import xfer 2>imp4.err &&
	grep -q "wagon 99 from xfer/new/00000000000000000099.wagon: busy: sealed under key id $(cut -d" " -f2 key2), which the key file key does not hold" imp4.err &&
	test -f xfer/new/00000000000000000099.wagon &&
	test ! -e dst/inbox/new/00000000000000000099.wagon &&
	cat key key2 >ring && chmod 600 ring &&
	srdf-recv --dir dst --key-file ring --import xfer 2>imp5.err &&
	test -f dst/inbox/new/00000000000000000099.wagon &&
	test -z "$(ls xfer/new)"
'

test_expect_success 'a FIFO in the spool: refused as not a regular file, never waited on' '
	mkfifo xfer/new/fifo &&
	test_expect_code 65 timeout -k 5 20 srdf-recv --dir dst --key-file key --import xfer 2>imp3.err &&
	grep -q "not a regular file" xfer/bad/fifo.reason &&
	test -z "$(ls xfer/new)" &&
	test $(ls dst/inbox/new | wc -l) = 21 &&
	test -z "$(ls dst/inbox/bad)"
'

test_expect_success 'recv --listen --import watches the spool while serving' '
	daemon_start recv srdf-recv --dir dst --key-file key --import xfer \
		--listen 127.0.0.1:0 --insecure &&
	mkwagons seal src key 5 &&
	srdf-ship --dir src --to dir:xfer --once 2>ship2.err &&
	test_wait_until 10 "test \$(ls dst/inbox/new | wc -l) = 26" &&
	test_wait_until 10 "test -z \"\$(ls xfer/new)\"" &&
	test_bg_stop recv
'

test_expect_success 'ship never removed anything from the outbox' '
	test $(ls src/outbox/new | wc -l) = 25
'

test_done
