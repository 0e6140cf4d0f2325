#!/bin/bash
test_description='an online schema change on the source, done the pt-online-schema-change way (a new table, triggers that copy each change into it, the rows copied in chunks under write load, RENAME TABLE to swap, the old table dropped): the target ends with the new definition and the source'"'"'s rows'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

test_expect_success 'setup: a table with rows, replicated' '
	apply_setup &&
	src_sql "CREATE DATABASE osc; USE osc; CREATE TABLE osc.t (id INT PRIMARY KEY, v INT, c VARCHAR(20));
		INSERT INTO osc.t SELECT seq, seq, CONCAT(\"r\", seq) FROM seq_1_to_500" &&
	seal_new && deliver && apply_once &&
	checksum_both osc.t
'

test_expect_success 'the change: new table, copy triggers, chunked copy under writes, swap, drop' '
	src_sql "CREATE TABLE osc._t_new (id INT PRIMARY KEY, v INT, c VARCHAR(20), d INT NOT NULL DEFAULT 7, KEY (v));
		CREATE TRIGGER osc.pt_ins AFTER INSERT ON osc.t FOR EACH ROW
			REPLACE INTO osc._t_new (id, v, c) VALUES (NEW.id, NEW.v, NEW.c);
		CREATE TRIGGER osc.pt_upd AFTER UPDATE ON osc.t FOR EACH ROW
			REPLACE INTO osc._t_new (id, v, c) VALUES (NEW.id, NEW.v, NEW.c);
		CREATE TRIGGER osc.pt_del AFTER DELETE ON osc.t FOR EACH ROW
			DELETE IGNORE FROM osc._t_new WHERE id = OLD.id;
		INSERT LOW_PRIORITY IGNORE INTO osc._t_new (id, v, c) SELECT id, v, c FROM osc.t WHERE id BETWEEN 1 AND 200;
		UPDATE osc.t SET v = v + 1000 WHERE id IN (5, 250, 450); DELETE FROM osc.t WHERE id IN (6, 251);
		INSERT INTO osc.t VALUES (501, 501, \"new\");
		INSERT LOW_PRIORITY IGNORE INTO osc._t_new (id, v, c) SELECT id, v, c FROM osc.t WHERE id BETWEEN 201 AND 400;
		UPDATE osc.t SET c = \"late\" WHERE id = 420;
		INSERT LOW_PRIORITY IGNORE INTO osc._t_new (id, v, c) SELECT id, v, c FROM osc.t WHERE id > 400;
		RENAME TABLE osc.t TO osc._t_old, osc._t_new TO osc.t;
		DROP TRIGGER IF EXISTS osc.pt_ins; DROP TRIGGER IF EXISTS osc.pt_upd; DROP TRIGGER IF EXISTS osc.pt_del;
		DROP TABLE IF EXISTS osc._t_old;
		INSERT INTO osc.t (id, v, c) VALUES (502, 502, \"after\"); UPDATE osc.t SET d = 8 WHERE id = 1" &&
	seal_new && deliver && apply_once &&
	test "$(applied_seq)" = "$(wagon_count)" &&
	checksum_both osc.t &&
	test "$(dst_sql "SELECT COUNT(*), SUM(v), SUM(d) FROM osc.t")" = "$(src_sql "SELECT COUNT(*), SUM(v), SUM(d) FROM osc.t")" &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = \"osc\"")" = 1 &&
	test "$(dst_sql "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \"osc\"")" = 0 &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases osc >verify.out
'

test_done
