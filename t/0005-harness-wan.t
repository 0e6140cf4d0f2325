#!/bin/bash
test_description='t/srdf-wan: two hosts in network namespaces, a link that can be slowed, made lossy, delayed, cut and healed'
. "$(dirname "$0")/lib.sh"
srdf_wan_up

# wanprobe.py: a TCP and UDP peer for the measurements below.
#	serve IP             echo a line on TCP 9000; count UDP on 9001
#	connect IP           print the connect time in ms
#	bulk IP BYTES        print seconds to send BYTES and get the answer
#	udp IP N             send N datagrams to 9001
#	count IP             print the datagrams 9001 got (over TCP 9000)
#	hold IP              connect, echo once, then wait for the
#	                     word "go" on stdin and echo again: a connection
#	                     that lives through a cut
cat >wanprobe.py <<'PY'
import socket, sys, threading, time
cmd, ip = sys.argv[1], sys.argv[2]
if cmd == "serve":
    got = [0]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((ip, 9001))
    def udp():
        while True:
            u.recv(2048); got[0] += 1
    threading.Thread(target=udp, daemon=True).start()
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, 9000)); s.listen(8)
    print("ready", flush=True)
    def serve(c):
        f = c.makefile("rb")
        for line in f:
            if line.startswith(b"count"):
                c.sendall(b"%d\n" % got[0])
            elif line.startswith(b"bulk"):
                n = int(line.split()[1])
                while n > 0:
                    n -= len(f.read1(min(n, 65536)))
                c.sendall(b"done\n")
            else:
                c.sendall(line)
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
c = None
def conn():
    global c
    t = time.monotonic()
    c = socket.create_connection((ip, 9000), timeout=5)
    return (time.monotonic() - t) * 1000
def ask(line):
    c.sendall(line)
    return c.makefile("rb").readline().decode().strip()
if cmd == "connect":
    print("%.0f" % conn())
elif cmd == "bulk":
    conn(); n = int(sys.argv[3]); t = time.monotonic()
    c.sendall(b"bulk %d\n" % n); c.sendall(b"x" * n)
    assert c.makefile("rb").readline() == b"done\n"
    print("%.2f" % (time.monotonic() - t))
elif cmd == "udp":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(int(sys.argv[3])):
        u.sendto(b"x" * 100, (ip, 9001)); time.sleep(0.002)
elif cmd == "count":
    conn(); print(ask(b"count\n"))
elif cmd == "hold":
    conn(); c.settimeout(60); print(ask(b"one\n"), flush=True)
    sys.stdin.readline(); print(ask(b"two\n"), flush=True)
PY

probe() { # NS-FUNCTION ARGS...
	local ns=$1
	shift
	$ns timeout 20 python3 wanprobe.py "$@"
}

test_expect_success 'up: three namespaces, the hosts addressed, DIR/wan/env' '
	for ns in "$WAN_SRC_NS" "$WAN_MID_NS" "$WAN_DST_NS"; do
		ip netns list | grep -q "^$ns" || return 1
	done &&
	test "$WAN_SRC_IP" = 10.87.0.1 && test "$WAN_DST_IP" = 10.87.0.2 &&
	on_src ip -4 -o addr show dev wan0 | grep -q "inet $WAN_SRC_IP/24" &&
	on_dst ip -4 -o addr show dev wan0 | grep -q "inet $WAN_DST_IP/24" &&
	srdf_wan status | grep -q "clean, connected"
'

test_expect_success 'the target host answers the source host, over the link only' '
	test_bg server on_dst python3 wanprobe.py serve "$WAN_DST_IP" &&
	test_wait_until 10 "grep -qx ready server.out" &&
	ms=$(probe on_src connect "$WAN_DST_IP") && echo "connect: $ms ms" &&
	test "$ms" -lt 40 &&
	test_must_fail on_src ip route get 192.0.2.1 2>err && grep -qi unreachable err &&
	test_must_fail on_dst ip route get 192.0.2.1 &&
	! ip -o link | grep -q "$WAN_SRC_NS\|wan0"
'

test_expect_success 'degrade --delay 40ms: a connect takes a round trip of 80 ms or more' '
	srdf_wan degrade --delay 40ms &&
	srdf_wan status | grep -q "delay=40ms" &&
	ms=$(probe on_src connect "$WAN_DST_IP") && echo "connect: $ms ms" &&
	test "$ms" -ge 78 && test "$ms" -lt 400
'

test_expect_success 'degrade --rate 4mbit: 1 MB takes 2 s or more (the delay is gone)' '
	srdf_wan degrade --rate 4mbit &&
	ms=$(probe on_src connect "$WAN_DST_IP") && test "$ms" -lt 40 &&
	s=$(probe on_src bulk "$WAN_DST_IP" 1000000) && echo "1 MB: $s s" &&
	awk -v s="$s" "BEGIN { exit !(s >= 1.8 && s < 10) }"
'

test_expect_success 'degrade --loss 50: about half the datagrams arrive' '
	srdf_wan degrade --loss 50 &&
	probe on_src udp "$WAN_DST_IP" 400 &&
	srdf_wan degrade &&
	n=$(probe on_src count "$WAN_DST_IP") && echo "arrived: $n of 400" &&
	test "$n" -gt 140 && test "$n" -lt 260
'

test_expect_success 'cut: silence, no refusal; heal: a connection opened before the cut goes on' '
	srdf_wan degrade --delay 20ms &&
	mkfifo go &&
	{ probe on_src hold "$WAN_DST_IP" <go >hold.out 2>hold.err & } &&
	exec 8>go &&
	test_wait_until 10 "grep -qx one hold.out" &&
	srdf_wan cut &&
	srdf_wan status | grep -q "cut$" &&
	t0=$SECONDS &&
	test_must_fail probe on_src connect "$WAN_DST_IP" 2>err &&
	grep -qi "timed out" err && test $((SECONDS - t0)) -ge 4 &&
	echo go >&8 && sleep 2 && ! grep -qx two hold.out &&
	srdf_wan heal &&
	test_wait_until 30 "grep -qx two hold.out" &&
	exec 8>&- &&
	probe on_src connect "$WAN_DST_IP"
'

test_expect_success 'degrade with no option: a clean link, no relay left' '
	pid=$(cat wan/relay.pid) && test_pid_alive "$pid" &&
	srdf_wan degrade &&
	test ! -e wan/relay.pid && test_wait_until 10 "! test_pid_alive $pid" &&
	srdf_wan status | grep -q "rate=none loss=0% delay=0ms, connected" &&
	ms=$(probe on_src connect "$WAN_DST_IP") && test "$ms" -lt 40
'

test_expect_success 'usage errors exit 64' '
	test_expect_code 64 "$top/t/srdf-wan" degrade "$PWD" --loss 101 &&
	test_expect_code 64 "$top/t/srdf-wan" degrade "$PWD" --delay soon &&
	test_expect_code 64 "$top/t/srdf-wan" degrade "$PWD" --rate fast &&
	test_expect_code 64 "$top/t/srdf-wan" cut "$PWD/nowhere" &&
	test_expect_code 64 "$top/t/srdf-wan" exec "$PWD" elsewhere true &&
	test_expect_code 64 "$top/t/srdf-wan" frobnicate
'

test_expect_success 'down removes it all, and again is no error; up after a killed run starts clean' '
	test_bg_stop server; : &&
	"$top/t/srdf-wan" down "$PWD" &&
	! ip netns list | grep -q "^$WAN_SRC_NS\|^$WAN_MID_NS\|^$WAN_DST_NS" &&
	test ! -e wan &&
	"$top/t/srdf-wan" down "$PWD" &&
	"$top/t/srdf-wan" up "$PWD" && "$top/t/srdf-wan" degrade "$PWD" --delay 5ms &&
	"$top/t/srdf-wan" up "$PWD" 2>err && grep -q "removing what an earlier run left" err &&
	srdf_wan status | grep -q "clean, connected" &&
	"$top/t/srdf-wan" down "$PWD"
'

test_done
