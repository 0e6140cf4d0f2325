#!/bin/bash
test_description='the Debian package: built by make deb, lintian clean, programs, man pages, units pointing at its own /usr/bin, sysusers.d and tmpfiles.d, no service enabled or started (dpkg -i only on CI)'
. "$(dirname "$0")/lib.sh"

command -v dpkg-buildpackage >/dev/null ||
	skip_all "dpkg-buildpackage is not installed (package dpkg-dev)"

programs='ackd apply bootstrap capture cat dedup failback keygen promote recv rewind seal ship status verify'

test_expect_success 'make deb builds the package' '
	make -C "$top" deb >build.log 2>&1 &&
	cp "$top"/bin/deb/srdf_*.deb "$top"/bin/deb/srdf_*.changes . &&
	deb=$(ls srdf_*_*.deb) && test -f "$deb" &&
	dpkg-deb -f "$deb" Package Version Depends &&
	dpkg-deb -f "$deb" Depends | grep -q libmariadb &&
	dpkg-deb -f "$deb" Depends | grep -q systemd-sysusers
'

test_expect_success 'lintian: nothing at the default level' '
	if command -v lintian >/dev/null; then
		lintian --allow-root "$top"/bin/deb/srdf_*.changes >lintian.out 2>&1 &&
		cat lintian.out &&
		test ! -s lintian.out
	else
		echo "# lintian is not installed: not run"
	fi
'

test_expect_success 'the programs, the man pages, the examples' '
	dpkg-deb -x srdf_*.deb root &&
	for p in $programs; do
		test -x root/usr/bin/srdf-$p || { echo "no srdf-$p"; return 1; }
	done &&
	test "$(ls root/usr/bin | wc -l)" = "$(echo $programs | wc -w)" &&
	root/usr/bin/srdf-ship --version | grep -q "^srdf-ship " &&
	for m in srdf.7 srdf-deploy.7 srdf-recv.1 srdf-wagon.5; do
		test -f root/usr/share/man/man${m##*.}/$m.gz || { echo "no $m"; return 1; }
	done &&
	test -f root/usr/share/doc/srdf/examples/source.cnf &&
	test -f root/usr/share/doc/srdf/examples/target.cnf &&
	test -f root/usr/share/doc/srdf/examples/systemd/srdf.env
'

test_expect_success 'the units name the package'\''s own programs' '
	ls root/lib/systemd/system >units &&
	cat units &&
	test "$(grep -c "^srdf" units)" = 10 &&
	grep -ho "/[^ '\'']*/srdf-[a-z]*" root/lib/systemd/system/* | sort -u >paths &&
	cat paths &&
	test "$(wc -l <paths)" -ge 7 &&
	while read -r p; do
		case $p in /usr/bin/srdf-*) ;; *) echo "odd path $p"; return 1 ;; esac &&
		test -x "root$p" || { echo "missing $p"; return 1; }
	done <paths &&
	test -f root/usr/lib/sysusers.d/srdf.conf &&
	test -f root/usr/lib/tmpfiles.d/srdf.conf &&
	! test -e root/etc/systemd
'

# The maintainer scripts: the user before its directory; a unit is
# enabled again only where the admin had enabled it (was-enabled), never
# started.
test_expect_success 'postinst: sysusers, then tmpfiles, and nothing enabled or started' '
	dpkg-deb -e srdf_*.deb ctl &&
	cat ctl/postinst &&
	s=$(grep -n "systemd-sysusers" ctl/postinst | head -n 1 | cut -d: -f1) &&
	t=$(grep -n "systemd-tmpfiles" ctl/postinst | head -n 1 | cut -d: -f1) &&
	test -n "$s" && test -n "$t" && test "$s" -lt "$t" &&
	! grep -n "deb-systemd-invoke\|systemctl.*start\|invoke-rc.d" ctl/postinst &&
	awk "/was-enabled/ { guard = 1 } /deb-systemd-helper enable/ && !guard { bad = 1; print } /^[[:space:]]*fi\$/ { guard = 0 } END { exit bad }" ctl/postinst
'

# On CI (a throwaway root machine) the package is installed for real,
# checked, and purged; elsewhere the host is left alone.
if [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ]; then
	test_lock_host
	if dpkg-query -W -f='${Status}' srdf 2>/dev/null | grep -q "ok installed"; then
		skip_ci="an srdf package is installed on this machine already"
	fi
else
	skip_ci="not on CI (CI=true, root): dpkg -i would install into this host"
fi

if [ -z "${skip_ci:-}" ]; then
test_expect_success 'dpkg -i: the srdf user, /var/lib/srdf 0700, nothing enabled, the installed units verify' '
	dpkg -i srdf_*.deb >dpkg.log 2>&1 &&
	cat dpkg.log &&
	getent passwd srdf &&
	test "$(stat -c "%a %U" /var/lib/srdf)" = "700 srdf" &&
	test "$(stat -c "%a %U %G" /etc/srdf)" = "750 root srdf" &&
	! ls /etc/systemd/system/*.wants/srdf* 2>/dev/null &&
	for u in srdf-source.target srdf-dr.target srdf-verify.timer; do
		test "$(systemctl is-enabled $u 2>/dev/null)" = disabled || return 1
	done &&
	SYSTEMD_LOG_COLOR=0 systemd-analyze verify /lib/systemd/system/srdf-*.service \
		/lib/systemd/system/srdf-*.target \
		/lib/systemd/system/srdf-verify.timer >verify.out 2>&1 &&
	cat verify.out &&
	test ! -s verify.out
'
test_expect_success 'dpkg --purge removes it' '
	dpkg --purge srdf >purge.log 2>&1 &&
	! test -e /usr/bin/srdf-ship &&
	! test -e /lib/systemd/system/srdf-ship.service
'
else
	echo "# dpkg -i skipped: $skip_ci"
fi

test_done
