#!/bin/bash
test_description='srdf-dedup: folded groups, each applied in one transaction, give the state of the raw stream (property test)'
. "$(dirname "$0")/lib.sh"

# FOLD_SEED and FOLD_CASES reproduce a run; a failure prints both and the
# databases (pf_N, one per case) that differ.  Durability is not under
# test: cheaper commits keep thousands of cases within the time budget.
seed=${FOLD_SEED:-1}
cases=${FOLD_CASES:-2000}
export SRDF_SOURCE_OPTS="--innodb-flush-log-at-trx-commit=0 --innodb-file-per-table=0"
export SRDF_TARGET_OPTS=$SRDF_SOURCE_OPTS
srdf_servers_start

test_expect_success "setup: $cases random cases from seed $seed run on the source" '
	python3 "$top/t/foldgen.py" "$seed" "$cases" . &&
	{ src_sql <schema.sql & pid=$!; } &&
	dst_sql <schema.sql &&
	wait $pid &&
	src_sql "SELECT @@gtid_binlog_pos" >start &&
	{ mariadb --defaults-file="$SRC_ADMIN_CNF" -N --force <dml.sql >dml.out 2>dml.err || :; } &&
	grep -q "foldgen: end of the cases" dml.out &&
	grep -q "Duplicate entry" dml.err &&
	grep -q "foreign key constraint fails" dml.err &&
	src_sql <checksum.sql >sum.src &&
	test "$(wc -l <sum.src)" = $((3 * cases))
'

# The raw stream: what the source did, every transaction in commit order.
test_expect_success 'srdf-capture reads the raw stream' '
	srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$(cat start)" \
		--until-end >records 2>capture.err &&
	test "$(grep -c "^{\"v\":1,\"type\":\"commit\"" records)" -gt $((10 * cases))
'

# grouping NAME DEDUP-OPTION...: the raw stream through srdf-dedup, each
# group applied in one transaction (rec2sql: net delta) to an emptied
# target, then CHECKSUM TABLE of every table against the source.
grouping() {
	local name=$1
	shift
	dst_sql <reset.sql &&
	SRDF_DEDUP_VERIFY=1 srdf-dedup --window 1h "$@" <records >groups.$name 2>dedup.$name.err &&
	rec2sql $REC2SQL_OPTS <groups.$name >apply.$name.sql 2>rec2sql.$name.err || return 1
	if ! dst_sql <apply.$name.sql; then
		echo "FOLD_SEED=$seed FOLD_CASES=$cases: srdf-dedup $*: the target refused the groups (the database is named above)"
		return 1
	fi
	dst_sql <checksum.sql >sum.$name || return 1
	if ! diff sum.src sum.$name >diff.$name; then
		echo "FOLD_SEED=$seed FOLD_CASES=$cases: srdf-dedup $*: these cases differ:"
		sed -n "s/^[<>] \(pf_[0-9]*\)\..*/\1/p" diff.$name | sort -u | head -n 20
		return 1
	fi
}

# events NAME: "groups events_in events_out chunked" over a grouping.
events() {
	jq -r "select(.type==\"group_end\") | [.events_in, .events_out, .chunk] | @tsv" groups.$1 |
		awk '{ i += $1; o += $2; if ($3 > 1) c++ } END { print NR, i, o, c + 0 }'
}

test_expect_success 'groups of at most 3 row changes (then the transaction boundary)' '
	grouping e3 --max-events 3
'

test_expect_success 'groups of 7 row changes' '
	grouping e7 --max-events 7
'

# Split groups cut at every trx record, each piece applied as a group of
# its own: the pieces are the states srdf-apply --until and srdf-rewind
# stop at, so each must be exact (srdf-dedup(1), "Transaction boundaries").
test_expect_success 'groups of 7 row changes cut at every boundary of a "split" group' '
	REC2SQL_OPTS=--split grouping s7 --max-events 7 &&
	cuts=$(sed -n "s/^rec2sql: \([0-9]*\) cuts$/\1/p" rec2sql.s7.err) &&
	split=$(jq -c "select(.type==\"group_end\" and .split and .trx > 1)" groups.s7 | wc -l) &&
	crossed=$(jq -c "select(.type==\"group_end\" and (.split | not))" groups.s7 | wc -l) &&
	echo "$split split groups of 2 transactions or more, $cuts cuts; $crossed not split" &&
	test "$split" -gt $((cases / 20)) && test "$cuts" -ge "$split" && test "$crossed" -gt 0
'

test_expect_success 'groups of 50 row changes: most folding' '
	grouping e50 --max-events 50
'

test_expect_success 'groups of 1 KiB: larger transactions stream as chunks' '
	grouping b1k --max-bytes 1K &&
	read -r n in out chunked < <(events b1k) &&
	test "$chunked" -gt $((cases / 40))
'

test_expect_success 'folding happened: fewer row changes out than in, more with larger groups' '
	read -r n3 in3 out3 c < <(events e3) &&
	read -r n50 in50 out50 c < <(events e50) &&
	echo "e3: $n3 groups, $in3 -> $out3; e50: $n50 groups, $in50 -> $out50" &&
	test "$in3" = "$(grep -cE "^\{\"v\":1,\"type\":\"(insert|update|delete)\"" records)" &&
	test "$in50" = "$in3" &&
	test "$out3" -lt "$in3" &&
	test "$out50" -lt "$out3" &&
	test "$n50" -lt "$n3"
'

test_done
