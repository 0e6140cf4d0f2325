#!/bin/bash
test_description='systemd units as make install installs them: paths of the build, verify clean, exposure <= 3.0 (examples/systemd/check), the srdf user and its 0700 state directory'
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null ||
	skip_all "systemd-analyze is not installed (package systemd)"

units='srdf-source.service srdf-ship.service srdf-ackd.service
	srdf-recv.service srdf-apply.service srdf-bootstrap@.service
	srdf-verify.service srdf-verify.timer srdf-source.target srdf-dr.target'

test_expect_success 'make install PREFIX=/usr installs the units, sysusers.d and tmpfiles.d' '
	make -s -C "$top" install DESTDIR="$PWD/root" PREFIX=/usr >make.log 2>&1 &&
	for u in $units; do test -f root/usr/lib/systemd/system/$u || return 1; done &&
	test -f root/usr/lib/sysusers.d/srdf.conf &&
	test -f root/usr/lib/tmpfiles.d/srdf.conf &&
	! grep -rn "@[A-Z]*@\|/usr/local" root/usr/lib/systemd root/usr/lib/sysusers.d root/usr/lib/tmpfiles.d &&
	grep -q "^ExecStart=/usr/bin/srdf-ship " root/usr/lib/systemd/system/srdf-ship.service &&
	grep -q "/usr/bin/srdf-capture .* /etc/srdf/source.cnf" root/usr/lib/systemd/system/srdf-source.service
'

test_expect_success 'PREFIX=/opt/srdf: the units name /opt/srdf/bin and /opt/srdf/etc' '
	make -s -C "$top" install DESTDIR="$PWD/opt" PREFIX=/opt/srdf >make2.log 2>&1 &&
	grep -q "^ExecStart=/opt/srdf/bin/srdf-recv .*--key-file /opt/srdf/etc/srdf/key" \
		opt/opt/srdf/lib/systemd/system/srdf-recv.service
'

test_expect_success 'examples/systemd/check: verify clean, every service <= 3.0' '
	"$top/examples/systemd/check" root >check.out 2>check.err &&
	cat check.out check.err &&
	test ! -s check.err &&
	grep -q "^systemd-analyze verify: clean (10 units)$" check.out &&
	test "$(grep -c "^systemd-analyze security srdf-.*: [0-2]\.[0-9]$" check.out)" = 7
'


test_expect_success 'the check fails on an unknown key (the old units'\'' StartLimitIntervalSec in [Service])' '
	cp -a root bad1 &&
	sed -i "s/^RestartSec=10s$/&\nStartLimitIntervalSec=10min/" bad1/usr/lib/systemd/system/srdf-ship.service &&
	test_must_fail "$top/examples/systemd/check" bad1 2>err1 &&
	cat err1 &&
	grep -q "srdf-ship.service:.*Unknown key .StartLimitIntervalSec. in section .Service." err1
'

test_expect_success 'the check fails on a program that is not installed' '
	cp -a root bad2 &&
	rm bad2/usr/bin/srdf-ackd &&
	test_must_fail "$top/examples/systemd/check" bad2 2>err2 &&
	cat err2 &&
	grep -q "srdf-ackd.service: /usr/bin/srdf-ackd is not installed" err2
'

test_expect_success 'the check fails on a unit exposed above 3.0' '
	cp -a root bad3 &&
	sed -i "/^# Hardening/,/^UMask/d" bad3/usr/lib/systemd/system/srdf-recv.service &&
	test_must_fail "$top/examples/systemd/check" bad3 2>err3 >out3 &&
	cat out3 err3 &&
	grep -q "srdf-recv.service: exposure [0-9.]* above 3.0" err3
'

test_expect_success 'sysusers.d makes the srdf user, tmpfiles.d its 0700 state directory' '
	mkdir -p root/etc &&
	systemd-sysusers --root="$PWD/root" >sysusers.out 2>&1 &&
	grep "^srdf:x:[0-9]*:[0-9]*:.*:/var/lib/srdf:" root/etc/passwd &&
	uid=$(awk -F: "\$1 == \"srdf\" { print \$3 }" root/etc/passwd) &&
	systemd-tmpfiles --root="$PWD/root" --create "$PWD/root/usr/lib/tmpfiles.d/srdf.conf" &&
	test "$(stat -c "%a %u" root/var/lib/srdf)" = "700 $uid" &&
	test "$(stat -c "%a %U" root/etc/srdf)" = "750 root"
'

# Each service's ExecStart=, as systemd would run it with the example
# srdf.env (listeners on 127.0.0.1:0, peers at a closed port), against
# files made for it under S: its options parse (no exit 64, no complaint
# of an option) and it gets on with its job until stopped after 3 s.
test_expect_success 'every ExecStart= runs: options parse with the example srdf.env' '
	S=$PWD/s && mkdir -p "$S/etc/srdf/tls" "$S/var/lib/srdf" &&
	srdf-keygen -o "$S/etc/srdf/key" 2>/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-keyout "$S/etc/srdf/tls/key.pem" -out "$S/etc/srdf/tls/cert.pem" >/dev/null 2>&1 &&
	cp "$S/etc/srdf/tls/cert.pem" "$S/etc/srdf/tls/dr-ca.pem" &&
	cp "$S/etc/srdf/tls/cert.pem" "$S/etc/srdf/tls/source-ca.pem" &&
	for c in source target; do
		printf "[client]\nsocket=%s/no.sock\nuser=srdf\n" "$S" >"$S/etc/srdf/$c.cnf" &&
		chmod 600 "$S/etc/srdf/$c.cnf" || return 1
	done &&
	printf "%s\n" \
		"{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-1\",\"server_id\":1,\"ts\":1,\"file\":\"b.1\",\"pos\":4}" \
		"{\"v\":1,\"type\":\"insert\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"],\"after\":{\"id\":1}}" \
		"{\"v\":1,\"type\":\"commit\",\"gtid\":\"0-1-1\",\"ts\":1,\"file\":\"b.1\",\"pos\":9,\"xid\":1}" |
		srdf-dedup | srdf-seal --dir "$S/var/lib/srdf" --key-file "$S/etc/srdf/key" 2>/dev/null &&
	sed -e "s|=https://[^/]*|=https://127.0.0.1:9|" -e "s|=0.0.0.0:[0-9]*|=127.0.0.1:0|" \
		"$top/examples/systemd/srdf.env" | grep "^SRDF_" >env &&
	cat env &&
	fails=0 &&
	for u in root/usr/lib/systemd/system/*.service; do
		line=$(sed -n "s/^ExecStart=//p" "$u") &&
		line=$(sed -e "s|/usr/bin/|$PWD/root/usr/bin/|g" -e "s|/etc/srdf|$S/etc/srdf|g" \
			-e "s|/var/lib/srdf|$S/var/lib/srdf|g" -e "s|%I|shop|g" <<<"$line") &&
		while read -r kv; do
			line=${line//"\${${kv%%=*}}"/${kv#*=}}
		done <env &&
		line=${line//\$\$/\$} &&
		echo "${u##*/}: $line" || return 1
		# A variable systemd would leave unset (bash expands SRDF_WINDOW).
		if grep -q "\${" <<<"${line//\$\{SRDF_WINDOW:-1s\}/}"; then
			echo "  unexpanded variable" && fails=$((fails + 1)) && continue
		fi
		(set -a && . ./env && exec timeout -k 2 3 bash -c "exec $line" </dev/null >/dev/null 2>err)
		rc=$?
		echo "  exit $rc" && sed "s/^/  /" err
		if [ $rc = 64 ] || grep -Eqi "unrecognized option|unknown option|invalid option|bad --|^usage:" err; then
			fails=$((fails + 1))
		fi
	done &&
	test "$fails" = 0
'

test_done
