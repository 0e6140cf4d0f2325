# bench/rewind.sh — section "rewind" of bench/run (sourced in a subshell).
#
# srdf-rewind against srdf-apply on the same wagons: the recorded
# workload ($BENCH_RECORDS) is cut into wagons of at most 200 source
# transactions (srdf-dedup --max-events 200 | srdf-seal, untimed), as a
# live stream makes them.  The wagons up to the last one before the first
# sysbench oltp_write_only update (the schema and the prepare's inserts)
# are applied untimed; that is the point P.  Then, $BENCH_REPEAT times:
#
#   srdf-apply --once            the rest applied forward from P, the
#                                backlog merged (its default), and from
#                                the second run on also --merge-bytes 0:
#                                a transaction and checkpoint per wagon,
#                                as srdf-rewind commits
#   srdf-rewind --to P           the same wagons undone, newest group
#                                first, in batches of groups (its
#                                default), each row removed checked in
#                                every column (srdf-rewind(1))
#
# After each rewind the target's sbtest tables must equal their state at
# P, and after each forward apply the source's (CHECKSUM TABLE), or the
# section fails.  Row changes per second count the row records of the
# wagons undone (after folding), the same figure for both tools.  No
# target: the figure is for the notes beside srdf-apply's.

set -euo pipefail

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

rw=$BENCH_DIR/rewind
rm -rf "$rw"
mkdir -p "$rw/src" "$rw/dst/inbox/new"
bin/srdf-keygen -o "$rw/key" 2>/dev/null

bench_log "rewind: sealing the records into wagons"
bin/srdf-dedup --window 1s --max-events 200 <"$BENCH_RECORDS" 2>"$rw/dedup.err" |
	bin/srdf-seal --dir "$rw/src" --key-file "$rw/key" 2>"$rw/seal.err" ||
	{ tail -n 5 "$rw/dedup.err" "$rw/seal.err" >&2; bench_die "dedup | seal failed"; }
wagons=$(ls "$rw/src/outbox/new" | grep -c '\.wagon$')

# P: the wagon before the first that holds an update.
p=0
for f in "$rw/src/outbox/new/"*.wagon; do
	if bin/srdf-cat --key-file "$rw/key" "$f" | grep -q '"type":"update"'; then
		break
	fi
	p=$((p + 1))
done
[ "$p" -gt 0 ] && [ "$p" -lt "$wagons" ] || bench_die "rewind: no update in the wagons"
p_gtid=$(bin/srdf-cat --key-file "$rw/key" "$rw/src/outbox/new/$(printf '%020d.wagon' "$p")" |
	jq -r 'select(.type == "group_end") | .last_gtid')

tables=$(mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e \
	"SELECT GROUP_CONCAT(CONCAT('sbtest.', TABLE_NAME)) FROM
	 information_schema.TABLES WHERE TABLE_SCHEMA = 'sbtest'")
src_sum=$(mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e \
	"CHECKSUM TABLE $tables" | cut -f 2 | tr '\n' ' ')
target_sum() {
	dst_sql "CHECKSUM TABLE $tables" | cut -f 2 | tr '\n' ' '
}

dst_sql "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS srdf"
for i in $(seq 1 "$p"); do
	cp "$rw/src/outbox/new/$(printf '%020d.wagon' "$i")" "$rw/dst/inbox/new/"
done
bin/srdf-apply --dir "$rw/dst" --key-file "$rw/key" --defaults-file "$DST_CNF" \
	--once 2>"$rw/apply0.err" || bench_die "rewind: srdf-apply up to P failed"
p_sum=$(target_sum)
for i in $(seq $((p + 1)) "$wagons"); do
	cp "$rw/src/outbox/new/$(printf '%020d.wagon' "$i")" "$rw/dst/inbox/new/"
done

rows=
fw_wall= rw_wall= fw_cpu= rw_cpu= rw_rss=
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
# forward MERGE-BYTES: srdf-apply --once --merge-bytes MERGE-BYTES from
# P, checked; sets w and c.
forward() {
	out=$(bench_measure "$rw/apply.err" bin/srdf-apply --dir "$rw/dst" \
		--key-file "$rw/key" --defaults-file "$DST_CNF" --once \
		--merge-bytes "$1") ||
		{ tail -n 5 "$rw/apply.err" >&2; bench_die "srdf-apply run $i failed"; }
	read -r w r c <<<"$out"
	[ "$(target_sum)" = "$src_sum" ] || bench_die "srdf-apply run $i: the target differs from the source"
	bench_log "rewind: srdf-apply --merge-bytes $1 forward from P, run $i: ${w} s, cpu ${c} s"
}
one_wall= one_cpu=
for i in $(seq "$BENCH_REPEAT"); do
	if [ "$i" -gt 1 ]; then
		forward 0
		[ "$(best "$one_wall" "$w")" = "$w" ] && one_wall=$w one_cpu=$c
		bin/srdf-rewind --dir "$rw/dst" --key-file "$rw/key" --defaults-file "$DST_CNF" \
			--to "$p_gtid" 2>"$rw/rewind0.err" || bench_die "srdf-rewind failed"
	fi
	forward 128M
	[ "$(best "$fw_wall" "$w")" = "$w" ] && fw_wall=$w fw_cpu=$c
	if [ -z "$rows" ]; then
		bin/srdf-rewind --dir "$rw/dst" --key-file "$rw/key" --defaults-file "$DST_CNF" \
			--to "$p_gtid" --dry-run >"$rw/plan" 2>"$rw/plan.err" ||
			{ tail -n 5 "$rw/plan.err" >&2; bench_die "srdf-rewind --dry-run failed"; }
		rows=$(sed -n 's/.*), \([0-9]*\) row changes*$/\1/p' "$rw/plan" | awk '{ s += $1 } END { print s }')
	fi
	out=$(bench_measure "$rw/rewind.err" bin/srdf-rewind --dir "$rw/dst" \
		--key-file "$rw/key" --defaults-file "$DST_CNF" --to "$p_gtid") ||
		{ tail -n 5 "$rw/rewind.err" >&2; bench_die "srdf-rewind run $i failed"; }
	read -r w r c <<<"$out"
	[ "$(target_sum)" = "$p_sum" ] || bench_die "srdf-rewind run $i: the target differs from its state at P"
	bench_log "rewind: srdf-rewind back to P, run $i: ${w} s, ${r} KiB, cpu ${c} s"
	[ "$(best "$rw_wall" "$w")" = "$w" ] && rw_wall=$w rw_cpu=$c
	rw_rss=$r
done

fw_rps=$(bench_round "$rows / $fw_wall" 0)
one_rps=$(bench_round "$rows / ${one_wall:-0}" 0 2>/dev/null || echo "-")
rw_rps=$(bench_round "$rows / $rw_wall" 0)
groups=$((wagons - p))
bench_set rewind_wagons "$groups"
bench_set rewind_row_changes "$rows"
bench_set rewind_apply_rps "$fw_rps"
[ -z "$one_wall" ] || bench_set rewind_apply_unmerged_rps "$one_rps"
bench_set rewind_rewind_rps "$rw_rps"
bench_set rewind_rewind_rss_kib "$rw_rss"

printf '\n== rewind: %d wagons (%d row changes after folding) undone and applied again ==\n' "$groups" "$rows"
printf '%-28s %10s %12s %10s\n' tool "wall s" "rows/s" "cpu s"
printf '%-28s %10s %12s %10s\n' "srdf-apply (merged backlog)" "$fw_wall" "$fw_rps" "$fw_cpu"
[ -z "$one_wall" ] || printf '%-28s %10s %12s %10s\n' "srdf-apply --merge-bytes 0" "$one_wall" "$one_rps" "$one_cpu"
printf '%-28s %10s %12s %10s\n' "srdf-rewind --to P" "$rw_wall" "$rw_rps" "$rw_cpu"
