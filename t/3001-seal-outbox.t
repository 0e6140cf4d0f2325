#!/bin/bash
test_description='srdf-keygen, srdf-seal and srdf-cat: groups in, wagons in the outbox, ledger, the records back byte for byte'
. "$(dirname "$0")/lib.sh"

D=$PWD/state
NEW=$D/outbox/new
w1=$NEW/00000000000000000001.wagon
w2=$NEW/00000000000000000002.wagon

# ledger_state DIR: the wagon records and the resume position, to compare.
ledger_state() {
	ledger-wagons "$1" && ledger-meta "$1" last_sealed_gtid
}

test_expect_success 'srdf-keygen -o: mode 0600, one key line, never overwrites' '
	srdf-keygen -o key 2>keygen.err &&
	test "$(stat -c %a key)" = 600 &&
	grep -Eqx "srdf-key-v1 [0-9a-f]{16} [0-9a-f]{64}" key &&
	test "$(wc -c <key)" = 94 &&
	cp key key.orig &&
	test_expect_code 73 srdf-keygen -o key 2>err &&
	grep -q "exists" err &&
	cmp key key.orig
'

test_expect_success 'srdf-keygen >file: refused when others can read the file, else made 0600 before the key is written; the key is nowhere else' '
	(umask 022 && test_expect_code 73 srdf-keygen >key0 2>keygen0.err) &&
	grep -q "standard output is a file group or others can read (mode 0644).*srdf-keygen -o" keygen0.err &&
	test ! -s key0 &&
	(umask 027 && test_expect_code 73 srdf-keygen >key1 2>/dev/null) && test ! -s key1 &&
	(umask 077 && srdf-keygen >key2 2>keygen2.err) &&
	test "$(stat -c %a key2)" = 600 &&
	srdf-keygen 2>/dev/null | grep -Eqx "srdf-key-v1 [0-9a-f]{16} [0-9a-f]{64}" &&
	grep -Eqx "srdf-key-v1 [0-9a-f]{16} [0-9a-f]{64}" key2 &&
	! cmp -s key key2 &&
	secret=$(cut -d" " -f3 key) &&
	! grep -q "$secret" keygen.err keygen2.err &&
	grep -q "$(cut -d" " -f2 key)" keygen.err
'

test_expect_success 'seal two groups: two wagons, sequence 1 and 2' '
	mkgroups 100 1 >two.in &&
	mkgroups -g 2 -r ddl 101 1 >>two.in &&
	srdf-seal --dir "$D" --key-file key <two.in 2>seal.err &&
	(cd "$NEW" && ls) >actual &&
	printf "%s\n" 00000000000000000001.wagon 00000000000000000002.wagon >expect &&
	test_cmp expect actual &&
	test "$(stat -c %a "$w1")" = 600 &&
	test -z "$(ls "$D/outbox/tmp")"
'

test_expect_success 'one info line per wagon, and nothing on stdout' '
	test "$(grep -c "<6>\([0-9TZ:.-]* \)\?srdf-seal: sealed wagon [12] " seal.err)" = 2 &&
	grep -q "sealed wagon 2 (group 2 chunk 1, last): 0 events -> 0, .*GTID 0-1-101..0-1-101, position 0-1-101,1-2-9" seal.err &&
	srdf-seal --dir "$D" --key-file key </dev/null >stdout &&
	test ! -s stdout
'

test_expect_success 'no record in clear in the outbox' '
	! grep -rq "group_begin\|insert\|ALTER" "$D/outbox"
'

test_expect_success 'ledger: last_sealed_gtid is the last group'"'"'s gtid_pos; one record per wagon' '
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-101,1-2-9" &&
	ledger-meta "$D" source_id | grep -Eqx "[0-9a-f]{32}" &&
	ledger-wagons "$D" >wagons &&
	jq -r "[.seq, .state, .file, .chunk, .chunks, .last, .first_gtid, .last_gtid, .gtid_pos, .trx, .events_in, .events_out, .reason] | @tsv" wagons >actual &&
	printf "1\tsealed\t00000000000000000001.wagon\t1\t1\ttrue\t0-1-100\t0-1-100\t0-1-100,1-2-9\t1\t2\t2\twindow\n" >expect &&
	printf "2\tsealed\t00000000000000000002.wagon\t1\t1\ttrue\t0-1-101\t0-1-101\t0-1-101,1-2-9\t1\t0\t0\tddl\n" >>expect &&
	test_cmp expect actual &&
	test "$(jq -s "map(.wagon_bytes)" wagons | jq -c .)" = "[$(stat -c %s "$w1"),$(stat -c %s "$w2")]" &&
	jq -e "(.sealed_at | type) == \"number\" and .sealed_at > 1700000000 and .attempts == 0" wagons >/dev/null
'

test_expect_success 'srdf-cat gives the input back byte for byte (a wagon, the spool)' '
	srdf-cat --key-file key "$w1" "$w2" >out1 &&
	cmp two.in out1 &&
	srdf-cat --key-file key "$D/outbox" >out2 &&
	cmp two.in out2 &&
	srdf-cat --key-file key "$NEW" >out3 &&
	cmp two.in out3
'

test_expect_success 'srdf-cat | jq works on the records' '
	srdf-cat --key-file key "$D/outbox" | jq -r "select(.type==\"ddl\") | .sql" >actual &&
	echo "ALTER TABLE t ADD c101 INT" >expect &&
	test_cmp expect actual
'

test_expect_success 'srdf-cat --header: every field, without the key' '
	srdf-cat --header "$D/outbox" >headers &&
	test "$(wc -l <headers)" = 2 &&
	jq -s -e --arg src "$(ledger-meta "$D" source_id)" --arg kid "$(cut -d" " -f2 key)" \
		--argjson raw1 "$(head -n 4 two.in | wc -c)" --argjson size1 "$(stat -c %s "$w1")" "
		.[0].seq == 1 and .[1].seq == 2 and
		.[0].file == \"$w1\" and
		all(.[]; .version == 2 and .chunk == 1 and .chunks == 1 and .last == true and
			.codec == \"zstd\" and .cipher == \"xchacha20poly1305-ietf\" and
			.source_id == \$src and .key_id == \$kid and .bootstrap == false and
			(.nonce | test(\"^[0-9a-f]{48}$\")) and (.sha256 | test(\"^[0-9a-f]{64}$\")) and
			(.created | test(\"^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}Z$\")) and
			.verified == \"checksum\") and
		.[0].ddl == false and .[1].ddl == true and .[0].flags == 1 and .[1].flags == 3 and
		.[0].first_gtid == \"0-1-100\" and .[0].last_gtid == \"0-1-100\" and
		.[1].first_gtid == \"0-1-101\" and
		.[0].events_in == 2 and .[0].events_out == 2 and .[1].events_in == 0 and
		.[0].raw_len == \$raw1 and .[0].wagon_bytes == \$size1 and
		.[0].wagon_bytes == 256 + .[0].comp_len + 16 + 32 and
		.[0].nonce != .[1].nonce
	" headers >/dev/null
'

test_expect_success 'srdf-cat --header: created and sha256 are those of the file' '
	sum=$(head -c -32 "$w1" | sha256sum | cut -d" " -f1) &&
	test "$(jq -r "select(.seq==1) | .sha256" headers)" = "$sum" &&
	us=$(jq -r "select(.seq==1) | .created_us" headers) &&
	test "$(jq -r "select(.seq==1) | .created" headers)" = \
		"$(date -u -d "@$((us / 1000000))" +%Y-%m-%dT%H:%M:%S).$(printf %06d $((us % 1000000)))Z" &&
	sealed_at=$(jq -r "select(.seq==1) | .sealed_at" wagons) &&
	test "${sealed_at%%.*}" = "$((us / 1000000))"
'

test_expect_success 'srdf-cat --header with the key: authenticated' '
	srdf-cat --key-file key --header "$w1" | jq -e ".verified == \"authenticated\"" >/dev/null
'

test_expect_success 're-sealing srdf-cat'"'"'s output in another directory gives the same records' '
	srdf-cat --key-file key "$D/outbox" | srdf-seal --dir "$PWD/d2" --key-file key &&
	srdf-cat --key-file key "$PWD/d2/outbox" >again &&
	cmp two.in again &&
	test "$(ledger-meta "$PWD/d2" last_sealed_gtid)" = "0-1-101,1-2-9" &&
	test "$(ledger-meta "$PWD/d2" source_id)" != "$(ledger-meta "$D" source_id)"
'

test_expect_success 'a second srdf-seal on the same directory exits 75 while one runs' '
	mkfifo fifo &&
	test_bg seal1 sh -c "exec srdf-seal --dir \"$D\" --key-file key <fifo" &&
	exec 8>fifo &&
	test_wait_until 10 "grep -q ready: seal1.err" &&
	test_expect_code 75 srdf-seal --dir "$D" --key-file key </dev/null 2>err &&
	grep -q "another srdf-seal holds $D/lock/srdf-seal" err
'

test_expect_success 'the running one seals on with sequence 3, and stops at end of input' '
	mkgroups -g 3 102 1 >&8 &&
	exec 8>&- &&
	wait "$(cat seal1.pid)" &&
	test -f "$NEW/00000000000000000003.wagon" &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-102,1-2-9"
'

test_expect_success 'the sequence goes on without a gap across runs' '
	mkgroups -g 4 103 2 | srdf-seal --dir "$D" --key-file key &&
	ledger-wagons "$D" | jq -r .seq >actual &&
	seq 5 >expect &&
	test_cmp expect actual &&
	(cd "$NEW" && ls) | sed "s/^0*//; s/.wagon$//" >actual &&
	test_cmp expect actual &&
	srdf-cat --header "$D/outbox" | jq -r .seq >actual &&
	test_cmp expect actual
'

test_expect_success 'a chunked group: chunk 1 is a wagon, but last_sealed_gtid stays' '
	mkgroups -c 2 -g 6 105 1 >chunked.in &&
	head -n 4 chunked.in | srdf-seal --dir "$D" --key-file key &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-104,1-2-9" &&
	srdf-cat --header "$NEW/00000000000000000006.wagon" |
		jq -e ".chunk == 1 and .chunks == 0 and .last == false and .flags == 0" >/dev/null &&
	ledger-wagons "$D" | jq -e "select(.seq == 6) | .chunk == 1 and .chunks == 0 and .last == false" >/dev/null
'

test_expect_success 'chunk 2 (last) is the next wagon and moves last_sealed_gtid' '
	tail -n 4 chunked.in | srdf-seal --dir "$D" --key-file key &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-105,1-2-9" &&
	srdf-cat --header "$NEW/00000000000000000007.wagon" |
		jq -e ".chunk == 2 and .chunks == 2 and .last == true and .flags == 1" >/dev/null &&
	srdf-cat --key-file key "$NEW/00000000000000000006.wagon" "$NEW/00000000000000000007.wagon" >out &&
	cmp chunked.in out
'

test_expect_success 'both chunks in one run: two wagons, the position moves once' '
	mkgroups -c 3 -g 7 106 1 | srdf-seal --dir "$D" --key-file key 2>err &&
	test "$(grep -c "sealed wagon" err)" = 3 &&
	test "$(grep -c "position 0-1-106" err)" = 1 &&
	ledger-wagons "$D" | jq -r "select(.seq >= 8) | [.seq, .chunk, .chunks, .last] | @tsv" >actual &&
	printf "8\t1\t0\tfalse\n9\t2\t0\tfalse\n10\t3\t3\ttrue\n" >expect &&
	test_cmp expect actual &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-106,1-2-9"
'

test_expect_success 'the DDL flag comes from a ddl record, not from the reason' '
	mkgroups -g 20 300 1 | sed "s/\"reason\":\"window\"/\"reason\":\"ddl\"/" >rows-ddl.in &&
	grep -q "\"reason\":\"ddl\"" rows-ddl.in &&
	srdf-seal --dir "$PWD/d4" --key-file key <rows-ddl.in &&
	srdf-cat --header "$PWD/d4/outbox" | jq -e ".ddl == false and .flags == 1" >/dev/null
'

test_expect_success '--level: another zstd level, the same records' '
	mkgroups -g 8 107 20 >many.in &&
	srdf-seal --dir "$PWD/d3" --key-file key --level 19 <many.in &&
	srdf-cat --key-file key "$PWD/d3/outbox" | cmp many.in - &&
	test_expect_code 64 srdf-seal --dir "$PWD/d3" --key-file key --level 0 </dev/null &&
	test_expect_code 64 srdf-seal --dir "$PWD/d3" --key-file key --level 23 </dev/null
'

test_expect_success 'SIGTERM between groups: exit 0 at once, nothing lost from the ledger' '
	ledger_state "$D" >before &&
	test_bg seal2 sh -c "exec srdf-seal --dir \"$D\" --key-file key <fifo" &&
	exec 8>fifo &&
	test_wait_until 10 "grep -q ready: seal2.err" &&
	test_bg_stop seal2 &&
	exec 8>&- &&
	ledger_state "$D" >after &&
	test_cmp before after
'

test_expect_success 'SIGTERM inside a group: the group is sealed first, then exit 0' '
	test_bg seal3 sh -c "exec srdf-seal --dir \"$D\" --key-file key <fifo" &&
	exec 8>fifo &&
	pid=$(cat seal3.pid) &&
	test_wait_until 10 "grep -q ready: seal3.err" &&
	mkgroups -g 9 200 1 >g.in &&
	r0=$(sed -n "s/^rchar: //p" /proc/$pid/io) &&
	head -n 2 g.in >&8 &&
	test_wait_until 10 "test \$(sed -n \"s/^rchar: //p\" /proc/$pid/io) -ge $((r0 + $(head -n 2 g.in | wc -c)))" &&
	sleep 0.2 &&
	kill -TERM "$pid" &&
	sleep 0.2 &&
	test_pid_alive "$pid" &&
	tail -n +3 g.in >&8 &&
	wait "$pid" &&
	exec 8>&- &&
	grep -q "stopped by a signal after wagon 11" seal3.err &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-200,1-2-9" &&
	srdf-cat --key-file key "$NEW/00000000000000000011.wagon" | cmp g.in -
'

test_expect_success 'SIGTERM inside a group, then end of input: not sealed, exit 0' '
	ledger_state "$D" >before &&
	test_bg seal4 sh -c "exec srdf-seal --dir \"$D\" --key-file key <fifo" &&
	exec 8>fifo &&
	pid=$(cat seal4.pid) &&
	test_wait_until 10 "grep -q ready: seal4.err" &&
	mkgroups -g 10 201 1 | head -n 2 >g2.in &&
	r0=$(sed -n "s/^rchar: //p" /proc/$pid/io) &&
	cat g2.in >&8 &&
	test_wait_until 10 "test \$(sed -n \"s/^rchar: //p\" /proc/$pid/io) -ge $((r0 + $(wc -c <g2.in)))" &&
	sleep 0.2 &&
	kill -TERM "$pid" &&
	sleep 0.2 &&
	exec 8>&- &&
	wait "$pid" &&
	grep -q "stopped by a signal inside group 10 chunk 1, not sealed" seal4.err &&
	ledger_state "$D" >after &&
	test_cmp before after
'

test_expect_success '--help, --version, usage errors' '
	srdf-seal --help | grep -q "usage: srdf-seal" &&
	srdf-seal --version | grep -q "^srdf-seal [0-9]" &&
	srdf-cat --version | grep -q "^srdf-cat [0-9]" &&
	srdf-keygen --version | grep -q "^srdf-keygen [0-9]" &&
	srdf-keygen --help | grep -q "usage: srdf-keygen" &&
	srdf-cat --help | grep -q "usage: srdf-cat" &&
	test_expect_code 64 srdf-seal --dir "$D" </dev/null &&
	test_expect_code 64 srdf-seal --dir "$D" --key-file key extra </dev/null &&
	test_expect_code 64 srdf-cat "$w1" &&
	test_expect_code 64 srdf-cat --key-file key &&
	test_expect_code 64 srdf-keygen extra
'

test_done
