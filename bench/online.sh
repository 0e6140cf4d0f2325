# bench/online.sh — section "online" of bench/run (sourced in a subshell).
#
# The online copy of one table into a running pipeline
# (srdf-bootstrap --resync, srdf-bootstrap(1) "Copying a table again
# online") beside the offline copy of the same table, and what the copy
# does to the live load's lag.  On the live pipeline of the lag section
# (bench_pipe_*, HTTP on 127.0.0.1):
#
#   1. onl.sbtest1 (BENCH_ONLINE_ROWS rows, default 1000000) and the load's
#      tables lagsb (4 x 10000) prepared on the source, through the
#      pipeline;
#   2. offline: srdf-bootstrap --databases onl | srdf-seal into a scratch
#      state directory, timed (rows/s of the copy read and sealed);
#   3. baseline: sysbench oltp_write_only --rate=1000 on lagsb for
#      BENCH_ONLINE_SECONDS (default 20) with the heartbeat of the lag
#      section: lag p50/p99 without a copy;
#   4. online: the same load and heartbeat, and srdf-bootstrap --resync
#      onl.sbtest1 started 2 s into it, timed to its return (the last chunk
#      sealed) and to the target's checkpoint holding it (applied): rows/s
#      both ways, and the load's lag p50/p99 while it ran.
#
# The load runs for at least as long as the copy; the copy's lag figures
# count the heartbeats written while it ran.  At the end, CHECKSUM TABLE of onl.sbtest1 and of lagsb's tables is
# equal on both sides, or the section fails.  Figures, no target: the
# issue asks them beside each other.
#
# Environment: BENCH_ONLINE_ROWS, BENCH_ONLINE_SECONDS, BENCH_ONLINE_RATE
# (1000), BENCH_ONLINE_THREADS (8).

set -euo pipefail

for t in capture dedup seal ship recv apply ackd keygen bootstrap; do
	[ -x "bin/srdf-$t" ] || bench_die "bin/srdf-$t is not built (make)"
done
[ -x t/helpers/hsign ] || bench_die "t/helpers/hsign is not built (make)"

rows=${BENCH_ONLINE_ROWS:-1000000}
secs=${BENCH_ONLINE_SECONDS:-20}
rate=${BENCH_ONLINE_RATE:-1000}
threads=${BENCH_ONLINE_THREADS:-8}
case $rows$secs$rate$threads in
*[!0-9]*) bench_die "BENCH_ONLINE_* must be integers" ;;
esac

ow=$BENCH_DIR/online
pipe=$ow/pipe
read -r load0 _ </proc/loadavg
rm -rf "$ow"
mkdir -p "$ow"

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

bg_pids=()
online_cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
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
trap online_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dst_sql "DROP DATABASE IF EXISTS lagsb; DROP DATABASE IF EXISTS onl;
	DROP DATABASE IF EXISTS srdf" || bench_die "cannot empty the target"
bench_hb_setup
src_sql "DROP DATABASE IF EXISTS lagsb; DROP DATABASE IF EXISTS onl;
	DROP DATABASE IF EXISTS srdf"
start=$(src_sql "SELECT @@gtid_binlog_pos")
bench_pipe_start "$pipe"
bench_pipe_source "$pipe" --from-gtid "$start" --heartbeat 1

sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK"
	--mysql-user=root --mysql-db=lagsb --tables=4 --table-size=10000)
bench_log "online: preparing lagsb (4 x 10000) and onl.sbtest1 ($rows rows) through the pipeline"
src_sql "CREATE DATABASE lagsb; CREATE DATABASE onl"
"${sb[@]}" prepare >"$ow/prepare.log" 2>&1 ||
	{ tail -n 20 "$ow/prepare.log" >&2; bench_die "sysbench prepare failed"; }
sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" \
	--mysql-user=root --mysql-db=onl --tables=1 --table-size="$rows" \
	prepare >>"$ow/prepare.log" 2>&1 ||
	{ tail -n 20 "$ow/prepare.log" >&2; bench_die "sysbench prepare of onl failed"; }
bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 600
mb=$(src_sql "SELECT ROUND((DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM
	information_schema.TABLES WHERE TABLE_SCHEMA = 'onl' AND TABLE_NAME = 'sbtest1'")

# ---- offline ---------------------------------------------------------
bench_log "online: the offline copy, srdf-bootstrap --databases onl | srdf-seal"
mkdir -p "$ow/off"
t0=$EPOCHREALTIME
bin/srdf-bootstrap --dir "$ow/off" --defaults-file "$SRC_CNF" --databases onl \
	2>"$ow/off-bootstrap.log" |
	bin/srdf-seal --dir "$ow/off" --key-file "$pipe/key" 2>"$ow/off-seal.log" ||
	{ tail -n 5 "$ow"/off-*.log >&2; bench_die "the offline copy failed"; }
off_s=$(bench_calc "$EPOCHREALTIME - $t0")
off_rate=$(bench_round "$rows / $off_s" 0)
rm -rf "$ow/off"

# ---- one run of load with the heartbeat; COPY=1 adds the online copy ----
# run NAME COPY: sets NAME_p50 NAME_p99 NAME_tps (and the copy's figures)
run() {
	local name=$1 copy=$2 d=$ow/$1 pp sp bp n t0 t1 t2 lo= hi= load_secs=$secs
	mkdir -p "$d"
	bench_log "online: $name: sysbench --rate=$rate for $load_secs s${copy:+, srdf-bootstrap --resync onl.sbtest1 2 s in}"
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e \
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
		 CALL lagprobe.probe($((load_secs + 600)))" >"$d/probe.out" 2>"$d/probe.err" &
	pp=$!
	bg_pids+=("$pp")
	sleep 0.5
	"${sb[@]}" --threads="$threads" --rate="$rate" --time="$load_secs" \
		--report-interval=0 run >"$d/sysbench.log" 2>&1 &
	sp=$!
	bg_pids+=("$sp")
	sleep 1
	mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e \
		"CALL lagbench.beat($((load_secs - 2)))" >/dev/null 2>"$d/beat.err" &
	bp=$!
	bg_pids+=("$bp")
	if [ -n "$copy" ]; then
		sleep 1
		t0=$EPOCHREALTIME
		bin/srdf-bootstrap --dir "$pipe/src" --defaults-file "$SRC_ADMIN_CNF" \
			--resync onl.sbtest1 2>"$d/resync.log" ||
			{ tail -n 5 "$d/resync.log" >&2; bench_die "$name: srdf-bootstrap --resync failed"; }
		t1=$EPOCHREALTIME
		bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 600
		t2=$EPOCHREALTIME
		kill -0 "$bp" 2>/dev/null ||
			bench_log "online: warning: the copy outlasted the load ($load_secs s): raise BENCH_ONLINE_SECONDS"
		copy_sealed_s=$(bench_calc "$t1 - $t0")
		copy_applied_s=$(bench_calc "$t2 - $t0")
		# The lag is the copy's: the heartbeats written while it ran.
		read -r lo hi < <(src_sql "SELECT MIN(id), MAX(id) FROM lagbench.hb
			WHERE ts BETWEEN FROM_UNIXTIME($t0) AND FROM_UNIXTIME($t2)")
	fi
	wait "$bp" || { cat "$d/beat.err" >&2; bench_die "$name: the heartbeat failed"; }
	wait "$sp" || { tail -n 20 "$d/sysbench.log" >&2; bench_die "$name: sysbench run failed"; }
	wait "$pp" || { cat "$d/probe.err" >&2; bench_die "$name: the probe failed"; }
	bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 300
	awk -F'\t' -v lo="${lo:-0}" -v hi="${hi:-1e18}" '$3 == 1 { d = 1 }
		$1 >= lo && $1 <= hi { print $2 / 1e6 } END { exit !d }' "$d/probe.out" |
		sort -g >"$d/lag.s" || bench_die "$name: the probe did not see the last heartbeat"
	n=$(wc -l <"$d/lag.s")
	printf -v "${name}_p50" '%s' "$(bench_round "$(bench_pct "$d/lag.s" 0.50)" 3)"
	printf -v "${name}_p99" '%s' "$(bench_round "$(bench_pct "$d/lag.s" 0.99)" 3)"
	printf -v "${name}_tps" '%s' "$(sed -n 's/^ *transactions: .*(\([0-9.]*\) per sec.)/\1/p' "$d/sysbench.log")"
	printf -v "${name}_n" '%s' "$n"
}

copy_sealed_s= copy_applied_s=
run base ""
# The copy of a million rows takes longer than the baseline's load: the
# copy's run gets time enough that the heartbeat outlasts it.
secs=$((secs > 60 ? secs : 60))
run copy 1

tables=lagsb.sbtest1,lagsb.sbtest2,lagsb.sbtest3,lagsb.sbtest4,onl.sbtest1
[ "$(src_sql "CHECKSUM TABLE $tables" | cut -f 2)" = "$(dst_sql "CHECKSUM TABLE $tables" | cut -f 2)" ] ||
	bench_die "the source and the target differ after the online copy (CHECKSUM TABLE)"
bench_pipe_stop "$pipe"

sealed_rate=$(bench_round "$rows / $copy_sealed_s" 0)
applied_rate=$(bench_round "$rows / $copy_applied_s" 0)
read -r load1 _ </proc/loadavg
bench_set online_rows "$rows"
bench_set online_table_mb "$mb"
bench_set online_offline_s "$(bench_round "$off_s" 3)"
bench_set online_offline_rows_per_s "$off_rate"
bench_set online_copy_sealed_s "$(bench_round "$copy_sealed_s" 3)"
bench_set online_copy_applied_s "$(bench_round "$copy_applied_s" 3)"
bench_set online_copy_rows_per_s "$applied_rate"
bench_set online_load_rate_tps "$rate"
bench_set online_base_tps "${base_tps:-0}"
bench_set online_copy_tps "${copy_tps:-0}"
bench_set online_base_lag_p50_s "$base_p50"
bench_set online_base_lag_p99_s "$base_p99"
bench_set online_copy_lag_p50_s "$copy_p50"
bench_set online_copy_lag_p99_s "$copy_p99"

echo "online: one table of $rows rows ($mb MB) copied again while sysbench oltp_write_only runs at $rate tps on other tables"
printf '  %-44s %10s %12s\n' "copy" "seconds" "rows/s"
printf '  %-44s %10s %12s\n' "offline: srdf-bootstrap | srdf-seal" "$(bench_round "$off_s" 2)" "$off_rate"
printf '  %-44s %10s %12s\n' "online --resync, to the last chunk sealed" "$(bench_round "$copy_sealed_s" 2)" "$sealed_rate"
printf '  %-44s %10s %12s\n' "online --resync, to the last chunk applied" "$(bench_round "$copy_applied_s" 2)" "$applied_rate"
echo "  online / offline: $(bench_round "$applied_rate / $off_rate" 2)x (applied)"
printf '  %-28s %9s %8s %8s %8s\n' "the live load's lag" "got tps" samples "p50 s" "p99 s"
printf '  %-28s %9s %8s %8s %8s\n' "without a copy" "${base_tps:-?}" "$base_n" "$base_p50" "$base_p99"
printf '  %-28s %9s %8s %8s %8s\n' "during the online copy" "${copy_tps:-?}" "$copy_n" "$copy_p50" "$copy_p99"
echo "  host load average (1 min) $load0 at the start, $load1 at the end, on $(nproc) CPUs"
