# bench/capture.sh — section "capture" of bench/run (sourced in a subshell).
#
# srdf-capture against its peer, mariadb-binlog decoding rows
# (--read-from-remote-server --verbose --base64-output=decode-rows
# --to-last-log), both reading the whole binlog of the same server over
# TCP as the same least-privilege user, one after the other, each
# $BENCH_REPEAT times; the best wall time of each counts, peak RSS is the
# highest of the runs.  Targets: srdf-capture at least 2x mariadb-binlog's
# rows/s, and peak RSS under 64 MiB.

set -euo pipefail

# mariadb-binlog rejects the [client] option default-character-set that
# SRC_CNF carries; the same connection without it.
peer_cnf=$BENCH_DIR/peer.cnf
(umask 077 && grep -v '^default-character-set' "$SRC_CNF" >"$peer_cnf")

cap=(bin/srdf-capture --defaults-file "$SRC_CNF" --from-gtid '' --until-end)
peer=(mariadb-binlog --defaults-file="$peer_cnf" --read-from-remote-server
	--verbose --base64-output=decode-rows --to-last-log "$BENCH_FIRST_BINLOG")

# Once, untimed: mariadb-binlog must decode every row change, or the
# comparison would flatter srdf-capture.
"${peer[@]}" 2>"$BENCH_DIR/peer-check.err" |
	awk '/^### (INSERT|UPDATE|DELETE) / { r++ } { b += length($0) + 1 }
		/^# End of log file/ { e = 1 }
		END { print r + 0, b + 0, e + 0 }' >"$BENCH_DIR/peer-check" ||
	{ cat "$BENCH_DIR/peer-check.err" >&2; bench_die "mariadb-binlog failed"; }
read -r peer_rows peer_bytes peer_end <"$BENCH_DIR/peer-check"
[ "$peer_end" = 1 ] || bench_die "mariadb-binlog output has no '# End of log file'"
[ "$peer_rows" = "$BENCH_ROW_CHANGES" ] ||
	bench_die "mariadb-binlog decoded $peer_rows row changes, srdf-capture $BENCH_ROW_CHANGES"
record_bytes=$(stat -c %s "$BENCH_RECORDS")

best_wall() { # current best, new
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}
max_int() {
	if [ -z "$1" ] || [ "$2" -gt "$1" ]; then echo "$2"; else echo "$1"; fi
}
cap_wall= cap_rss= cap_cpu= peer_wall= peer_rss= peer_cpu=
for i in $(seq "$BENCH_REPEAT"); do
	out=$(bench_measure "$BENCH_DIR/cap.err" "${cap[@]}") &&
		grep -q "stopped at .* $BENCH_TRANSACTIONS transactions" "$BENCH_DIR/cap.err" ||
		{ cat "$BENCH_DIR/cap.err" >&2; bench_die "srdf-capture run $i failed"; }
	read -r w r c <<<"$out"
	bench_log "srdf-capture   run $i: ${w} s, ${r} KiB, cpu ${c} s"
	[ "$(best_wall "$cap_wall" "$w")" != "$w" ] || { cap_wall=$w; cap_cpu=$c; }
	cap_rss=$(max_int "$cap_rss" "$r")

	out=$(bench_measure "$BENCH_DIR/peer.err" "${peer[@]}") ||
		{ cat "$BENCH_DIR/peer.err" >&2; bench_die "mariadb-binlog run $i failed"; }
	read -r w r c <<<"$out"
	bench_log "mariadb-binlog run $i: ${w} s, ${r} KiB, cpu ${c} s"
	[ "$(best_wall "$peer_wall" "$w")" != "$w" ] || { peer_wall=$w; peer_cpu=$c; }
	peer_rss=$(max_int "$peer_rss" "$r")
done

n=$BENCH_ROW_CHANGES
cap_rps=$(bench_round "$n / $cap_wall" 0)
peer_rps=$(bench_round "$n / $peer_wall" 0)
ratio=$(bench_round "$cap_rps / $peer_rps" 2)
rss_ratio=$(bench_round "$cap_rss / $peer_rss" 2)
cpu_ratio=$(bench_round "($n / $cap_cpu) / ($n / $peer_cpu)" 2)
cap_mibps=$(bench_round "$BENCH_BINLOG_BYTES / $cap_wall / 1048576" 1)
peer_mibps=$(bench_round "$BENCH_BINLOG_BYTES / $peer_wall / 1048576" 1)
ratio_met=$(awk -v r="$ratio" 'BEGIN { print (r >= 2) ? 1 : 0 }')
rss_met=$((cap_rss < 65536 ? 1 : 0))

bench_set capture_wall_s "$cap_wall"
bench_set capture_rows_per_s "$cap_rps"
bench_set capture_binlog_mib_per_s "$cap_mibps"
bench_set capture_cpu_s "$cap_cpu"
bench_set capture_peak_rss_kib "$cap_rss"
bench_set record_bytes "$record_bytes"
bench_set mariadb_binlog_wall_s "$peer_wall"
bench_set mariadb_binlog_rows_per_s "$peer_rps"
bench_set mariadb_binlog_binlog_mib_per_s "$peer_mibps"
bench_set mariadb_binlog_cpu_s "$peer_cpu"
bench_set mariadb_binlog_peak_rss_kib "$peer_rss"
bench_set mariadb_binlog_output_bytes "$peer_bytes"
bench_set capture_vs_mariadb_binlog_ratio "$ratio"
bench_set capture_target_ratio_met "$([ "$ratio_met" = 1 ] && echo true || echo false)"
bench_set capture_target_rss_met "$([ "$rss_met" = 1 ] && echo true || echo false)"

row() {
	printf '%-24s %16s %16s %8s\n' "$@"
}
echo "capture: reading the whole binlog ($n row changes) over TCP as user srdf"
row figure srdf-capture mariadb-binlog ratio
row "best wall time (s)" "$cap_wall" "$peer_wall" "$(bench_round "$peer_wall / $cap_wall" 2)"
row "rows/s" "$cap_rps" "$peer_rps" "$ratio"
row "binlog MiB/s" "$cap_mibps" "$peer_mibps" "$(bench_round "$cap_mibps / $peer_mibps" 2)"
row "CPU user+sys (s)" "$cap_cpu" "$peer_cpu" "$cpu_ratio"
row "peak RSS (KiB)" "$cap_rss" "$peer_rss" "$rss_ratio"
row "output bytes" "$record_bytes" "$peer_bytes" "$(bench_round "$record_bytes / $peer_bytes" 2)"
echo "(ratio: srdf-capture's advantage for speed, srdf/mariadb-binlog for sizes)"
echo "targets:"
bench_target "srdf-capture >= 2x mariadb-binlog" "$ratio_met" "${ratio}x ($cap_rps vs $peer_rps rows/s)"
bench_target "srdf-capture peak RSS < 64 MiB" "$rss_met" \
	"$(bench_round "$cap_rss / 1024" 1) MiB ($cap_rss KiB)"
