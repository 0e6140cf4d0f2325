#!/bin/bash
test_description='srdf-dedup: the folding table, row by row, in first-appearance order'
. "$(dirname "$0")/lib.sh"

# trx GTID RECORD...: one source transaction around the records.
trx() {
	local g=$1
	shift
	printf '{"v":1,"type":"begin","gtid":"%s","server_id":1,"ts":100,"file":"b.1","pos":4}\n' "$g"
	[ $# = 0 ] || printf '%s\n' "$@"
	printf '{"v":1,"type":"commit","gtid":"%s","ts":101,"file":"b.1","pos":9,"xid":1}\n' "$g"
}
T='"db":"d","table":"t","pk":["id"]'
N='"db":"d","table":"n","pk":[]'
S='"db":"d","table":"s","pk":["k"]'
ins() { printf '{"v":1,"type":"insert",%s,"after":%s}' "${2:-$T}" "$1"; }
upd() { printf '{"v":1,"type":"update",%s,"before":%s,"after":%s}' "${3:-$T}" "$1" "$2"; }
del() { printf '{"v":1,"type":"delete",%s,"before":%s}' "${2:-$T}" "$1"; }

test_expect_success 'setup: five transactions touching the same rows' '
	{
		trx 0-1-1 "$(ins "{\"id\":1,\"v\":1}")" \
			"$(upd "{\"id\":2,\"v\":\"a\"}" "{\"id\":2,\"v\":\"b\"}")" \
			"$(ins "{\"id\":3,\"v\":0}")" \
			"$(upd "{\"id\":4,\"v\":\"x\"}" "{\"id\":4,\"v\":\"y\"}")" &&
		trx 0-1-2 "$(upd "{\"id\":1,\"v\":1}" "{\"id\":1,\"v\":2}")" \
			"$(upd "{\"id\":2,\"v\":\"b\"}" "{\"id\":2,\"v\":\"c\"}")" \
			"$(del "{\"id\":3,\"v\":0}")" \
			"$(del "{\"id\":4,\"v\":\"y\"}")" \
			"$(del "{\"id\":5,\"v\":\"p\"}")" &&
		trx 0-1-3 "$(ins "{\"id\":5,\"v\":\"q\"}")" \
			"$(upd "{\"id\":6,\"v\":\"m\"}" "{\"id\":7,\"v\":\"m\"}")" \
			"$(ins "{\"a\":1}" "$N")" "$(ins "{\"a\":1}" "$N")" \
			"{ \"v\":1, \"type\":\"update\", $T, \"before\":{\"id\":8,\"v\":1.50}, \"after\":{\"id\":8,\"v\":2.50}, \"x\":[1] }" &&
		trx 0-1-4 "$(upd "{\"id\":7,\"v\":\"m\"}" "{\"id\":7,\"v\":\"n\"}")" \
			"$(del "{\"a\":1}" "$N")" \
			"$(ins "{\"k\":\"\\u00e9\",\"w\":1}" "$S")" \
			"$(ins "{\"id\":9,\"v\":9}")" &&
		trx 0-1-5 "$(del "{\"k\":\"é\",\"w\":1}" "$S")" \
			"$(upd "{\"id\":9.0,\"v\":9}" "{\"id\":9,\"v\":10}")"
	} >records &&
	srdf-dedup --window 1h <records >groups 2>err &&
	test "$(grep -c group_begin groups)" = 1
'

test_expect_success 'each row folds to its net effect, at its first appearance' '
	cat >expect <<-EOF &&
	{"v":1,"type":"insert",$T,"after":{"id":1,"v":2}}
	{"v":1,"type":"update",$T,"before":{"id":2,"v":"a"},"after":{"id":2,"v":"c"}}
	{"v":1,"type":"delete",$T,"before":{"id":4,"v":"x"}}
	{"v":1,"type":"update",$T,"before":{"id":5,"v":"p"},"after":{"id":5,"v":"q"}}
	{"v":1,"type":"delete",$T,"before":{"id":6,"v":"m"}}
	{"v":1,"type":"insert",$T,"after":{"id":7,"v":"n"}}
	{"v":1,"type":"insert",$N,"after":{"a":1}}
	{"v":1,"type":"insert",$N,"after":{"a":1}}
	{ "v":1, "type":"update", $T, "before":{"id":8,"v":1.50}, "after":{"id":8,"v":2.50}, "x":[1] }
	{"v":1,"type":"delete",$N,"before":{"a":1}}
	{"v":1,"type":"insert",$T,"after":{"id":9,"v":10}}
	EOF
	sed -e 1d -e \$d groups | grep -v "\"type\":\"trx\"" >actual &&
	test_cmp expect actual &&
	jq -r "select(.type==\"trx\") | .gtid" groups | paste -sd " " >actual &&
	echo "0-1-1 0-1-2 0-1-3 0-1-4 0-1-5" >expect &&
	test_cmp expect actual &&
	tail -n 1 groups | jq -e "has(\"split\") | not"
'

test_expect_success 'the counts: 20 row changes in, 11 out, 5 transactions' '
	tail -n 1 groups | jq -c "[.trx, .events_in, .events_out, .first_gtid, .last_gtid, .gtid_pos, .reason, .first_ts, .last_ts]" >actual &&
	echo "[5,20,11,\"0-1-1\",\"0-1-5\",\"0-1-5\",\"eof\",100,101]" >expect &&
	test_cmp expect actual
'

test_expect_success 'a row seen once is its input line, byte for byte' '
	grep -F "\"x\":[1] }" records >expect &&
	grep -F "\"x\":[1] }" groups >actual &&
	test_cmp expect actual
'

test_expect_success 'one group per transaction (--window 0): each still folds inside itself; a key change nothing else touches stays one update (a move)' '
	srdf-dedup --window 0 <records >groups0 2>err &&
	test "$(grep -c group_end groups0)" = 5 &&
	jq -r "select(.type==\"group_end\") | .events_out" groups0 | paste -sd " " >actual &&
	echo "4 5 5 4 2" >expect &&
	test_cmp expect actual &&
	grep -F "\"before\":{\"id\":6" records >expect &&
	grep -F "\"before\":{\"id\":6" groups0 >actual &&
	test_cmp expect actual
'

test_done
