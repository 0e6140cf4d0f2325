#!/bin/bash
test_description='srdf-dedup: bad input stops it (65) naming the line; sealed groups stay written, the open one is not'
. "$(dirname "$0")/lib.sh"

trx() {
	local g=$1
	shift
	printf '{"v":1,"type":"begin","gtid":"%s","server_id":1,"ts":1,"file":"b.1","pos":4}\n' "$g"
	[ $# = 0 ] || printf '%s\n' "$@"
	printf '{"v":1,"type":"commit","gtid":"%s","ts":1,"file":"b.1","pos":9,"xid":1}\n' "$g"
}
row() { printf '{"v":1,"type":"insert","db":"d","table":"t","pk":["id"],"after":{"id":%s}}' "$1"; }

# Transactions 1 and 2 fill a group of --max-events 2; transaction 3 is
# complete but its group is still open when the bad line comes (line 10).
test_expect_success 'setup' '
	{ trx 0-1-1 "$(row 1)" && trx 0-1-2 "$(row 2)" && trx 0-1-3 "$(row 3)"; } >good &&
	srdf-dedup --max-events 2 --window 1h <good >out 2>err &&
	test "$(grep -c group_end out)" = 2
'

# bad_case NAME: good, then the bad line from stdin, through srdf-dedup.
bad_case() {
	{ cat good && cat; } >"$1.in" &&
	test_expect_code 65 srdf-dedup --max-events 2 --window 1h <"$1.in" >"$1.out" 2>"$1.err" &&
	cat "$1.err" &&
	test "$(wc -l <"$1.err")" = 1 &&
	test "$(grep -c group_end "$1.out")" = 1 &&
	jq -c "select(.type==\"group_end\") | [.first_gtid, .last_gtid, .trx]" "$1.out" >actual &&
	echo "[\"0-1-1\",\"0-1-2\",2]" >expect &&
	test_cmp expect actual
}

test_expect_success 'a last line without its newline is a truncated record' '
	printf "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-4\"" | bad_case trunc &&
	grep "^<3>\([0-9TZ:.-]* \)\?srdf-dedup: stdin:10: truncated record (36 bytes without the final newline)$" trunc.err
'

test_expect_success 'a whole record without its newline is truncated too, never data' '
	trx 0-1-4 "$(row 4)" | head -c -1 | bad_case trunc2 &&
	grep "stdin:12: truncated record" trunc2.err
'

test_expect_success 'malformed JSON names the line and the column' '
	echo "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-4\",}" | bad_case json &&
	grep "^<3>\([0-9TZ:.-]* \)\?srdf-dedup: stdin:10:38: malformed record: string or .}. expected near .}.$" json.err
'

test_expect_success 'an unknown record version is refused' '
	echo "{\"v\":2,\"type\":\"begin\",\"gtid\":\"0-1-4\"}" | bad_case v2 &&
	grep "stdin:10: unknown record version (\"v\" must be 1)" v2.err
'

test_expect_success 'an unknown type, and a group record (dedup reads capture, not itself)' '
	echo "{\"v\":1,\"type\":\"merge\"}" | bad_case type &&
	grep "stdin:10: unknown record type \"merge\"" type.err &&
	head -n 1 out | bad_case group &&
	grep "stdin:10: a group_begin record: srdf-dedup reads srdf-capture.s transactions, not consistency groups" group.err
'

test_expect_success 'a row outside a transaction' '
	{ row 9 && echo; } | bad_case outside &&
	grep "stdin:10: insert record outside a transaction" outside.err
'

test_expect_success 'a commit of another GTID than its begin' '
	trx 0-1-4 "$(row 4)" | sed "3s/0-1-4/0-1-5/" | bad_case mismatch &&
	grep "stdin:12: commit of GTID 0-1-5 ends the transaction of GTID 0-1-4 (begin at line 10)" mismatch.err
'

test_expect_success 'a primary-key column missing from the image, a pk that is not names' '
	trx 0-1-4 "{\"v\":1,\"type\":\"update\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"],\"before\":{\"id\":1},\"after\":{\"x\":1}}" | bad_case nopkcol &&
	grep "stdin:11: primary-key column \"id\" is missing from the after image" nopkcol.err &&
	trx 0-1-4 "{\"v\":1,\"type\":\"delete\",\"db\":\"d\",\"table\":\"t\",\"pk\":[1],\"before\":{\"id\":1}}" | bad_case pknames &&
	grep "stdin:11: delete record whose \"pk\" is not an array of column names" pknames.err &&
	trx 0-1-4 "{\"v\":1,\"type\":\"insert\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"]}" | bad_case noimg &&
	grep "stdin:11: insert record without an \"after\" image" noimg.err
'

test_expect_success 'duplicate keys, bad UTF-8, a raw NUL byte, a begin without GTID' '
	echo "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-4\",\"gtid\":\"0-1-5\"}" | bad_case dup &&
	grep "stdin:10:.*duplicate object key" dup.err &&
	printf "{\"v\":1,\"type\":\"ddl\",\"sql\":\"\\xc3\\x28\"}\n" | bad_case utf8 &&
	grep "stdin:10:.*unable to decode byte" utf8.err &&
	printf "{\"v\":1,\"type\":\"abort\",\"n\":1\\0}\n" | bad_case nul &&
	grep "stdin:10: malformed record: a NUL byte" nul.err &&
	echo "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1\"}" | bad_case nogtid &&
	grep "stdin:10: begin record without a \"gtid\"" nogtid.err
'

test_expect_success 'a write error is exit 74' '
	test_expect_code 74 srdf-dedup --max-events 1 <good >/dev/full 2>err &&
	grep "cannot write groups to stdout" err
'

test_done
