# bench/bootstrap.sh — section "bootstrap" of bench/run (sourced in a subshell).
#
# The initial copy of the sysbench tables bench/run left on the source
# (4 tables of BENCH_ROWS * 2/5 / 4 rows: 4 x 100k by default), by:
#
#   srdf-bootstrap > /dev/null          the copy alone (read + encode)
#   srdf-bootstrap | srdf-seal          the source side of srdf's path:
#                                       records, zstd, XChaCha20-Poly1305,
#                                       SHA-256, fsync'd outbox and ledger
#   ... then ship, recv, apply          the whole path into the target,
#                                       when those tools are built:
#                                       srdf-ship --to dir:, srdf-recv
#                                       --import, srdf-apply --once, one
#                                       after the other: the sum is the
#                                       pessimistic figure
#   srdf live                           srdf as it is deployed: srdf-ship,
#                                       srdf-recv (HTTPS on 127.0.0.1),
#                                       srdf-apply and srdf-ackd up and
#                                       idle, then srdf-bootstrap
#                                       --parallel 2 | srdf-seal; the clock
#                                       stops when the target's checkpoint
#                                       holds the last wagon (polled every
#                                       20 ms).  The targets are judged on
#                                       this figure.
#   mariadb-dump | mariadb              --single-transaction, into the target
#   mydumper; myloader                  --trx-consistency-only, 2 threads
#                                       each, into the target (dump, then
#                                       load: they cannot overlap)
#
# All read the source as root over its socket and load the target the
# same way, one after the other, $BENCH_REPEAT times; the best wall time
# counts.  rows/s = rows copied / wall; MB/s = the tables' InnoDB data
# (information_schema DATA_LENGTH) / wall.  Targets (the issue's): srdf's
# path at least 2x mariadb-dump | mariadb and at least 0.8x mydumper +
# myloader.  Without srdf-apply the srdf figure is the source side only
# and the comparison says so: the peers also load a server, srdf then
# does not.

set -euo pipefail

for t in mariadb-dump mydumper myloader; do
	command -v "$t" >/dev/null || bench_die "$t is not installed (apt-get install mariadb-client mydumper)"
done
[ -x bin/srdf-bootstrap ] && [ -x bin/srdf-seal ] && [ -x bin/srdf-keygen ] ||
	bench_die "srdf-bootstrap, srdf-seal and srdf-keygen must be built (make)"

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

rows=$(src_sql "SELECT SUM(n) FROM (SELECT COUNT(*) n FROM sbtest.sbtest1 UNION ALL
	SELECT COUNT(*) FROM sbtest.sbtest2 UNION ALL SELECT COUNT(*) FROM sbtest.sbtest3
	UNION ALL SELECT COUNT(*) FROM sbtest.sbtest4) x")
bytes=$(src_sql "SELECT SUM(DATA_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sbtest'")
mb=$(bench_calc "$bytes / 1e6")
[ "$rows" -gt 0 ] || bench_die "no sysbench rows on the source"

W=$BENCH_DIR/bootstrap
mkdir -p "$W"
bin/srdf-keygen -o "$W/key" 2>/dev/null
dump_cnf=$W/dump.cnf
(umask 077 && grep -v '^default-character-set' "$SRC_ADMIN_CNF" >"$dump_cnf")

have_apply=0
if [ -x bin/srdf-apply ] && [ -x bin/srdf-ship ] && [ -x bin/srdf-recv ]; then
	have_apply=1
fi

# The pipelines, as scripts so that bench_measure times them whole.
cat >"$W/srdf.sh" <<EOF
set -eo pipefail
rm -rf "$W/st" && mkdir -p "$W/st"
$top/bin/srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir "$W/st" --databases sbtest --skip-triggers --skip-views --skip-routines 2>"$W/bs.err" |
	$top/bin/srdf-seal --dir "$W/st" --key-file "$W/key" 2>"$W/seal.err"
EOF
cat >"$W/copy.sh" <<EOF
set -eo pipefail
rm -rf "$W/st0" && mkdir -p "$W/st0"
$top/bin/srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir "$W/st0" --databases sbtest --skip-triggers --skip-views --skip-routines >/dev/null
EOF
cat >"$W/apply-prep.sh" <<EOF
set -eo pipefail
rm -rf "$W/dst" "$W/xfer" && mkdir -p "$W/dst" "$W/xfer"
mariadb --defaults-file="$DST_ADMIN_CNF" -e 'DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS srdf'
EOF
cat >"$W/apply.sh" <<EOF
set -eo pipefail
$top/bin/srdf-ship --dir "$W/st" --to "dir:$W/xfer" --once 2>"$W/ship.err"
$top/bin/srdf-recv --dir "$W/dst" --key-file "$W/key" --import "$W/xfer" 2>"$W/recv.err"
$top/bin/srdf-apply --dir "$W/dst" --key-file "$W/key" --defaults-file "$DST_ADMIN_CNF" --once 2>"$W/apply.err"
EOF
cat >"$W/dump.sh" <<EOF
set -eo pipefail
mariadb --defaults-file="$DST_ADMIN_CNF" -e 'DROP DATABASE IF EXISTS sbtest'
mariadb-dump --defaults-file="$dump_cnf" --single-transaction --databases sbtest |
	mariadb --defaults-file="$DST_ADMIN_CNF"
EOF
cat >"$W/mydumper.sh" <<EOF
set -eo pipefail
rm -rf "$W/myd"
mariadb --defaults-file="$DST_ADMIN_CNF" -e 'DROP DATABASE IF EXISTS sbtest'
mydumper -S "$SRC_SOCK" -u root -B sbtest -o "$W/myd" --trx-consistency-only -t 2 -r 100000
myloader -S "$DST_SOCK" -u root -d "$W/myd" -B sbtest -o -t 2
EOF

best() { # current best, new
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}
measure() { # name script -> sets wall_<name>
	local name=$1 script=$2 i out w r c b=
	for i in $(seq "$BENCH_REPEAT"); do
		bench_settle
		out=$(bench_measure "$W/$name.err" bash "$script") ||
			{ tail -n 20 "$W/$name.err" >&2; return 1; }
		read -r w r c <<<"$out"
		bench_log "$name run $i: ${w} s, cpu ${c} s"
		b=$(best "$b" "$w")
	done
	printf -v "wall_$name" '%s' "$b"
}
check_target() { # what
	local n
	n=$(dst_sql "SELECT SUM(n) FROM (SELECT COUNT(*) n FROM sbtest.sbtest1 UNION ALL
		SELECT COUNT(*) FROM sbtest.sbtest2 UNION ALL SELECT COUNT(*) FROM sbtest.sbtest3
		UNION ALL SELECT COUNT(*) FROM sbtest.sbtest4) x" 2>/dev/null || echo 0)
	[ "$n" = "$rows" ] || bench_die "$1 left $n rows on the target, not $rows"
}

measure copy "$W/copy.sh" || bench_die "srdf-bootstrap failed"
# Each apply needs the wagons of a fresh seal (ship marks them shipped).
wall_srdf= wall_apply=
for i in $(seq "$BENCH_REPEAT"); do
	BENCH_REPEAT=1 measure srdf1 "$W/srdf.sh" || bench_die "srdf-bootstrap | srdf-seal failed"
	wall_srdf=$(best "$wall_srdf" "$wall_srdf1")
	[ "$have_apply" = 1 ] || continue
	bash "$W/apply-prep.sh" || bench_die "cannot empty the target"
	if BENCH_REPEAT=1 measure apply1 "$W/apply.sh"; then
		check_target "srdf-apply"
		wall_apply=$(best "$wall_apply" "$wall_apply1")
	else
		bench_log "srdf-ship/recv/apply failed: no end-to-end figure"
		have_apply=0
	fi
done

# live_run: one run of the live path; sets wall_live1
live_run() {
	local w=$W/live t0 last got i=0 deadline p
	bash "$W/apply-prep.sh" || bench_die "cannot empty the target"
	bench_settle
	bench_pipe_start "$w"
	t0=$EPOCHREALTIME
	"$top/bin/srdf-bootstrap" --defaults-file "$SRC_ADMIN_CNF" --dir "$w/src" \
		--databases sbtest --skip-triggers --skip-views --skip-routines --parallel 2 \
		2>"$w/bootstrap.log" |
		"$top/bin/srdf-seal" --dir "$w/src" --key-file "$w/key" 2>"$w/seal.log" ||
		{ bench_pipe_stop "$w"; tail -n 3 "$w/bootstrap.log" "$w/seal.log" >&2; bench_die "srdf live: srdf-bootstrap | srdf-seal failed"; }
	last=$("$top/t/helpers/ledger-wagons" "$w/src" | jq -s 'map(.seq) | max')
	deadline=$((${EPOCHREALTIME%.*} + 600))
	bench_probe_open
	while :; do
		bench_probe "DO SLEEP(0.02); SELECT seq FROM srdf.applied" ||
			{ bench_pipe_stop "$w"; bench_die "srdf live: the probe's session on the target ended"; }
		got=$BENCH_PROBE_VAL
		[ -z "$got" ] || [ "$got" -lt "$last" ] || break
		if [ $((i++ % 25)) = 0 ]; then
			for p in "$BENCH_PIPE_RECV_PID" "$BENCH_PIPE_SHIP_PID" "$BENCH_PIPE_APPLY_PID"; do
				kill -0 "$p" 2>/dev/null ||
					{ bench_pipe_stop "$w"; bench_die "srdf live: a daemon (pid $p) died; see $w"; }
			done
			[ "${EPOCHREALTIME%.*}" -lt "$deadline" ] ||
				{ bench_pipe_stop "$w"; bench_die "srdf live: wagon $last not applied within 600 s (at ${got:-none})"; }
		fi
	done
	wall_live1=$(bench_calc "$EPOCHREALTIME - $t0")
	bench_probe_close
	bench_pipe_stop "$w"
	check_target "srdf live"
	bench_log "srdf live run: ${wall_live1} s, $last wagons"
}
wall_live=
if [ "$have_apply" = 1 ]; then
	for i in $(seq "$BENCH_REPEAT"); do
		live_run
		wall_live=$(best "$wall_live" "$wall_live1")
	done
fi
wagons=$(ls "$W/st/outbox/new" | wc -l)
wagon_bytes=$(du -sb "$W/st/outbox/new" | cut -f 1)
measure dump "$W/dump.sh" || bench_die "mariadb-dump | mariadb failed"
check_target "mariadb-dump | mariadb"
measure mydumper "$W/mydumper.sh" || bench_die "mydumper/myloader failed"
check_target "mydumper/myloader"

rps() { bench_round "$rows / $1" 0; }
mbps() { bench_round "$mb / $1" 1; }
if [ "$have_apply" = 1 ]; then
	wall_seq=$(bench_calc "$wall_srdf + $wall_apply")
	wall_path=$wall_live
	path_label="srdf live: bootstrap | seal, ship, recv, apply"
else
	wall_path=$wall_srdf
	path_label="srdf-bootstrap | seal (source side)"
fi
path_rps=$(rps "$wall_path")
dump_rps=$(rps "$wall_dump")
myd_rps=$(rps "$wall_mydumper")
r_dump=$(bench_round "$path_rps / $dump_rps" 2)
r_myd=$(bench_round "$path_rps / $myd_rps" 2)
met_dump=$(awk -v r="$r_dump" 'BEGIN { print (r >= 2) ? 1 : 0 }')
met_myd=$(awk -v r="$r_myd" 'BEGIN { print (r >= 0.8) ? 1 : 0 }')
tf() { [ "$1" = 1 ] && echo true || echo false; }

bench_set bootstrap_rows "$rows"
bench_set bootstrap_table_mb "$mb"
bench_set bootstrap_copy_wall_s "$wall_copy"
bench_set bootstrap_copy_rows_per_s "$(rps "$wall_copy")"
bench_set bootstrap_seal_wall_s "$wall_srdf"
bench_set bootstrap_seal_rows_per_s "$(rps "$wall_srdf")"
bench_set bootstrap_seal_mb_per_s "$(mbps "$wall_srdf")"
bench_set bootstrap_wagons "$wagons"
bench_set bootstrap_wagon_bytes "$wagon_bytes"
bench_set bootstrap_end_to_end "$(tf "$have_apply")"
if [ "$have_apply" = 1 ]; then
	bench_set bootstrap_apply_wall_s "$wall_apply"
	bench_set bootstrap_one_after_other_wall_s "$wall_seq"
	bench_set bootstrap_one_after_other_rows_per_s "$(rps "$wall_seq")"
	bench_set bootstrap_live_wall_s "$wall_live"
	bench_set bootstrap_path_rows_per_s "$path_rps"
fi
bench_set mariadb_dump_load_wall_s "$wall_dump"
bench_set mariadb_dump_load_rows_per_s "$dump_rps"
bench_set mydumper_myloader_wall_s "$wall_mydumper"
bench_set mydumper_myloader_rows_per_s "$myd_rps"
bench_set bootstrap_vs_mariadb_dump_ratio "$r_dump"
bench_set bootstrap_vs_mydumper_ratio "$r_myd"
bench_set bootstrap_target_dump_met "$(tf "$met_dump")"
bench_set bootstrap_target_mydumper_met "$(tf "$met_myd")"

row() {
	printf '%-38s %10s %10s %8s\n' "$@"
}
echo "bootstrap: $rows sysbench rows in 4 tables, $mb MB of InnoDB data; root over the sockets"
row "tool" "wall (s)" "rows/s" "MB/s"
row "srdf-bootstrap > /dev/null" "$wall_copy" "$(rps "$wall_copy")" "$(mbps "$wall_copy")"
row "srdf-bootstrap | srdf-seal" "$wall_srdf" "$(rps "$wall_srdf")" "$(mbps "$wall_srdf")"
if [ "$have_apply" = 1 ]; then
	row "  then ship, recv --import, apply" "$wall_apply" "$(rps "$wall_apply")" "$(mbps "$wall_apply")"
	row "  srdf, one step after the other" "$wall_seq" "$(rps "$wall_seq")" "$(mbps "$wall_seq")"
	row "srdf live (the daemons up)" "$wall_path" "$path_rps" "$(mbps "$wall_path")"
fi
row "mariadb-dump | mariadb" "$wall_dump" "$dump_rps" "$(mbps "$wall_dump")"
row "mydumper; myloader" "$wall_mydumper" "$myd_rps" "$(mbps "$wall_mydumper")"
echo "($wagons wagons, $wagon_bytes bytes sealed)"
[ "$have_apply" = 1 ] ||
	echo "(srdf-apply is not built: the srdf figure stops at the sealed outbox, the peers load the target)"
echo "targets ($path_label):"
bench_target "srdf >= 2x mariadb-dump | mariadb" "$met_dump" "${r_dump}x ($path_rps vs $dump_rps rows/s)"
bench_target "srdf >= 0.8x mydumper + myloader" "$met_myd" "${r_myd}x ($path_rps vs $myd_rps rows/s)"
