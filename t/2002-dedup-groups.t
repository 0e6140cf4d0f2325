#!/bin/bash
test_description='srdf-dedup: group framing: window, max-events, DDL and XA barriers, GTIDs, counts, incomplete transactions'
. "$(dirname "$0")/lib.sh"

# trx GTID [TS] RECORD...: one source transaction around the records.
trx() {
	local g=$1
	shift
	printf '{"v":1,"type":"begin","gtid":"%s","server_id":1,"ts":%s,"file":"b.1","pos":4}\n' "$g" "${g##*-}"
	[ $# = 0 ] || printf '%s\n' "$@"
	printf '{"v":1,"type":"commit","gtid":"%s","ts":%s,"file":"b.1","pos":9,"xid":1}\n' "$g" "$((${g##*-} + 1))"
}
row() { printf '{"v":1,"type":"insert","db":"d","table":"t","pk":["id"],"after":{"id":%s}}' "$1"; }
ddl() { printf '{"v":1,"type":"ddl","db":"d","sql":"%s","sql_mode":0,"charset":45}' "$1"; }

# ends FILE: one line per group_end, the keys a test looks at.
ends() {
	jq -r 'select(.type=="group_end") | [.group, .chunk, .last, .trx, .events_in, .events_out, .reason, .first_gtid, .last_gtid, .gtid_pos] | map(tostring) | join(" ")' "$1"
}

test_expect_success 'a quiet pipe still seals: the window closes a group before the input ends' '
	mkfifo in &&
	{ srdf-dedup --window 200ms <in >out 2>err & echo $! >dedup.pid; } &&
	{ { trx 0-1-1 "$(row 1)" && trx 0-1-2 "$(row 2)" && exec sleep 5; } >in & echo $! >writer.pid; } &&
	test_wait_until 3 "grep -q group_end out" &&
	test_pid_alive "$(cat writer.pid)" &&
	ends out >actual &&
	echo "1 1 true 2 2 2 window 0-1-1 0-1-2 0-1-2" >expect &&
	test_cmp expect actual &&
	kill "$(cat writer.pid)" &&
	wait "$(cat dedup.pid)" &&
	test "$(grep -c group_end out)" = 1
'

test_expect_success 'the window counts from the first transaction: not sealed before it' '
	t0=$EPOCHREALTIME &&
	{ { trx 0-1-1 "$(row 1)" && sleep 2; } | srdf-dedup --window 700ms >out 2>err & } &&
	test_wait_until 3 "grep -q group_end out" &&
	t1=$EPOCHREALTIME &&
	wait &&
	awk -v a="$t0" -v b="$t1" "BEGIN { exit !(b - a >= 0.7 && b - a < 2) }" &&
	ends out >actual &&
	echo "1 1 true 1 1 1 window 0-1-1 0-1-1 0-1-1" >expect &&
	test_cmp expect actual
'

test_expect_success 'SIGTERM seals the open group (reason eof) and drops the open transaction' '
	rm -f in && mkfifo in &&
	{ srdf-dedup --window 1h <in >out 2>err & echo $! >dedup.pid; } &&
	{ { trx 0-1-1 "$(row 1)" && trx 0-1-2 "$(row 2)" | sed \$d && exec sleep 5; } >in & echo $! >writer.pid; } &&
	sleep 0.5 &&
	kill -TERM "$(cat dedup.pid)" &&
	wait "$(cat dedup.pid)" &&
	kill "$(cat writer.pid)" &&
	ends out >actual &&
	echo "1 1 true 1 1 1 eof 0-1-1 0-1-1 0-1-1" >expect &&
	test_cmp expect actual &&
	grep "dropped the incomplete transaction 0-1-2 .*stopped by a signal" err
'

test_expect_success '--max-events: a group seals at the transaction that reaches it' '
	for i in 1 2 3 4 5; do trx 0-1-$i "$(row $i)" "$(row 1$i)" || return 1; done >records &&
	srdf-dedup --window 1h --max-events 3 <records >out 2>err &&
	ends out >actual &&
	cat >expect <<-\EOF &&
	1 1 true 2 4 4 max-events 0-1-1 0-1-2 0-1-2
	2 1 true 2 4 4 max-events 0-1-3 0-1-4 0-1-4
	3 1 true 1 2 2 eof 0-1-5 0-1-5 0-1-5
	EOF
	test_cmp expect actual
'

test_expect_success '--max-bytes: the input bytes of a group' '
	srdf-dedup --window 1h --max-bytes 400 <records >out 2>err &&
	ends out | cut -d" " -f4,7 | sort | uniq -c | sed "s/^ *//" >actual &&
	cat >expect <<-\EOF &&
	1 1 eof
	2 2 max-bytes
	EOF
	test_cmp expect actual
'

test_expect_success 'a DDL is a barrier: the group before it seals, the DDL travels alone' '
	{
		trx 0-1-1 "$(row 1)" &&
		trx 0-1-2 "$(ddl "ALTER TABLE t ADD c INT")" &&
		trx 0-1-3 "$(row 3)"
	} >records &&
	srdf-dedup --window 1h <records >out 2>err &&
	ends out >actual &&
	cat >expect <<-\EOF &&
	1 1 true 1 1 1 ddl 0-1-1 0-1-1 0-1-1
	2 1 true 1 0 0 ddl 0-1-2 0-1-2 0-1-2
	3 1 true 1 1 1 eof 0-1-3 0-1-3 0-1-3
	EOF
	test_cmp expect actual &&
	jq -c "select(.type!=\"group_begin\" and .type!=\"group_end\") | .type" out | paste -sd " " >actual &&
	echo "\"insert\" \"trx\" \"ddl\" \"trx\" \"insert\" \"trx\"" >expect &&
	test_cmp expect actual &&
	sed -n 6p out >actual &&
	sed -n 5p records >expect &&
	test_cmp expect actual
'

test_expect_success 'gtid_pos carries every domain seen; first/last GTID and timestamps; empty transactions count' '
	{
		trx 0-1-5 "$(row 1)" &&
		trx 1-2-9 &&
		trx 0-1-6 "$(row 2)" "$(row 2)"
	} >records &&
	srdf-dedup --window 1h <records >out 2>err &&
	tail -n 1 out | jq -c "[.first_gtid, .last_gtid, .gtid_pos, .trx, .events_in, .events_out, .first_ts, .last_ts]" >actual &&
	echo "[\"0-1-5\",\"0-1-6\",\"0-1-6,1-2-9\",3,3,2,5,7]" >expect &&
	test_cmp expect actual &&
	head -n 1 out >actual &&
	echo "{\"v\":1,\"type\":\"group_begin\",\"group\":1,\"chunk\":1,\"first_gtid\":\"0-1-5\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a transaction without commit, or aborted, is dropped with a warning' '
	{
		trx 0-1-1 "$(row 1)" &&
		trx 0-1-2 "$(row 2)" | sed \$d &&
		trx 0-1-2 "$(row 22)" | sed \$d &&
		echo "{\"v\":1,\"type\":\"abort\",\"gtid\":\"0-1-2\",\"reason\":\"reconnect\"}" &&
		trx 0-1-2 "$(row 222)" &&
		trx 0-1-3 "$(row 3)" | sed \$d
	} >records &&
	srdf-dedup --window 1h <records >out 2>err &&
	ends out >actual &&
	echo "1 1 true 2 2 2 eof 0-1-1 0-1-2 0-1-2" >expect &&
	test_cmp expect actual &&
	jq -r "select(.type==\"insert\") | .after.id" out | paste -sd " " >actual &&
	echo "1 222" >expect &&
	test_cmp expect actual &&
	test "$(grep -c "dropped the incomplete transaction" err)" = 3 &&
	grep "0-1-3 (begin at stdin:12): the input ended before its commit" err
'

test_expect_success 'XA PREPARE and XA COMMIT transactions are barriers, passed verbatim' '
	{
		trx 0-1-1 "$(row 1)" &&
		echo "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-2\",\"server_id\":1,\"ts\":2,\"file\":\"b.1\",\"pos\":4,\"xa\":\"X'\''7831'\'',X'\'''\'',1\"}" &&
		row 2 && echo &&
		echo "{\"v\":1,\"type\":\"xa_prepare\",\"gtid\":\"0-1-2\",\"ts\":2,\"file\":\"b.1\",\"pos\":9,\"xa\":\"X'\''7831'\'',X'\'''\'',1\"}" &&
		trx 0-1-3 "$(row 3)" &&
		trx 0-1-4 "{\"v\":1,\"type\":\"xa_end\",\"xid\":\"X'\''7831'\'',X'\'''\'',1\",\"outcome\":\"commit\"}" &&
		trx 0-1-5 "$(row 5)"
	} >records &&
	srdf-dedup --window 1h <records >out 2>err &&
	ends out >actual &&
	cat >expect <<-\EOF &&
	1 1 true 1 1 1 xa 0-1-1 0-1-1 0-1-1
	2 1 true 1 1 1 xa 0-1-2 0-1-2 0-1-2
	3 1 true 1 1 1 xa 0-1-3 0-1-3 0-1-3
	4 1 true 1 0 0 xa 0-1-4 0-1-4 0-1-4
	5 1 true 1 1 1 eof 0-1-5 0-1-5 0-1-5
	EOF
	test_cmp expect actual &&
	{ sed -n 4,6p records && echo "{\"v\":1,\"type\":\"trx\",\"gtid\":\"0-1-2\",\"ts\":2}"; } >expect &&
	sed -n "/\"group\":2,/,/\"group\":2,/p" out | sed -e 1d -e \$d >actual &&
	test_cmp expect actual &&
	{ sed -n 10,12p records && echo "{\"v\":1,\"type\":\"trx\",\"gtid\":\"0-1-4\",\"ts\":5}"; } >expect &&
	sed -n "/\"group\":4,/,/\"group\":4,/p" out | sed -e 1d -e \$d >actual &&
	test_cmp expect actual
'

test_expect_success 'group numbers ascend; stdout is JSON lines only' '
	jq -r "select(.type==\"group_begin\") | .group" out | paste -sd " " >actual &&
	echo "1 2 3 4 5" >expect &&
	test_cmp expect actual &&
	jq -c . out >/dev/null
'

# upd ID V0 V1: an update of row ID from V0 to V1.
upd() { printf '{"v":1,"type":"update","db":"d","table":"t","pk":["id"],"before":{"id":%s,"v":%s},"after":{"id":%s,"v":%s}}' "$1" "$2" "$1" "$3"; }

test_expect_success 'trx records end each transaction; "split" when no row folds across two' '
	{
		trx 0-1-1 "$(row 1)" "$(row 2)" &&
		trx 0-1-2 "$(upd 3 0 1)" &&
		trx 0-1-3
	} | srdf-dedup --window 1h >out 2>err &&
	jq -c "select(.type!=\"group_begin\" and .type!=\"group_end\") | [.type, .gtid, .ts, .after.id]" out >actual &&
	cat >expect <<-\EOF &&
	["insert",null,null,1]
	["insert",null,null,2]
	["trx","0-1-1",2,null]
	["update",null,null,3]
	["trx","0-1-2",3,null]
	["trx","0-1-3",4,null]
	EOF
	test_cmp expect actual &&
	tail -n 1 out | jq -e ".split == true and .trx == 3 and .events_out == 3" &&
	{
		trx 0-1-1 "$(upd 3 0 1)" &&
		trx 0-1-2 "$(row 1)" &&
		trx 0-1-3 "$(upd 3 1 2)"
	} | srdf-dedup --window 1h >out 2>err &&
	jq -c "select(.type!=\"group_begin\" and .type!=\"group_end\") | [.type, .gtid, .before.v, .after.v]" out >actual &&
	cat >expect <<-\EOF &&
	["update",null,0,2]
	["trx","0-1-1",null,null]
	["insert",null,null,null]
	["trx","0-1-2",null,null]
	["trx","0-1-3",null,null]
	EOF
	test_cmp expect actual &&
	tail -n 1 out | jq -e "has(\"split\") | not"
'

test_expect_success '--solo-rows: a transaction of that many rows travels alone' '
	{
		trx 0-1-1 "$(upd 3 0 1)" &&
		trx 0-1-2 "$(row 1)" "$(row 2)" "$(upd 3 1 2)" &&
		trx 0-1-3 "$(row 4)"
	} >records &&
	srdf-dedup --window 1h --solo-rows 3 <records >out 2>err &&
	ends out >actual &&
	cat >expect <<-\EOF &&
	1 1 true 1 1 1 solo 0-1-1 0-1-1 0-1-1
	2 1 true 1 3 3 solo 0-1-2 0-1-2 0-1-2
	3 1 true 1 1 1 eof 0-1-3 0-1-3 0-1-3
	EOF
	test_cmp expect actual &&
	srdf-dedup --window 1h --solo-rows 0 <records >out 2>err &&
	ends out >actual &&
	echo "1 1 true 3 5 4 eof 0-1-1 0-1-3 0-1-3" >expect &&
	test_cmp expect actual &&
	srdf-dedup --window 1h <records >out 2>err &&
	ends out >actual &&
	test_cmp expect actual
'

test_expect_success 'a trx record in the input is refused: groups are not srdf-dedup input' '
	{ trx 0-1-1 "$(row 1)" && echo "{\"v\":1,\"type\":\"trx\",\"gtid\":\"0-1-1\",\"ts\":1}"; } >records &&
	test_expect_code 65 srdf-dedup <records >out 2>err &&
	grep "stdin:4: a trx record: srdf-dedup reads srdf-capture.s transactions, not consistency groups" err
'

test_expect_success '--help, --version and usage errors' '
	srdf-dedup --help >out &&
	grep "^usage: srdf-dedup \[-v\] \[--window duration\] \[--max-events n\] \[--max-bytes size\]" out &&
	srdf-dedup --version >out &&
	grep "^srdf-dedup [0-9]" out &&
	test_expect_code 64 srdf-dedup --window 1x </dev/null 2>err &&
	grep -- "--window" err &&
	test_expect_code 64 srdf-dedup --max-events 0 </dev/null 2>err &&
	test_expect_code 64 srdf-dedup --max-bytes 12Q </dev/null 2>err &&
	test_expect_code 64 srdf-dedup extra </dev/null 2>err &&
	grep "^usage" err &&
	test_expect_code 64 srdf-dedup --bogus </dev/null 2>err
'

test_expect_success 'empty input: no group, exit 0' '
	srdf-dedup </dev/null >out 2>err &&
	test ! -s out
'

test_done
