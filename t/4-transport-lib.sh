# t/4-transport-lib.sh — sourced by the transport tests (t/4*.t) after
# t/lib.sh.  Wagons come from t/helpers/mkwagons (no srdf-seal needed),
# signatures from t/helpers/hsign, ACK bodies from t/helpers/mkack.
#
#	make_cert NAME            self-signed certificate for 127.0.0.1:
#	                          NAME.crt, NAME.key
#	daemon_start NAME CMD...  a server (srdf-recv, srdf-ackd) in the
#	                          background (test_bg NAME); waits for its
#	                          "listening on URL" line and sets URL
#	req METHOD PATH BODY [KEYFILE [CURL-ARG...]]
#	                          a request to $URL signed with KEYFILE
#	                          (default key), BODY a file or - for none;
#	                          prints the HTTP status, the answer is in
#	                          ./answer.  CURL_CA: --cacert for https.
#	req_started ARGS...       req, repeated (up to 5 s) while the server
#	                          refuses requests signed in the second it
#	                          started (503 busy "not after this verifier
#	                          started")
#	answer_is STATUS WORD [REASON-ERE]
#	                          the last answer ($got, ./answer) is that
#	                          HTTP status, srdf word and reason
#	rec DIR SEQ               the ledger record of wagon SEQ, one line
#	states DIR                "STATE COUNT" lines of DIR's ledger
#	kill9 NAME                SIGKILL to a test_bg process, reaped
#	flip FILE OFFSET          inverts one byte of FILE
#	free_port                 a TCP port nothing listens on

make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -days 2 \
		-keyout "$1.key" -out "$1.crt" 2>/dev/null
}

daemon_start() {
	local name=$1
	shift
	test_bg "$name" "$@"
	test_wait_until 10 "grep -q 'listening on' $name.err" &&
		URL=$(sed -n 's|.*listening on \(https*://[0-9.]*:[0-9]*\):.*|\1|p' "$name.err")
}

req() {
	local m=$1 p=$2 f=$3 k=${4:-key} data=()
	shift 3
	[ $# = 0 ] || shift
	[ "$f" = - ] || data=(--data-binary "@$f")
	curl -s -o answer -w '%{http_code}' ${CURL_CA:+--cacert "$CURL_CA"} \
		-X "$m" -H "X-Srdf-Auth: $(hsign "$k" "$m" "$p" "$f")" \
		"${data[@]}" "$@" "$URL$p"
}

req_started() {
	{ local -; set +x; } 2>/dev/null
	local n=50 got
	while got=$(req "$@") && grep -q "not after this verifier started" answer &&
		[ $n -gt 0 ]; do
		n=$((n - 1))
		sleep 0.1
	done
	echo "$got"
}

answer_is() {
	{ local -; set +x; } 2>/dev/null
	[ "$got" = "$1" ] && [ "$(jq -r .status answer)" = "$2" ] &&
		{ [ -z "${3:-}" ] || jq -r .reason answer | grep -Eq -- "$3"; } ||
		{ echo "answer_is: got HTTP $got: $(cat answer)" >&2; return 1; }
}

rec() {
	ledger-wagons "$1" | jq -c "select(.seq == $2)"
}

states() {
	ledger-wagons "$1" | jq -r .state | sort | uniq -c | awk '{ print $2, $1 }'
}

kill9() {
	local pid
	pid=$(cat "$1.pid") && kill -KILL "$pid" && { wait "$pid" 2>/dev/null || :; }
}

flip() {
	printf "$(printf '\\%03o' $((0x$(xxd -s "$2" -l 1 -p "$1") ^ 0xff)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

free_port() {
	test_free_port
}
