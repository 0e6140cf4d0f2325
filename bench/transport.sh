# bench/transport.sh — section "transport" of bench/run (sourced in a
# subshell).
#
# srdf-ship to srdf-recv over loopback HTTPS (TLS 1.3, a self-signed
# certificate given to ship with --ca-file), for 64 KiB and 4 MiB wagons:
# wagons/s, MB/s (MB = 10^6 bytes of wagon files) and the CPU seconds
# (user + system) that srdf-ship and srdf-recv spend per MB.  Each size
# is sealed once by t/helpers/mkwagons (random payload, so zstd cannot
# shrink it; untimed); then `srdf-ship --once` runs $BENCH_REPEAT times
# on a fresh copy of the source directory into an empty target, with one
# wagon in flight (the default) and with --pipeline 4.  The best wall
# time counts, with the CPU of that run.  Every run must leave every
# wagon in the inbox, byte for byte, or the section fails.
#
# What a run includes: per wagon, ship's checksum check and signature,
# TLS, recv's signature check, checksum, decryption and decompression
# (then discarded), two fsyncs of the spool and one LMDB commit on each
# side.  It does not need the MariaDB servers that bench/run starts.
#
# Environment: BENCH_TRANSPORT_64K (wagons of 64 KiB, default 2000) and
# BENCH_TRANSPORT_4M (wagons of 4 MiB, default 64).

set -euo pipefail

tw=$BENCH_DIR/transport
rm -rf "$tw"
mkdir -p "$tw"
PATH=$top/t/helpers:$PATH
for t in mkwagons hsign; do
	[ -x "t/helpers/$t" ] || bench_die "t/helpers/$t is not built (make)"
done
for t in ship recv; do
	[ -x "bin/srdf-$t" ] || bench_die "bin/srdf-$t is not built (make)"
done

mkwagons key "$tw/key"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -days 2 \
	-keyout "$tw/tls.key" -out "$tw/tls.crt" 2>/dev/null ||
	bench_die "openssl cannot make a certificate"

# cpu_ticks PID: user + system clock ticks of a running process.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# recv_up DIR: srdf-recv on DIR/dst in the background; sets RECV_PID and
# RECV_URL once it answers a signed health check.
recv_up() {
	local d=$1 n
	bin/srdf-recv --dir "$d/dst" --key-file "$tw/key" --listen 127.0.0.1:0 \
		--cert "$tw/tls.crt" --tls-key "$tw/tls.key" --max-body 8M \
		--max-memory 64M 2>"$d/recv.err" &
	RECV_PID=$!
	RECV_URL=
	for n in $(seq 100); do
		RECV_URL=$(sed -n 's|.*listening on \(https://[0-9.]*:[0-9]*\):.*|\1|p' "$d/recv.err")
		[ -z "$RECV_URL" ] || break
		sleep 0.05
	done
	[ -n "$RECV_URL" ] || { cat "$d/recv.err" >&2; bench_die "srdf-recv did not start"; }
	# A request signed in the second srdf-recv started is refused (a
	# possible replay): wait for the first one it takes.
	for n in $(seq 60); do
		curl -s -o /dev/null -w '%{http_code}' --cacert "$tw/tls.crt" \
			-H "X-Srdf-Auth: $(hsign "$tw/key" GET /v1/health -)" \
			"$RECV_URL/v1/health" | grep -q 200 && return 0
		sleep 0.05
	done
	bench_die "srdf-recv does not answer its health check"
}

row() {
	printf '%-8s %7s %9s %9s %10s %9s %14s %14s\n' "$@"
}

results=()

# run_size LABEL COUNT BYTES
run_size() {
	local label=$1 count=$2 bytes=$3 src=$tw/src-$1 total p i d out w r c
	local best_w best_c best_rc t0 t1
	bench_log "transport: sealing $count wagons of $label"
	mkwagons seal "$src" "$tw/key" "$count" "$bytes" ||
		bench_die "mkwagons failed"
	total=$(cat "$src"/outbox/new/* | wc -c)
	for p in 1 4; do
		best_w= best_c= best_rc=
		for i in $(seq "$BENCH_REPEAT"); do
			d=$tw/run-$label-p$p-$i
			mkdir -p "$d"
			cp -a "$src" "$d/src"
			recv_up "$d"
			t0=$(cpu_ticks "$RECV_PID")
			out=$(bench_measure "$d/ship.err" bin/srdf-ship --dir "$d/src" \
				--to "$RECV_URL" --key-file "$tw/key" --ca-file "$tw/tls.crt" \
				--pipeline "$p" --retry 100ms,1s --once) &&
				grep -q "nothing left to ship: $count wagons" "$d/ship.err" ||
				{ tail -n 5 "$d/ship.err" >&2; bench_die "srdf-ship ($label, pipeline $p) failed"; }
			t1=$(cpu_ticks "$RECV_PID")
			kill -TERM "$RECV_PID" && wait "$RECV_PID" ||
				bench_die "srdf-recv did not stop cleanly"
			for f in "$d"/src/outbox/new/*; do
				cmp -s "$f" "$d/dst/inbox/new/${f##*/}" ||
					bench_die "$label: ${f##*/} is not in the inbox as sent"
			done
			read -r w r c <<<"$out"
			bench_log "transport $label pipeline $p run $i: ${w} s, ship cpu ${c} s, recv cpu $(((t1 - t0)))/$(getconf CLK_TCK) s"
			if [ -z "$best_w" ] || awk -v a="$w" -v b="$best_w" 'BEGIN { exit !(a < b) }'; then
				best_w=$w best_c=$c best_rc=$(bench_calc "($t1 - $t0) / $(getconf CLK_TCK)")
			fi
			rm -rf "$d"
		done
		local mb wps mbps scpu rcpu key
		mb=$(bench_calc "$total / 1000000")
		wps=$(bench_round "$count / $best_w" 0)
		mbps=$(bench_round "$total / 1000000 / $best_w" 1)
		scpu=$(bench_round "$best_c / $mb" 4)
		rcpu=$(bench_round "$best_rc / $mb" 4)
		key=transport_${label}_p$p
		bench_set "${key}_wagons" "$count"
		bench_set "${key}_bytes" "$total"
		bench_set "${key}_wall_s" "$best_w"
		bench_set "${key}_wagons_per_s" "$wps"
		bench_set "${key}_mb_per_s" "$mbps"
		bench_set "${key}_ship_cpu_s_per_mb" "$scpu"
		bench_set "${key}_recv_cpu_s_per_mb" "$rcpu"
		results+=("$(row "$label" "$count" "$p" "$best_w" "$wps" "$mbps" "$scpu" "$rcpu")")
	done
	rm -rf "$src"
}

run_size 64k "${BENCH_TRANSPORT_64K:-2000}" 65536
run_size 4m "${BENCH_TRANSPORT_4M:-64}" 4194304

echo "transport: srdf-ship -> srdf-recv over loopback HTTPS, every wagon durable before its answer"
row size wagons pipeline "wall (s)" wagons/s MB/s "ship CPU s/MB" "recv CPU s/MB"
printf '%s\n' "${results[@]}"
echo "(MB = 10^6 bytes of wagon files; CPU = user + system; best of $BENCH_REPEAT)"
