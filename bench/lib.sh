# bench/lib.sh — helpers shared by bench/run and its sections.
# Sourced, not run.  Needs: BENCH_RESULTS (the JSON file), BENCH_DIR (the
# scratch directory of this run).

# Messages on stderr, so that a section's stdout holds only its table.
bench_log() {
	printf 'bench: %s\n' "$*" >&2
}

bench_die() {
	bench_log "error: $*"
	exit 1
}

# bench_set KEY JSON-VALUE: merges {KEY: VALUE} into $BENCH_RESULTS (a flat
# JSON object).  VALUE is JSON: a number, true/false, or a quoted string
# (see bench_set_str).  Written to a temporary file and renamed, so an
# interrupted run never leaves half a file.
bench_set() {
	local key=$1 val=$2 tmp
	[ -s "$BENCH_RESULTS" ] || echo '{}' >"$BENCH_RESULTS"
	tmp=$BENCH_RESULTS.tmp.$$
	jq --arg k "$key" --argjson v "$val" '. + {($k): $v}' \
		"$BENCH_RESULTS" >"$tmp" && mv "$tmp" "$BENCH_RESULTS" ||
		bench_die "cannot write $key to $BENCH_RESULTS"
}

bench_set_str() {
	bench_set "$1" "$(jq -n --arg s "$2" '$s')"
}

# bench_calc EXPR: floating-point arithmetic, printed with up to 6
# significant decimals (awk, so no bc needed).
bench_calc() {
	awk "BEGIN { v = $1; printf \"%.6g\n\", v }"
}

# bench_round EXPR DIGITS
bench_round() {
	awk "BEGIN { printf \"%.${2:-0}f\n\", $1 }"
}

# bench_measure ERRFILE CMD [ARG...]: runs CMD once with stdout to
# /dev/null and stderr to ERRFILE; prints "WALL_S PEAK_RSS_KIB CPU_S" on
# stdout.  Wall time from bash's EPOCHREALTIME (microseconds), peak RSS
# (max resident set size) and CPU time (user + system) from GNU time, or
# from getrusage(RUSAGE_CHILDREN) through python3 when GNU time is missing.
# Returns CMD's exit status.
bench_measure() {
	local err=$1 t0 t1 rc=0 tf=$BENCH_DIR/time.$$ rss cpu
	shift
	if [ -x /usr/bin/time ]; then
		t0=$EPOCHREALTIME
		/usr/bin/time -o "$tf" -f '%M %U %S' "$@" >/dev/null 2>"$err" || rc=$?
		t1=$EPOCHREALTIME
		# GNU time prefixes "Command exited with non-zero status N".
		read -r rss u s < <(tail -n 1 "$tf")
		cpu=$(bench_calc "$u + $s")
	else
		t0=$EPOCHREALTIME
		python3 -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL,
                     stderr=open(sys.argv[1], "w"))
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_maxrss, r.ru_utime + r.ru_stime, file=open(sys.argv[1] + ".ru", "w"))
sys.exit(rc)' "$err" "$@" || rc=$?
		t1=$EPOCHREALTIME
		read -r rss cpu <"$err.ru"
		rm -f "$err.ru"
	fi
	rm -f "$tf"
	echo "$(bench_calc "$t1 - $t0") $rss $cpu"
	return $rc
}

# bench_target NAME MET(0|1) TEXT: prints "PASS" or "MISS" with the figure.
bench_target() {
	if [ "$2" = 1 ]; then
		printf '  PASS  %-34s %s\n' "$1" "$3"
	else
		printf '  MISS  %-34s %s\n' "$1" "$3"
	fi
}

# src_sql SQL: runs SQL on the source as root, batch output without names.
src_sql() {
	mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e "$1"
}
