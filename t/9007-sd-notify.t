#!/bin/bash
test_description='sd_notify: READY once serving, WATCHDOG=1 about every second and none while stopped, SIGHUP reloads (RELOADING, READY) and keeps running, SIGTERM says STOPPING and exits 0'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

# listen NAME: a unix datagram socket NAME.sock, as systemd's
# NOTIFY_SOCKET; each message goes to NAME.msgs as "MONOTONIC-SECONDS
# MESSAGE" (newlines of a message as |).
listen() {
	test_bg "$1-listener" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        m = s.recv(4096).decode()
        f.write("%.3f %s\n" % (time.monotonic(), m.replace("\n", "|")))
' "$PWD/$1.sock" "$PWD/$1.msgs" &&
	test_wait_until 5 "test -S $1.sock" && : >>"$1.msgs"
}

# under NAME CMD...: CMD in the background (test_bg NAME) as systemd
# starts a Type=notify unit with WatchdogSec=2s: NOTIFY_SOCKET,
# WATCHDOG_USEC, and WATCHDOG_PID its own pid (sh execs CMD).
under() {
	local name=$1
	shift
	test_bg "$name" env NOTIFY_SOCKET="$PWD/$name.sock" \
		WATCHDOG_USEC=2000000 sh -c 'WATCHDOG_PID=$$ exec "$@"' sh "$@"
}

# count NAME MSG [SINCE]: messages MSG of NAME (since monotonic SINCE)
count() {
	awk -v m="$2" -v t="${3:-0}" '$1 >= t && $2 ~ ("^" m) { n++ } END { print n + 0 }' "$1.msgs"
}

now() {
	python3 -c 'import time; print("%.3f" % time.monotonic())'
}

# shipped N: the ledger of src says its N wagons are received
shipped() {
	test "$(states src | paste -sd " ")" = "received $1"
}

alive_pid() {
	kill -0 "$(cat "$1.pid")"
}

test_expect_success 'setup: a key, 3 sealed wagons, the listeners' '
	mkwagons key key &&
	mkwagons seal src key 3 &&
	listen recv && listen ship && listen seal
'

test_expect_success 'srdf-recv: READY=1 once it listens, then WATCHDOG=1 about every second' '
	under recv srdf-recv --dir dst --key-file key --listen 127.0.0.1:0 --insecure &&
	test_wait_until 10 "test \$(count recv READY=1) = 1" &&
	grep -q "listening on" recv.err &&
	URL=$(sed -n "s|.*listening on \(http://[0-9.]*:[0-9]*\):.*|\1|p" recv.err) &&
	got=$(req_started GET /v1/health -) && test "$got" = 200 &&
	t0=$(now) && sleep 4.5 &&
	n=$(count recv WATCHDOG=1 "$t0") && echo "$n pings in 4.5 s" &&
	test "$n" -ge 3 && test "$n" -le 6
'

test_expect_success 'srdf-recv stopped (SIGSTOP): no ping, as systemd would kill it; SIGCONT: pings again' '
	kill -STOP "$(cat recv.pid)" && sleep 0.2 && t0=$(now) && sleep 3 &&
	test "$(count recv WATCHDOG=1 "$t0")" = 0 &&
	kill -CONT "$(cat recv.pid)" && t1=$(now) &&
	test_wait_until 3 "test \$(count recv WATCHDOG=1 $t1) -ge 1"
'

test_expect_success 'srdf-recv SIGHUP: RELOADING=1 then READY=1, same process, still serves and takes the rotated key' '
	kill -HUP "$(cat recv.pid)" &&
	test_wait_until 5 "test \$(count recv READY=1) = 2" &&
	test "$(count recv RELOADING=1)" = 1 &&
	awk "\$2 ~ /^(RELOADING|READY)=1/ { print \$2 }" recv.msgs | tail -2 >actual &&
	printf "RELOADING=1\nREADY=1\n" >expect && test_cmp expect actual &&
	alive_pid recv &&
	got=$(req GET /v1/health -) && test "$got" = 200 &&
	srdf-keygen --rotate key && kill -HUP "$(cat recv.pid)" &&
	test_wait_until 5 "test \$(count recv READY=1) = 3" &&
	grep -q "read key file .* again: key ids" recv.err &&
	got=$(req GET /v1/health -) && test "$got" = 200 && alive_pid recv
'

test_expect_success 'srdf-ship: READY=1, pings, SIGHUP reloads and ships on' '
	under ship srdf-ship --dir src --to "$URL" --key-file key --insecure &&
	test_wait_until 10 "test \$(count ship READY=1) = 1" &&
	test_wait_until 10 "shipped 3" &&
	t0=$(now) && sleep 2.5 && test "$(count ship WATCHDOG=1 "$t0")" -ge 2 &&
	kill -HUP "$(cat ship.pid)" &&
	test_wait_until 5 "test \$(count ship READY=1) = 2" &&
	test "$(count ship RELOADING=1)" = 1 && alive_pid ship &&
	mkwagons seal src key 2 &&
	test_wait_until 10 "shipped 5"
'

test_expect_success 'srdf-seal idle on its input: READY=1, pings while no line comes, SIGHUP reloads' '
	mkfifo in && { sleep 60 >in & echo $! >holder.pid; } &&
	under seal sh -c "exec srdf-seal --dir sealdir --key-file key <in" &&
	test_wait_until 10 "test \$(count seal READY=1) = 1" &&
	t0=$(now) && sleep 2.5 && test "$(count seal WATCHDOG=1 "$t0")" -ge 2 &&
	kill -HUP "$(cat seal.pid)" &&
	test_wait_until 5 "test \$(count seal READY=1) = 2" &&
	test "$(count seal RELOADING=1)" = 1 && alive_pid seal &&
	grep -q "SIGHUP: reloading" seal.err
'

test_expect_success 'srdf-recv with TLS: SIGHUP reads the certificate again, on the same port, same process' '
	make_cert old && make_cert new && cp old.crt tls.crt && cp old.key tls.key &&
	daemon_start tls srdf-recv --dir tlsdst --key-file key --listen 127.0.0.1:0 \
		--cert tls.crt --tls-key tls.key &&
	got=$(CURL_CA=old.crt req_started GET /v1/health -) && test "$got" = 200 &&
	cp new.crt tls.crt && cp new.key tls.key && kill -HUP "$(cat tls.pid)" &&
	test_wait_until 5 "grep -q \"read the TLS certificate tls.crt and key tls.key again\" tls.err" &&
	got=$(CURL_CA=new.crt req GET /v1/health -) && test "$got" = 200 &&
	! CURL_CA=old.crt req GET /v1/health - >/dev/null &&
	alive_pid tls && test_bg_stop tls
'

test_expect_success 'srdf-ackd: READY=1 once it listens, pings, SIGHUP reloads, SIGTERM says STOPPING=1 and exits 0' '
	listen ackd &&
	under ackd srdf-ackd --dir src --key-file key --listen 127.0.0.1:0 --insecure &&
	test_wait_until 10 "test \$(count ackd READY=1) = 1" &&
	grep -q "listening on" ackd.err &&
	t0=$(now) && sleep 2.5 && test "$(count ackd WATCHDOG=1 "$t0")" -ge 2 &&
	kill -HUP "$(cat ackd.pid)" &&
	test_wait_until 5 "test \$(count ackd READY=1) = 2" &&
	test "$(count ackd RELOADING=1)" = 1 && alive_pid ackd &&
	test_bg_stop ackd && test "$(count ackd STOPPING=1)" = 1
'

# supervise NAME CMD...: what systemd does for a Type=notify unit with
# WatchdogSec=2s and Restart=on-failure: CMD under NAME (under), and
# when READY=1 or WATCHDOG=1 has not come for 2 s, kill -ABRT (then
# SIGCONT, as systemd sends) and start it again; a line in NAME.starts per start.  Until NAME.halt exists.
supervise() {
	local name=$1 pid last
	shift
	while [ ! -e "$name.halt" ]; do
		under "$name" "$@" && pid=$(cat "$name.pid") && echo "$pid" >>"$name.starts" &&
		sleep 2.5 &&
		while kill -0 "$pid" 2>/dev/null; do
			last=$(awk "\$2 ~ /^(READY|WATCHDOG)=1/ { t = \$1 } END { print t + 0 }" "$name.msgs") &&
			if python3 -c "import sys, time; sys.exit(time.monotonic() - $last < 2)"; then
				echo "no ping for 2 s: SIGABRT to $pid" >>"$name.starts" &&
				kill -ABRT "$pid" && kill -CONT "$pid"
			fi
			sleep 0.2
		done
		wait "$pid" 2>/dev/null
	done
}

test_expect_success 'a supervisor with the watchdog rule: a srdf-recv stopped with SIGSTOP is killed and restarted, one killed with SIGKILL is restarted, srdf-ship goes on' '
	mkwagons seal src2 key 3 && listen sup && port=$(free_port) &&
	test_bg supervisor supervise sup srdf-recv --dir dst2 --key-file key \
		--listen 127.0.0.1:$port --insecure &&
	test_wait_until 10 "test \$(count sup READY=1) = 1" &&
	test_bg ship2 srdf-ship --dir src2 --to http://127.0.0.1:$port --key-file key \
		--insecure --retry 200ms,500ms &&
	test_wait_until 10 "test \"\$(states src2 | paste -sd \" \")\" = \"received 3\"" &&
	kill -STOP "$(head -n 1 sup.starts)" &&
	test_wait_until 10 "grep -q \"no ping for 2 s\" sup.starts" &&
	test_wait_until 10 "test \$(count sup READY=1) = 2" &&
	test "$(grep -c "^[0-9]" sup.starts)" = 2 &&
	mkwagons seal src2 key 3 &&
	test_wait_until 20 "test \"\$(states src2 | paste -sd \" \")\" = \"received 6\"" &&
	kill -KILL "$(grep "^[0-9]" sup.starts | tail -n 1)" &&
	test_wait_until 10 "test \$(count sup READY=1) = 3" &&
	test "$(grep -c "^[0-9]" sup.starts)" = 3 &&
	mkwagons seal src2 key 3 &&
	test_wait_until 20 "test \"\$(states src2 | paste -sd \" \")\" = \"received 9\"" &&
	touch sup.halt && test_bg_stop ship2 &&
	kill "$(grep "^[0-9]" sup.starts | tail -n 1)"
'

test_expect_success 'SIGTERM: STOPPING=1 and exit 0 (recv, ship, seal)' '
	test_bg_stop ship && test "$(count ship STOPPING=1)" = 1 &&
	test_bg_stop recv && test "$(count recv STOPPING=1)" = 1 &&
	test_bg_stop seal && kill "$(cat holder.pid)"
'

test_done
