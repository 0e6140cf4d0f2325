#!/bin/bash
test_description='srdf-recv and srdf-ackd take the server options of lib/httpd alike; option values fail in one form'
. "$(dirname "$0")/lib.sh"
. "$top/t/4-transport-lib.sh"

test_expect_success 'setup' '
	mkwagons key key &&
	mkwagons seal src key 1
'

# The same command line, the same refusal, from both servers.
both() {
	want=$1; shift
	for tool in "srdf-recv --dir dst" "srdf-ackd --dir src"; do
		test_expect_code 64 $tool --key-file key --listen 127.0.0.1:0 "$@" 2>err &&
		untime err | grep -qxF "<3>${tool%% *}: $want" || return 1
	done
}

test_expect_success 'TLS: one of --cert with --tls-key, or --insecure' '
	both "give --cert and --tls-key for HTTPS, or --insecure for plain HTTP (one of the two)" &&
	both "give --cert and --tls-key for HTTPS, or --insecure for plain HTTP (one of the two)" --insecure --cert c --tls-key k &&
	both "--cert and --tls-key go together" --cert c
'

test_expect_success 'connection limits and durations: "bad OPT VALUE (want ...)"' '
	both "bad --max-connections 0 (want 1 to 10000)" --insecure --max-connections 0 &&
	both "bad --max-peer-connections 10001 (want 1 to 10000)" --insecure --max-peer-connections 10001 &&
	both "bad --idle-timeout 500ms (want at least 1s)" --insecure --idle-timeout 500ms &&
	both "bad --grace 5x (want at least 0ms)" --insecure --grace 5x
'

test_expect_success 'the other tools'"'"' option values fail in the same form' '
	test_expect_code 64 srdf-recv --dir dst --key-file key --import imp --max-body 10 2>err &&
	untime err | grep -qxF "<3>srdf-recv: bad --max-body 10 (want 1K to 2G)" &&
	test_expect_code 64 srdf-ackd --dir src --once --sweep-interval 1ms 2>err &&
	untime err | grep -qxF "<3>srdf-ackd: bad --sweep-interval 1ms (want at least 10ms)" &&
	test_expect_code 64 srdf-ship --dir src --to dir:x --timeout 10ms 2>err &&
	untime err | grep -qxF "<3>srdf-ship: bad --timeout 10ms (want at least 1s)" &&
	test_expect_code 64 srdf-ship --dir src --to dir:x --retry 1s,8d 2>err &&
	untime err | grep -qxF "<3>srdf-ship: bad --retry step 8d (want 1ms to 7d)" &&
	test_expect_code 64 srdf-ship --dir src --to dir:x --pipeline 0 2>err &&
	untime err | grep -qxF "<3>srdf-ship: bad --pipeline 0 (want 1 to 64)" &&
	test_expect_code 64 srdf-seal --dir d --key-file key --level 0 </dev/null 2>err &&
	untime err | grep -qxF "<3>srdf-seal: bad --level 0 (want 1 to 22)" &&
	test_expect_code 64 srdf-seal --dir d --key-file key --min-free 1X </dev/null 2>err &&
	untime err | grep -qxF "<3>srdf-seal: bad --min-free 1X (want at least 0)"
'

# The message ends in "is too long", past what one log line holds.
test_expect_success 'a state directory too long for its paths is a usage error in every tool' '
	long=$(printf "%04096d" 0) &&
	for tool in "srdf-seal --key-file key" "srdf-ship --to dir:x" \
	    "srdf-recv --key-file key --import imp" "srdf-ackd --once"; do
		test_expect_code 64 $tool --dir "$long" </dev/null 2>err &&
		untime err | grep -q "^<3>${tool%% *}: --dir 0000" || return 1
	done
'

test_done
