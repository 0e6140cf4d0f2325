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

# ---- the heartbeat (sections lag and wan) ------------------------------
# A source commit's visibility on the target, on the same host and clock:
#
#   bench_hb_setup      on the source, lagbench.hb (not binlogged: the
#                       target gets its own copy; only the heartbeat rows
#                       travel) and lagbench.beat(SECS), which commits
#                       INSERT INTO lagbench.hb (ts) VALUES (SYSDATE(6))
#                       every 50 ms for SECS seconds, one transaction
#                       each, then a last row with done = 1; on the
#                       target, lagbench.hb and lagprobe.probe(MAX_SECS),
#                       which polls lagbench.hb every 10 ms (call it in
#                       READ COMMITTED), stamps each new row with
#                       SYSDATE(6) when it first sees it, and ends at the
#                       done row or after MAX_SECS, answering "id, lag in
#                       microseconds, done" for every row it saw
#   bench_pct FILE Q    the Q-quantile (nearest rank) of the numbers in
#                       FILE, one a line, sorted
#
# Both drop and recreate lagbench (and lagprobe) where they make it.
bench_hb_setup() {
	local hb_table="CREATE TABLE lagbench.hb (id INT AUTO_INCREMENT PRIMARY KEY,
	ts DATETIME(6) NOT NULL, done TINYINT NOT NULL DEFAULT 0)"
	mariadb --defaults-file="$SRC_ADMIN_CNF" <<EOF || bench_die "cannot set up the heartbeat on the source"
SET sql_log_bin = 0;
DROP DATABASE IF EXISTS lagbench;
CREATE DATABASE lagbench;
$hb_table;
DELIMITER //
CREATE PROCEDURE lagbench.beat(secs DOUBLE)
BEGIN
	DECLARE t_end DATETIME(6) DEFAULT
		SYSDATE(6) + INTERVAL CAST(secs * 1000000 AS SIGNED) MICROSECOND;
	WHILE SYSDATE(6) < t_end DO
		INSERT INTO lagbench.hb (ts) VALUES (SYSDATE(6));
		DO SLEEP(0.05);
	END WHILE;
	INSERT INTO lagbench.hb (ts, done) VALUES (SYSDATE(6), 1);
END //
DELIMITER ;
EOF
	mariadb --defaults-file="$DST_ADMIN_CNF" <<EOF || bench_die "cannot set up the probe on the target"
DROP DATABASE IF EXISTS lagbench;
DROP DATABASE IF EXISTS lagprobe;
CREATE DATABASE lagbench;
$hb_table;
CREATE DATABASE lagprobe;
DELIMITER //
CREATE PROCEDURE lagprobe.probe(max_secs DOUBLE)
BEGIN
	DECLARE last_id INT DEFAULT 0;
	DECLARE fin INT DEFAULT 0;
	DECLARE t_end DATETIME(6) DEFAULT
		SYSDATE(6) + INTERVAL CAST(max_secs * 1000000 AS SIGNED) MICROSECOND;
	CREATE TEMPORARY TABLE seen (id INT PRIMARY KEY, ts DATETIME(6),
		seen_at DATETIME(6), done TINYINT) ENGINE = MEMORY;
	SELECT COALESCE(MAX(id), 0) INTO last_id FROM lagbench.hb;
	WHILE fin = 0 AND SYSDATE(6) < t_end DO
		INSERT INTO seen SELECT id, ts, SYSDATE(6), done FROM lagbench.hb
			WHERE id > last_id;
		SELECT COALESCE(MAX(id), last_id), COALESCE(MAX(done), 0)
			INTO last_id, fin FROM seen;
		DO SLEEP(0.01);
	END WHILE;
	SELECT id, TIMESTAMPDIFF(MICROSECOND, ts, seen_at), done FROM seen ORDER BY id;
	DROP TEMPORARY TABLE seen;
END //
DELIMITER ;
EOF
}

bench_pct() {
	awk -v q="$2" '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1
		print v[i] }' "$1"
}

# ---- a live srdf pipeline (sections catchup, lag and wan) ------------
# The whole chain of examples/pipeline.sh on this host, between the
# servers of bench/run: plain HTTP on 127.0.0.1 (--insecure), one fresh
# state directory per pipeline (W/src for the source side, W/dst for the
# target side), a fresh key.  The caller empties the target first (at
# least DROP DATABASE srdf: a new source starts at wagon 1).
#
#   bench_pipe_start W         srdf-recv, srdf-ackd, srdf-ship, srdf-apply
#                              as daemons, waiting; returns once srdf-recv
#                              answers its health check
#   bench_pipe_source W [CAPTURE-OPTION...] [-- DEDUP-OPTION...]
#                              srdf-capture | srdf-dedup | srdf-seal
#   bench_pipe_source_stop W   SIGTERM to srdf-capture; waits for the three
#   bench_pipe_wait GTID SECS  until srdf.applied.gtid_pos reaches GTID
#                              (through the probe, below)
#   bench_pipe_stop W          stops all of them (idempotent; for traps)
#
# Logs in W/*.log.  Sets BENCH_PIPE_{RECV,ACKD,SHIP,APPLY,SRC}_PID.
#
# Across two hosts (section wan), these change where it runs; unset,
# the pipeline is the one above:
#
#   BENCH_PIPE_ON_SRC, BENCH_PIPE_ON_DST
#                              arrays: a command prefix that runs a tool
#                              on that side (t/srdf-wan exec DIR src); it
#                              must exec the tool, whose PID is kept
#   BENCH_PIPE_SRC_CNF         srdf-capture's option file ($SRC_CNF)
#   BENCH_PIPE_DST_CNF         srdf-apply's option file ($DST_CNF)
#   BENCH_PIPE_RECV_LISTEN, BENCH_PIPE_ACKD_LISTEN
#                              --listen of srdf-recv, srdf-ackd
#                              (127.0.0.1:0)
#   BENCH_PIPE_TLS_SERVER      array: srdf-recv's and srdf-ackd's TLS
#                              options (--cert C --tls-key K; --insecure)
#   BENCH_PIPE_TLS_CLIENT      array: srdf-ship's and srdf-apply's
#                              (--ca-file C; --insecure)
#   BENCH_PIPE_TLS_CURL        array: curl's (--cacert C; none)

bench_pipe_url() { # W NAME: the URL that NAME logged ("listening on URL")
	local n u
	for n in $(seq 200); do
		u=$(sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' "$1/$2.log" | head -n 1)
		[ -z "$u" ] || { echo "$u"; return 0; }
		sleep 0.05
	done
	tail -n 5 "$1/$2.log" >&2
	bench_die "srdf-$2 did not start"
}

# bench_pipe_opts: the settings above, defaults filled in, as locals of
# the caller (on_src, on_dst, src_cnf, dst_cnf, tls_srv, tls_cli, tls_curl).
bench_pipe_opts() {
	on_src=(${BENCH_PIPE_ON_SRC[@]+"${BENCH_PIPE_ON_SRC[@]}"})
	on_dst=(${BENCH_PIPE_ON_DST[@]+"${BENCH_PIPE_ON_DST[@]}"})
	src_cnf=${BENCH_PIPE_SRC_CNF:-$SRC_CNF}
	dst_cnf=${BENCH_PIPE_DST_CNF:-$DST_CNF}
	tls_srv=(${BENCH_PIPE_TLS_SERVER[@]+"${BENCH_PIPE_TLS_SERVER[@]}"})
	[ ${#tls_srv[@]} -gt 0 ] || tls_srv=(--insecure)
	tls_cli=(${BENCH_PIPE_TLS_CLIENT[@]+"${BENCH_PIPE_TLS_CLIENT[@]}"})
	[ ${#tls_cli[@]} -gt 0 ] || tls_cli=(--insecure)
	tls_curl=(${BENCH_PIPE_TLS_CURL[@]+"${BENCH_PIPE_TLS_CURL[@]}"})
}

bench_pipe_start() {
	local w=$1 top=${top:-$PWD} n on_src on_dst src_cnf dst_cnf tls_srv tls_cli tls_curl
	bench_pipe_opts
	BENCH_PIPE_RECV_PID= BENCH_PIPE_ACKD_PID= BENCH_PIPE_SHIP_PID=
	BENCH_PIPE_APPLY_PID= BENCH_PIPE_SRC_PID=
	rm -rf "$w"
	mkdir -p "$w/src" "$w/dst"
	"$top/bin/srdf-keygen" -o "$w/key" 2>/dev/null || bench_die "srdf-keygen failed"
	# An empty outbox and ledger, so that ship and ackd can start first.
	"$top/bin/srdf-seal" --dir "$w/src" --key-file "$w/key" </dev/null 2>"$w/seal-init.log" ||
		{ cat "$w/seal-init.log" >&2; bench_die "srdf-seal cannot make $w/src"; }
	${on_dst[@]+"${on_dst[@]}"} "$top/bin/srdf-recv" --dir "$w/dst" --key-file "$w/key" \
		--listen "${BENCH_PIPE_RECV_LISTEN:-127.0.0.1:0}" "${tls_srv[@]}" 2>"$w/recv.log" &
	BENCH_PIPE_RECV_PID=$!
	${on_src[@]+"${on_src[@]}"} "$top/bin/srdf-ackd" --dir "$w/src" --key-file "$w/key" \
		--listen "${BENCH_PIPE_ACKD_LISTEN:-127.0.0.1:0}" "${tls_srv[@]}" 2>"$w/ackd.log" &
	BENCH_PIPE_ACKD_PID=$!
	BENCH_PIPE_RECV_URL=$(bench_pipe_url "$w" recv)
	BENCH_PIPE_ACKD_URL=$(bench_pipe_url "$w" ackd)
	# srdf-recv answers busy to requests signed in the second it started
	# (see srdf-recv(1)); wait for its first "ready", so that no timed run
	# begins with srdf-ship's back-off.
	for n in $(seq 100); do
		[ "$(${on_src[@]+"${on_src[@]}"} curl -s -o /dev/null -w '%{http_code}' \
			${tls_curl[@]+"${tls_curl[@]}"} \
			-H "X-Srdf-Auth: $("$top/t/helpers/hsign" "$w/key" GET /v1/health -)" \
			"$BENCH_PIPE_RECV_URL/v1/health")" = 200 ] && break
		sleep 0.05
	done
	# Short back-off steps: a refused attempt costs 100 ms, not 10 s.
	${on_src[@]+"${on_src[@]}"} "$top/bin/srdf-ship" --dir "$w/src" --to "$BENCH_PIPE_RECV_URL" \
		--key-file "$w/key" "${tls_cli[@]}" \
		--retry 100ms,100ms,250ms,500ms,1s,2s,5s,10s,30s 2>"$w/ship.log" &
	BENCH_PIPE_SHIP_PID=$!
	${on_dst[@]+"${on_dst[@]}"} "$top/bin/srdf-apply" --dir "$w/dst" --key-file "$w/key" \
		--defaults-file "$dst_cnf" --ack-to "$BENCH_PIPE_ACKD_URL" "${tls_cli[@]}" \
		--retry 1s,2s,5s 2>"$w/apply.log" &
	BENCH_PIPE_APPLY_PID=$!
}

bench_pipe_source() {
	local w=$1 top=${top:-$PWD} cap=() ded=() on_src on_dst src_cnf dst_cnf tls_srv tls_cli tls_curl
	bench_pipe_opts
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do cap+=("$1"); shift; done
	[ $# = 0 ] || { shift; ded=("$@"); }
	: >"$w/capture.pid"
	{
		${on_src[@]+"${on_src[@]}"} "$top/bin/srdf-capture" --defaults-file "$src_cnf" \
			--dir "$w/src" "${cap[@]}" 2>>"$w/capture.log" &
		echo $! >"$w/capture.pid"
		wait $!
	} | ${on_src[@]+"${on_src[@]}"} "$top/bin/srdf-dedup" "${ded[@]}" 2>>"$w/dedup.log" |
		${on_src[@]+"${on_src[@]}"} "$top/bin/srdf-seal" --dir "$w/src" --key-file "$w/key" \
			2>>"$w/seal.log" &
	BENCH_PIPE_SRC_PID=$!
}

bench_pipe_source_stop() {
	local w=$1 p rc=0
	[ -n "${BENCH_PIPE_SRC_PID:-}" ] || return 0
	for _ in $(seq 50); do
		[ -s "$w/capture.pid" ] && break
		sleep 0.02
	done
	p=$(cat "$w/capture.pid" 2>/dev/null || true)
	# Only if it still runs (with --until-end it exits by itself): never
	# a PID that another process got since.
	if [ -n "$p" ] && tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" |
		grep -qF -- "srdf-capture --defaults-file ${BENCH_PIPE_SRC_CNF:-$SRC_CNF} --dir $w/src"; then
		kill -TERM "$p" 2>/dev/null || true
	fi
	wait "$BENCH_PIPE_SRC_PID" 2>/dev/null || rc=$?
	BENCH_PIPE_SRC_PID=
	return "$rc"
}

# bench_gtid_reached GOT WANT: true when the GTID position GOT is at or
# past WANT in every domain of WANT (sequence numbers grow within a
# domain: the bench servers run gtid_strict_mode)
bench_gtid_reached() {
	local w g x
	for w in ${2//,/ }; do
		x=
		for g in ${1//,/ }; do
			[ "${g%%-*}" != "${w%%-*}" ] || x=${g##*-}
		done
		[ -n "$x" ] && [ "$x" -ge "${w##*-}" ] || return 1
	done
}

# bench_settle: waits (up to 60 s) until the two servers are at rest, less
# than 3% of a CPU between them over half a second: InnoDB's purge and
# page flushing after a workload was recorded or a database dropped
# would otherwise fall into the next timed run, whichever replicator it
# measures (on this 2-CPU host, the source purged at 65% of a CPU for
# seconds after the catch-up backlog was recorded).
bench_settle() {
	local t0=$EPOCHREALTIME a b n
	for n in $(seq 120); do
		a=$(awk '{ s += $14 + $15 } END { print s }' "/proc/$SRC_PID/stat" "/proc/$DST_PID/stat" 2>/dev/null) || return 0
		sleep 0.5
		b=$(awk '{ s += $14 + $15 } END { print s }' "/proc/$SRC_PID/stat" "/proc/$DST_PID/stat" 2>/dev/null) || return 0
		# clock ticks (100/s): 3% of a CPU over 0.5 s is 1.5 ticks
		[ $((b - a)) -gt 1 ] || break
	done
	bench_log "settled in $(bench_calc "$EPOCHREALTIME - $t0") s"
}

# The probe: one client session on the target, kept open (a coprocess),
# through which the timed runs poll the checkpoint.  A mariadb process
# forked and connected per poll, 50 times a second, cost a tenth of this
# 2-CPU machine (perf, a catch-up run) that the replicator measured
# then lacked; the native replica's MASTER_GTID_WAIT costs nothing.
#
#   bench_probe_open           starts it (mariadb --force: a query's
#                              error, srdf.applied not yet there, is
#                              not the session's end)
#   bench_probe SQL            runs SQL on it; BENCH_PROBE_VAL is the
#                              first line of its answer ('' for none or
#                              an error); no fork; fails if the session
#                              ended
#   bench_probe_close          ends it
bench_probe_open() {
	coproc BENCH_PROBE { exec mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -n --force 2>/dev/null; }
}

bench_probe() {
	local line v= got=
	BENCH_PROBE_VAL=
	[ -n "${BENCH_PROBE_PID:-}" ] || return 1
	printf '%s;\nSELECT "-- bench_probe --";\n' "$1" >&"${BENCH_PROBE[1]}" || return 1
	while IFS= read -r line <&"${BENCH_PROBE[0]}"; do
		[ "$line" != "-- bench_probe --" ] || { got=1; break; }
		[ -n "$v" ] || v=$line
	done
	[ -n "$got" ] || return 1
	BENCH_PROBE_VAL=$v
}

bench_probe_close() {
	[ -n "${BENCH_PROBE_PID:-}" ] || return 0
	local p=$BENCH_PROBE_PID
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null || true
}

# bench_pipe_wait GTID SECONDS: polls the target's checkpoint every 20 ms
# (the probe: the server sleeps between polls) until its gtid_pos reaches
# GTID; dies if a daemon died or time ran out.
bench_pipe_wait() {
	local want=$1 deadline=$((${EPOCHREALTIME%.*} + $2)) p i=0
	bench_probe_open
	while :; do
		bench_probe "DO SLEEP(0.02); SELECT gtid_pos FROM srdf.applied" ||
			bench_die "the probe's session on the target ended"
		! bench_gtid_reached "$BENCH_PROBE_VAL" "$want" || break
		if [ $((i++ % 25)) = 0 ]; then
			for p in "$BENCH_PIPE_RECV_PID" "$BENCH_PIPE_SHIP_PID" "$BENCH_PIPE_APPLY_PID"; do
				kill -0 "$p" 2>/dev/null || bench_die "a pipeline daemon (pid $p) died; see its log"
			done
			[ "${EPOCHREALTIME%.*}" -lt "$deadline" ] ||
				bench_die "the target did not reach GTID '$want' within $2 s (it is at '$BENCH_PROBE_VAL')"
		fi
	done
	bench_probe_close
}

# bench_pipe_netbytes: the TCP payload bytes, both ways, of the open
# connections to srdf-recv and srdf-ackd (the kernel's tcp_info, through
# ss(8)): wagons, requests' headers, answers and ACKs.  A connection
# closed before the call is not counted.
bench_pipe_netbytes() {
	local f=
	f="sport = :${BENCH_PIPE_RECV_URL##*:} or sport = :${BENCH_PIPE_ACKD_URL##*:}"
	ss -tinH state established "( $f )" 2>/dev/null |
		grep -oE 'bytes_(sent|received):[0-9]+' |
		awk -F: '{ s += $2 } END { print s + 0 }'
}

bench_pipe_stop() {
	local w=$1 p
	bench_pipe_source_stop "$w" || true
	for p in "${BENCH_PIPE_SHIP_PID:-}" "${BENCH_PIPE_APPLY_PID:-}" \
		"${BENCH_PIPE_RECV_PID:-}" "${BENCH_PIPE_ACKD_PID:-}"; do
		[ -z "$p" ] || kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${BENCH_PIPE_SHIP_PID:-}" "${BENCH_PIPE_APPLY_PID:-}" \
		"${BENCH_PIPE_RECV_PID:-}" "${BENCH_PIPE_ACKD_PID:-}"; do
		[ -z "$p" ] || wait "$p" 2>/dev/null || true
	done
	BENCH_PIPE_RECV_PID= BENCH_PIPE_ACKD_PID= BENCH_PIPE_SHIP_PID= BENCH_PIPE_APPLY_PID=
}
