# bench/catchup.sh — section "catchup" of bench/run (sourced in a subshell).
#
# Catch-up after an outage: a backlog already in the source binlog, an
# empty target, and the time from the start of replication until the
# target holds the source's last GTID.  Two backlogs:
#
#   oltp_write_only  the whole binlog bench/run recorded (the sysbench
#                    prepare's inserts, then oltp_write_only transactions
#                    of 4 row changes each: BENCH_ROWS, 1M by default),
#                    the schema DDL included
#   hot-key          recorded here, after the first: a database of its
#                    own, sysbench oltp_write_only on one table of 1000
#                    rows with --rand-type=pareto, BENCH_HOTKEY_ROWS row
#                    changes (default 300000), prepare included
#
# Each backlog is replayed onto an empty target by
#
#   srdf             the live pipeline of examples/pipeline.sh:
#                    srdf-capture --until-end | srdf-dedup | srdf-seal,
#                    srdf-ship -> srdf-recv over HTTP on 127.0.0.1,
#                    srdf-apply (with ACKs to srdf-ackd); default options
#                    (dedup: --window 1s --max-events 100000 --max-bytes
#                    16M).  The daemons are up and idle first; the clock
#                    starts with srdf-capture and stops when the target's
#                    srdf.applied.gtid_pos is the source's @@gtid_binlog_pos
#                    (polled every 20 ms over one open session:
#                    bench_probe in bench/lib.sh).
#   native           the target as a MariaDB replica of the source
#                    (CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos, as
#                    the srdf user, which has REPLICATION SLAVE), with
#                    slave_parallel_threads=0, then 4 in optimistic mode;
#                    the clock starts with START SLAVE and stops when
#                    MASTER_GTID_WAIT reaches the same GTID.
#
# The target is warmed once first, by an untimed copy of sbtest: on a
# fresh server the first run alone would pay for touching its buffer pool.
# Before each run the servers settle (bench_settle: InnoDB's purge and
# flushing done).  Each run must leave the target's tables equal to the source's (CHECKSUM
# TABLE), or the section fails.  rows/s counts the source's row changes
# (before srdf-dedup folds them).  BENCH_CATCHUP_REPEAT runs of each
# (default 2: a run is tens of seconds), best wall time counting.
#
# Bytes per row change: what srdf sends (the wagon files, which are the
# HTTP bodies; and all TCP payload to and from srdf-recv and srdf-ackd,
# headers, answers and ACKs included, from the kernel's tcp_info at the
# end of the run) against the binlog bytes, which is what a native
# replica reads.  Targets (the issue's): srdf at least 2x the better native
# figure on oltp_write_only, at least 3x on the hot-key workload.
#
# Environment: BENCH_HOTKEY_ROWS (default 300000), BENCH_CATCHUP_REPEAT
# (default 2), BENCH_CATCHUP_TIMEOUT (seconds a run may take, 900).

set -euo pipefail

for t in capture dedup seal ship recv apply ackd keygen; do
	[ -x "bin/srdf-$t" ] || bench_die "bin/srdf-$t is not built (make)"
done
for t in hsign ledger-wagons; do
	[ -x "t/helpers/$t" ] || bench_die "t/helpers/$t is not built (make)"
done
for t in curl ss; do
	command -v "$t" >/dev/null || bench_die "$t is not installed"
done

hk_rows=${BENCH_HOTKEY_ROWS:-300000}
repeat=${BENCH_CATCHUP_REPEAT:-2}
timeout=${BENCH_CATCHUP_TIMEOUT:-900}
case $hk_rows$repeat$timeout in
*[!0-9]*) bench_die "BENCH_HOTKEY_ROWS, BENCH_CATCHUP_REPEAT and BENCH_CATCHUP_TIMEOUT must be integers" ;;
esac

cw=$BENCH_DIR/catchup
# Other processes may share the CPUs; the load average says how much.
read -r load0 _ </proc/loadavg
rm -rf "$cw"
mkdir -p "$cw"

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

replica_off() {
	dst_sql "STOP SLAVE" >/dev/null 2>&1 || true
	dst_sql "RESET SLAVE ALL" >/dev/null 2>&1 || true
}
catchup_cleanup() {
	bench_pipe_stop "$cw/pipe" >/dev/null 2>&1 || true
	replica_off
}
trap catchup_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The replica logs in as the srdf user of $SRC_CNF (REPLICATION SLAVE).
repl_user=$(sed -n 's/^user=//p' "$SRC_CNF")
repl_pw=$(sed -n 's/^password=//p' "$SRC_CNF")
[ -n "$repl_user" ] && [ -n "$repl_pw" ] || bench_die "no user or password in $SRC_CNF"

# An empty target: every database but the system ones dropped.
reset_target() {
	local db
	for db in $(dst_sql "SHOW DATABASES" | grep -vxE 'mysql|information_schema|performance_schema|sys'); do
		dst_sql "DROP DATABASE \`$db\`" || bench_die "cannot drop $db on the target"
	done
}

# checksums DB SIDE: CHECKSUM TABLE of every table of DB on the source.
tables_of() {
	src_sql "SELECT GROUP_CONCAT(CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) ORDER BY TABLE_NAME)
		FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$1'"
}
src_sum() {
	src_sql "CHECKSUM TABLE $1" | cut -f 2 | tr '\n' ' '
}
check_target() { # TABLES SOURCE-SUM LABEL
	local got
	got=$(dst_sql "CHECKSUM TABLE $1" | cut -f 2 | tr '\n' ' ')
	[ "$got" = "$2" ] || bench_die "$3: the target differs from the source (CHECKSUM TABLE $got, source $2)"
}

# last_at STATE-DIR FIELD T0: the latest FIELD of its ledger's wagons,
# in seconds after T0
last_at() {
	"$top/t/helpers/ledger-wagons" "$1" |
		jq -s --arg f "$2" --argjson t0 "$3" 'map(.[$f] // empty) | max // null |
			if . == null then "?" else (. - $t0) * 100 | round / 100 end'
}

# srdf_run FROM-GTID END-GTID LABEL: one catch-up through the live
# pipeline, until the target's checkpoint reaches END-GTID; sets
# s_wall, s_in, s_out (row changes before and after folding), s_wagons,
# s_bytes (wagon files), s_net (TCP payload bytes to and from srdf-recv
# and srdf-ackd), s_sealed, s_received, s_applied (seconds from the start
# until the last wagon was sealed, received, applied).
srdf_run() {
	local from=$1 want=$2 label=$3 w=$cw/pipe t0 line
	reset_target
	bench_settle
	bench_pipe_start "$w"
	t0=$EPOCHREALTIME
	bench_pipe_source "$w" --from-gtid "$from" --until-end
	bench_pipe_wait "$want" "$timeout"
	s_wall=$(bench_calc "$EPOCHREALTIME - $t0")
	bench_pipe_source_stop "$w" ||
		{ tail -n 3 "$w"/capture.log "$w"/dedup.log "$w"/seal.log >&2; bench_die "$label: capture | dedup | seal failed"; }
	s_net=$(bench_pipe_netbytes)
	bench_pipe_stop "$w"
	# When the last wagon was sealed (the source ledger), received and
	# applied (the target's), from the start: where the time went.
	s_sealed=$(last_at "$w/src" sealed_at "$t0")
	s_received=$(last_at "$w/dst" received_at "$t0")
	s_applied=$(last_at "$w/dst" applied_at "$t0")
	line=$(grep 'end of input:' "$w/dedup.log" | tail -n 1)
	s_in=$(sed -n 's/.* \([0-9]*\) row changes in, \([0-9]*\) out.*/\1/p' <<<"$line")
	s_out=$(sed -n 's/.* \([0-9]*\) row changes in, \([0-9]*\) out.*/\2/p' <<<"$line")
	[ -n "$s_in" ] || bench_die "$label: no summary in $w/dedup.log"
	s_wagons=$(find "$w/dst/inbox" -name '*.wagon' | wc -l)
	s_bytes=$(find "$w/dst/inbox" -name '*.wagon' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	bench_log "catchup $label: srdf ${s_wall} s, $s_in row changes in, $s_out out, $s_wagons wagons, $s_bytes bytes, last wagon sealed at ${s_sealed} s, received ${s_received} s, applied ${s_applied} s"
}

# native_run FROM-GTID END-GTID THREADS LABEL: one catch-up of the
# target as a replica, until its gtid_slave_pos is END-GTID (START SLAVE
# UNTIL it when the binlog goes on past it); sets n_wall.
native_run() {
	local from=$1 want=$2 threads=$3 label=$4 t0 r st deadline until=
	[ "$want" = "$(src_sql "SELECT @@gtid_binlog_pos")" ] ||
		until=" UNTIL master_gtid_pos = '$want'"
	reset_target
	replica_off
	bench_settle
	dst_sql "SET GLOBAL gtid_slave_pos = '$from';
		SET GLOBAL slave_parallel_threads = $threads;
		SET GLOBAL slave_parallel_mode = 'optimistic';
		CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $SRC_PORT,
			MASTER_USER = '$repl_user', MASTER_PASSWORD = '$repl_pw',
			MASTER_USE_GTID = slave_pos" ||
		bench_die "$label: cannot make the target a replica"
	deadline=$((${EPOCHREALTIME%.*} + timeout))
	t0=$EPOCHREALTIME
	dst_sql "START SLAVE$until" || bench_die "$label: START SLAVE failed"
	while :; do
		r=$(dst_sql "SELECT MASTER_GTID_WAIT('$want', 0.5)") ||
			bench_die "$label: MASTER_GTID_WAIT failed"
		[ "$r" != 0 ] || break
		st=$(mariadb --defaults-file="$DST_ADMIN_CNF" -e 'SHOW SLAVE STATUS\G' |
			awk '/ Last_(IO|SQL)_Errno: [1-9]/ { e = 1 } / Last_(IO|SQL)_Error: ./ { print }
				END { exit !e }') &&
			bench_die "$label: the replica stopped: $st"
		[ "${EPOCHREALTIME%.*}" -lt "$deadline" ] ||
			bench_die "$label: the replica did not reach '$want' within $timeout s"
	done
	n_wall=$(bench_calc "$EPOCHREALTIME - $t0")
	replica_off
	bench_log "catchup $label: native, $threads threads, ${n_wall} s"
}

best_wall() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}

# workload NAME FROM-GTID END-GTID DB ROWS BINLOG-BYTES: all three
# replicators on one backlog, $repeat times; sets
# NAME_{srdf,nat0,nat4}_wall, NAME_rows, ...
workload() {
	local name=$1 from=$2 end=$3 db=$4 rows=$5 binlog_bytes=$6 tables sum i sw= n0= n4=
	tables=$(tables_of "$db")
	[ -n "$tables" ] || bench_die "no tables in $db on the source"
	sum=$(src_sum "$tables")
	for i in $(seq "$repeat"); do
		srdf_run "$from" "$end" "$name run $i"
		check_target "$tables" "$sum" "srdf, $name run $i"
		if [ "$(best_wall "$sw" "$s_wall")" = "$s_wall" ]; then
			sw=$s_wall
			eval "${name}_timeline='$s_sealed $s_received $s_applied'"
			eval "${name}_wagons=$s_wagons ${name}_wagon_bytes=$s_bytes ${name}_net=$s_net"
		fi
		native_run "$from" "$end" 0 "$name run $i"
		check_target "$tables" "$sum" "native 0 threads, $name run $i"
		n0=$(best_wall "$n0" "$n_wall")
		native_run "$from" "$end" 4 "$name run $i"
		check_target "$tables" "$sum" "native 4 threads, $name run $i"
		n4=$(best_wall "$n4" "$n_wall")
	done
	reset_target
	local n=${rows:-$s_in} best ratio
	best=$(awk -v a="$n0" -v b="$n4" 'BEGIN { print (a + 0 < b + 0) ? a : b }')
	ratio=$(bench_round "$best / $sw" 2)
	eval "${name}_rows=$n ${name}_in=$s_in ${name}_out=$s_out ${name}_srdf_wall=$sw ${name}_nat0_wall=$n0"
	eval "${name}_nat4_wall=$n4 ${name}_ratio=$ratio ${name}_binlog_bytes=$binlog_bytes"
}

# ---- warm-up -----------------------------------------------------------

# The target server is fresh: the first run on it pays for touching its
# buffer pool and redo log for the first time, and the runs after it do
# not.  srdf runs first, so an untimed copy of the source's tables warms
# the target before any clock starts.
bench_log "catchup: warming the target (an untimed copy of sbtest)"
(umask 077 && grep -v '^default-character-set' "$SRC_ADMIN_CNF" >"$cw/dump.cnf")
reset_target
mariadb-dump --defaults-file="$cw/dump.cnf" --single-transaction --databases sbtest |
	mariadb --defaults-file="$DST_ADMIN_CNF" || bench_die "catchup: the warm-up copy failed"
reset_target

# ---- oltp_write_only: the binlog bench/run recorded ------------------

# Its end: the last commit bench/run's reference capture saw.  Sections
# run before this one may have written to the source since (seal records
# a workload of its own): the native replica then stops at the end
# (START SLAVE UNTIL), srdf reads on and the clock stops when the
# target's checkpoint is at or past it, so srdf pays for any extra.
main_end=$(tail -n 1 "$BENCH_RECORDS" | jq -r 'select(.type == "commit") | .gtid')
[ -n "$main_end" ] || bench_die "$BENCH_RECORDS does not end with a commit"
case $main_end in *,*) bench_die "more than one GTID domain: not supported here" ;; esac
now=$(src_sql "SELECT @@gtid_binlog_pos")
[ "$now" = "$main_end" ] ||
	bench_log "note: the binlog goes on past the workload's end $main_end (now at $now): other sections wrote to it"
bench_log "catchup: oltp_write_only backlog, $BENCH_ROW_CHANGES row changes"
workload main '' "$main_end" sbtest "$BENCH_ROW_CHANGES" "$BENCH_BINLOG_BYTES"

# ---- hot-key: recorded now, replayed from its start -------------------

hk_from=$(src_sql "SELECT @@gtid_binlog_pos")
src_sql "FLUSH BINARY LOGS"
hk_first=$(src_sql "SHOW MASTER STATUS" | cut -f 1)
hk_events=$(((hk_rows - 1000 + 3) / 4))
[ "$hk_events" -ge 100 ] || hk_events=100
hsb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK"
	--mysql-user=root --mysql-db=catchup_hot --tables=1 --table-size=1000
	--rand-type=pareto)
bench_log "catchup: recording the hot-key backlog, $hk_events transactions on 1000 rows (pareto)"
src_sql "DROP DATABASE IF EXISTS catchup_hot; CREATE DATABASE catchup_hot" ||
	bench_die "cannot create database catchup_hot"
"${hsb[@]}" prepare >"$cw/hotkey-prepare.log" 2>&1 ||
	{ tail -n 20 "$cw/hotkey-prepare.log" >&2; bench_die "sysbench prepare (hot-key) failed"; }
"${hsb[@]}" --threads="${BENCH_THREADS:-4}" --events="$hk_events" --time=0 \
	--report-interval=0 run >"$cw/hotkey-run.log" 2>&1 ||
	{ tail -n 20 "$cw/hotkey-run.log" >&2; bench_die "sysbench run (hot-key) failed"; }
hk_tps=$(sed -n 's/^ *transactions: .*(\([0-9.]*\) per sec.)/\1/p' "$cw/hotkey-run.log")
hk_binlog=$(src_sql "SHOW BINARY LOGS" | awk -v f="$hk_first" '$1 >= f { s += $2 } END { print s }')
bench_log "catchup: hot-key backlog recorded (${hk_tps:-?} transactions/s), $hk_binlog binlog bytes"
hk_end=$(src_sql "SELECT @@gtid_binlog_pos")
workload hot "$hk_from" "$hk_end" catchup_hot "" "$hk_binlog"

# ---- figures ---------------------------------------------------------

for w in main hot; do
	eval "n=\$${w}_rows sw=\$${w}_srdf_wall n0=\$${w}_nat0_wall n4=\$${w}_nat4_wall"
	eval "wb=\$${w}_wagon_bytes bb=\$${w}_binlog_bytes net=\$${w}_net"
	eval "${w}_srdf_rps=$(bench_round "$n / $sw" 0)"
	eval "${w}_nat0_rps=$(bench_round "$n / $n0" 0)"
	eval "${w}_nat4_rps=$(bench_round "$n / $n4" 0)"
	eval "${w}_wb_row=$(bench_round "$wb / $n" 1)"
	eval "${w}_bb_row=$(bench_round "$bb / $n" 1)"
	eval "${w}_net_ratio=$(bench_round "$net / $bb" 3)"
	eval "${w}_net_row=$(bench_round "$net / $n" 1)"
done
main_met=$(awk -v r="$main_ratio" 'BEGIN { print (r >= 2) ? 1 : 0 }')
hot_met=$(awk -v r="$hot_ratio" 'BEGIN { print (r >= 3) ? 1 : 0 }')
tf() { [ "$1" = 1 ] && echo true || echo false; }

# results.json keys: catchup_<workload>_<figure with its unit>,
# workload "oltp" (the bench/run binlog) or "hotkey"
for w in main:oltp hot:hotkey; do
	v=${w%%:*} k=catchup_${w#*:}
	for f in rows:row_changes out:row_changes_after_fold srdf_wall:srdf_wall_s \
		srdf_rps:srdf_rows_per_s nat0_wall:native_serial_wall_s \
		nat0_rps:native_serial_rows_per_s nat4_wall:native_parallel4_wall_s \
		nat4_rps:native_parallel4_rows_per_s ratio:vs_best_native_ratio \
		wagons:wagons wagon_bytes:wagon_bytes binlog_bytes:binlog_bytes \
		wb_row:wagon_bytes_per_row bb_row:binlog_bytes_per_row \
		net_row:tcp_bytes_per_row net_ratio:tcp_vs_binlog_bytes_ratio; do
		eval "x=\$${v}_${f%%:*}"
		bench_set "${k}_${f#*:}" "$x"
	done
	eval "x=\$${v}_net"
	bench_set "${k}_tcp_bytes" "$x"
done
bench_set catchup_hotkey_record_tps "${hk_tps:-0}"
read -r load1 _ </proc/loadavg
bench_set catchup_loadavg_start "$load0"
bench_set catchup_loadavg_end "$load1"
bench_set catchup_target_oltp_met "$(tf "$main_met")"
bench_set catchup_target_hotkey_met "$(tf "$hot_met")"

row() {
	printf '  %-16s %-34s %8s %9s %9s\n' "$@"
}
echo "catchup: a backlog in the source binlog onto an empty target, until the target has the source's last GTID"
row backlog replicator "wall s" "rows/s" "vs native"
for w in main:oltp_write_only hot:hot-key; do
	v=${w%%:*}
	eval "n=\$${v}_rows"
	row "${w#*:}" "srdf (capture .. apply, live)" "$(eval "echo \$${v}_srdf_wall")" \
		"$(eval "echo \$${v}_srdf_rps")" "$(eval "echo \$${v}_ratio")x"
	row "  $n rows" "native, slave_parallel_threads=0" "$(eval "echo \$${v}_nat0_wall")" \
		"$(eval "echo \$${v}_nat0_rps")" ""
	row "" "native, 4 threads, optimistic" "$(eval "echo \$${v}_nat4_wall")" \
		"$(eval "echo \$${v}_nat4_rps")" ""
done
echo "  rows/s: the source's row changes per second; vs native: srdf against the better native run"
for w in main:oltp_write_only hot:hot-key; do
	eval "set -- \$${w%%:*}_timeline"
	echo "  srdf, ${w#*:}: the last wagon sealed $1 s, received $2 s, applied $3 s after the start"
done
echo "  srdf-dedup kept $main_out of $main_in row changes (oltp_write_only), $hot_out of $hot_in (hot-key)"
echo "bytes per row change"
printf '  %-16s %12s %12s %12s %14s\n' backlog "binlog" "srdf wagons" "srdf TCP" "TCP/binlog"
for w in main:oltp_write_only hot:hot-key; do
	v=${w%%:*}
	eval "printf '  %-16s %12s %12s %12s %14s\n' \"${w#*:}\" \"\$${v}_bb_row\" \"\$${v}_wb_row\" \"\$${v}_net_row\" \"\$${v}_net_ratio\""
	eval "echo \"    (\$${v}_wagons wagons, \$${v}_wagon_bytes bytes; binlog \$${v}_binlog_bytes bytes)\""
done
echo "  a native replica reads the binlog's events; srdf sends the wagons as HTTP bodies;"
echo "  srdf TCP: all TCP payload to and from srdf-recv and srdf-ackd (wagons, headers, answers, ACKs)"
echo "  host load average (1 min) $load0 at the start, $load1 at the end, on $(nproc) CPUs"
echo "targets:"
bench_target "catch-up >= 2x native (oltp_write_only)" "$main_met" \
	"${main_ratio}x ($main_srdf_rps vs $(awk -v a="$main_nat0_rps" -v b="$main_nat4_rps" 'BEGIN { print (a > b) ? a : b }') rows/s)"
bench_target "catch-up >= 3x native (hot-key)" "$hot_met" \
	"${hot_ratio}x ($hot_srdf_rps vs $(awk -v a="$hot_nat0_rps" -v b="$hot_nat4_rps" 'BEGIN { print (a > b) ? a : b }') rows/s)"
