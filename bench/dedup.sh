# bench/dedup.sh — section "dedup" of bench/run (sourced in a subshell).
#
# srdf-dedup over the recorded workload ($BENCH_RECORDS: the sysbench
# prepare's bulk inserts, then oltp_write_only transactions), read from
# a file, $BENCH_REPEAT times each, best wall time counting:
#
#   default   srdf-dedup with its defaults (--window 1s): the speed figure.
#             The window is wall-clock time, so on a file read at full
#             speed it cuts groups by dedup's own pace, not the source's.
#   live      --window 1h --max-events N, N the row changes of one second
#             of the sysbench run (its transactions/s times row changes
#             per transaction): the groups a live source at that rate
#             would get from the default 1 s window, so the fold ratio
#             printed is the one of a live pipeline.  Deterministic.
#
# Rows/s counts the input's row changes.  Target: srdf-dedup at least as
# fast as srdf-capture (its rows/s from the capture section, run first,
# or from bench/results.json); peak RSS is reported, not judged.

set -euo pipefail

dd_err=$BENCH_DIR/dedup.err
[ -x bin/srdf-dedup ] || bench_die "bin/srdf-dedup is not built (make)"

# Row changes per second of the sysbench run, from its log.
tps=$(sed -n 's/^ *transactions: .*(\([0-9.]*\) per sec.)/\1/p' "$BENCH_DIR/sysbench-run.log" 2>/dev/null || :)
# oltp_write_only: 4 row changes a transaction (2 updates, a delete, an
# insert).
per_trx=4
if [ -n "$tps" ]; then
	live_events=$(bench_round "$tps * $per_trx" 0)
else
	bench_log "no sysbench run log; assuming 4000 row changes a second"
	live_events=4000
fi
[ "$live_events" -ge 1 ] || live_events=1

best_wall() { # current best, new
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}
max_int() {
	if [ -z "$1" ] || [ "$2" -gt "$1" ]; then echo "$2"; else echo "$1"; fi
}

# measure NAME DEDUP-OPTIONS...: sets NAME_wall, NAME_rss, NAME_cpu.
measure() {
	local name=$1 i out w r c wall= rss= cpu=
	shift
	for i in $(seq "$BENCH_REPEAT"); do
		out=$(bench_measure "$dd_err" bin/srdf-dedup "$@" <"$BENCH_RECORDS") &&
			grep -q "end of input: .* $BENCH_TRANSACTIONS transactions, $BENCH_ROW_CHANGES row changes in" "$dd_err" ||
			{ cat "$dd_err" >&2; bench_die "srdf-dedup $* run $i failed"; }
		read -r w r c <<<"$out"
		bench_log "srdf-dedup $name run $i: ${w} s, ${r} KiB, cpu ${c} s"
		[ "$(best_wall "$wall" "$w")" != "$w" ] || { wall=$w; cpu=$c; }
		rss=$(max_int "$rss" "$r")
	done
	printf -v "${name}_wall" '%s' "$wall"
	printf -v "${name}_rss" '%s' "$rss"
	printf -v "${name}_cpu" '%s' "$cpu"
}

measure default
measure live --window 1h --max-events "$live_events"

# The fold ratio of the live grouping (untimed).
bin/srdf-dedup --window 1h --max-events "$live_events" <"$BENCH_RECORDS" 2>/dev/null |
	grep '^{"v":1,"type":"group_end"' |
	jq -r '[.events_in, .events_out, .trx] | @tsv' |
	awk '{ i += $1; o += $2; t += $3; g++ } END { print g + 0, i + 0, o + 0, t + 0 }' \
		>"$BENCH_DIR/dedup-fold"
read -r groups ev_in ev_out trx <"$BENCH_DIR/dedup-fold"
[ "$ev_in" = "$BENCH_ROW_CHANGES" ] && [ "$trx" = "$BENCH_TRANSACTIONS" ] ||
	bench_die "the live grouping counted $ev_in row changes in $trx transactions, not $BENCH_ROW_CHANGES in $BENCH_TRANSACTIONS"

n=$BENCH_ROW_CHANGES
def_rps=$(bench_round "$n / $default_wall" 0)
live_rps=$(bench_round "$n / $live_wall" 0)
fold_pct=$(bench_round "100 * ($ev_in - $ev_out) / $ev_in" 1)
record_mibps=$(bench_round "$(stat -c %s "$BENCH_RECORDS") / $default_wall / 1048576" 1)
cap_rps=$(jq -r '.capture_rows_per_s // empty' "$BENCH_RESULTS" 2>/dev/null || :)
if [ -n "$cap_rps" ]; then
	speed_met=$(awk -v a="$def_rps" -v b="$cap_rps" 'BEGIN { print (a >= b) ? 1 : 0 }')
	speed_text="$def_rps vs srdf-capture $cap_rps rows/s ($(bench_round "$def_rps / $cap_rps" 2)x)"
else
	speed_met=0
	speed_text="$def_rps rows/s; no srdf-capture figure (run the capture section)"
fi

bench_set dedup_wall_s "$default_wall"
bench_set dedup_rows_per_s "$def_rps"
bench_set dedup_record_mib_per_s "$record_mibps"
bench_set dedup_cpu_s "$default_cpu"
bench_set dedup_peak_rss_kib "$default_rss"
bench_set dedup_live_max_events "$live_events"
bench_set dedup_live_wall_s "$live_wall"
bench_set dedup_live_rows_per_s "$live_rps"
bench_set dedup_live_peak_rss_kib "$live_rss"
bench_set dedup_live_groups "$groups"
bench_set dedup_live_events_in "$ev_in"
bench_set dedup_live_events_out "$ev_out"
bench_set dedup_live_folded_pct "$fold_pct"
bench_set dedup_target_speed_met "$([ "$speed_met" = 1 ] && echo true || echo false)"

row() {
	printf '%-24s %16s %16s\n' "$@"
}
echo "dedup: the whole record stream ($n row changes, $BENCH_TRANSACTIONS transactions) from a file"
row figure "default (1s)" "live (${live_events} ev)"
row "best wall time (s)" "$default_wall" "$live_wall"
row "rows/s" "$def_rps" "$live_rps"
row "CPU user+sys (s)" "$default_cpu" "$live_cpu"
row "peak RSS (KiB)" "$default_rss" "$live_rss"
echo "live grouping: --max-events $live_events = 1 s of the sysbench run (${tps:-?} trx/s x $per_trx);"
echo "  $groups groups, $ev_in row changes in, $ev_out out: $fold_pct % folded away"
echo "targets:"
bench_target "srdf-dedup >= srdf-capture rows/s" "$speed_met" "$speed_text"
