#!/bin/bash
test_description='srdf-cat refuses every damaged, forged, truncated or foreign wagon with its own reason; srdf-seal refuses bad input and seals nothing of it'
. "$(dirname "$0")/lib.sh"

D=$PWD/state
NEW=$D/outbox/new
w1=$NEW/00000000000000000001.wagon
w2=$NEW/00000000000000000002.wagon

# snapshot NAME: what srdf-seal may change (the outbox's new/ and the
# ledger), to compare before and after a refusal.
snapshot() {
	{ (cd "$NEW" && ls -l --time-style=+%s.%N) &&
	  ledger-wagons "$D" && ledger-meta "$D" last_sealed_gtid; } >"$1"
}

# refused CODE MESSAGE FILE...: srdf-cat exits CODE, prints nothing, and
# says MESSAGE (a grep -E pattern) about the first FILE.
refused() {
	local code=$1 msg=$2 ec=0
	shift 2
	srdf-cat --key-file key "$@" >refused.out 2>refused.err || ec=$?
	if [ $ec != "$code" ] || [ -s refused.out ] ||
		! grep -Eq "srdf-cat: $1: ($msg)" refused.err; then
		echo "refused: exit $ec (want $code), stderr:" >&2
		cat refused.err >&2
		return 1
	fi
}

test_expect_success 'setup: keys, two wagons, two wagons of equal length, a DDL wagon' '
	srdf-keygen -o key &&
	srdf-keygen -o other &&
	mkgroups 100 2 >two.in &&
	srdf-seal --dir "$D" --key-file key <two.in &&
	test -f "$w2" &&
	{ mkgroups 100 1 && mkgroups 100 1; } | srdf-seal --dir "$PWD/same" --key-file key &&
	s1=$PWD/same/outbox/new/00000000000000000001.wagon &&
	s2=$PWD/same/outbox/new/00000000000000000002.wagon &&
	test "$(stat -c %s "$s1")" = "$(stat -c %s "$s2")" &&
	cp "$s1" same1 && cp "$s2" same2 &&
	mkgroups -r ddl 5 1 | srdf-seal --dir "$PWD/same" --key-file key &&
	cp "$PWD/same/outbox/new/00000000000000000003.wagon" ddl
'

test_expect_success 'a flipped bit at every byte of a wagon: exit 65, nothing printed, checksum mismatch' '
	size=$(stat -c %s "$w1") &&
	test "$size" -gt 500 &&
	for i in $(seq 0 $((size - 1))); do
		cp "$w1" x &&
		wagon-edit flip x $i $((1 << (i % 8))) &&
		if [ $i -ge 168 ] && [ $i -lt 176 ]; then
			# comp_len: the length check comes before the checksum
			refused 65 "truncated|bad header: the file has" x
		else
			refused 65 "checksum mismatch" x
		fi || { echo "byte $i" >&2; return 1; }
	done
'

test_expect_success 'every header byte changed and the checksum recomputed: never accepted' '
	for i in $(seq 0 255); do
		cp "$w1" x &&
		wagon-edit flip x $i 0x10 &&
		wagon-edit resum x &&
		refused 65 "." x || { echo "byte $i" >&2; return 1; }
	done
'

test_expect_success 'a header field changed, the checksum recomputed: the reason names it' '
	while read -r off mask msg; do
		cp "$w1" x &&
		wagon-edit flip x $off $mask &&
		wagon-edit resum x &&
		refused 65 "$msg" x || { echo "at $off" >&2; return 1; }
	done <<-\EOF
	0 0x20 not a wagon file
	8 0x01 unknown wagon format version 3
	8 0x02 unknown wagon format version 0
	8 0x03 authentication failed
	10 0x02 bad header: unknown codec 3
	11 0x04 bad header: unknown cipher 5
	12 0x10 bad header: unknown flags 0x10
	12 0x02 authentication failed
	16 0x01 authentication failed
	32 0x02 authentication failed
	40 0x01 bad header: chunk 0
	40 0x02 bad header: chunk 3 with chunk count 1
	44 0x01 bad header: chunk 1 with chunk count 0
	48 0x01 authentication failed
	48 0x20 bad header: first GTID holds a character
	56 0x31 bad header: first GTID has bytes after its NUL
	100 0x01 authentication failed
	144 0x01 authentication failed
	152 0x01 authentication failed
	160 0x01 authentication failed
	176 0x01 sealed with key id
	184 0x01 authentication failed
	207 0x80 authentication failed
	208 0x01 authentication failed
	216 0x01 bad header: reserved byte 216
	255 0x80 bad header: reserved byte 255
	EOF
'

test_expect_success 'payload and tag bytes changed, the checksum recomputed: authentication failed' '
	size=$(stat -c %s "$w1") &&
	for i in 256 257 300 $((size - 49)) $((size - 40)) $((size - 33)); do
		cp "$w1" x &&
		wagon-edit flip x $i 0x80 &&
		wagon-edit resum x &&
		refused 65 "authentication failed: the header or payload was altered or swapped" x ||
			{ echo "byte $i" >&2; return 1; }
	done
'

test_expect_success 'headers swapped between two wagons, checksums recomputed: authentication failed' '
	cp same1 a && cp same2 b &&
	wagon-edit swap-headers a b &&
	refused 65 "authentication failed" a &&
	refused 65 "authentication failed" b &&
	srdf-cat --header a | jq -e ".seq == 2" >/dev/null
'

test_expect_success 'headers swapped between wagons of different lengths: refused too' '
	cp "$w1" a && cp ddl b &&
	test "$(stat -c %s a)" != "$(stat -c %s b)" &&
	wagon-edit swap-headers a b &&
	refused 65 "truncated|bad header" a &&
	refused 65 "truncated|bad header" b
'

test_expect_success 'another key: both key ids named' '
	test_expect_code 65 srdf-cat --key-file other "$w1" >out 2>err &&
	test ! -s out &&
	grep -q "srdf-cat: $w1: sealed with key id $(cut -d" " -f2 key), the key file holds $(cut -d" " -f2 other)" err
'

test_expect_success 'truncated wagons: truncated' '
	head -c -1 "$w1" >t1 &&
	refused 65 "truncated: [0-9]+ bytes, the header says" t1 &&
	head -c 300 "$w1" >t2 &&
	refused 65 "truncated: 300 bytes, less than the smallest wagon" t2 &&
	head -c 8 "$w1" >t3 &&
	refused 65 "truncated" t3 &&
	cp "$w1" t4 && echo >>t4 &&
	refused 65 "bad header: the file has" t4
'

test_expect_success 'files that are not wagons: not a wagon file' '
	echo hello >hello &&
	refused 65 "not a wagon file \\(no SRDFWAG1 magic\\)" hello &&
	: >empty &&
	refused 65 "not a wagon file" empty &&
	head -c 1000 /dev/urandom >random &&
	refused 65 "not a wagon file" random &&
	cp key keycopy && chmod 600 keycopy &&
	refused 65 "not a wagon file" keycopy
'

test_expect_success 'a bad wagon among good ones: the good ones printed, one line for the bad, exit 65' '
	cp "$w1" x && wagon-edit flip x 400 &&
	test_expect_code 65 srdf-cat --key-file key "$w1" x "$w2" >out 2>err &&
	cmp two.in out &&
	test "$(wc -l <err)" = 1 &&
	grep -q "srdf-cat: x: checksum mismatch" err
'

test_expect_success 'a bad wagon in a spool: the others printed, exit 65' '
	mkdir -p spool/new &&
	cp "$w1" spool/new/ && cp "$w2" spool/new/ &&
	cp "$w1" x && wagon-edit flip x 500 &&
	cp x spool/new/00000000000000000003.wagon &&
	test_expect_code 65 srdf-cat --key-file key spool >out 2>err &&
	cmp two.in out &&
	grep -q "spool/new/00000000000000000003.wagon: checksum mismatch" err
'

test_expect_success 'an operand that cannot be opened: exit 66, the others printed' '
	test_expect_code 66 srdf-cat --key-file key "$w1" nosuch "$w2" >out 2>err &&
	cmp two.in out &&
	grep -q "srdf-cat: nosuch: cannot open: No such file" err
'

test_expect_success 'a key file readable by others: exit 78, chmod 600 said' '
	cp key loose && chmod 644 loose &&
	test_expect_code 78 srdf-cat --key-file loose "$w1" >out 2>err &&
	test ! -s out &&
	grep -q "chmod 600 loose" err &&
	! grep -q "$(cut -d" " -f3 key)" err &&
	printf "srdf-key-v1 nonsense\n" >malformed && chmod 600 malformed &&
	test_expect_code 78 srdf-cat --key-file malformed "$w1" 2>err &&
	grep -q "is not 1 to 8 lines" err
'

# ---- srdf-seal: bad input seals nothing ------------------------------

# seal_refuses PATTERN: srdf-seal, fed from the file bad.in, exits 65,
# says PATTERN, and changes neither new/ nor the ledger.
seal_refuses() {
	snapshot before &&
	test_expect_code 65 srdf-seal --dir "$D" --key-file key <bad.in 2>err &&
	grep -Eq "srdf-seal: .*$1" err &&
	snapshot after &&
	test_cmp before after &&
	test -z "$(ls "$D/outbox/tmp")"
}

test_expect_success 'seal: a truncated last line' '
	mkgroups -g 3 102 1 | head -c -1 >bad.in &&
	seal_refuses "stdin:4: truncated record.*nothing sealed"
'

test_expect_success 'seal: a malformed line' '
	mkgroups -g 3 102 1 | sed "2s/}\$/,/" >bad.in &&
	seal_refuses "stdin:2:[0-9]+: malformed record"
'

test_expect_success 'seal: an unclosed group at end of input' '
	mkgroups -g 3 102 1 | head -n 3 >bad.in &&
	seal_refuses "stdin: end of input inside group 3 chunk 1 \\(begun on line 1\\): group 3 truncated, nothing sealed"
'

test_expect_success 'seal: a record outside a group' '
	mkgroups -g 3 102 1 | tail -n +2 >bad.in &&
	seal_refuses "stdin:1: a \"insert\" record outside a group"
'

test_expect_success 'seal: a group_end of another group' '
	mkgroups -g 3 102 1 | sed "4s/\"group\":3/\"group\":4/" >bad.in &&
	seal_refuses "stdin:4: group_end does not close the open group; nothing sealed from group 3"
'

test_expect_success 'seal: a group_begin inside a group' '
	{ mkgroups -g 3 102 1 | head -n 2 && mkgroups -g 4 103 1; } >bad.in &&
	seal_refuses "stdin:3: group_begin inside the open group"
'

test_expect_success 'seal: a group_end without gtid_pos, or with a bad GTID' '
	mkgroups -g 3 102 1 | sed "4s/\"gtid_pos\":\"[^\"]*\",//" >bad.in &&
	seal_refuses "without a valid \"gtid_pos\"" &&
	mkgroups -g 3 102 1 | sed "4s/\"last_gtid\":\"[^\"]*\"/\"last_gtid\":\"0-1-x\"/" >bad.in &&
	seal_refuses "without a valid \"first_gtid\" and \"last_gtid\""
'

test_expect_success 'seal: a GTID of the right characters but not domain-server-seq, or out of range' '
	mkgroups -g 3 102 1 | sed "4s/\"last_gtid\":\"[^\"]*\"/\"last_gtid\":\"0-102\"/" >bad.in &&
	seal_refuses "stdin:4: group_end without a valid \"first_gtid\" and \"last_gtid\"" &&
	mkgroups -g 3 102 1 | sed "4s/\"last_gtid\":\"[^\"]*\"/\"last_gtid\":\"0-1-102,1-2-9\"/" >bad.in &&
	seal_refuses "stdin:4: group_end without a valid \"first_gtid\" and \"last_gtid\"" &&
	mkgroups -g 3 102 1 | sed "4s/\"last_gtid\":\"[^\"]*\"/\"last_gtid\":\"4294967296-1-102\"/" >bad.in &&
	seal_refuses "stdin:4: group_end without a valid \"first_gtid\" and \"last_gtid\"" &&
	mkgroups -g 3 102 1 | sed "1s/\"first_gtid\":\"[^\"]*\"/\"first_gtid\":\"0--102\"/" >bad.in &&
	seal_refuses "stdin:1: group_begin with a bad \"first_gtid\""
'

test_expect_success 'seal: an unknown record version' '
	mkgroups -g 3 102 1 | sed "2s/\"v\":1/\"v\":2/" >bad.in &&
	seal_refuses "stdin:2: unknown record version"
'

test_expect_success 'seal: a good group, then a truncated one: the first is sealed, not the second' '
	{ mkgroups -g 3 102 1 && mkgroups -g 4 103 1 | head -c -1; } >bad.in &&
	test_expect_code 65 srdf-seal --dir "$D" --key-file key <bad.in 2>err &&
	grep -q "stdin:8: truncated record" err &&
	(cd "$NEW" && ls) >actual &&
	printf "%020d.wagon\n" 1 2 3 >expect &&
	test_cmp expect actual &&
	test "$(ledger-meta "$D" last_sealed_gtid)" = "0-1-102,1-2-9"
'

test_expect_success 'seal: a key file readable by others: exit 78, nothing changed' '
	snapshot before &&
	mkgroups -g 4 103 1 >good.in &&
	test_expect_code 78 srdf-seal --dir "$D" --key-file loose <good.in 2>err &&
	grep -q "chmod 600 loose" err &&
	snapshot after &&
	test_cmp before after
'

# t/data/wagon-v1.wagon was sealed by srdf 0.1 (format version 1, the
# pre-shared key itself as the AEAD key) under t/data/wagon-v1.key;
# t/data/wagon-v1.records is what srdf-cat printed of it then.
test_expect_success 'a version 1 wagon of srdf 0.1 still opens, to the same records' '
	cp "$top/t/data/wagon-v1.key" v1key && chmod 600 v1key &&
	srdf-cat --header "$top/t/data/wagon-v1.wagon" | jq -e ".version == 1" &&
	srdf-cat --key-file v1key "$top/t/data/wagon-v1.wagon" >v1.out &&
	test_cmp "$top/t/data/wagon-v1.records" v1.out
'

test_done
