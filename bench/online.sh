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
# With BENCH_ONLINE_LARGE=N (rows, at least 200000; 0, the default,
# skips it) a fifth step copies a large table with a kill on the way, on
# the same pipeline:
#
#   5. onl.big, a sysbench-shaped table (id, k, c, pad; index on k),
#      created empty through the pipeline and filled with N rows on the
#      source alone (sql_log_bin=0), so that the --resync copy is the one
#      copy of its rows; srdf-bootstrap --resync onl.big under
#      sysbench --rate=100 on lagsb, kill -9 once its progress line passes
#      40 % of the rows, then run again: it must say it resumes after the
#      chunk srdf.resync holds and end with N rows.  Peak RSS (VmHWM, read
#      every 0.5 s; the daemons' peaks cleared first through clear_refs,
#      so they are this step's) and the largest RssAnon of both
#      srdf-bootstrap runs, every srdf daemon of the pipeline and both
#      mariadbd, beside the table's size; rows/s of each run and of both
#      to the last chunk sealed and applied; the progress lines (first, at
#      the kill, the resume, a middle one, the last).  CHECKSUM TABLE of
#      onl.big and lagsb's tables equal on both sides at the end, or the
#      section fails.  BENCH_ONLINE_LARGE=10000000 is the issue's "table
#      of 10 million rows": 2.4 GB on the source, some 700 MB of wagons
#      left on each side, about 80 s to fill it and 110 s to copy it on
#      2 CPUs.  VmHWM counts the file pages a process maps: the tools that
#      open a ledger (LMDB) grow by the ledger's pages the copy's wagons
#      touch (some 15 MB for 10,000 wagons), RssAnon does not.
#
# Environment: BENCH_ONLINE_ROWS, BENCH_ONLINE_SECONDS, BENCH_ONLINE_RATE
# (1000), BENCH_ONLINE_THREADS (8), BENCH_ONLINE_LARGE (0).

set -euo pipefail

for t in capture dedup seal ship recv apply ackd keygen bootstrap; do
	[ -x "bin/srdf-$t" ] || bench_die "bin/srdf-$t is not built (make)"
done
[ -x t/helpers/hsign ] || bench_die "t/helpers/hsign is not built (make)"

rows=${BENCH_ONLINE_ROWS:-1000000}
secs=${BENCH_ONLINE_SECONDS:-20}
rate=${BENCH_ONLINE_RATE:-1000}
threads=${BENCH_ONLINE_THREADS:-8}
large=${BENCH_ONLINE_LARGE:-0}
case $rows$secs$rate$threads$large in
*[!0-9]*) bench_die "BENCH_ONLINE_* must be integers" ;;
esac
[ "$large" = 0 ] || [ "$large" -ge 200000 ] ||
	bench_die "BENCH_ONLINE_LARGE must be 0 or at least 200000 (a smaller copy ends before its first progress line)"

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

# ---- large: BENCH_ONLINE_LARGE rows, kill -9 at 40 %, resume ---------
# The table is created empty through the pipeline and filled on the
# source alone (sql_log_bin=0), so that the --resync copy is the one copy
# of its rows.

# rss_watch NAME PID: "VMHWM RSSANON" (kB) into $lw/rss.NAME every 0.5 s
# while PID runs, until $lw/rss.stop exists: its peak RSS (VmHWM) and
# the largest RssAnon seen (its own memory, without the file pages it
# maps: the ledger's LMDB map, the binaries).
rss_watch() {
	set +e
	local h a st hm=0 am=0
	while [ ! -e "$lw/rss.stop" ]; do
		# awk, one read(2) of the file.  With bash's read, a line at a
		# time and a seek back after each (the kernel makes the file
		# again at each read), the watch of a busy srdf-ship or
		# srdf-apply found no VmHWM now and then, the process still
		# there, and ended (a line that grew in between would shift
		# the next ones; not reproduced on an idle process).
		read -r h a st < <(awk '/^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 }
			/^State:/ { s = $2 } END { print h + 0, a + 0, s }' \
			"/proc/$2/status" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] || break # gone, or a zombie
		[ "$h" -le "$hm" ] || hm=$h
		[ "$a" -le "$am" ] || am=$a
		echo "$hm $am" >"$lw/rss.$1.tmp" && mv -f "$lw/rss.$1.tmp" "$lw/rss.$1"
		sleep 0.5
	done
}

# rss_start NAME PID: clears PID's peak RSS (clear_refs 5), so that it is
# this step's, and watches it; the peak before is kept in $lw/rss0.NAME.
rss_start() {
	local k v u
	while read -r k v u; do
		[ "$k" != VmHWM: ] || echo "$v" >"$lw/rss0.$1"
	done 2>/dev/null <"/proc/$2/status" || true
	echo 5 2>/dev/null >"/proc/$2/clear_refs" || rm -f "$lw/rss0.$1"
	rss_watch "$1" "$2" &
	bg_pids+=($!)
}

# mine NAME: the PID of this tree's srdf-NAME (argv[0] $top/bin/srdf-NAME)
mine() {
	local f c a
	for f in /proc/[0-9]*; do
		read -r c 2>/dev/null <"$f/comm" || continue
		[ "$c" = "srdf-$1" ] || continue
		IFS= read -r -d '' a 2>/dev/null <"$f/cmdline" || true
		[ "$a" != "$top/bin/srdf-$1" ] || { echo "${f#/proc/}"; return 0; }
	done
	bench_die "no srdf-$1 of $top is running"
}

# progress FILE: the rows of FILE's last progress line (0 if none)
progress() {
	sed -n 's/.*resync onl\.big: \([0-9]*\) rows of.*/\1/p' "$1" | tail -n 1 | grep . || echo 0
}

large_step() {
	local n=$1 lw=$ow/large b at=0 i t0 t1 t2 t3 t4 k1_rows k1_s k2_s ck cr p sp
	local res_chunk= res_rows= big_mb nm tables hwm anon
	mkdir -p "$lw"
	bench_log "online: large: onl.big created empty through the pipeline, $n rows loaded on the source alone"
	src_sql "CREATE TABLE onl.big (id INT NOT NULL AUTO_INCREMENT,
		k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '',
		pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k))
		ENGINE=InnoDB"
	bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 60
	t0=$EPOCHREALTIME
	for ((b = 1; b <= n; b += 500000)); do
		src_sql "SET SESSION sql_log_bin = 0;
			INSERT INTO onl.big SELECT seq, (seq * 2654435761) % $n + 1,
			LEFT(CONCAT(MD5(seq), MD5(seq + 1), MD5(seq + 2), MD5(seq + 3)), 119),
			LEFT(CONCAT(MD5(-seq), MD5(seq * 3)), 59)
			FROM onl.seq_${b}_to_$((b + 499999 < n ? b + 499999 : n))" ||
			bench_die "cannot fill onl.big on the source"
	done
	src_sql "SET SESSION sql_log_bin = 0; ANALYZE TABLE onl.big" >/dev/null
	big_mb=$(src_sql "SELECT ROUND((DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM
		information_schema.TABLES WHERE TABLE_SCHEMA = 'onl' AND TABLE_NAME = 'big'")
	bench_log "online: large: loaded in $(bench_round "$EPOCHREALTIME - $t0" 0) s, $big_mb MB on the source"

	rss_start mariadbd-source "$SRC_PID"
	rss_start mariadbd-target "$DST_PID"
	rss_start capture "$(cat "$pipe/capture.pid")"
	rss_start dedup "$(mine dedup)"
	rss_start seal "$BENCH_PIPE_SRC_PID"
	rss_start ship "$BENCH_PIPE_SHIP_PID"
	rss_start recv "$BENCH_PIPE_RECV_PID"
	rss_start apply "$BENCH_PIPE_APPLY_PID"
	rss_start ackd "$BENCH_PIPE_ACKD_PID"

	# resync_big LOG RSS-NAME: srdf-bootstrap --resync onl.big in the
	# background (its pid in p, stderr to $lw/LOG.log), its RSS watched.
	resync_big() {
		"$top/bin/srdf-bootstrap" --dir "$pipe/src" --defaults-file "$SRC_ADMIN_CNF" \
			--resync onl.big 2>"$lw/$1.log" &
		p=$!
		bg_pids+=("$p")
		rss_watch "$2" "$p" &
		bg_pids+=($!)
	}
	bench_log "online: large: sysbench --rate=100 on lagsb, srdf-bootstrap --resync onl.big, kill -9 at 40 %"
	"${sb[@]}" --threads=2 --rate=100 --time=86400 --report-interval=0 run \
		>"$lw/sysbench.log" 2>&1 &
	sp=$!
	bg_pids+=("$sp")
	sleep 1
	t1=$EPOCHREALTIME
	resync_big resync1 bootstrap-killed
	while kill -0 "$p" 2>/dev/null; do
		at=$(progress "$lw/resync1.log")
		[ "$at" -lt $((n * 2 / 5)) ] || break
		sleep 0.2
	done
	kill -0 "$p" 2>/dev/null ||
		{ tail -n 5 "$lw/resync1.log" >&2; bench_die "large: srdf-bootstrap ended before 40 % of the rows"; }
	kill -9 "$p"
	wait "$p" 2>/dev/null || true
	t2=$EPOCHREALTIME
	k1_rows=$at
	k1_s=$(bench_calc "$t2 - $t1")
	read -r ck cr < <(src_sql "SELECT chunk, rows_copied FROM srdf.resync
		WHERE db = 'onl' AND tbl = 'big' AND state = 'copying'") || true
	[ -n "${ck:-}" ] || bench_die "large: no copy in progress in srdf.resync after the kill"
	bench_log "online: large: killed at $k1_rows rows (progress line); srdf.resync: chunk $ck, $cr rows"

	resync_big resync2 bootstrap-resumed
	wait "$p" || { tail -n 5 "$lw/resync2.log" >&2; bench_die "large: the second srdf-bootstrap --resync failed"; }
	t3=$EPOCHREALTIME
	k2_s=$(bench_calc "$t3 - $t2")
	read -r res_chunk res_rows < <(sed -n \
		's/.*onl\.big: resuming the resync after chunk \([0-9]*\) (\([0-9]*\) rows copied).*/\1 \2/p' \
		"$lw/resync2.log") || true
	[ "${res_chunk:-0}" = "$ck" ] && [ "${res_rows:-0}" = "$cr" ] && [ "$cr" -gt 0 ] ||
		bench_die "large: the second run did not resume after chunk $ck ($cr rows): $(grep -m1 onl.big "$lw/resync2.log")"
	grep -q "resync copied onl\.big: $n rows" "$lw/resync2.log" ||
		bench_die "large: the second run did not end with $n rows: $(grep 'resync copied' "$lw/resync2.log")"
	bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 1800
	t4=$EPOCHREALTIME
	kill "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	bench_pipe_wait "$(src_sql "SELECT @@gtid_binlog_pos")" 300
	: >"$lw/rss.stop"
	sleep 0.6

	tables=lagsb.sbtest1,lagsb.sbtest2,lagsb.sbtest3,lagsb.sbtest4,onl.big
	[ "$(src_sql "CHECKSUM TABLE $tables" | cut -f 2)" = "$(dst_sql "CHECKSUM TABLE $tables" | cut -f 2)" ] ||
		bench_die "large: the source and the target differ after the copy of onl.big (CHECKSUM TABLE)"

	bench_set online_large_rows "$n"
	bench_set online_large_table_mb "$big_mb"
	bench_set online_large_killed_at_rows "$k1_rows"
	bench_set online_large_resumed_after_chunk "$ck"
	bench_set online_large_first_run_s "$(bench_round "$k1_s" 3)"
	bench_set online_large_second_run_s "$(bench_round "$k2_s" 3)"
	bench_set online_large_sealed_rows_per_s "$(bench_round "$n / ($t3 - $t1)" 0)"
	bench_set online_large_applied_rows_per_s "$(bench_round "$n / ($t4 - $t1)" 0)"
	for nm in bootstrap-killed bootstrap-resumed capture dedup seal ship recv apply ackd \
		mariadbd-source mariadbd-target; do
		[ -s "$lw/rss.$nm" ] || continue
		read -r hwm anon <"$lw/rss.$nm"
		bench_set "online_large_rss_kib_${nm//-/_}" "$hwm"
		bench_set "online_large_anon_kib_${nm//-/_}" "$anon"
	done

	echo "online, large: onl.big, $n rows ($big_mb MB on the source), created empty through the pipeline and copied by srdf-bootstrap --resync under sysbench --rate=100 on lagsb; kill -9 at 40 %, run again"
	printf '  %-44s %10s %12s\n' "" seconds rows/s
	printf '  %-44s %10s %12s\n' "first run, to the kill at $k1_rows rows" "$(bench_round "$k1_s" 1)" "$(bench_round "$k1_rows / $k1_s" 0)"
	printf '  %-44s %10s %12s\n' "second run, from $cr rows to the last sealed" "$(bench_round "$k2_s" 1)" "$(bench_round "($n - $cr) / $k2_s" 0)"
	printf '  %-44s %10s %12s\n' "both, to the last chunk sealed" "$(bench_round "$t3 - $t1" 1)" "$(bench_round "$n / ($t3 - $t1)" 0)"
	printf '  %-44s %10s %12s\n' "both, to the last chunk applied" "$(bench_round "$t4 - $t1" 1)" "$(bench_round "$n / ($t4 - $t1)" 0)"
	echo "  resumed: srdf.resync held chunk $ck, $cr rows after the kill; the second run: $(grep -m1 -o 'onl\.big: resuming.*' "$lw/resync2.log")"
	echo "  progress lines (first, at the kill, the resume, middle, last):"
	{
		grep -m1 'resync onl\.big: ' "$lw/resync1.log"
		grep 'resync onl\.big: ' "$lw/resync1.log" | tail -n 1
		grep -m1 'resuming the resync' "$lw/resync2.log"
		i=$(grep -c 'resync onl\.big: ' "$lw/resync2.log")
		grep 'resync onl\.big: ' "$lw/resync2.log" | sed -n "$(((i + 1) / 2))p"
		grep 'resync copied onl\.big' "$lw/resync2.log"
		grep 'paused' "$lw/resync2.log" || true
	} | sed 's/^/    /'
	printf '  %-20s %12s %12s %12s\n' "peak RSS MB" "VmHWM" "RssAnon" "VmHWM before"
	for nm in bootstrap-killed bootstrap-resumed capture dedup seal ship recv apply ackd \
		mariadbd-source mariadbd-target; do
		hwm=? anon=?
		[ ! -s "$lw/rss.$nm" ] || read -r hwm anon <"$lw/rss.$nm"
		printf '  %-20s %12s %12s %12s\n' "$nm" \
			"$([ "$hwm" = "?" ] && echo ? || bench_round "$hwm / 1024" 1)" \
			"$([ "$anon" = "?" ] && echo ? || bench_round "$anon / 1024" 1)" \
			"$([ -s "$lw/rss0.$nm" ] && bench_round "$(cat "$lw/rss0.$nm") / 1024" 1 || echo -)"
	done
	echo "  the table: $big_mb MB; the pipeline's directories at the end: $(du -sm "$pipe/src" | cut -f 1) MB (source), $(du -sm "$pipe/dst" | cut -f 1) MB (target)"
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
[ "$large" = 0 ] || large_step "$large" >"$ow/large.out"
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
[ "$large" = 0 ] || cat "$ow/large.out"
