# bench/seal.sh — section "seal" of bench/run (sourced in a subshell).
#
# What the source side makes of the recorded binlog: srdf-dedup with the
# live grouping (--max-events = one second of the sysbench run, as the
# dedup section explains), then srdf-seal into a fresh outbox, timed
# $BENCH_REPEAT times (best wall counts).  Figures: seal rows/s against
# srdf-capture's, the fold ratio, and the wagon bytes (what crosses the
# network) per row change and as a share of the binlog bytes.
#
# Then the same for a hot-key workload recorded here, in its own
# database: sysbench oltp_update_index on one 1000-row table with
# --rand-type=pareto, $BENCH_HOTKEY_EVENTS transactions (default 100000);
# its binlog bytes are the growth of SHOW BINARY LOGS over the run.
#
# Target: wagon bytes <= 15 % of the binlog bytes on oltp_write_only with
# the default 1 s window (srdf-dedup's live grouping stands for it).

set -euo pipefail

for t in srdf-dedup srdf-seal srdf-keygen srdf-capture; do
	[ -x "bin/$t" ] || bench_die "bin/$t is not built (make)"
done
bin/srdf-keygen -o "$BENCH_DIR/seal.key" 2>/dev/null

tps=$(sed -n 's/^ *transactions: .*(\([0-9.]*\) per sec.)/\1/p' "$BENCH_DIR/sysbench-run.log" 2>/dev/null || :)
live_events=$(bench_round "${tps:-1000} * 4" 0)

binlog_bytes() {
	src_sql "SHOW BINARY LOGS" | awk '{ s += $2 } END { print s + 0 }'
}

# seal_run NAME GROUPS: times srdf-seal over GROUPS; sets NAME_wall,
# NAME_cpu and NAME_bytes (the wagons in the outbox).
seal_run() {
	local name=$1 groups=$2 i out w r c wall= cpu= st
	for i in $(seq "$BENCH_REPEAT"); do
		st=$BENCH_DIR/seal-$name-$i
		rm -rf "$st" && mkdir -p "$st"
		out=$(bench_measure "$BENCH_DIR/seal.err" bin/srdf-seal --dir "$st" \
			--key-file "$BENCH_DIR/seal.key" <"$groups") ||
			{ cat "$BENCH_DIR/seal.err" >&2; bench_die "srdf-seal ($name) failed"; }
		read -r w r c <<<"$out"
		bench_log "srdf-seal $name run $i: $w s, $r KiB, cpu $c s"
		if [ -z "$wall" ] || awk -v a="$w" -v b="$wall" 'BEGIN { exit !(a < b) }'; then
			wall=$w
			cpu=$c
		fi
	done
	printf -v "${name}_wall" '%s' "$wall"
	printf -v "${name}_cpu" '%s' "$cpu"
	printf -v "${name}_bytes" '%s' "$(du -b --apparent-size -c "$st"/outbox/new/*.wagon | tail -n 1 | cut -f1)"
}

# fold GROUPS: "events_in events_out wagons"
fold() {
	grep '^{"v":1,"type":"group_end"' "$1" | jq -r '[.events_in, .events_out] | @tsv' |
		awk '{ i += $1; o += $2; g++ } END { print i + 0, o + 0, g + 0 }'
}

# oltp_write_only, the recorded binlog
bin/srdf-dedup --window 1h --max-events "$live_events" <"$BENCH_RECORDS" \
	>"$BENCH_DIR/groups.jsonl" 2>/dev/null
seal_run owo "$BENCH_DIR/groups.jsonl"
read -r owo_in owo_out owo_groups < <(fold "$BENCH_DIR/groups.jsonl")

# hot key
hk_events=${BENCH_HOTKEY_EVENTS:-100000}
src_sql "DROP DATABASE IF EXISTS hotkey; CREATE DATABASE hotkey"
hk=(--db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root
	--mysql-db=hotkey --tables=1 --table-size=1000)
sysbench oltp_update_index "${hk[@]}" prepare >/dev/null
hk_from=$(src_sql "SELECT @@gtid_binlog_pos")
hk_b0=$(binlog_bytes)
sysbench oltp_update_index "${hk[@]}" --rand-type=pareto --threads=4 \
	--events="$hk_events" --time=0 run >"$BENCH_DIR/hotkey.log"
hk_b1=$(binlog_bytes)
hk_tps=$(sed -n 's/^ *transactions: .*(\([0-9.]*\) per sec.)/\1/p' "$BENCH_DIR/hotkey.log")
bin/srdf-capture --defaults-file "$SRC_CNF" --from-gtid "$hk_from" --until-end \
	2>/dev/null | bin/srdf-dedup --window 1h --max-events "$(bench_round "$hk_tps" 0)" \
	>"$BENCH_DIR/hotkey-groups.jsonl" 2>/dev/null
seal_run hot "$BENCH_DIR/hotkey-groups.jsonl"
read -r hot_in hot_out hot_groups < <(fold "$BENCH_DIR/hotkey-groups.jsonl")
hot_binlog=$((hk_b1 - hk_b0))

owo_rps=$(bench_round "$BENCH_ROW_CHANGES / $owo_wall" 0)
owo_cpu_rps=$(bench_round "$BENCH_ROW_CHANGES / ($owo_cpu + 0.001)" 0)
owo_share=$(bench_round "100 * $owo_bytes / $BENCH_BINLOG_BYTES" 1)
owo_per=$(bench_round "$owo_bytes / $BENCH_ROW_CHANGES" 1)
owo_bin_per=$(bench_round "$BENCH_BINLOG_BYTES / $BENCH_ROW_CHANGES" 1)
owo_fold=$(bench_round "100 * ($owo_in - $owo_out) / $owo_in" 1)
hot_share=$(bench_round "100 * $hot_bytes / $hot_binlog" 1)
hot_per=$(bench_round "$hot_bytes / $hot_in" 1)
hot_fold=$(bench_round "100 * ($hot_in - $hot_out) / $hot_in" 1)
cap_rps=$(jq -r '.capture_rows_per_s // empty' "$BENCH_RESULTS" 2>/dev/null || :)

bench_set seal_wall_s "$owo_wall"
bench_set seal_rows_per_s "$owo_rps"
bench_set seal_cpu_s "$owo_cpu"
bench_set seal_rows_per_cpu_s "$owo_cpu_rps"
bench_set seal_wagons "$owo_groups"
bench_set seal_wagon_bytes "$owo_bytes"
bench_set seal_wagon_bytes_per_row_change "$owo_per"
bench_set seal_binlog_bytes_per_row_change "$owo_bin_per"
bench_set seal_wagon_pct_of_binlog "$owo_share"
bench_set seal_folded_pct "$owo_fold"
bench_set seal_hotkey_row_changes "$hot_in"
bench_set seal_hotkey_folded_pct "$hot_fold"
bench_set seal_hotkey_wagon_bytes_per_row_change "$hot_per"
bench_set seal_hotkey_wagon_pct_of_binlog "$hot_share"

row() { printf '%-32s %18s %18s\n' "$@"; }
echo "seal: srdf-dedup (live grouping) | srdf-seal, wagon bytes vs binlog bytes"
row figure "oltp_write_only" "hot key (pareto)"
row "row changes in" "$owo_in" "$hot_in"
row "row changes out (folded %)" "$owo_out ($owo_fold %)" "$hot_out ($hot_fold %)"
row "wagons" "$owo_groups" "$hot_groups"
row "seal best wall (s)" "$owo_wall" "$hot_wall"
row "seal rows/s (rows in)" "$owo_rps" "$(bench_round "$hot_in / $hot_wall" 0)"
row "seal rows per CPU second" "$owo_cpu_rps" "-"
echo "(seal's wall time includes three fsyncs per wagon: the wagon, its directory,"
echo " the ledger commit; a live pipeline seals one wagon per window)"
row "binlog bytes" "$BENCH_BINLOG_BYTES" "$hot_binlog"
row "wagon bytes" "$owo_bytes" "$hot_bytes"
row "wagon bytes / row change" "$owo_per" "$hot_per"
row "wagon bytes / binlog bytes" "$owo_share %" "$hot_share %"
echo "targets:"
bench_target "wagon bytes <= 15 % of binlog" \
	"$(awk -v a="$owo_share" 'BEGIN { print (a <= 15) ? 1 : 0 }')" "$owo_share % (oltp_write_only, live 1 s grouping)"
if [ -n "$cap_rps" ]; then
	bench_target "srdf-seal >= srdf-capture rows/s" \
		"$(awk -v a="$owo_rps" -v b="$cap_rps" 'BEGIN { print (a >= b) ? 1 : 0 }')" "$owo_rps vs $cap_rps rows/s"
fi
