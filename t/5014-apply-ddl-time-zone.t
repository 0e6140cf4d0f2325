#!/bin/bash
test_description='a DDL applies in the time zone it was written in: a TIMESTAMP default keeps its instant on the target, from the binlog (the session'"'"'s time_zone) and from srdf-bootstrap (a source whose default time zone is not UTC)'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# The TIMESTAMP defaults of database tz, as instants (read in UTC).
defaults() { # src_sql | dst_sql
	"$1" "SET time_zone = '+00:00';
		SELECT TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = 'tz' AND DATA_TYPE = 'timestamp' ORDER BY 1, 2"
}

test_expect_success 'setup: a source whose default time zone is +03:00, a table copied by srdf-bootstrap' '
	srdf-keygen -o key 2>/dev/null && mkdir -p "$S" "$D/inbox/new" &&
	src_sql "SET GLOBAL time_zone = \"+03:00\"" &&
	src_sql "CREATE DATABASE tz;
		CREATE TABLE tz.boot (id INT PRIMARY KEY,
			ts TIMESTAMP NOT NULL DEFAULT \"2020-01-01 00:00:00\");
		INSERT INTO tz.boot (id) VALUES (1)" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --databases tz 2>bootstrap.err >copy.jsonl &&
	jq -r "select(.type==\"ddl\") | .time_zone" copy.jsonl | sort -u >tz.out &&
	echo "+00:00" >expect && test_cmp expect tz.out &&
	srdf-seal --dir "$S" --key-file key <copy.jsonl 2>>seal.err
'

test_expect_success 'a CREATE and an ALTER in a session at +05:00, captured with their time zone' '
	src_sql "SET time_zone = \"+05:00\";
		CREATE TABLE tz.cap (id INT PRIMARY KEY,
			ts TIMESTAMP NOT NULL DEFAULT \"2020-01-01 00:00:00\");
		ALTER TABLE tz.boot ADD COLUMN ts2 TIMESTAMP NOT NULL DEFAULT \"2021-06-01 12:00:00\";
		INSERT INTO tz.cap (id) VALUES (1); INSERT INTO tz.boot (id) VALUES (2)" &&
	srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --until-end 2>capture.err >cap.jsonl &&
	test "$(jq -r "select(.type==\"ddl\") | .time_zone" cap.jsonl | sort -u)" = "+05:00" &&
	srdf-dedup --window 1h <cap.jsonl 2>>dedup.err | srdf-seal --dir "$S" --key-file key 2>>seal.err
'

test_expect_success 'applied: the defaults are the same instants on the target' '
	deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	defaults src_sql >src.def && defaults dst_sql >dst.def &&
	cat dst.def &&
	test_cmp src.def dst.def &&
	grep -q "^cap	ts	.2019-12-31 19:00:00." dst.def &&
	grep -q "^boot	ts	.2019-12-31 21:00:00." dst.def &&
	checksum_both tz.boot tz.cap
'

test_expect_success 'rows the target writes after a failover get the source'"'"'s default' '
	src_sql "INSERT INTO tz.cap (id) VALUES (2)" &&
	dst_sql "INSERT INTO tz.cap (id) VALUES (2)" &&
	test "$(src_sql "SELECT UNIX_TIMESTAMP(ts) FROM tz.cap WHERE id = 2")" = \
		"$(dst_sql "SELECT UNIX_TIMESTAMP(ts) FROM tz.cap WHERE id = 2")"
'

test_expect_success 'cleanup: the source'"'"'s default time zone back' '
	src_sql "SET GLOBAL time_zone = DEFAULT"
'

test_done
