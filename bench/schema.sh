# bench/schema.sh — section "schema" of bench/run (sourced in a subshell).
#
# A wide schema: BENCH_SCHEMA_DBS databases of BENCH_SCHEMA_TABLES small
# tables each (default 10 x 100; 3 rows, a primary key and a secondary
# index per table), made here on the source.  The initial copy of it by:
#
#   srdf, one step after the other      srdf-bootstrap | srdf-seal, then
#                                       srdf-ship --to dir:, srdf-recv
#                                       --import, srdf-apply --once, each
#                                       timed on its own
#   mariadb-dump | mariadb              --single-transaction, into the
#                                       emptied target
#
# Each is run $BENCH_REPEAT times, the best wall time counts.  The rows
# are few: what this measures is the work per table (schema queries, one
# wagon of DDL and one of rows per table, srdf-apply's look at each
# table).  There is no target; the section exists so that work growing
# with the square of the number of tables shows, as srdf-apply's
# foreign-key lookup once did (108 s for 2010 tables, 14 s after).
# Then BENCH_SCHEMA_HUGE (10000) tables of one row: each tool's peak RSS
# and fsync calls, for a source of many tenants (see below).

set -euo pipefail

for t in srdf-bootstrap srdf-seal srdf-ship srdf-recv srdf-apply srdf-keygen; do
	[ -x "bin/$t" ] || bench_die "bin/$t is not built (make)"
done
command -v mariadb-dump >/dev/null || bench_die "mariadb-dump is not installed"

ndb=${BENCH_SCHEMA_DBS:-10}
ntab=${BENCH_SCHEMA_TABLES:-100}
W=$BENCH_DIR/schema
mkdir -p "$W"
bin/srdf-keygen -o "$W/key" 2>/dev/null
dump_cnf=$W/dump.cnf
(umask 077 && grep -v '^default-character-set' "$SRC_ADMIN_CNF" >"$dump_cnf")

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}
dbs() { # the databases of the section, one per line
	seq -f 'wide%g' 1 "$ndb"
}
drop_target() {
	local d
	for d in $(dbs) srdf; do
		dst_sql "DROP DATABASE IF EXISTS \`$d\`" || return 1
	done
}

bench_log "schema: creating $ndb databases x $ntab tables on the source"
for d in $(dbs); do
	echo "DROP DATABASE IF EXISTS $d; CREATE DATABASE $d; USE $d;"
	for t in $(seq "$ntab"); do
		echo "CREATE TABLE t$t (id INT PRIMARY KEY, v VARCHAR(20), n INT, KEY (n));"
		echo "INSERT INTO t$t VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3);"
	done
done | mariadb --defaults-file="$SRC_ADMIN_CNF" || bench_die "cannot create the wide schema"
tables=$((ndb * ntab))
rows=$((tables * 3))

check_target() { # what
	local n
	n=$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE 'wide%'")
	[ "$n" = "$tables" ] || bench_die "$1 left $n tables on the target, not $tables"
	n=$(dst_sql "SELECT COUNT(*) FROM wide$ndb.t$ntab")
	[ "$n" = 3 ] || bench_die "$1 left $n rows in wide$ndb.t$ntab, not 3"
}

pattern=wide*
cat >"$W/seal.sh" <<EOF
set -eo pipefail
rm -rf "$W/st" "$W/dst" "$W/xfer" && mkdir -p "$W/st" "$W/dst" "$W/xfer"
$top/bin/srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir "$W/st" --databases '$pattern' 2>"$W/bs.err" |
	$top/bin/srdf-seal --dir "$W/st" --key-file "$W/key" 2>"$W/seal.err"
EOF
cat >"$W/transfer.sh" <<EOF
set -eo pipefail
$top/bin/srdf-ship --dir "$W/st" --to "dir:$W/xfer" --once 2>"$W/ship.err"
$top/bin/srdf-recv --dir "$W/dst" --key-file "$W/key" --import "$W/xfer" 2>"$W/recv.err"
EOF
cat >"$W/apply.sh" <<EOF
set -eo pipefail
$top/bin/srdf-apply --dir "$W/dst" --key-file "$W/key" --defaults-file "$DST_ADMIN_CNF" --once 2>"$W/apply.err"
EOF
cat >"$W/dump.sh" <<EOF
set -eo pipefail
mariadb-dump --defaults-file="$dump_cnf" --single-transaction --databases $(dbs | tr '\n' ' ') |
	mariadb --defaults-file="$DST_ADMIN_CNF"
EOF

best() { # current best, new
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}
once() { # name script: one timed run; sets one_<name>
	local out w r c
	bench_settle
	out=$(bench_measure "$W/$1.err" bash "$2") ||
		{ tail -n 20 "$W/$1.err" "$W"/*.err >&2; bench_die "schema: $1 failed"; }
	read -r w r c <<<"$out"
	bench_log "schema: $1 ${w} s, cpu ${c} s"
	printf -v "one_$1" '%s' "$w"
}

b_seal= b_transfer= b_apply= b_srdf= b_dump=
for i in $(seq "$BENCH_REPEAT"); do
	drop_target || bench_die "cannot empty the target"
	once seal "$W/seal.sh"
	once transfer "$W/transfer.sh"
	once apply "$W/apply.sh"
	check_target "srdf"
	b_seal=$(best "$b_seal" "$one_seal")
	b_transfer=$(best "$b_transfer" "$one_transfer")
	b_apply=$(best "$b_apply" "$one_apply")
	b_srdf=$(best "$b_srdf" "$(bench_calc "$one_seal + $one_transfer + $one_apply")")
	drop_target || bench_die "cannot empty the target"
	once dump "$W/dump.sh"
	check_target "mariadb-dump | mariadb"
	b_dump=$(best "$b_dump" "$one_dump")
done
wagons=$(ls "$W/st/outbox/new" | wc -l)
drop_target || :
for d in $(dbs); do
	src_sql "DROP DATABASE IF EXISTS $d" || :
done

# ---- 10,000 tiny tables: memory and fsyncs ------------------------------
#
# BENCH_SCHEMA_HUGE tables (default 10000, 0 skips; 100 per database,
# huge1..) of one row, copied once, each tool on its own: bootstrap to a
# file, seal from it, ship, recv, apply.  Per tool its peak RSS (GNU
# time) and its fsync and fdatasync calls (strace -f -c, when strace is
# there: the figures then include strace's slowdown, so the walls are
# not the rate).  The targets: every tool under 128 MiB, and fewer
# fsyncs than one per 20 tables (no fsync per table).
huge=${BENCH_SCHEMA_HUGE:-10000}
hdbs=$(((huge + 99) / 100))
huge_fsyncs() { # strace output: fsync + fdatasync calls
	awk '$NF == "fsync" || $NF == "fdatasync" { n += $4 } END { print n + 0 }' "$1"
}
huge_run() { # name stdin stdout cmd...: one tool, measured; sets h_<name>_*
	local name=$1 in=$2 outf=$3 out w r c st=()
	shift 3
	if command -v strace >/dev/null; then
		st=(strace -f -c -o "$W/huge/$name.strace" -e trace=fsync,fdatasync)
	fi
	out=$(bench_measure "$W/huge/$name.err" bash -c 'in=$1 out=$2; shift 2; exec "$@" <"$in" >"$out"' \
		_ "$in" "$outf" "${st[@]}" "$@") ||
		{ tail -n 20 "$W/huge/$name.err" >&2; bench_die "schema: huge: $name failed"; }
	read -r w r c <<<"$out"
	printf -v "h_${name}_wall" '%s' "$w"
	printf -v "h_${name}_rss" '%s' "$((r / 1024))"
	if [ ${#st[@]} -gt 0 ]; then
		printf -v "h_${name}_fsync" '%s' "$(huge_fsyncs "$W/huge/$name.strace")"
	else
		printf -v "h_${name}_fsync" '%s' "-"
	fi
}
if [ "$huge" -gt 0 ]; then
	bench_log "schema: creating $huge tables of 1 row in $hdbs databases on the source"
	for d in $(seq -f 'huge%g' 1 "$hdbs"); do
		echo "DROP DATABASE IF EXISTS $d; CREATE DATABASE $d; USE $d;"
		for t in $(seq 100); do
			echo "CREATE TABLE t$t (id INT PRIMARY KEY, v VARCHAR(20));"
			echo "INSERT INTO t$t VALUES (1, 'a');"
		done
	done | mariadb --defaults-file="$SRC_ADMIN_CNF" || bench_die "cannot create the huge schema"
	H=$W/huge
	rm -rf "$H" && mkdir -p "$H/st" "$H/dst" "$H/xfer"
	for d in $(seq -f 'huge%g' 1 "$hdbs") srdf; do
		dst_sql "DROP DATABASE IF EXISTS \`$d\`" || bench_die "cannot empty the target"
	done
	bench_settle
	huge_run bootstrap /dev/null "$H/copy.jsonl" "$top/bin/srdf-bootstrap" \
		--defaults-file "$SRC_ADMIN_CNF" --dir "$H/st" --databases 'huge*'
	huge_run seal "$H/copy.jsonl" /dev/null "$top/bin/srdf-seal" --dir "$H/st" --key-file "$W/key"
	huge_run ship /dev/null /dev/null "$top/bin/srdf-ship" --dir "$H/st" --to "dir:$H/xfer" --once
	huge_run recv /dev/null /dev/null "$top/bin/srdf-recv" --dir "$H/dst" --key-file "$W/key" --import "$H/xfer"
	huge_run apply /dev/null /dev/null "$top/bin/srdf-apply" --dir "$H/dst" --key-file "$W/key" \
		--defaults-file "$DST_ADMIN_CNF" --once
	n=$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE 'huge%'")
	[ "$n" = "$((hdbs * 100))" ] || bench_die "schema: huge: $n tables on the target, not $((hdbs * 100))"
	huge_wagons=$(ls "$H/st/outbox/new" | wc -l)
	for d in $(seq -f 'huge%g' 1 "$hdbs"); do
		src_sql "DROP DATABASE IF EXISTS $d" || :
		dst_sql "DROP DATABASE IF EXISTS $d" || :
	done
	rm -rf "$H"
fi

tps() { bench_round "$tables / $1" 0; }
ratio=$(bench_round "$b_dump / $b_srdf" 2)
bench_set schema_tables "$tables"
bench_set schema_wagons "$wagons"
bench_set schema_seal_wall_s "$b_seal"
bench_set schema_transfer_wall_s "$b_transfer"
bench_set schema_apply_wall_s "$b_apply"
bench_set schema_srdf_wall_s "$b_srdf"
bench_set schema_srdf_tables_per_s "$(tps "$b_srdf")"
bench_set schema_dump_wall_s "$b_dump"
bench_set schema_dump_tables_per_s "$(tps "$b_dump")"
bench_set schema_srdf_vs_dump_ratio "$ratio"

row() {
	printf '%-38s %10s %10s\n' "$@"
}
echo "schema: $ndb databases x $ntab tables of 3 rows ($tables tables, $rows rows); root over the sockets"
row "tool" "wall (s)" "tables/s"
row "srdf-bootstrap | srdf-seal" "$b_seal" "$(tps "$b_seal")"
row "  srdf-ship dir:, srdf-recv --import" "$b_transfer" "$(tps "$b_transfer")"
row "  srdf-apply --once" "$b_apply" "$(tps "$b_apply")"
row "  srdf, one step after the other" "$b_srdf" "$(tps "$b_srdf")"
row "mariadb-dump | mariadb" "$b_dump" "$(tps "$b_dump")"
echo "($wagons wagons; srdf at ${ratio}x mariadb-dump's rate; no target)"
bench_target "schema: srdf >= mariadb-dump | mariadb" \
	"$(awk -v r="$ratio" 'BEGIN { print (r >= 1) }')" "${ratio}x"
if [ "$huge" -gt 0 ]; then
	htables=$((hdbs * 100))
	echo
	echo "schema: $htables tables of 1 row ($hdbs databases), each tool on its own ($huge_wagons wagons)"
	printf '%-16s %10s %10s %10s\n' "tool" "wall (s)" "peak RSS" "fsyncs"
	hmax_rss=0 hmax_fs=0
	for t in bootstrap seal ship recv apply; do
		w=h_${t}_wall r=h_${t}_rss f=h_${t}_fsync
		printf '%-16s %10s %7s MiB %10s\n' "srdf-$t" "${!w}" "${!r}" "${!f}"
		bench_set "schema_huge_${t}_rss_mib" "${!r}"
		[ "${!f}" = - ] || bench_set "schema_huge_${t}_fsyncs" "${!f}"
		bench_set "schema_huge_${t}_wall_s" "${!w}"
		[ "${!r}" -gt "$hmax_rss" ] && hmax_rss=${!r}
		[ "${!f}" != - ] && [ "${!f}" -gt "$hmax_fs" ] && hmax_fs=${!f}
	done
	bench_set schema_huge_tables "$htables"
	bench_set schema_huge_wagons "$huge_wagons"
	echo "(fsyncs: fsync and fdatasync calls under strace -f, which slows the walls)"
	bench_target "schema: $htables tables, RSS < 128 MiB" \
		"$([ "$hmax_rss" -lt 128 ] && echo 1 || echo 0)" "largest ${hmax_rss} MiB"
	bench_target "schema: $htables tables, fsyncs < 1/20 table" \
		"$([ "$((hmax_fs * 20))" -lt "$htables" ] && echo 1 || echo 0)" "most ${hmax_fs} by one tool"
fi
