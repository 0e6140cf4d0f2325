# t/8-wan-lib.sh — sourced by the WAN tests (t/8003, t/8004) after
# t/lib.sh.  The whole pipeline on two "hosts": the source's srdf-ship and
# srdf-ackd run in the source namespace, srdf-recv and srdf-apply in the
# target's (t/srdf-wan), so that the HTTPS of the wagons and of the ACKs
# crosses the link and nothing else does; srdf-apply reaches its server by
# the socket (DST_ADMIN_CNF).  srdf-capture | srdf-dedup | srdf-seal read
# the source's binlog on the machine itself, as on the source host.
#
#	wan_setup               link (degraded: WAN_DEGRADE), servers,
#	                        key, certificate, sysbench tables, then
#	                        srdf-bootstrap | srdf-seal
#	wan_recv_start NAME [PORT]   srdf-recv in the target namespace as
#	                        NAME; its port in recv.port
#	wan_daemons_start       srdf-recv, srdf-ackd, the capture chain,
#	                        srdf-ship, srdf-apply
#	wan_load SECONDS        sysbench oltp_write_only at WAN_RATE tps
#	wan_no_dead             no wagon dead in either ledger or audit log
#	wan_confirmed COUNT     at least COUNT wagons confirmed at the source
#	wan_drained SECONDS     the target at the source's last GTID, every
#	                        wagon confirmed on both sides
#	wan_applied_once        one "applied" per wagon in the target's audit
#	                        log, seq 1..N with no gap, N == srdf.applied
#	wan_tables              the replicated tables, one a line
#	wan_max_attempts        the most attempts srdf-ship made for a wagon
#
# Knobs: WAN_PARTITION, the seconds the link stays cut (default 60, or
# 300 with SRDF_SOAK=1: "several minutes", make soak); WAN_RATE (tps,
# default 30); WAN_DEGRADE, srdf-wan degrade options for the whole run
# (default --rate 10mbit --loss 1 --delay 40ms); WAN_SHIP_ARGS, more
# srdf-ship options (e.g. --pipeline 8); WAN_ACKS=pull (t/8006): no
# srdf-ackd, the ACKs fetched back by srdf-ship --ack-pull from
# srdf-recv (srdf-apply --ack-pull), so that only srdf-ship's
# connections cross the link and nothing listens in the source
# namespace.
#
# Timeouts, in the order they depend on each other:
#	srdf-ship --timeout 2s (connect within 2 s)  <  the partition,
#	so each attempt during the cut ends in about 2 s, then waits the
#	last --retry step (1 s): some 20 attempts a minute at the last step;
#	srdf-apply's ACK back-off reaches 60 s, so the drain after the heal
#	waits longer than that (wan_drained 150).

S=$PWD/src
D=$PWD/dst
if [ "${SRDF_SOAK:-0}" != 0 ]; then
	WAN_PARTITION=${WAN_PARTITION:-300}
else
	WAN_PARTITION=${WAN_PARTITION:-60}
fi
WAN_RATE=${WAN_RATE:-30}
WAN_DEGRADE=${WAN_DEGRADE:---rate 10mbit --loss 1 --delay 40ms}
WAN_RETRY=200ms,500ms,1s
WAN_ACKS=${WAN_ACKS:-push}
WAN_TABLES=4

wan_sb() {
	sysbench oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" \
		--mysql-user=root --mysql-db=sbtest --tables=$WAN_TABLES \
		--table-size=2000 "$@"
}

wan_setup() {
	srdf_wan degrade $WAN_DEGRADE &&
	srdf-keygen -o key 2>/dev/null &&
	# One certificate for both hosts' addresses.
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=srdf-wan \
		-addext "subjectAltName=IP:$WAN_SRC_IP,IP:$WAN_DST_IP" -days 2 \
		-keyout tls.key -out tls.crt 2>/dev/null &&
	src_sql "CREATE DATABASE sbtest; CREATE DATABASE wan;
		CREATE TABLE wan.marks (id INT AUTO_INCREMENT PRIMARY KEY,
			phase VARCHAR(20) NOT NULL, at DATETIME(6) NOT NULL)" &&
	wan_sb prepare >prepare.out &&
	mkdir -p "$S" "$D" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" 2>bootstrap.err |
		srdf-seal --dir "$S" --key-file key 2>seal0.err &&
	test "$(ledger-meta "$S" last_sealed_gtid)" = "$(src_sql "SELECT @@gtid_binlog_pos")"
}

# wan_listening NAME: the URL NAME logged ("listening on URL").
wan_listening() {
	test_wait_until 20 "grep -qs 'listening on' $1.err" &&
		sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\).*|\1|p' "$1.err" |
		head -n 1
}

wan_recv_start() {
	test_bg "$1" on_dst srdf-recv --dir "$D" --key-file key \
		--listen "$WAN_DST_IP:${2:-0}" --cert tls.crt --tls-key tls.key &&
		wan_listening "$1" >recv.url &&
		echo "${2:-$(sed 's/.*://' recv.url)}" >recv.port
}

wan_daemons_start() {
	local pull= acks
	wan_recv_start recv0 || return 1
	if [ "$WAN_ACKS" = pull ]; then
		pull=--ack-pull acks=(--ack-pull)
	else
		test_bg ackd on_src srdf-ackd --dir "$S" --key-file key \
			--listen "$WAN_SRC_IP:0" --cert tls.crt --tls-key tls.key &&
		wan_listening ackd >ackd.url || return 1
		acks=(--ack-to "$(cat ackd.url)")
	fi

	test_bg chain bash -c "set -o pipefail; srdf-capture --defaults-file \"$SRC_CNF\" --dir \"$S\" --heartbeat 1 2>capture.err | srdf-dedup 2>dedup.err | srdf-seal --dir \"$S\" --key-file key 2>seal.err" &&
	test_bg ship on_src srdf-ship --dir "$S" --to "$(cat recv.url)" \
		--key-file key --ca-file tls.crt --timeout 2s --retry "$WAN_RETRY" \
		$pull $WAN_SHIP_ARGS &&
	test_bg apply on_dst srdf-apply --dir "$D" --key-file key \
		--defaults-file "$DST_ADMIN_CNF" "${acks[@]}" \
		--ca-file tls.crt --retry "$WAN_RETRY"
}

wan_load() {
	test_bg load wan_sb --threads=2 --rate="$WAN_RATE" --time="$1" \
		--report-interval=0 run
}

wan_mark() {
	src_sql "INSERT INTO wan.marks (phase, at) VALUES ('$1', NOW(6))"
}

wan_no_dead() {
	{ local -; set +x; } 2>/dev/null
	local d
	for d in "$S" "$D"; do
		# -s: jq -e of no input at all (an empty ledger) is true.
		if ledger-wagons "$d" 2>/dev/null |
		    jq -s -e 'map(select(.state == "dead")) | length > 0' >/dev/null; then
			ledger-wagons "$d" | jq -c 'select(.state == "dead")' >&2
			echo "wan_no_dead: a wagon is dead in $d" >&2
			return 1
		fi
		if grep '"to":"dead"' "$d/audit.log" >&2; then
			echo "wan_no_dead: $d/audit.log has a dead wagon" >&2
			return 1
		fi
	done
}

wan_count() { # DIR STATE
	ledger-wagons "$1" | jq -r .state | grep -cx "$2" || :
}

wan_confirmed() {
	test "$(wan_count "$S" confirmed)" -ge "$1"
}

wan_all_confirmed() {
	local n
	n=$(ledger-wagons "$S" | wc -l) &&
	test "$n" -gt 0 && test "$(wan_count "$S" confirmed)" = "$n" &&
	test "$(ledger-wagons "$D" | wc -l)" = "$n" &&
	test "$(wan_count "$D" confirmed)" = "$n"
}

wan_drained() {
	local last
	last=$(src_sql "SELECT @@gtid_binlog_pos") &&
	test_wait_until "$1" "test \"\$(dst_sql 'SELECT gtid_pos FROM srdf.applied' 2>/dev/null)\" = \"$last\"" &&
	test_wait_until "$1" "test \"\$(ledger-meta \"$S\" last_sealed_gtid)\" = \"$last\"" &&
	test_wait_until "$1" wan_all_confirmed
}

wan_applied_once() {
	{ local -; set +x; } 2>/dev/null
	local n
	n=$(ledger-wagons "$S" | wc -l) &&
	test "$(applied_seq_now)" = "$n" &&
	jq -r 'select(.to == "applied" and .tool == "srdf-apply") | .seq' "$D/audit.log" >applied.seqs &&
	seq 1 "$n" >applied.expect &&
	sort -n applied.seqs | test_cmp applied.expect -
}

applied_seq_now() {
	dst_sql "SELECT seq FROM srdf.applied"
}

wan_tables() {
	src_sql "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA IN ('sbtest', 'wan') AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"
}

# wan_max_attempts: the most delivery attempts srdf-ship made for one
# wagon; during a cut, those of the wagon at the head of the queue.
wan_max_attempts() {
	ledger-wagons "$S" | jq -s 'map(.attempts // 0) | max'
}
