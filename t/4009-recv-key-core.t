#!/bin/bash
test_description='srdf-recv: a core dump of the running receiver holds neither the key nor a wagon'"'"'s records'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

# The core is made by gdb's gcore, which leaves out what the kernel would
# (MADV_DONTDUMP pages, /proc/PID/coredump_filter) and needs no change to
# the machine's core_pattern.  Where it cannot attach (no gdb, ptrace
# refused), there is nothing to look at.
command -v gcore >/dev/null || skip_all "no gcore (gdb) to dump a process"
command -v python3 >/dev/null || skip_all "no python3 to search a core"
# Under AddressSanitizer (make check-asan) the process maps terabytes of
# shadow memory, which gcore would write out: there is no key to find in
# the sanitized build's core that the normal build's test does not find.
if ldd "$top/bin/srdf-recv" 2>/dev/null | grep -q libasan; then
	skip_all "srdf-recv is built with AddressSanitizer: its core would hold the whole shadow memory"
fi
sleep 30 </dev/null >/dev/null 2>&1 9<&- &
probe=$!
gcore -o probe $probe >/dev/null 2>&1 && test -s probe.$probe
made=$?
kill $probe 2>/dev/null
wait $probe 2>/dev/null
[ $made = 0 ] || skip_all "gcore cannot dump a process here (ptrace refused?)"
rm -f probe.*

# holds CORE HEX: whether the bytes whose hex is HEX occur in CORE.
holds() {
	python3 -c 'import sys
sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1], "rb").read() else 1)' "$@"
}

text_hex() {
	printf %s "$1" | od -An -v -tx1 | tr -d ' \n'
}

test_expect_success 'setup: a key, two wagons, a part of the records of the first' '
	mkwagons key key &&
	mkwagons seal src key 2 &&
	cp src/outbox/new/00000000000000000001.wagon w1 &&
	cp src/outbox/new/00000000000000000002.wagon bad && flip bad 700 &&
	key=$(cut -d" " -f3 key) &&
	test ${#key} = 64 &&
	srdf-cat --key-file key w1 >records &&
	plain=$(jq -r "select(.pad) | .pad" records | head -1 | cut -c 100-163) &&
	test ${#plain} = 64
'

test_expect_success 'srdf-recv opens a wagon, and refuses a damaged one' '
	daemon_start recv srdf-recv --dir dst --key-file key \
		--listen 127.0.0.1:0 --insecure &&
	got=$(req_started POST /v1/wagons w1) && answer_is 201 accepted &&
	got=$(req POST /v1/wagons bad) && answer_is 400 invalid_payload
'

test_expect_success 'gcore of the running srdf-recv' '
	pid=$(cat recv.pid) &&
	gcore -o core $pid >gcore.out 2>&1 &&
	mv core.$pid core &&
	test_pid_alive $pid
'

test_expect_success '(control) the core is the process: it holds its inbox path' '
	holds core $(text_hex "dst/inbox")
'

test_expect_success 'the core does not hold the key, raw or in hex' '
	! holds core $key &&
	! holds core $(text_hex $key)
'

test_expect_success 'the core does not hold the records it opened' '
	! holds core $(text_hex "$plain")
'

test_expect_success 'srdf-recv stops cleanly' '
	test_bg_stop recv
'

test_done
