#!/bin/bash
test_description='srdf-deploy(7) walked through on two hosts from the Debian package: the units'\'' own command lines, a database bootstrapped and written to, both sides equal and healthy, nothing listening on the source host'
# The package is built by make deb.  With CI=true (a throwaway root
# machine) it is installed by dpkg -i and the test runs the installed
# /usr/bin tools and /lib/systemd/system units, then purges it; elsewhere
# it is only unpacked (dpkg -x) into the scratch directory and nothing is
# installed on the host.
#
# The two hosts are the network namespaces of t/srdf-wan: the source
# host's services in the source namespace, the DR host's in the target's,
# so that only srdf-ship's HTTPS to srdf-recv crosses the link.  The
# MariaDB servers of t/srdf-servers stay outside, reached by their
# sockets, as t/8003 does (a socket is a file, the same in every
# namespace).  Each host has a root of its own, src/ and dr/, holding its
# etc/srdf (what the guide has the DBA put in /etc/srdf) and its
# var/lib/srdf.
#
# systemd is not PID 1 here, so each service is run as its unit would
# run it: the unit's ExecStart= and EnvironmentFile= are read from the
# package's unit file, the host's srdf.env (with the values the guide
# has the DBA set) is put in the environment, ${VAR} is expanded from it,
# $$ becomes $, %I the instance, and the command line is run in the host's
# namespace.  With CI=true the line is run unchanged, with the host's
# etc/srdf and var/lib/srdf bind-mounted on /etc/srdf and /var/lib/srdf
# in the private mount namespace ip netns exec gives it; elsewhere
# /usr/bin, /etc/srdf and /var/lib/srdf in the line are replaced by the
# unpacked package's and the host root's.  What systemd would add and
# this does not: User=srdf (the services run as the test's user, who can
# reach the test servers' sockets), the sandboxing, restarts.  Units are
# started in the order srdf-deploy(7) "First start" gives: the DR host's
# target, then srdf-bootstrap@shop.service, then the source host's
# target, each target's services taken from its Wants=.
. "$(dirname "$0")/lib.sh"

command -v dpkg-buildpackage >/dev/null ||
	skip_all "dpkg-buildpackage is not installed (package dpkg-dev)"
command -v openssl >/dev/null || skip_all "openssl is not installed"
command -v ss >/dev/null || skip_all "ss is not installed (package iproute2)"

if [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ]; then
	test_lock_host
	dpkg-query -W -f='${Status}' srdf 2>/dev/null | grep -q "ok installed" &&
		skip_all "an srdf package is installed on this machine already"
	installed=1
else
	installed=
fi

srdf_wan_up
srdf_servers_start

SRC_ROOT=$PWD/src
DR_ROOT=$PWD/dr
if [ -n "$installed" ]; then
	ROOT=
else
	ROOT=$PWD/root
fi
BIN=$ROOT/usr/bin
UNITS=$ROOT/lib/systemd/system
EXAMPLES=$ROOT/usr/share/doc/srdf/examples
S=$SRC_ROOT/var/lib/srdf
D=$DR_ROOT/var/lib/srdf
PORT=8443

# host_root src|dr: the host's root directory.
host_root() {
	case $1 in
	src) echo "$SRC_ROOT" ;;
	dr) echo "$DR_ROOT" ;;
	esac
}

# on_host src|dr CMD...: CMD on that host: in its namespace, with its
# etc/srdf and var/lib/srdf on /etc/srdf and /var/lib/srdf when the
# package is installed (bind mounts private to CMD's mount namespace).
on_host() {
	local host=$1 ns root
	shift
	root=$(host_root "$host")
	case $host in
	src) ns=$WAN_SRC_NS ;;
	dr) ns=$WAN_DST_NS ;;
	esac
	if [ -n "$installed" ]; then
		set -- sh -c 'mount --bind "$1/etc/srdf" /etc/srdf &&
			mount --bind "$1/var/lib/srdf" /var/lib/srdf &&
			shift && exec "$@"' sh "$root" "$@"
	fi
	exec_in_ns "$ns" "$@"
}

# host_path HOST PATH: where PATH, as the guide names it, is for this
# test (the host's root for /etc/srdf and /var/lib/srdf, the unpacked
# package for /usr/bin).
host_path() {
	local root p=$2
	root=$(host_root "$1")
	p=${p//\/etc\/srdf/$root/etc/srdf}
	p=${p//\/var\/lib\/srdf/$root/var/lib/srdf}
	p=${p//\/usr\/bin\//$BIN/}
	echo "$p"
}

# unit_command HOST UNIT [INSTANCE]: prints the command UNIT's ExecStart=
# runs, one word a line, after systemd's expansions (systemd.service(5)
# "Command lines": ${VAR} from the EnvironmentFile=, $$ a dollar, %I the
# instance); the words are split by bash's quoting, which is systemd's
# for these lines (single quotes, no escapes).  Without the package
# installed, the paths are the test's (host_path).
unit_command() {
	local host=$1 unit=$2 inst=${3:-} line envf var
	line=$(sed -n 's/^ExecStart=//p' "$UNITS/$unit") &&
	test -n "$line" || { echo "no ExecStart= in $unit" >&2; return 1; }
	envf=$(sed -n 's/^EnvironmentFile=//p' "$UNITS/$unit")
	(
		if [ -n "$envf" ]; then
			set -a
			. "$(host_path "$host" "$envf")" || exit 1
			set +a
		fi
		line=${line//\$\$/$'\001'}
		line=${line//%I/$inst}
		while [[ $line =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
			var=${BASH_REMATCH[1]}
			line=${line//\$\{$var\}/${!var}}
		done
		line=${line//$'\001'/\$}
		[ -n "$installed" ] || line=$(host_path "$host" "$line")
		eval "set -- $line" && printf '%s\n' "$@"
	)
}

# unit_start HOST UNIT [INSTANCE]: runs the unit's command on HOST in the
# background (test_bg UNIT), with its EnvironmentFile= in the
# environment.
unit_start() {
	local host=$1 unit=$2 inst=${3:-} envf
	unit_command "$host" "$unit" "$inst" >"$unit.cmd" || return 1
	echo "$unit on $host:" && cat "$unit.cmd"
	envf=$(sed -n 's/^EnvironmentFile=//p' "$UNITS/$unit")
	envf=${envf:+$(host_path "$host" "$envf")}
	mapfile -t cmd <"$unit.cmd"
	test_bg "$unit" unit_exec "$host" "$envf" "${cmd[@]}"
}

# unit_exec HOST ENVFILE CMD...: CMD on HOST with ENVFILE's variables in
# its environment, in a process group of its own (setsid: it is no group
# leader here, so it does not fork), which unit_stop signals as a whole,
# as systemd's KillMode=control-group does.
unit_exec() {
	local host=$1 envf=$2
	shift 2
	if [ -n "$envf" ]; then
		set -a
		. "$envf"
		set +a
	fi
	on_host "$host" setsid "$@"
}

# unit_stop UNIT: SIGTERM to the unit's process group; returns its main
# process's exit status.
unit_stop() {
	local pid ec=0
	pid=$(cat "$1.pid") || return 1
	kill -TERM -- "-$pid" 2>/dev/null
	wait "$pid" || ec=$?
	return $ec
}

# On any exit, before t/lib.sh's cleanup: what is left of the units'
# process groups (a pipeline's stages outlive its bash), and, with
# CI=true, the installed package.
units_cleanup() {
	local f
	for f in "$TRASH_DIRECTORY"/*.service.pid; do
		[ -f "$f" ] && kill -KILL -- "-$(cat "$f")" 2>/dev/null
	done
	if [ -n "$installed" ] &&
	    dpkg-query -W -f='${Status}' srdf 2>/dev/null | grep -q "ok installed"; then
		dpkg --purge srdf >/dev/null 2>&1
	fi
}
trap 'units_cleanup; _tl_cleanup' EXIT
trap 'units_cleanup; _tl_cleanup; trap - EXIT; exit 130' INT
trap 'units_cleanup; _tl_cleanup; trap - EXIT; exit 143' TERM HUP

# target_wants TARGET: the services TARGET's Wants= names, one a line.
target_wants() {
	sed -n 's/^Wants=//p' "$UNITS/$1" | tr ' ' '\n' | grep .
}

shop_tables() {
	src_sql "SELECT TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = 'shop' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"
}

# checksums src|dst: CHECKSUM TABLE of every shop table, one "table sum"
# a line.
checksums() {
	local t
	for t in $(shop_tables); do
		${1}_sql "CHECKSUM TABLE shop.$t" || return 1
	done
}

test_expect_success 'make deb builds the package' '
	t0=$SECONDS &&
	make -C "$top" deb >build.log 2>&1 &&
	cp "$top"/bin/deb/srdf_*.deb . &&
	echo "built in $((SECONDS - t0)) s: $(ls srdf_*.deb)"
'

if [ -n "$installed" ]; then
test_expect_success 'dpkg -i installs it (CI=true): the srdf user, /etc/srdf, /var/lib/srdf' '
	dpkg -i srdf_*.deb >dpkg.log 2>&1 &&
	cat dpkg.log &&
	getent passwd srdf &&
	test -d /etc/srdf && test -d /var/lib/srdf &&
	test -x /usr/bin/srdf-ship && test -f /lib/systemd/system/srdf-dr.target
'
else
test_expect_success 'dpkg -x unpacks it into the scratch directory (not CI: nothing installed on this host)' '
	dpkg-deb -x srdf_*.deb root &&
	test -x root/usr/bin/srdf-ship && test -f root/lib/systemd/system/srdf-dr.target
'
fi

test_expect_success 'the units pull the ACKs: srdf-source.target does not want srdf-ackd, srdf-ship and srdf-apply run with --ack-pull' '
	target_wants srdf-source.target >src.wants &&
	target_wants srdf-dr.target >dr.wants &&
	cat src.wants dr.wants &&
	! grep -x srdf-ackd.service src.wants &&
	grep -x srdf-ship.service src.wants &&
	grep -x srdf-recv.service dr.wants &&
	grep -q "^ExecStart=.*srdf-ship .*--ack-pull" "$UNITS/srdf-ship.service" &&
	grep -q "^ExecStart=.*srdf-apply .*--ack-pull" "$UNITS/srdf-apply.service" &&
	! grep -q "^ExecStart=.*--ack-to" "$UNITS/srdf-apply.service"
'

# srdf-deploy(7) "Configuration files", "Keys", "Certificates", "The
# target database": the files of each host from the package's examples,
# edited as the DBA would.
test_expect_success 'each host'\''s /etc/srdf: srdf.env, the key, the option files, the certificate' '
	for h in "$SRC_ROOT" "$DR_ROOT"; do
		mkdir -p "$h/etc/srdf/tls" "$h/var/lib/srdf" &&
		chmod 750 "$h/etc/srdf" && chmod 700 "$h/var/lib/srdf" &&
		install -m 600 "$EXAMPLES/systemd/srdf.env" "$h/etc/srdf/" || return 1
	done &&
	"$BIN/srdf-keygen" -o "$SRC_ROOT/etc/srdf/key" 2>keygen.err &&
	cp -p "$SRC_ROOT/etc/srdf/key" "$DR_ROOT/etc/srdf/key" &&
	test "$(stat -c %a "$DR_ROOT/etc/srdf/key")" = 600 &&

	# srdf.env: the DR site'\''s URL on the source, the listener on the DR.
	sed -i "s|^SRDF_DR_URL=.*|SRDF_DR_URL=https://$WAN_DST_IP:$PORT|" \
		"$SRC_ROOT/etc/srdf/srdf.env" &&
	sed -i "s|^SRDF_RECV_LISTEN=.*|SRDF_RECV_LISTEN=$WAN_DST_IP:$PORT|" \
		"$DR_ROOT/etc/srdf/srdf.env" &&
	grep -v "^#" "$SRC_ROOT/etc/srdf/srdf.env" | grep . &&

	# srdf-recv'\''s certificate, named as SRDF_DR_URL names the host; the
	# source trusts it as tls/dr-ca.pem.
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=dr-host \
		-addext "subjectAltName=IP:$WAN_DST_IP" -days 2 \
		-keyout "$DR_ROOT/etc/srdf/tls/key.pem" \
		-out "$DR_ROOT/etc/srdf/tls/cert.pem" 2>openssl.err &&
	chmod 600 "$DR_ROOT/etc/srdf/tls/key.pem" &&
	cp "$DR_ROOT/etc/srdf/tls/cert.pem" "$SRC_ROOT/etc/srdf/tls/dr-ca.pem" &&

	# source.cnf: the capture user of t/srdf-servers, by the socket.
	src_pw=$(sed -n "s/^password=//p" "$SRC_CNF") &&
	sed -e "s|^host=.*|socket=$SRC_SOCK|" -e "/^port=/d" -e "/^ssl-ca=/d" \
		-e "s|^password=.*|password=$src_pw|" \
		"$EXAMPLES/source.cnf" >"$SRC_ROOT/etc/srdf/source.cnf" &&
	chmod 600 "$SRC_ROOT/etc/srdf/source.cnf" &&

	# target.cnf: srdf_apply with the grants of srdf-apply(1) EXAMPLES on
	# a read_only target.
	dst_sql "CREATE USER srdf_apply@localhost IDENTIFIED BY '\''t9008-apply'\'';
		GRANT ALL ON shop.* TO srdf_apply@localhost;
		GRANT ALL ON srdf.* TO srdf_apply@localhost;
		GRANT READ ONLY ADMIN ON *.* TO srdf_apply@localhost;
		SET GLOBAL read_only = ON" &&
	sed -e "s|^socket=.*|socket=$DST_SOCK|" \
		-e "s|^password=.*|password=t9008-apply|" \
		"$EXAMPLES/target.cnf" >"$DR_ROOT/etc/srdf/target.cnf" &&
	chmod 600 "$DR_ROOT/etc/srdf/target.cnf" &&
	cat "$SRC_ROOT/etc/srdf/source.cnf" "$DR_ROOT/etc/srdf/target.cnf"
'

test_expect_success 'the existing database on the source: three tables, rows' '
	src_sql "CREATE DATABASE shop; USE shop;
		CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL,
			city VARCHAR(40));
		CREATE TABLE shop.items (sku INT PRIMARY KEY, label VARCHAR(60) NOT NULL,
			price DECIMAL(10,2) NOT NULL, stock INT NOT NULL);
		CREATE TABLE shop.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY,
			customer INT NOT NULL, sku INT NOT NULL, qty INT NOT NULL,
			at DATETIME(6) NOT NULL, note TEXT, KEY (customer));
		INSERT INTO shop.customers SELECT seq, CONCAT(\"customer \", seq),
			ELT(1 + seq % 4, \"Lyon\", \"Oslo\", \"Porto\", NULL) FROM seq_1_to_2000;
		INSERT INTO shop.items SELECT seq, CONCAT(\"item \", seq), seq * 1.25, 100
			FROM seq_1_to_500;
		INSERT INTO shop.orders (customer, sku, qty, at, note)
			SELECT 1 + seq % 2000, 1 + seq % 500, 1 + seq % 7, NOW(6) - INTERVAL seq SECOND,
				REPEAT(\"n\", seq % 50) FROM seq_1_to_5000" &&
	test "$(src_sql "SELECT COUNT(*) FROM shop.orders")" = 5000
'

test_expect_success 'DR host: systemctl enable --now srdf-dr.target (its services as their units run them)' '
	for u in $(target_wants srdf-dr.target); do
		unit_start dr "$u" || return 1
	done &&
	test_wait_until 20 "grep -qs \"listening on\" srdf-recv.service.err" &&
	test_pid_alive "$(cat srdf-apply.service.pid)" &&
	# The DBA'\''s grant of srdf-apply(1) EXAMPLES, once it has connected.
	test_wait_until 20 "dst_sql \"SELECT 1 FROM srdf.apply_sessions LIMIT 0\" 2>/dev/null" &&
	dst_sql "GRANT SELECT ON srdf.apply_sessions TO PUBLIC" &&
	cat srdf-recv.service.err srdf-apply.service.err
'

test_expect_success 'source host: systemctl start srdf-bootstrap@shop.service, the copy sealed' '
	unit_start src srdf-bootstrap@.service shop &&
	pid=$(cat srdf-bootstrap@.service.pid) &&
	wait "$pid" &&
	cat srdf-bootstrap@.service.err &&
	ledger-wagons "$S" >copy.wagons &&
	copy=$(wc -l <copy.wagons) &&
	echo "the copy: $copy wagons" &&
	test "$copy" -ge 1 &&
	test "$(ledger-meta "$S" last_sealed_gtid)" = "$(src_sql "SELECT @@gtid_binlog_pos")"
'

test_expect_success 'source host: systemctl enable --now srdf-source.target; a write load' '
	for u in $(target_wants srdf-source.target); do
		unit_start src "$u" || return 1
	done &&
	t0=$SECONDS &&
	for i in $(seq 1 150); do
		src_sql "INSERT INTO shop.orders (customer, sku, qty, at, note)
				VALUES (1 + $i % 2000, 1 + $i % 500, 1, NOW(6), \"load $i\");
			UPDATE shop.items SET stock = stock - 1 WHERE sku = 1 + $i % 500;
			UPDATE shop.customers SET city = \"Turku\" WHERE id = $i * 13;
			DELETE FROM shop.orders WHERE id = $i * 31" || return 1
	done &&
	echo "150 transactions in $((SECONDS - t0)) s" &&
	for u in srdf-source.service srdf-ship.service srdf-recv.service srdf-apply.service; do
		test_pid_alive "$(cat $u.pid)" || { cat $u.err; return 1; }
	done
'

all_confirmed() {
	local n
	n=$(ledger-wagons "$S" | wc -l) &&
	test "$n" -gt 0 &&
	test "$(ledger-wagons "$S" | jq -r .state | grep -cx confirmed)" = "$n"
}

test_expect_success 'the DR target catches up; every wagon confirmed at the source by pulled ACKs' '
	last=$(src_sql "SELECT @@gtid_binlog_pos") &&
	test_wait_until 90 "test \"\$(dst_sql \"SELECT gtid_pos FROM srdf.applied\" 2>/dev/null)\" = \"$last\"" &&
	test_wait_until 60 "test \"\$(ledger-meta \"$S\" last_sealed_gtid)\" = \"$last\"" &&
	test_wait_until 60 all_confirmed &&
	echo "at $last: $(ledger-wagons "$S" | wc -l) wagons, all confirmed; $(src_sql "SELECT COUNT(*) FROM shop.orders") orders" &&
	grep -i "ack" srdf-ship.service.err | head -n 3
'

test_expect_success 'CHECKSUM TABLE equal on every table' '
	checksums src >src.sums &&
	checksums dst >dst.sums &&
	cat src.sums &&
	test "$(wc -l <src.sums)" = 3 &&
	test_cmp src.sums dst.sums
'

test_expect_success 'srdf-status --dir /var/lib/srdf: healthy (exit 0) on both hosts' '
	on_host src "$(host_path src /usr/bin/srdf-status)" \
		--dir "$( [ -n "$installed" ] && echo /var/lib/srdf || echo "$S")" >status.src &&
	cat status.src &&
	on_host dr "$(host_path dr /usr/bin/srdf-status)" \
		--dir "$( [ -n "$installed" ] && echo /var/lib/srdf || echo "$D")" >status.dr &&
	cat status.dr
'

test_expect_success 'the source host accepts no connection: nothing listens in its namespace; srdf-recv listens on the DR host' '
	on_src ss -H -ltn >src.listen &&
	cat src.listen &&
	test ! -s src.listen &&
	on_dst ss -H -ltn >dr.listen &&
	cat dr.listen &&
	grep -q "$WAN_DST_IP:$PORT" dr.listen
'

# srdf-source.service's main process is bash, which SIGTERM kills (143,
# a clean stop for systemd); the tools themselves exit 0.
test_expect_success 'the services stop cleanly on SIGTERM' '
	for u in srdf-ship.service srdf-apply.service srdf-recv.service; do
		unit_stop "$u" || { echo "$u: exit $?"; cat "$u.err"; return 1; }
	done &&
	{ unit_stop srdf-source.service; ec=$?; } &&
	echo "srdf-source.service: exit $ec" &&
	case $ec in 0|143) ;; *) cat srdf-source.service.err; false ;; esac
'

if [ -n "$installed" ]; then
test_expect_success 'dpkg --purge removes the package' '
	dpkg --purge srdf >purge.log 2>&1 &&
	! test -e /usr/bin/srdf-ship
'
fi

test_done
