# bench/wan.sh — section "wan" of bench/run (sourced in a subshell).
#
# Replication over a bad WAN: srdf against native MariaDB replication on
# the same impaired link, in the same run.  t/srdf-wan joins a source
# host (network namespace SRC, 10.87.0.1) and a target host (DST,
# 10.87.0.2) by one link; for each link in BENCH_WAN_LINKS (default
# "10mbit 100mbit") it is degraded to that rate, 1 % loss and 40 ms
# delay each way (80 ms RTT), and three runs follow, one after the other:
#
#   srdf        srdf-capture | srdf-dedup | srdf-seal, srdf-ship and
#               srdf-ackd in SRC; srdf-recv and srdf-apply in DST; every
#               option at its default (srdf-dedup's 1 s window, one
#               wagon in flight).  HTTPS, as production runs it: one
#               self-signed certificate for both IP addresses, given to
#               the senders as --ca-file.  srdf-ship -> srdf-recv and
#               srdf-apply's ACKs -> srdf-ackd cross the link; the
#               tools reach their servers by the unix sockets.
#   native      the target mariadbd as a replica of the source
#               (MASTER_USE_GTID, slave_parallel_threads=4, optimistic:
#               the faster native set-up of section catchup)
#   compressed  the same with slave_compressed_protocol=1
#
# How the native replica crosses the link.  The servers of t/srdf-servers
# run in the root namespace, on 127.0.0.1, and CHANGE MASTER has no
# socket option, so three socat relays carry the replica's one TCP
# connection, and only the middle hop is on the link:
#
#   target mariadbd -> 127.0.0.1:P (root ns) -> socat -> unix socket
#   W/native.sock -> socat in DST -> 10.87.0.2 => link => 10.87.0.1:3306
#   -> socat in SRC -> the source's unix socket
#
# The hops at each end are a host's own loopback (a unix socket, as the
# srdf tools use); what the link sees is the replication protocol as a
# replica across a WAN would send and receive it.
#
# Each run: the target is first made equal to the source (CHECKSUM
# TABLE; a copy by mariadb-dump when they differ, e.g. after a replica
# that did not catch up), the replicator starts from the source's GTID,
# then sysbench oltp_write_only --rate=BENCH_WAN_RATE (default 1000) on
# its own database (wansb: 4 tables of 10000 rows) for BENCH_WAN_SECONDS
# (default 60), with the heartbeat of section lag (bench_hb_setup in
# bench/lib.sh: a row stamped with SYSDATE(6), NOW(6) at the row, every
# 50 ms on the source; its first sight on the target, polled every
# 10 ms).  After the load the replicator has BENCH_WAN_DRAIN seconds
# (default 20) to reach the source's last GTID; then it is stopped.
#
# Figures of a run:
#   lag           p50, p99, max of the heartbeats (nearest rank); one
#                 not seen when the run ended counts as the time until
#                 then, a lower bound, printed ">="; the p50 of each
#                 quarter of the run shows whether the lag grows
#   wire B/row    the bytes through the source end of the link, both
#                 ways (the counters of SRC's wan0: every frame with its
#                 Ethernet, IP and TCP headers, retransmissions, TLS,
#                 HTTP, ACKs), from the start of the load until the
#                 target held its last GTID, per source row change
#                 (sysbench's write queries, one row each, plus the
#                 heartbeat rows); for a replicator that did not get
#                 there, per row change it did get (its received, for
#                 srdf its applied, GTID against the load's range: an
#                 estimate, GTIDs of 4 and 1 rows interleave evenly)
#   Mbit/s        those bytes over that time
#   keeps up      reached the last GTID within the drain time, and the
#                 last quarter's lag p50 within 1 s of the first's
#
# The load is asked for, not guaranteed: on a small host sysbench may
# not reach its rate beside two servers, the pipeline and the python
# relay that delays the link; the achieved rate is printed.  Targets
# (issue 16), at 10 Mbit/s only: srdf lag p99 <= 2 s at 1000 tps; srdf's
# wire bytes per row change <= 15 % of native replication's (both native
# runs are compared).
#
# Needs root (network namespaces; the section says so and is skipped
# without it), socat and openssl.  Environment: BENCH_WAN_SECONDS (60),
# BENCH_WAN_RATE (1000), BENCH_WAN_THREADS (8), BENCH_WAN_DRAIN (20),
# BENCH_WAN_LINKS ("10mbit 100mbit"), BENCH_WAN_RUNS ("srdf native
# compressed"), BENCH_WAN_LOSS (1, per cent each way), BENCH_WAN_DELAY
# (40ms each way).

set -euo pipefail

for t in capture dedup seal ship recv apply ackd keygen; do
	[ -x "bin/srdf-$t" ] || bench_die "bin/srdf-$t is not built (make)"
done
[ -x t/helpers/hsign ] || bench_die "t/helpers/hsign is not built (make)"
for t in curl socat openssl mariadb-dump ip; do
	command -v "$t" >/dev/null || bench_die "$t is not installed"
done
if ! why=$(t/srdf-wan check 2>&1); then
	echo "wan: skipped: ${why#srdf-wan: }"
	bench_set_str wan_skipped "${why#srdf-wan: }"
	exit 0
fi

secs=${BENCH_WAN_SECONDS:-60}
rate=${BENCH_WAN_RATE:-1000}
threads=${BENCH_WAN_THREADS:-8}
drain=${BENCH_WAN_DRAIN:-20}
links=${BENCH_WAN_LINKS:-10mbit 100mbit}
runs=${BENCH_WAN_RUNS:-srdf native compressed}
loss=${BENCH_WAN_LOSS:-1}
delay=${BENCH_WAN_DELAY:-40ms}
case $secs$rate$threads$drain in
*[!0-9]*) bench_die "BENCH_WAN_SECONDS, _RATE, _THREADS and _DRAIN must be integers" ;;
esac
[ "$secs" -ge 10 ] || bench_die "BENCH_WAN_SECONDS must be at least 10"
for r in $runs; do
	case $r in
	srdf | native | compressed) ;;
	*) bench_die "BENCH_WAN_RUNS: srdf, native or compressed, not $r" ;;
	esac
done

ww=$BENCH_DIR/wan
read -r load0 _ </proc/loadavg
rm -rf "$ww"
mkdir -p "$ww"
t_section=$EPOCHREALTIME

dst_sql() {
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e "$1"
}

bg_pids=()
replica_off() {
	dst_sql "STOP SLAVE" >/dev/null 2>&1 || true
	dst_sql "RESET SLAVE ALL; SET GLOBAL slave_compressed_protocol = 0" >/dev/null 2>&1 || true
}
wan_cleanup() {
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
	bench_pipe_stop "$ww/pipe" >/dev/null 2>&1 || true
	replica_off
	for p in "${fwd_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${fwd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	# socat's children of a closed connection end once the peer's FIN
	# has crossed the link; srdf-wan down leaves a running process alone.
	for _ in $(seq 30); do
		[ -n "$(ip netns pids "${WAN_SRC_NS:-none}" 2>/dev/null)$(ip netns pids \
			"${WAN_DST_NS:-none}" 2>/dev/null)" ] || break
		sleep 0.1
	done
	t/srdf-wan down "$ww" || true
}
fwd_pids=()
trap wan_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the link, TLS, option files, the native replica's relays ----------

t/srdf-wan up "$ww" || bench_die "t/srdf-wan up failed"
. "$ww/wan/env"
on_src=("$top/t/srdf-wan" exec "$ww" src)
on_dst=("$top/t/srdf-wan" exec "$ww" dst)

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=srdf-bench -days 2 \
	-addext "subjectAltName=IP:$WAN_SRC_IP,IP:$WAN_DST_IP" \
	-keyout "$ww/tls.key" -out "$ww/tls.crt" 2>/dev/null || bench_die "openssl cannot make a certificate"

repl_user=$(sed -n 's/^user=//p' "$SRC_CNF")
repl_pw=$(sed -n 's/^password=//p' "$SRC_CNF")
[ -n "$repl_user" ] && [ -n "$repl_pw" ] || bench_die "no user or password in $SRC_CNF"
# srdf-capture as srdf-capture runs in production, over the socket:
# 127.0.0.1 in SRC is SRC's own loopback.
(umask 077 && printf '%s\n' "[client]" "socket=$SRC_SOCK" "user=$repl_user" \
	"password=$repl_pw" default-character-set=utf8mb4 >"$ww/capture.cnf")
(umask 077 && grep -v '^default-character-set' "$SRC_ADMIN_CNF" >"$ww/dump.cnf")

BENCH_PIPE_ON_SRC=("${on_src[@]}")
BENCH_PIPE_ON_DST=("${on_dst[@]}")
BENCH_PIPE_SRC_CNF=$ww/capture.cnf
BENCH_PIPE_DST_CNF=$DST_ADMIN_CNF
BENCH_PIPE_RECV_LISTEN=$WAN_DST_IP:0
BENCH_PIPE_ACKD_LISTEN=$WAN_SRC_IP:0
BENCH_PIPE_TLS_SERVER=(--cert "$ww/tls.crt" --tls-key "$ww/tls.key")
BENCH_PIPE_TLS_CLIENT=(--ca-file "$ww/tls.crt")
BENCH_PIPE_TLS_CURL=(--cacert "$ww/tls.crt")

fwd_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${on_src[@]}" socat "TCP-LISTEN:3306,bind=$WAN_SRC_IP,reuseaddr,fork" \
	"UNIX-CONNECT:$SRC_SOCK" 2>"$ww/socat-src.log" &
fwd_pids+=($!)
"${on_dst[@]}" socat "UNIX-LISTEN:$ww/native.sock,fork,unlink-early" \
	"TCP:$WAN_SRC_IP:3306" 2>"$ww/socat-dst.log" &
fwd_pids+=($!)
socat "TCP-LISTEN:$fwd_port,bind=127.0.0.1,reuseaddr,fork" \
	"UNIX-CONNECT:$ww/native.sock" 2>"$ww/socat-local.log" &
fwd_pids+=($!)

# ---- the load's tables and the heartbeat -------------------------------

bench_hb_setup
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK"
	--mysql-user=root --mysql-db=wansb --tables=4 --table-size=10000)
bench_log "wan: preparing wansb (4 x 10000 rows) on the source"
src_sql "DROP DATABASE IF EXISTS wansb; CREATE DATABASE wansb"
"${sb[@]}" prepare >"$ww/prepare.log" 2>&1 ||
	{ tail -n 20 "$ww/prepare.log" >&2; bench_die "sysbench prepare failed"; }
sums_of="wansb.sbtest1, wansb.sbtest2, wansb.sbtest3, wansb.sbtest4, lagbench.hb"

# wan_sync: the target's wansb and lagbench.hb made equal to the
# source's, by a local copy when CHECKSUM TABLE differs (the link is not
# used: this is the state both replicators start from).
wan_sync() {
	local s d
	s=$(src_sql "CHECKSUM TABLE $sums_of" | cut -f 2 | tr '\n' ' ')
	d=$(dst_sql "CHECKSUM TABLE $sums_of" 2>/dev/null | cut -f 2 | tr '\n' ' ')
	[ "$s" != "$d" ] || return 0
	bench_log "wan: copying wansb and lagbench to the target"
	mariadb-dump --defaults-file="$ww/dump.cnf" --single-transaction \
		--databases wansb lagbench 2>"$ww/dump.err" |
		mariadb --defaults-file="$DST_ADMIN_CNF" ||
		{ cat "$ww/dump.err" >&2; bench_die "the copy to the target failed"; }
}

# wire_bytes: bytes through SRC's end of the link, both ways, so far
wire_bytes() {
	ip -n "$WAN_SRC_NS" -s -j link show wan0 |
		jq '.[0].stats64.rx.bytes + .[0].stats64.tx.bytes'
}

gtid_seq() { # a single-domain GTID position's sequence number
	case $1 in
	*,*) bench_die "more than one GTID domain: not supported here ($1)" ;;
	'') echo 0 ;;
	*) echo "${1##*-}" ;;
	esac
}

# replica_start COMPRESS(0|1) GTID: the target replicates the source
# through the relays from GTID; returns once its IO thread is connected.
replica_start() {
	local st n
	replica_off
	dst_sql "SET GLOBAL gtid_slave_pos = '$2';
		SET GLOBAL slave_parallel_threads = 4;
		SET GLOBAL slave_parallel_mode = 'optimistic';
		SET GLOBAL slave_compressed_protocol = $1;
		CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $fwd_port,
			MASTER_USER = '$repl_user', MASTER_PASSWORD = '$repl_pw',
			MASTER_CONNECT_RETRY = 1, MASTER_USE_GTID = slave_pos;
		START SLAVE" || bench_die "cannot make the target a replica"
	for n in $(seq 200); do
		st=$(mariadb --defaults-file="$DST_ADMIN_CNF" -e 'SHOW SLAVE STATUS\G' |
			sed -n 's/^ *Slave_IO_Running: //p')
		[ "$st" != Yes ] || return 0
		sleep 0.1
	done
	mariadb --defaults-file="$DST_ADMIN_CNF" -e 'SHOW SLAVE STATUS\G' >&2
	bench_die "the replica did not connect through the link"
}

# reached KIND GTID SECS: waits up to SECS for the target to hold GTID;
# true if it does.  Leaves in got_pos the position it reached (srdf:
# applied; native: received by the IO thread).
reached() {
	local kind=$1 want=$2 deadline=$((${EPOCHREALTIME%.*} + $3)) r st p i=0
	got_pos=
	if [ "$kind" = srdf ]; then
		bench_probe_open
		while :; do
			bench_probe "DO SLEEP(0.02); SELECT gtid_pos FROM srdf.applied" ||
				bench_die "the probe's session on the target ended"
			got_pos=$BENCH_PROBE_VAL
			bench_gtid_reached "$got_pos" "$want" && { bench_probe_close; return 0; }
			if [ $((i++ % 25)) = 0 ]; then
				for p in "$BENCH_PIPE_RECV_PID" "$BENCH_PIPE_SHIP_PID" "$BENCH_PIPE_APPLY_PID" \
					"$BENCH_PIPE_ACKD_PID"; do
					kill -0 "$p" 2>/dev/null || bench_die "a pipeline daemon (pid $p) died; see $ww/pipe"
				done
				[ "${EPOCHREALTIME%.*}" -lt "$deadline" ] || break
			fi
		done
		bench_probe_close
		return 1
	fi
	while :; do
		r=$(dst_sql "SELECT MASTER_GTID_WAIT('$want', 0.5)") || bench_die "MASTER_GTID_WAIT failed"
		st=$(mariadb --defaults-file="$DST_ADMIN_CNF" -e 'SHOW SLAVE STATUS\G')
		got_pos=$(sed -n 's/^ *Gtid_IO_Pos: //p' <<<"$st")
		[ "$r" != 0 ] || return 0
		! grep -qE ' Last_(IO|SQL)_Errno: [1-9]' <<<"$st" ||
			bench_die "the replica stopped: $(grep -E ' Last_(IO|SQL)_Error: .' <<<"$st")"
		[ "${EPOCHREALTIME%.*}" -lt "$deadline" ] || return 1
	done
}

# fmt VALUE LOWER: VALUE to 2 decimals, ">=" before it if it is at or
# above LOWER (the smallest lag of a heartbeat never seen)
fmt() {
	awk -v v="$1" -v c="$2" 'BEGIN { printf "%s%.2f\n", (c != "" && v >= c) ? ">=" : "", v }'
}

results=()
# wan_run LINK KIND: one run; keys wan_LINK_KIND_*
wan_run() {
	local link=$1 kind=$2 d=$ww/$1-$2 g0 g1 hb0 pp sp bp t0 t1 b0 b1 caught=1
	local tps writes nhb rows frac bpr mbit n p50 p99 mx cmin q qs=() keeps binlog0 binlog1
	mkdir -p "$d"
	wan_sync
	bench_settle
	g0=$(src_sql "SELECT @@gtid_binlog_pos")
	hb0=$(src_sql "SELECT COALESCE(MAX(id), 0) FROM lagbench.hb")
	binlog0=$(src_sql "SHOW BINARY LOGS" | awk '{ s += $2 } END { print s }')
	case $kind in
	srdf)
		dst_sql "DROP DATABASE IF EXISTS srdf"
		bench_pipe_start "$ww/pipe"
		bench_pipe_source "$ww/pipe" --from-gtid "$g0" --heartbeat 1
		;;
	native) replica_start 0 "$g0" ;;
	compressed) replica_start 1 "$g0" ;;
	esac
	sleep 1
	bench_log "wan: $link, $kind: sysbench --rate=$rate for $secs s"
	mariadb --defaults-file="$DST_ADMIN_CNF" -N -B -e \
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
		 CALL lagprobe.probe($((secs + drain + 2)))" >"$d/probe.out" 2>"$d/probe.err" &
	pp=$!
	bg_pids+=("$pp")
	sleep 0.5
	b0=$(wire_bytes)
	t0=$EPOCHREALTIME
	"${sb[@]}" --threads="$threads" --rate="$rate" --time="$secs" \
		--report-interval=0 run >"$d/sysbench.log" 2>&1 &
	sp=$!
	bg_pids+=("$sp")
	sleep 1
	mariadb --defaults-file="$SRC_ADMIN_CNF" -N -B -e \
		"CALL lagbench.beat($((secs - 2)))" >/dev/null 2>"$d/beat.err" &
	bp=$!
	bg_pids+=("$bp")
	wait "$bp" || { cat "$d/beat.err" >&2; bench_die "$link, $kind: the heartbeat failed"; }
	wait "$sp" || { tail -n 20 "$d/sysbench.log" >&2; bench_die "$link, $kind: sysbench run failed"; }
	g1=$(src_sql "SELECT @@gtid_binlog_pos")
	binlog1=$(src_sql "SHOW BINARY LOGS" | awk '{ s += $2 } END { print s }')
	reached "$kind" "$g1" "$drain" || caught=0
	b1=$(wire_bytes)
	t1=$EPOCHREALTIME
	wait "$pp" || { cat "$d/probe.err" >&2; bench_die "$link, $kind: the probe failed"; }
	src_sql "SELECT UNIX_TIMESTAMP(SYSDATE(6))" >"$d/probe.end"
	case $kind in
	srdf) bench_pipe_stop "$ww/pipe" ;;
	*) replica_off ;;
	esac

	# Every heartbeat of the source, with its lag or, not seen, the time
	# until the probe ended (a lower bound, flagged 1), in order.
	src_sql "SELECT id, UNIX_TIMESTAMP(ts) FROM lagbench.hb WHERE id > $hb0 ORDER BY id" >"$d/hb.src"
	awk -F'\t' -v end="$(cat "$d/probe.end")" 'FILENAME == ARGV[1] { lag[$1] = $2 / 1e6; next }
		{ if ($1 in lag) print lag[$1], 0; else print end - $2, 1 }' \
		"$d/probe.out" "$d/hb.src" >"$d/lag"
	n=$(wc -l <"$d/lag")
	[ "$n" -gt 0 ] || bench_die "$link, $kind: no heartbeat on the source"
	cmin=$(awk '$2 == 1 && (m == "" || $1 < m) { m = $1 } END { print m }' "$d/lag")
	cut -d ' ' -f 1 "$d/lag" | sort -g >"$d/lag.s"
	p50=$(fmt "$(bench_pct "$d/lag.s" 0.50)" "$cmin")
	p99=$(fmt "$(bench_pct "$d/lag.s" 0.99)" "$cmin")
	mx=$(fmt "$(bench_pct "$d/lag.s" 1)" "$cmin")
	for q in 1 2 3 4; do
		awk -v q="$q" -v n="$n" 'NR > (q - 1) * n / 4 && NR <= q * n / 4 { print $1 }' "$d/lag" |
			sort -g >"$d/lag.q$q"
		qs+=("$(fmt "$(bench_pct "$d/lag.q$q" 0.50)" "$cmin")")
	done

	tps=$(sed -n 's/^ *transactions: .*(\([0-9.]*\) per sec.)/\1/p' "$d/sysbench.log")
	writes=$(sed -n 's/^ *write: *\([0-9]*\)$/\1/p' "$d/sysbench.log")
	nhb=$n
	rows=$((${writes:-0} + nhb))
	frac=1
	[ "$caught" = 1 ] || frac=$(awk -v a="$(gtid_seq "$g0")" -v b="$(gtid_seq "$g1")" \
		-v g="$(gtid_seq "${got_pos:-$g0}")" 'BEGIN { f = (b > a) ? (g - a) / (b - a) : 1;
		if (f < 0) f = 0; printf "%.4f\n", f }')
	bpr=$(awk -v b="$((b1 - b0))" -v r="$rows" -v f="$frac" \
		'BEGIN { printf "%.1f\n", (r * f > 0) ? b / (r * f) : 0 }')
	mbit=$(bench_round "($b1 - $b0) * 8 / ($t1 - $t0) / 1e6" 2)
	keeps=no
	if [ "$caught" = 1 ] && awk -v a="${qs[0]#>=}" -v b="${qs[3]#>=}" 'BEGIN { exit !(b + 0 <= a + 1) }'; then
		keeps=yes
	fi
	bench_log "wan: $link, $kind: ${tps:-?} tps, $rows row changes, lag p50 $p50 p99 $p99 max $mx," \
		"quarters ${qs[*]}; $((b1 - b0)) bytes on the wire, $bpr B/row, $mbit Mbit/s;" \
		"caught up: $caught (received $frac); $(bench_round "$EPOCHREALTIME - $t0" 0) s"

	local k=wan_${link}_$kind
	bench_set "${k}_achieved_tps" "${tps:-0}"
	bench_set "${k}_row_changes" "$rows"
	bench_set "${k}_heartbeats" "$n"
	bench_set "${k}_heartbeats_unseen" "$(awk '$2 == 1 { c++ } END { print c + 0 }' "$d/lag")"
	bench_set "${k}_lag_p50_s" "$(bench_pct "$d/lag.s" 0.50)"
	bench_set "${k}_lag_p99_s" "$(bench_pct "$d/lag.s" 0.99)"
	bench_set "${k}_lag_max_s" "$(bench_pct "$d/lag.s" 1)"
	bench_set "${k}_lag_lower_bound" "$([ -n "$cmin" ] && echo true || echo false)"
	for q in 1 2 3 4; do
		bench_set "${k}_lag_q${q}_p50_s" "$(bench_pct "$d/lag.q$q" 0.50)"
	done
	bench_set "${k}_wire_bytes" "$((b1 - b0))"
	bench_set "${k}_wire_bytes_per_row" "$bpr"
	bench_set "${k}_wire_mbit_s" "$mbit"
	bench_set "${k}_received_fraction" "$frac"
	bench_set "${k}_binlog_bytes_per_row" "$(bench_round "($binlog1 - $binlog0) / $rows" 1)"
	bench_set "${k}_keeps_up" "$([ "$keeps" = yes ] && echo true || echo false)"
	results+=("$(printf '  %-7s %-10s %7s %7s %7s %7s  %-27s %7s %6s %5s\n' "$link" "$kind" \
		"${tps:-?}" "$p50" "$p99" "$mx" "${qs[*]}" "$bpr" "$mbit" "$keeps")")
	eval "r_${link}_${kind}_p99=\$p99 r_${link}_${kind}_bpr=\$bpr r_${link}_${kind}_tps=\${tps:-0}"
	eval "r_${link}_${kind}_binlog=$(bench_round "($binlog1 - $binlog0) / $rows" 1)"
}

for link in $links; do
	t/srdf-wan degrade "$ww" --rate "$link" --loss "$loss" --delay "$delay" ||
		bench_die "t/srdf-wan degrade failed"
	bench_log "wan: link $(t/srdf-wan status "$ww")"
	for r in $runs; do
		wan_run "$link" "$r"
	done
done

# ---- figures -----------------------------------------------------------

read -r load1 _ </proc/loadavg
bench_set wan_loadavg_start "$load0"
bench_set wan_loadavg_end "$load1"
bench_set wan_seconds "$secs"
bench_set wan_rate_tps "$rate"

echo "wan: sysbench oltp_write_only --rate=$rate ($threads threads, $secs s a run) over t/srdf-wan:" \
	"$delay + $delay delay (RTT $(($(echo "$delay" | tr -dc 0-9) * 2)) ms), $loss % loss each way"
printf '  %-7s %-10s %7s %7s %7s %7s  %-27s %7s %6s %5s\n' link replicator "got tps" \
	"p50 s" "p99 s" "max s" "lag p50 by quarter, s" "B/row" "Mbit/s" "keeps"
printf '%s\n' "${results[@]}"
echo "  lag: source commit to target visibility, a heartbeat every 50 ms; >=: heartbeats not seen"
echo "  by the end of the run (a lower bound); B/row: bytes through the link, both ways, headers"
echo "  and retransmissions included, per source row change; Mbit/s: their average rate;"
echo "  keeps: reached the source's last GTID within ${drain} s of the load's end, and no lag growth"
echo "  native: the target mariadbd as a replica across the link (slave_parallel_threads=4);"
echo "  compressed: the same with slave_compressed_protocol=1; srdf: HTTPS, default options"
for link in $links; do
	b=$(eval "echo \${r_${link}_native_binlog:-\${r_${link}_srdf_binlog:-?}}")
	echo "  $link: the source's binlog grew by $b bytes per row change (a replica that does not"
	echo "    binlog is not sent its Annotate_rows events, so it reads less)"
done
echo "  host load average (1 min) $load0 at the start, $load1 at the end, on $(nproc) CPUs;" \
	"section took $(bench_round "$EPOCHREALTIME - $t_section" 0) s"

l=10mbit
case " $links " in *" $l "*) ;; *) l= ;; esac
case " $runs " in *" srdf "*) ;; *) l= ;; esac
if [ -n "$l" ]; then
	echo "targets (10 Mbit/s, $((2 * $(echo "$delay" | tr -dc 0-9))) ms RTT, $loss % loss):"
	eval "sp99=\$r_${l}_srdf_p99 sbpr=\$r_${l}_srdf_bpr stps=\$r_${l}_srdf_tps"
	met=$(awk -v p="$sp99" 'BEGIN { print (p !~ />/ && p + 0 <= 2) ? 1 : 0 }')
	note=$(awk -v t="$stps" -v r="$rate" 'BEGIN { if (t < 0.9 * r) printf " (sysbench reached %s of %s tps)", t, r }')
	bench_target "srdf lag p99 <= 2 s at $rate tps" "$met" "$sp99 s$note"
	bench_set wan_target_lag_met "$([ "$met" = 1 ] && echo true || echo false)"
	for r in native compressed; do
		case " $runs " in *" $r "*) ;; *) continue ;; esac
		eval "nbpr=\$r_${l}_${r}_bpr"
		ratio=$(awk -v s="$sbpr" -v n="$nbpr" 'BEGIN { printf "%.3f\n", (n > 0) ? s / n : 0 }')
		met=$(awk -v r="$ratio" 'BEGIN { print (r > 0 && r <= 0.15) ? 1 : 0 }')
		bench_target "srdf wire bytes <= 15% of $r" "$met" \
			"$(bench_round "$ratio * 100" 1) % ($sbpr vs $nbpr B/row)"
		bench_set "wan_srdf_vs_${r}_bytes_ratio" "$ratio"
		bench_set "wan_target_bytes_vs_${r}_met" "$([ "$met" = 1 ] && echo true || echo false)"
	done
fi
