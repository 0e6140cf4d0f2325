#!/bin/bash
test_description='srdf-capture: starts after the ledger last sealed GTID, else the bootstrap GTID, else --start-gtid'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

test_expect_success 'setup: five transactions' '
	src_sql "CREATE DATABASE l; CREATE TABLE l.t (id INT PRIMARY KEY)" &&
	for i in 1 2 3 4 5; do src_sql "INSERT INTO l.t VALUES ($i)" || return 1; done &&
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "" --until-end >all 2>/dev/null &&
	jq -r "select(.type==\"commit\") | .gtid" all >gtids &&
	test "$(wc -l <gtids)" = 7
'

test_expect_success '--start-gtid starts a state directory that has no ledger yet' '
	srdf-capture --defaults-file "$SRC_CNF" --dir fresh --start-gtid "$(sed -n 2p gtids)" --until-end >out 2>err &&
	jq -r "select(.type==\"commit\") | .gtid" out >actual &&
	sed -n "3,\$p" gtids >expect &&
	test_cmp expect actual &&
	grep "starting after --start-gtid .$(sed -n 2p gtids).: fresh/ledger has no position yet" err
'

test_expect_success 'the bootstrap GTID is a start position' '
	mkdir state &&
	ledger-meta state bootstrap_gtid "$(sed -n 3p gtids)" &&
	srdf-capture --defaults-file "$SRC_CNF" --dir state --until-end >out 2>err &&
	jq -r "select(.type==\"commit\") | .gtid" out >actual &&
	sed -n "4,\$p" gtids >expect &&
	test_cmp expect actual &&
	grep "starting after the GTID position .$(sed -n 3p gtids). recorded in state/ledger" err
'

test_expect_success 'the last sealed GTID wins over the bootstrap GTID' '
	ledger-meta state last_sealed_gtid "$(sed -n 5p gtids)" &&
	SRDF_DIR=state srdf-capture --defaults-file "$SRC_CNF" --until-end >out 2>err &&
	jq -r "select(.type==\"commit\") | .gtid" out >actual &&
	sed -n "6,\$p" gtids >expect &&
	test_cmp expect actual
'

test_expect_success '--start-gtid gives way to the ledger' '
	srdf-capture --defaults-file "$SRC_CNF" --dir state --start-gtid "$(sed -n 1p gtids)" --until-end >out 2>err &&
	jq -r "select(.type==\"commit\") | .gtid" out >actual &&
	sed -n "6,\$p" gtids >expect &&
	test_cmp expect actual
'

test_expect_success '--from-gtid overrides the ledger' '
	srdf-capture --defaults-file "$SRC_CNF" --dir state --from-gtid "$(sed -n 6p gtids)" --until-end >out 2>err &&
	jq -r "select(.type==\"commit\") | .gtid" out >actual &&
	sed -n "7,\$p" gtids >expect &&
	test_cmp expect actual
'

test_done
