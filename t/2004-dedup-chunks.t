#!/bin/bash
test_description='srdf-dedup: a transaction larger than --max-bytes streams as chunks of one group, in bounded memory'
. "$(dirname "$0")/lib.sh"

begin() { printf '{"v":1,"type":"begin","gtid":"%s","server_id":1,"ts":%s,"file":"b.1","pos":4}\n' "$1" "$2"; }
commit() { printf '{"v":1,"type":"commit","gtid":"%s","ts":%s,"file":"b.1","pos":9,"xid":1}\n' "$1" "$2"; }
row() { printf '{"v":1,"type":"insert","db":"d","table":"t","pk":["id"],"after":{"id":%s}}\n' "$1"; }
# rows N: N inserts of about 100 bytes, ids 1..N, then N updates of row 1
# (which a group would fold; a chunk must not).
rows() {
	awk -v n="$1" 'BEGIN {
		pad = "0123456789abcdefghijklmnopqrstuvwxyz0123456789"
		for (i = 1; i <= n; i++)
			printf "{\"v\":1,\"type\":\"insert\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"],\"after\":{\"id\":%d,\"pad\":\"%s\"}}\n", i, pad
		for (i = 1; i <= 10; i++)
			printf "{\"v\":1,\"type\":\"update\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"],\"before\":{\"id\":1,\"n\":%d},\"after\":{\"id\":1,\"n\":%d}}\n", i, i + 1
	}'
}

# peak_kib CMD...: runs CMD (stdin, stdout and stderr as given), then
# writes its peak resident set size in KiB to the file peak.
peak_kib() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -o peak -f %M "$@"
	else
		python3 -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=open("peak", "w"))
sys.exit(rc)' "$@"
	fi
}

test_expect_success 'setup: a small transaction, one of 200 010 rows (19 MB), a small one' '
	{
		begin 0-1-1 10 && row 1 && commit 0-1-1 10 &&
		begin 0-1-2 11 && rows 200000 && commit 0-1-2 12 &&
		begin 0-1-3 13 && row 3 && commit 0-1-3 13
	} >records &&
	test "$(wc -c <records)" -gt 19000000
'

# Under AddressSanitizer (make check-asan) the RSS holds the shadow memory
# and the quarantine of freed blocks (up to 256 MiB): the bound is the
# normal build's, where the test means something.
rss_max=65536
if ldd "$top/bin/srdf-dedup" 2>/dev/null | grep -q libasan; then
	rss_max=$((512 * 1024))
fi

test_expect_success 'srdf-dedup --max-bytes 1M streams it with a peak RSS under 64 MiB (normal build)' '
	peak_kib srdf-dedup --window 1h --max-bytes 1M <records >out 2>err &&
	echo "peak RSS $(cat peak) KiB (bound $rss_max KiB)" &&
	test "$(cat peak)" -lt $rss_max &&
	grep "^{\"v\":1,\"type\":\"group_" out >framing
'

test_expect_success 'the group before it is sealed first, the one after it is fresh' '
	jq -r "select(.type==\"group_end\") | [.group, .chunk, .last, .reason, .first_gtid, .last_gtid // \"-\", .trx] | map(tostring) | join(\" \")" framing >ends &&
	head -n 1 ends >actual &&
	echo "1 1 true max-bytes 0-1-1 0-1-1 1" >expect &&
	test_cmp expect actual &&
	tail -n 1 ends >actual &&
	echo "3 1 true eof 0-1-3 0-1-3 1" >expect &&
	test_cmp expect actual
'

test_expect_success 'chunks 1..n of group 2, "last" only on the final one, which alone carries last_gtid and gtid_pos' '
	sed -e 1d -e \$d ends >chunks &&
	n=$(wc -l <chunks) &&
	test "$n" -ge 19 &&
	seq "$n" | awk -v n="$n" "{ print 2, \$1, (\$1 == n ? \"true\" : \"false\"), \"max-bytes\", \"0-1-2\", (\$1 == n ? \"0-1-2\" : \"-\"), (\$1 == n ? 1 : 0) }" >expect &&
	test_cmp expect chunks &&
	jq -c "select(.type==\"group_end\" and .group==2 and .last) | [.gtid_pos, .first_ts, .last_ts]" framing >actual &&
	echo "[\"0-1-2\",11,12]" >expect &&
	test_cmp expect actual &&
	test "$(jq -c "select(.type==\"group_end\" and .group==2 and (.last | not)) | has(\"gtid_pos\")" framing | sort -u)" = false &&
	test "$(jq -r "select(.type==\"group_begin\") | .first_gtid" framing | sort | uniq -c | awk "\$2 == \"0-1-2\" { print \$1 }")" = "$n"
'

test_expect_success 'every chunk holds at most 1 MiB of records; all rows come, in order, unfolded' '
	awk "/\"type\":\"group_begin\",\"group\":2,/ { on = 1; b = 0; next }
		/\"type\":\"group_end\",\"group\":2,/ { if (b > 1048576) bad = 1; on = 0 }
		on { b += length(\$0) + 1 }
		END { exit bad }" out &&
	sed -n "s/^{\"v\":1,\"type\":\"insert\".*\"after\":{\"id\":\([0-9]*\)[,}].*/\1/p" out >ids &&
	{ echo 1 && seq 200000 && echo 3; } >expect &&
	test_cmp expect ids &&
	test "$(grep -c "\"type\":\"update\"" out)" = 10 &&
	jq -s "map(select(.type==\"group_end\" and .group==2)) | [(map(.events_in) | add), (map(.events_out) | add), (map(.trx) | add)]" -c framing >actual &&
	echo "[200010,200010,1]" >expect &&
	test_cmp expect actual &&
	grep -v "\"group\":" records | grep -v "\"type\":\"begin\"\|\"type\":\"commit\"" >rows.in &&
	grep -v "\"group\":\|\"type\":\"trx\"" out >rows.out &&
	test_cmp rows.in rows.out
'

test_expect_success 'a streamed transaction whose commit never comes: its chunks end without the last one' '
	head -n 150000 records >cut &&
	srdf-dedup --window 1h --max-bytes 1M <cut >out2 2>err2 &&
	grep "dropped the incomplete transaction 0-1-2 .*a consumer rolls them back" err2 &&
	test "$(grep -c "\"last\":true" out2)" = 1 &&
	jq -r "select(.type==\"group_end\") | .last" out2 | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "%s\n" "$(($(grep -c group_end out2) - 1)) false" "1 true" >expect &&
	test_cmp expect actual
'

test_expect_success 'by default (--max-bytes 16M) the 19 MB transaction streams too: two chunks' '
	srdf-dedup --window 1h <records >out3 2>err3 &&
	grep "^{\"v\":1,\"type\":\"group_end\"" out3 |
		jq -r "[.group, .chunk, .last] | map(tostring) | join(\" \")" >actual &&
	printf "%s\n" "1 1 true" "2 1 false" "2 2 true" "3 1 true" >expect &&
	test_cmp expect actual &&
	awk "/\"type\":\"group_begin\",\"group\":2,\"chunk\":1,/ { on = 1; next }
		/\"type\":\"group_end\",\"group\":2,\"chunk\":1,/ { on = 0 }
		on { b += length(\$0) + 1 }
		END { exit !(b > 8388608 && b <= 16777216) }" out3
'

test_done
