# bench/lag.sh — section "lag" of bench/run (sourced in a subshell).
#
# Replication lag under a steady load: the time from a source commit to
# its visibility on the target, through the live pipeline of
# examples/pipeline.sh (srdf-capture | srdf-dedup | srdf-seal, srdf-ship
# -> srdf-recv over HTTP on 127.0.0.1, srdf-apply, srdf-ackd), with
#
#   1. sysbench oltp_write_only --rate=200,  srdf-dedup's default 1 s window
#   2. sysbench oltp_write_only --rate=1000, the default 1 s window
#   3. sysbench oltp_write_only --rate=1000, srdf-dedup --window 100ms
#
# each for BENCH_LAG_SECONDS (default 20), --threads=8, on a database of
# its own (lagsb: 4 tables of 10000 rows, prepared through the pipeline).
# Between runs 2 and 3 only the source side is restarted, with the new
# window; srdf-capture resumes from the ledger.
#
# The probe: on the source, a stored procedure commits a heartbeat row
# every 50 ms, INSERT INTO lagbench.hb (ts) VALUES (SYSDATE(6)), one
# transaction each, in the same binlog as the load; on the target
# another one polls lagbench.hb every 10 ms (READ COMMITTED, no locks)
# and stamps each new row with SYSDATE(6) when it first sees it.  The lag
# of a heartbeat is seen - ts: the same host and clock, so no skew; the
# poll adds up to 10 ms.  Every heartbeat counts, not only the last of
# each wagon (rows are inserted, not updated, so srdf-dedup folds none of
# them away).  The heartbeat starts 1 s after the load and stops 1 s
# before it.  p50, p99, max by nearest rank.
#
# The load is asked for, not guaranteed: on a small host sysbench may not
# reach its rate beside the servers and the pipeline.  The achieved
# transactions/s (sysbench's own figure) is printed and kept beside each
# result.  Targets (the issue's): p99 <= 1.5 s at 1000 tps with the 1 s
# window, p99 <= 0.5 s at 1000 tps with the 100 ms window.
#
# Environment: BENCH_LAG_SECONDS (default 20), BENCH_LAG_THREADS (8).

set -euo pipefail

for t in capture dedup seal ship recv apply ackd keygen; do
	[ -x "bin/srdf-$t" ] || bench_die "bin/srdf-$t is not built (make)"
done
for t in hsign ledger-wagons; do
	[ -x "t/helpers/$t" ] || bench_die "t/helpers/$t is not built (make)"
done
command -v curl >/dev/null || bench_die "curl is not installed"

secs=${BENCH_LAG_SECONDS:-20}
threads=${BENCH_LAG_THREADS:-8}
case $secs$threads in
*[!0-9]*) bench_die "BENCH_LAG_SECONDS and BENCH_LAG_THREADS must be integers" ;;
esac
[ "$secs" -ge 5 ] || bench_die "BENCH_LAG_SECONDS must be at least 5"

lw=$BENCH_DIR/lag
# Other processes may share the CPUs; the load average says how much.
read -r load0 _ </proc/loadavg
rm -rf "$lw"
mkdir -p "$lw"
pipe=$lw/pipe

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

bg_pids=()
lag_cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	# The procedures run on in the servers after their clients are gone.
	for p in $(src_sql "SELECT ID FROM information_schema.PROCESSLIST
		WHERE INFO LIKE 'CALL lagbench.beat%'" 2>/dev/null); do
		src_sql "KILL $p" 2>/dev/null || true
	done
	for p in $(dst_sql "SELECT ID FROM information_schema.PROCESSLIST
		WHERE INFO LIKE 'CALL lagprobe.probe%'" 2>/dev/null); do
		dst_sql "KILL $p" 2>/dev/null || true
	done
	bench_pipe_stop "$pipe" >/dev/null 2>&1 || true
}
trap lag_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the probe's tables and procedures --------------------------------

dst_sql "DROP DATABASE IF EXISTS lagsb; DROP DATABASE IF EXISTS srdf" ||
	bench_die "cannot set up the probe on the target"
bench_hb_setup

# ---- the pipeline and the load's tables -------------------------------

src_sql "DROP DATABASE IF EXISTS lagsb"
start=$(src_sql "SELECT @@gtid_binlog_pos")
bench_pipe_start "$pipe"
bench_pipe_source "$pipe" --from-gtid "$start" --heartbeat 1
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK"
	--mysql-user=root --mysql-db=lagsb --tables=4 --table-size=10000)
bench_log "lag: preparing lagsb (4 x 10000 rows) through the pipeline"
src_sql "CREATE DATABASE lagsb"
"${sb[@]}" prepare >"$lw/prepare.log" 2>&1 ||
	{ tail -n 20 "$lw/prepare.log" >&2; bench_die "sysbench prepare failed"; }
bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 300

results=()
# lag_run NAME RATE WINDOW-LABEL: one measured run; keys lag_NAME_*
lag_run() {
	local name=$1 rate=$2 wlabel=$3 d=$lw/$1 pp sp bp t0 t1 n tps p50 p99 mx
	local wagons rows bytes seal_apply
	mkdir -p "$d"
	bench_log "lag: $name: sysbench --rate=$rate for $secs s, dedup window $wlabel"
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e \
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
		 CALL lagprobe.probe($((secs + 120)))" >"$d/probe.out" 2>"$d/probe.err" &
	pp=$!
	bg_pids+=("$pp")
	sleep 0.5
	t0=$EPOCHREALTIME
	"${sb[@]}" --threads="$threads" --rate="$rate" --time="$secs" \
		--report-interval=0 run >"$d/sysbench.log" 2>&1 &
	sp=$!
	bg_pids+=("$sp")
	sleep 1
	mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e \
		"CALL lagbench.beat($((secs - 2)))" >/dev/null 2>"$d/beat.err" &
	bp=$!
	bg_pids+=("$bp")
	wait "$bp" || { cat "$d/beat.err" >&2; bench_die "$name: the heartbeat failed"; }
	wait "$sp" || { tail -n 20 "$d/sysbench.log" >&2; bench_die "$name: sysbench run failed"; }
	wait "$pp" || { cat "$d/probe.err" >&2; bench_die "$name: the probe failed"; }
	t1=$EPOCHREALTIME
	# Level again before the next run.
	bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 300
	awk -F'\t' '$3 == 1 { d = 1 } { print $2 / 1e6 } END { exit !d }' "$d/probe.out" |
		sort -g >"$d/lag.s" || bench_die "$name: the probe did not see the last heartbeat"
	n=$(wc -l <"$d/lag.s")
	p50=$(bench_round "$(bench_pct "$d/lag.s" 0.50)" 3)
	p99=$(bench_round "$(bench_pct "$d/lag.s" 0.99)" 3)
	mx=$(bench_round "$(bench_pct "$d/lag.s" 1)" 3)
	tps=$(sed -n 's/^ *transactions: .*(\([0-9.]*\) per sec.)/\1/p' "$d/sysbench.log")
	# The wagons sealed during the run, from the two ledgers: how many,
	# their bytes per source row change, and the time from sealed to
	# applied (the rest of the lag is the window and capture).
	"$top/t/helpers/ledger-wagons" "$pipe/src" >"$d/src-wagons.json"
	"$top/t/helpers/ledger-wagons" "$pipe/dst" >"$d/dst-wagons.json"
	read -r wagons rows bytes seal_apply < <(jq -rn --argjson t0 "$t0" --argjson t1 "$t1" \
		--slurpfile s "$d/src-wagons.json" --slurpfile a "$d/dst-wagons.json" '
		($a | map({key: (.seq | tostring), value: .applied_at}) | from_entries) as $ap
		| [$s[] | select(.sealed_at >= $t0 and .sealed_at <= $t1)
			| . + {applied: $ap[.seq | tostring]}] as $w
		| [($w | length), ($w | map(.events_in) | add // 0),
		   ($w | map(.wagon_bytes) | add // 0),
		   ($w | map(.applied - .sealed_at) | if length > 0 then add / length else 0 end
			| . * 1000 | round / 1000)] | @tsv')
	bench_log "lag: $name: ${tps:-?} tps, $n heartbeats, p50 $p50 s, p99 $p99 s, max $mx s; $wagons wagons"
	local k=lag_$name
	bench_set "${k}_rate_tps" "$rate"
	bench_set "${k}_achieved_tps" "${tps:-0}"
	bench_set "${k}_samples" "$n"
	bench_set "${k}_p50_s" "$p50"
	bench_set "${k}_p99_s" "$p99"
	bench_set "${k}_max_s" "$mx"
	bench_set "${k}_wagons" "$wagons"
	bench_set "${k}_wagon_bytes_per_row" "$(bench_round "$bytes / ($rows > 0 ? $rows : 1)" 1)"
	bench_set "${k}_sealed_to_applied_mean_s" "$seal_apply"
	results+=("$(printf '  %-6s %-7s %9s %8s %7s %7s %7s %7s %7s %8s\n' "$rate" "$wlabel" \
		"${tps:-?}" "$n" "$p50" "$p99" "$mx" "$wagons" \
		"$(bench_round "$bytes / ($rows > 0 ? $rows : 1)" 1)" "$seal_apply")")
	eval "lag_${name}_p99=$p99 lag_${name}_tps=${tps:-0}"
}

lag_run 200tps_1s 200 1s
lag_run 1000tps_1s 1000 1s
bench_log "lag: restarting capture | dedup | seal with --window 100ms"
bench_pipe_source_stop "$pipe" ||
	{ tail -n 3 "$pipe"/capture.log "$pipe"/dedup.log "$pipe"/seal.log >&2; bench_die "capture | dedup | seal failed"; }
bench_pipe_source "$pipe" --heartbeat 1 -- --window 100ms
lag_run 1000tps_100ms 1000 100ms

# The target must hold what the source holds.
tables=lagsb.sbtest1,lagsb.sbtest2,lagsb.sbtest3,lagsb.sbtest4
[ "$(src_sql "CHECKSUM TABLE $tables" | cut -f 2)" = "$(dst_sql "CHECKSUM TABLE $tables" | cut -f 2)" ] ||
	bench_die "lagsb differs between the source and the target (CHECKSUM TABLE)"
bench_pipe_stop "$pipe"

met1=$(awk -v p="$lag_1000tps_1s_p99" 'BEGIN { print (p <= 1.5) ? 1 : 0 }')
met2=$(awk -v p="$lag_1000tps_100ms_p99" 'BEGIN { print (p <= 0.5) ? 1 : 0 }')
read -r load1 _ </proc/loadavg
bench_set lag_loadavg_start "$load0"
bench_set lag_loadavg_end "$load1"
bench_set lag_target_1s_met "$([ "$met1" = 1 ] && echo true || echo false)"
bench_set lag_target_100ms_met "$([ "$met2" = 1 ] && echo true || echo false)"

echo "lag: source commit to target visibility (heartbeat every 50 ms), sysbench oltp_write_only, $threads threads, $secs s a run"
printf '  %-6s %-7s %9s %8s %7s %7s %7s %7s %7s %8s\n' rate window "got tps" samples \
	"p50 s" "p99 s" "max s" wagons "B/row" "seal>app"
printf '%s\n' "${results[@]}"
echo "  got tps: sysbench's achieved rate; B/row: wagon bytes per source row change;"
echo "  seal>app: mean seconds from a wagon sealed to it applied (the rest is the window and capture)"
echo "  host load average (1 min) $load0 at the start, $load1 at the end, on $(nproc) CPUs"
echo "targets:"
note() { awk -v t="$1" 'BEGIN { if (t < 900) printf " (sysbench reached %s of 1000 tps)", t }'; }
bench_target "lag p99 <= 1.5 s at 1000 tps, 1 s window" "$met1" \
	"${lag_1000tps_1s_p99} s$(note "$lag_1000tps_1s_tps")"
bench_target "lag p99 <= 0.5 s at 1000 tps, 100 ms" "$met2" \
	"${lag_1000tps_100ms_p99} s$(note "$lag_1000tps_100ms_tps")"
