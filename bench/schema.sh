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
