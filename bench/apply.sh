# bench/apply.sh — section "apply" of bench/run (sourced in a subshell).
#
# srdf-apply against its peers, on the target server of the pair: the
# whole recorded workload ($BENCH_RECORDS, schema DDL included) is cut
# into wagons twice (srdf-dedup | srdf-seal, untimed): "large" wagons as
# a catch-up after an outage makes them (--window 1s --max-bytes 16M:
# the folding is at its best), and "small" ones of at most 200 source
# transactions, as a live stream of a few hundred transactions a second
# makes them.  Then each applier replays the workload onto an empty
# target, $BENCH_REPEAT times, best wall time counting:
#
#   srdf-apply --once        the wagons, verified, decrypted, one
#                            transaction and checkpoint each
#   mariadb-binlog | mariadb the native replay of the same binlog
#                            (--read-from-remote-server), transaction by
#                            transaction
#   rec2sql | mariadb        the test suite's naive applier: one
#                            statement per row change
#
# Each run must leave the target's sbtest tables equal to the source's
# (CHECKSUM TABLE), or the section fails.  Targets, in source row
# changes per second against the mariadb-binlog replay: at least 3x with
# the large wagons (a catch-up), at least 1.5x with the small ones (one
# transaction and checkpoint per 200 source transactions); peak RSS
# under 256 MiB.
# Row changes per second count the source's row changes (before
# folding), so folding is part of what srdf-apply is credited with; the
# fold ratio is printed beside it.

set -euo pipefail

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

aw=$BENCH_DIR/apply
rm -rf "$aw"
mkdir -p "$aw"
bin/srdf-keygen -o "$aw/key" 2>/dev/null

# seal_set NAME DEDUP-OPTIONS...: the records as wagons in $aw/NAME/outbox
seal_set() {
	local name=$1
	shift
	mkdir -p "$aw/$name"
	bin/srdf-dedup "$@" <"$BENCH_RECORDS" 2>"$aw/$name.dedup.err" |
		bin/srdf-seal --dir "$aw/$name" --key-file "$aw/key" 2>"$aw/$name.seal.err" ||
		{ tail -n 5 "$aw/$name.dedup.err" "$aw/$name.seal.err" >&2; bench_die "dedup | seal failed"; }
}
bench_log "apply: sealing the records into wagons"
seal_set large --window 1s --max-bytes 16M
seal_set small --window 1s --max-events 200
for set in large small; do
	eval "${set}_wagons=\$(ls \"\$aw/\$set/outbox/new\" | grep -c '\\.wagon\$')"
	eval "${set}_bytes=\$(du -sb \"\$aw/\$set/outbox/new\" | cut -f 1)"
	eval "${set}_rows=\$(sed -n 's/.* row changes in, \\([0-9]*\\) out.*/\\1/p' \"\$aw/\$set.dedup.err\" | tail -n 1)"
done

# The tables the records create, and what the source holds in them.
tables=$(mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e \
	"SELECT GROUP_CONCAT(CONCAT('sbtest.', TABLE_NAME)) FROM
	 information_schema.TABLES WHERE TABLE_SCHEMA = 'sbtest'")
src_sum=$(mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e \
	"CHECKSUM TABLE $tables" | cut -f 2 | tr '\n' ' ')

# reset_target [SET]: an empty target; with SET, its wagons in the inbox
reset_target() {
	dst_sql "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS srdf" &&
	rm -rf "$aw/dst" && mkdir -p "$aw/dst/inbox/new" &&
	if [ $# = 1 ]; then cp "$aw/$1/outbox/new/"*.wagon "$aw/dst/inbox/new/"; fi
}

check_target() {
	local got
	got=$(dst_sql "CHECKSUM TABLE $tables" | cut -f 2 | tr '\n' ' ')
	[ "$got" = "$src_sum" ] || bench_die "$1: the target differs from the source (CHECKSUM TABLE $got, source $src_sum)"
}

# mariadb-binlog rejects the [client] option default-character-set that
# SRC_CNF carries (see capture.sh); the target takes the replay as root.
peer_cnf=$BENCH_DIR/peer.cnf
(umask 077 && grep -v '^default-character-set' "$SRC_CNF" >"$peer_cnf")
binlog_replay() {
	mariadb-binlog --defaults-file="$peer_cnf" --read-from-remote-server \
		--to-last-log "$BENCH_FIRST_BINLOG" |
		mariadb --defaults-file="$DST_ADMIN_CNF"
}
rec2sql_replay() {
	t/helpers/rec2sql <"$BENCH_RECORDS" | mariadb --defaults-file="$DST_ADMIN_CNF"
}

best_wall() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}
max_int() {
	if [ -z "$1" ] || [ "$2" -gt "$1" ]; then echo "$2"; else echo "$1"; fi
}

large_wall= small_wall= app_rss= large_cpu= small_cpu= bl_wall= r2s_wall=
for i in $(seq "$BENCH_REPEAT"); do
	for set in large small; do
		reset_target $set
		out=$(bench_measure "$aw/apply.err" bin/srdf-apply --dir "$aw/dst" \
			--key-file "$aw/key" --defaults-file "$DST_CNF" --once) ||
			{ tail -n 5 "$aw/apply.err" >&2; bench_die "srdf-apply run $i failed"; }
		read -r w r c <<<"$out"
		check_target "srdf-apply ($set wagons) run $i"
		bench_log "srdf-apply, $set wagons run $i: ${w} s, ${r} KiB, cpu ${c} s"
		eval "best=\$${set}_wall"
		if [ "$(best_wall "$best" "$w")" = "$w" ]; then
			eval "${set}_wall=$w ${set}_cpu=$c"
		fi
		app_rss=$(max_int "$app_rss" "$r")
	done

	reset_target
	t0=$EPOCHREALTIME
	binlog_replay 2>"$aw/binlog.err" ||
		{ tail -n 5 "$aw/binlog.err" >&2; bench_die "mariadb-binlog | mariadb run $i failed"; }
	w=$(bench_calc "$EPOCHREALTIME - $t0")
	check_target "mariadb-binlog | mariadb run $i"
	bench_log "mariadb-binlog | mariadb run $i: ${w} s"
	bl_wall=$(best_wall "$bl_wall" "$w")

	reset_target
	t0=$EPOCHREALTIME
	rec2sql_replay 2>"$aw/rec2sql.err" ||
		{ tail -n 5 "$aw/rec2sql.err" >&2; bench_die "rec2sql | mariadb run $i failed"; }
	w=$(bench_calc "$EPOCHREALTIME - $t0")
	check_target "rec2sql | mariadb run $i"
	bench_log "rec2sql | mariadb run $i: ${w} s"
	r2s_wall=$(best_wall "$r2s_wall" "$w")
done

n=$BENCH_ROW_CHANGES
bl_rps=$(bench_round "$n / $bl_wall" 0)
r2s_rps=$(bench_round "$n / $r2s_wall" 0)
for set in large small; do
	eval "wall=\$${set}_wall wagons=\$${set}_wagons rows=\$${set}_rows"
	eval "${set}_rps=$(bench_round "$n / $wall" 0)"
	eval "${set}_wps=$(bench_round "$wagons / $wall" 1)"
	eval "${set}_applied_rps=$(bench_round "${rows:-$n} / $wall" 0)"
	eval "${set}_ratio=$(bench_round "$n / $wall / $bl_rps" 2)"
	eval "${set}_fold=$(bench_round "${rows:-$n} / $n" 2)"
done
large_met=$(awk -v r="$large_ratio" 'BEGIN { print (r >= 3) ? 1 : 0 }')
small_met=$(awk -v r="$small_ratio" 'BEGIN { print (r >= 1.5) ? 1 : 0 }')
rss_met=$((app_rss < 262144 ? 1 : 0))

# results.json keys: apply_{large,small}_<figure with its unit>
for set in large small; do
	for k in wagons:wagons bytes:wagon_bytes rows:rows_after_fold \
		wall:wall_s cpu:cpu_s rps:rows_per_s wps:wagons_per_s \
		applied_rps:applied_rows_per_s; do
		eval "v=\${${set}_${k%%:*}:-0}"
		bench_set "apply_${set}_${k#*:}" "$v"
	done
done
bench_set apply_peak_rss_kib "$app_rss"
bench_set binlog_replay_wall_s "$bl_wall"
bench_set binlog_replay_rows_per_s "$bl_rps"
bench_set rec2sql_replay_wall_s "$r2s_wall"
bench_set rec2sql_replay_rows_per_s "$r2s_rps"

echo "apply: $n source row changes onto an empty target"
printf '  %-30s %8s %8s %10s %10s %9s\n' applier wagons "wall s" "rows/s" \
	"applied/s" "vs binlog"
for set in large small; do
	eval "printf '  %-30s %8s %8s %10s %10s %9s\\n' \"srdf-apply, $set wagons\" \
		\$${set}_wagons \$${set}_wall \$${set}_rps \$${set}_applied_rps \$${set}_ratio'x'"
done
printf '  %-30s %8s %8s %10s %10s %9s\n' "mariadb-binlog | mariadb" - "$bl_wall" \
	"$bl_rps" "$bl_rps" 1.00x
printf '  %-30s %8s %8s %10s %10s %9s\n' "rec2sql | mariadb" - "$r2s_wall" \
	"$r2s_rps" "$r2s_rps" "$(bench_round "$r2s_rps / $bl_rps" 2)x"
echo "  rows/s: source row changes per second; applied/s: after folding" \
	"(large wagons keep $large_fold of them, small $small_fold)"
echo "  srdf-apply: $large_wps large, $small_wps small wagons/s; peak RSS $app_rss KiB"
bench_target "srdf-apply (large wagons) >= 3x binlog" "$large_met" "${large_ratio}x"
bench_target "srdf-apply (small wagons) >= 1.5x binlog" "$small_met" "${small_ratio}x"
bench_target "srdf-apply peak RSS < 256 MiB" "$rss_met" "$app_rss KiB"
