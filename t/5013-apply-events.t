#!/bin/bash
test_description='srdf-apply creates the source'"'"'s events DISABLE ON SLAVE, as a MariaDB replica does, so that they do not run on the target beside the source'"'"'s runs; srdf-promote enables them, and leaves the ones the source disabled alone'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

tocks() { # the rows event ev.tock2 wrote on the target
	dst_sql "SELECT COUNT(*) FROM ev.ticks WHERE src = 'tock'"
}

status() { # DB.EVENT: its STATUS on the target
	dst_sql "SELECT STATUS FROM information_schema.EVENTS
		WHERE CONCAT(EVENT_SCHEMA, '.', EVENT_NAME) = '$1'"
}

# The source runs no event (its scheduler is off): each tick on the
# target would be one the target made up.  The target's scheduler is on,
# as on a DR site set up like the primary.
test_expect_success 'setup: events created, renamed, disabled on the source; replicated' '
	srdf-keygen -o key 2>/dev/null && mkdir -p "$S" "$D/inbox/new" &&
	ledger-meta "$S" bootstrap_gtid "$(src_sql "SELECT @@gtid_binlog_pos")" &&
	dst_sql "SET GLOBAL event_scheduler = ON" &&
	src_sql "CREATE DATABASE ev; USE ev;
		CREATE TABLE ticks (id INT AUTO_INCREMENT PRIMARY KEY, src CHAR(4));
		CREATE EVENT tick ON SCHEDULE EVERY 1 SECOND
			DO INSERT INTO ticks (src) VALUES (\"tick\");
		CREATE EVENT tock ON SCHEDULE EVERY 1 SECOND COMMENT \"renamed\"
			DO INSERT INTO ticks (src) VALUES (\"tock\");
		ALTER EVENT tock RENAME TO tock2 ENABLE;
		CREATE EVENT off ON SCHEDULE EVERY 1 SECOND DISABLE
			DO INSERT INTO ticks (src) VALUES (\"off\");
		INSERT INTO ticks (src) VALUES (\"row\")" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	test "$(status ev.tick)" = SLAVESIDE_DISABLED &&
	test "$(status ev.tock2)" = SLAVESIDE_DISABLED &&
	test "$(status ev.off)" = DISABLED
'

test_expect_success 'on the target they do not run: its rows stay the source'"'"'s' '
	sleep 2.5 &&
	checksum_both ev.ticks &&
	test "$(dst_sql "SELECT GROUP_CONCAT(src) FROM ev.ticks")" = row
'

test_expect_success 'an ALTER EVENT ... ENABLE on the source does not start it on the target' '
	src_sql "ALTER EVENT ev.off ENABLE; ALTER EVENT ev.tick ON SCHEDULE EVERY 2 SECOND" &&
	seal_new && deliver && apply_once &&
	test "$(status ev.off)" = SLAVESIDE_DISABLED &&
	test "$(status ev.tick)" = SLAVESIDE_DISABLED &&
	src_sql "ALTER EVENT ev.off DISABLE" &&
	seal_new && deliver && apply_once &&
	test "$(status ev.off)" = DISABLED
'

test_expect_success 'srdf-promote --dry-run names the events it would enable' '
	srdf-promote --dir "$D" --key-file key --defaults-file "$DST_CNF" --dry-run >dry.out &&
	cat dry.out &&
	grep -q "^would enable: event ev.tick$" dry.out &&
	grep -q "^would enable: event ev.tock2$" dry.out &&
	! grep -q "ev.off" dry.out &&
	test "$(status ev.tick)" = SLAVESIDE_DISABLED
'

test_expect_success 'srdf-promote --dry-run with an account that has no EVENT privilege: it says it cannot look' '
	dst_sql "CREATE USER prom@127.0.0.1 IDENTIFIED BY \"p\";
		GRANT SELECT ON *.* TO prom@127.0.0.1" &&
	sed "s/^user=.*/user=prom\npassword=p/" "$DST_CNF" >prom.cnf && chmod 600 prom.cnf &&
	srdf-promote --dir "$D" --key-file key --defaults-file prom.cnf --dry-run >dry2.out 2>dry2.err &&
	grep -q "^events: not looked at: the account has no EVENT privilege$" dry2.out &&
	grep -q "stay disabled; GRANT EVENT and run srdf-promote again" dry2.err &&
	! grep -q "would enable" dry2.out
'

test_expect_success 'srdf-promote enables them; the one the source disabled stays disabled' '
	srdf-promote --dir "$D" --key-file key --defaults-file "$DST_CNF" >promote.out &&
	cat promote.out &&
	grep -q "^event ev.tick: enabled$" promote.out &&
	grep -q "^event ev.tock2: enabled$" promote.out &&
	test "$(status ev.tick)" = ENABLED &&
	test "$(status ev.tock2)" = ENABLED &&
	test "$(status ev.off)" = DISABLED &&
	test_wait_until 10 "test \$(tocks) -gt 0"
'

test_done
