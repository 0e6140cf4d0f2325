#!/bin/bash
test_description='srdf-capture: XA transactions: rows at XA PREPARE, outcome later'
. "$(dirname "$0")/lib.sh"
srdf_servers_start

test_expect_success 'setup' '
	src_sql "CREATE DATABASE x; CREATE TABLE x.t (id INT PRIMARY KEY, v INT)" &&
	src_sql "SELECT @@gtid_binlog_pos" >start &&
	src_sql "XA START \"tx1\"; INSERT INTO x.t VALUES (1, 1); XA END \"tx1\"; XA PREPARE \"tx1\"" &&
	src_sql "XA START \"tx2\"; INSERT INTO x.t VALUES (2, 2); XA END \"tx2\"; XA PREPARE \"tx2\"" &&
	src_sql "XA COMMIT \"tx1\"" &&
	src_sql "XA ROLLBACK \"tx2\"" &&
	src_sql "XA START \"tx3\"; INSERT INTO x.t VALUES (3, 3); XA END \"tx3\"; XA COMMIT \"tx3\" ONE PHASE"
'

test_expect_success 'prepared groups end in xa_prepare, outcomes in xa_end' '
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat start)" --until-end >records 2>err &&
	jq -r "[.type, .xa // \"\", .outcome // \"\", (.after.id // \"\" | tostring)] | join(\" \")" records | sed "s/ *\$//" >actual &&
	cat >expect <<-\EOT &&
	begin X'"'"'747831'"'"',X'"'"''"'"',1
	insert   1
	xa_prepare X'"'"'747831'"'"',X'"'"''"'"',1
	begin X'"'"'747832'"'"',X'"'"''"'"',1
	insert   2
	xa_prepare X'"'"'747832'"'"',X'"'"''"'"',1
	begin
	xa_end X'"'"'747831'"'"',X'"'"''"'"',1 commit
	commit
	begin
	xa_end X'"'"'747832'"'"',X'"'"''"'"',1 rollback
	commit
	begin
	insert   3
	commit
	EOT
	test_cmp expect actual
'

test_done
