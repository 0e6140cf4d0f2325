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

test_done
