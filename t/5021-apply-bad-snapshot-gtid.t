#!/bin/bash
test_description='srdf-apply: a bootstrap wagon whose snapshot_gtid is not a GTID position is bad data, never a window'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

test_expect_success 'setup: a copy of one table, its snapshot_gtid damaged on the way to srdf-seal' '
	apply_setup &&
	src_sql "CREATE DATABASE bs; CREATE TABLE bs.t (id INT PRIMARY KEY, v INT);
		INSERT INTO bs.t VALUES (1, 1), (2, 2)" &&
	srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir "$S" --databases bs \
		2>bootstrap.err >copy.jsonl &&
	grep -q "\"snapshot_gtid\":\"[0-9-]*\"" copy.jsonl &&
	sed "s/\"snapshot_gtid\":\"\([0-9-]*\)\"/\"snapshot_gtid\":\"\1x\"/" copy.jsonl |
		srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	deliver
'

test_expect_success 'refused: exit 65, the wagon dead with the reason, nothing applied' '
	test_expect_code 65 apply_once --retry none &&
	cat apply.err &&
	grep -q "snapshot_gtid.* is not a GTID position: [0-9-]*x" apply.err &&
	test "$(wagon_state 1)" = dead &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = \"bs\"")" = 0
'

test_expect_success 'a bootstrap_pos in srdf.applied that is not a GTID position: ignored, with a warning' '
	dst_sql "UPDATE srdf.applied SET bootstrap_pos = \"0-1-9x\"" &&
	: >apply.err &&
	{ apply_once --retry none; true; } &&
	grep -q "srdf.applied.bootstrap_pos is not a GTID position, ignored: 0-1-9x" apply.err
'

test_done
