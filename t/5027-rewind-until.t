#!/bin/bash
test_description='srdf-rewind with srdf-apply --until inside split groups: a rewind cut inside a group is resumed by srdf-apply from its part, and a checkpoint srdf-apply --until left inside a group is undone from there; each state equals the source'\''s at that transaction'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf-apply --help 2>&1 | grep -q -- --until ||
	skip_all "srdf-apply has no --until (srdf.applied.part) in this build"
srdf_servers_start

gtid() { src_sql "SELECT @@gtid_binlog_pos"; }
sum() { src_sql "CHECKSUM TABLE r.k, r.n" | cut -f2; }
dst_sum() { dst_sql "CHECKSUM TABLE r.k, r.n" | cut -f2; }
rewind() {
	srdf-rewind --dir "$D" --key-file key --defaults-file "$DST_CNF" --to "$@"
}

test_expect_success 'setup: a split group of four transactions, applied; the source state after each' '
	apply_setup &&
	src_sql "CREATE DATABASE r; CREATE TABLE r.k (id INT PRIMARY KEY, v VARCHAR(10));
		CREATE TABLE r.n (a INT, s VARCHAR(10));
		INSERT INTO r.k VALUES (1, \"a\"), (2, \"b\"), (3, \"c\"); INSERT INTO r.n VALUES (1, \"x\"), (1, \"x\")" &&
	seal_new --max-events 1 && deliver && apply_once &&
	gtid >p0 && sum >s0 &&
	src_sql "UPDATE r.k SET v = \"x\" WHERE id = 1" && gtid >p1 && sum >s1 &&
	src_sql "DELETE FROM r.n LIMIT 1" && gtid >p2 && sum >s2 &&
	src_sql "INSERT INTO r.k VALUES (4, \"d\")" && gtid >p3 && sum >s3 &&
	src_sql "DELETE FROM r.k WHERE id = 2" && sum >s4 &&
	seal_new && deliver && apply_once && n=$(wagon_count) &&
	srdf-cat --key-file key "$D/inbox/cur/$(wagon_name $n)" |
		jq -e "select(.type == \"group_end\") | .split == true and .trx == 4" &&
	checksum_both r.k r.n
'

test_expect_success 'a rewind cut after the second transaction; srdf-apply resumes from part 2' '
	n=$(wagon_count) &&
	rewind "$(cat p2)" 2>err &&
	grep "rewound from wagon $n (GTID .*) to wagon $((n - 1)) part 2 (GTID $(cat p2))" err &&
	dst_sum >now && test_cmp s2 now &&
	test "$(dst_sql "SELECT seq, part, last_gtid FROM srdf.applied")" = "$((n - 1))	2	$(cat p2)" &&
	apply_once && checksum_both r.k r.n &&
	test "$(dst_sql "SELECT seq, part FROM srdf.applied")" = "$n	0"
'

test_expect_success 'srdf-apply --until inside the group, then rewinds from that part: to part 1, then before the group' '
	n=$(wagon_count) &&
	rewind "$(cat p0)" 2>err && dst_sum >now && test_cmp s0 now &&
	apply_once --until "$(cat p3)" &&
	test "$(dst_sql "SELECT seq, part FROM srdf.applied")" = "$((n - 1))	3" &&
	dst_sum >now && test_cmp s3 now &&
	rewind "$(cat p1)" --dry-run >plan 2>err &&
	grep "^checkpoint: wagon $((n - 1)) part 3 (GTID $(cat p3)); back to wagon $((n - 1)) part 1 (GTID $(cat p1)), 1 group undone" plan &&
	rewind "$(cat p1)" 2>err &&
	dst_sum >now && test_cmp s1 now &&
	test "$(dst_sql "SELECT seq, part, last_gtid FROM srdf.applied")" = "$((n - 1))	1	$(cat p1)" &&
	rewind "$(cat p0)" 2>err &&
	dst_sum >now && test_cmp s0 now &&
	test "$(dst_sql "SELECT seq, part, last_gtid FROM srdf.applied")" = "$((n - 1))	0	$(cat p0)" &&
	apply_once && checksum_both r.k r.n
'

test_done
