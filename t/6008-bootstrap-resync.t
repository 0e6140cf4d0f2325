#!/bin/bash
test_description='srdf-bootstrap --resync: a table the target had corrupted is copied again in key chunks into the running pipeline, under a write load on it; the target ends equal and nothing is applied twice'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
. "$top/t/6-resync-lib.sh"
srdf_servers_start

test_expect_success 'setup: a running pipeline creates r.t (6000 rows) and r.cnt on the target' '
	resync_setup &&
	chain_start && deliver_start && apply_start &&
	src_sql "CREATE DATABASE r;
		CREATE TABLE r.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60));
		INSERT INTO r.t SELECT seq, seq, REPEAT(\"p\", seq % 50) FROM r.seq_1_to_6000;
		CREATE TABLE r.cnt (id INT PRIMARY KEY, n BIGINT NOT NULL);
		INSERT INTO r.cnt SELECT seq, 0 FROM r.seq_0_to_9" &&
	test_wait_until 30 caught_up &&
	checksum_both r.t r.cnt
'

test_expect_success 'the target drifts: rows changed, deleted and added there' '
	dst_sql "SET sql_log_bin = 0;
		UPDATE r.t SET v = -1 WHERE id % 97 = 0;
		DELETE FROM r.t WHERE id % 89 = 0 OR id IN (1, 6000);
		INSERT INTO r.t SELECT seq, 0, \"extra\" FROM r.seq_9001_to_9050" &&
	test_must_fail srdf-verify --source "$SRC_CNF" --target "$DST_CNF" \
		--databases r >verify0.out 2>verify0.err &&
	grep -q "^r.t .*DRIFT" verify0.out &&
	grep -q "extra on the target: id=9001" verify0.out
'

test_expect_success 'srdf-bootstrap --resync r.t under a write load: chunks in the stream, progress on stderr' '
	load_start 6008 &&
	g0=$(src_sql "SELECT @@gtid_binlog_pos") &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.t \
		--chunk-rows 200 2>resync.err &&
	g1=$(src_sql "SELECT @@gtid_binlog_pos") &&
	cat resync.err && echo "source GTID $g0 .. $g1 during the copy" &&
	test $((${g1##*-} - ${g0##*-})) -ge 100 &&
	grep -q "resync copied r.t: .* rows of .* in [23][0-9] chunks" resync.err &&
	test "$(src_sql "SELECT state FROM srdf.resync WHERE db = \"r\" AND tbl = \"t\"")" = done &&
	srdf-status --dir "$S" --json >status.json &&
	jq -c ".processes[] | select(.tool == \"srdf-bootstrap\") | [.seq, .gtid]" status.json >progress &&
	cat progress &&
	test "$(jq ".[0]" progress)" = "$(src_sql "SELECT chunk FROM srdf.resync WHERE db = \"r\" AND tbl = \"t\"")" &&
	jq -r ".processes[] | select(.tool == \"srdf-bootstrap\") | .detail" status.json >detail &&
	grep -q "^resync copied r.t: [0-9]* rows of ~[0-9]* ([0-9]*%) in [0-9]* chunks, [0-9.]* MB, [0-9]* rows/s" detail &&
	srdf-status --dir "$S" >status.txt &&
	grep -qF "$(cat detail)" status.txt &&
	test -z "$(ls "$S/resync")" &&
	test "$(wc -l <load.batches)" -ge 2
'

test_expect_success 'the load stops; the pipeline catches up: r.t and r.cnt equal, nothing applied twice' '
	load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both r.t r.cnt &&
	test "$(src_sql "SELECT SUM(n) FROM r.cnt")" = "$(dst_sql "SELECT SUM(n) FROM r.cnt")" &&
	test "$(dst_sql "SELECT SUM(n) FROM r.cnt")" -gt 0 &&
	test "$(dst_sql "SELECT COUNT(*) FROM r.t WHERE id > 9000")" = 0 &&
	srdf-verify --source "$SRC_CNF" --target "$DST_CNF" --databases r >verify.out &&
	grep -q "^equal:" verify.out &&
	no_failures
'

test_expect_success 'the chunks travelled as wagons of their own: ranges that tile the key space' '
	for f in "$S"/outbox/new/*.wagon; do srdf-cat --key-file key "$f"; done >all.jsonl &&
	jq -s -c "[.[] | select(.type == \"range\" and .table == \"t\") | [.lo.id, .hi.id]]" all.jsonl >ranges &&
	cat ranges &&
	jq -e "length >= 20 and .[0][0] == null and .[-1][1] == null and
		([range(1; length) as \$i | .[\$i][0] == .[\$i - 1][1]] | all)" ranges &&
	test "$(jq -r "select(.type == \"group_end\" and .reason == \"resync\") | .reason" all.jsonl | wc -l)" -ge 10
'

test_expect_success 'resync of the counter table itself under the load: equal, no increment lost or doubled' '
	load_start 6018 &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.cnt \
		--chunk-rows 3 2>resync2.err &&
	grep -q "resync copied r.cnt: 10 rows" resync2.err &&
	load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both r.t r.cnt &&
	test "$(src_sql "SELECT SUM(n) FROM r.cnt")" = "$(dst_sql "SELECT SUM(n) FROM r.cnt")" &&
	no_failures
'

# srdf-apply(1) "Applying a backlog": chunks merged with the live wagons
# around them, each range's DELETE after the rows of the wagons before it.
test_expect_success 'a backlog of chunks between live wagons is applied in merged transactions: equal, the counters once' '
	test_bg_stop apply &&
	dst_sql "SET sql_log_bin = 0; UPDATE r.t SET v = -2 WHERE id % 11 = 0" &&
	load_start 6028 &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.t \
		--chunk-rows 500 2>resync4.err &&
	load_stop &&
	test_wait_until 30 "test \"\$(ledger-meta \"\$S\" last_sealed_gtid)\" = \"\$(src_sql \"SELECT @@gtid_binlog_pos\")\"" &&
	test_wait_until 30 "test \$((\$(ls \"\$D/inbox/new\" | wc -l) + \$(applied_seq))) = \$(wagon_count)" &&
	for f in "$D"/inbox/new/*.wagon; do
		if srdf-cat --key-file key "$f" | grep -q "\"type\":\"range\""; then
			echo $((10#$(basename "$f" .wagon)))
		fi
	done >range.seqs &&
	test "$(wc -l <range.seqs)" -ge 10 &&
	: >apply.err &&
	apply_start &&
	test_wait_until 60 caught_up &&
	checksum_both r.t r.cnt &&
	test "$(src_sql "SELECT SUM(n) FROM r.cnt")" = "$(dst_sql "SELECT SUM(n) FROM r.cnt")" &&
	sed -n "s/.*wagons \([0-9]*\)\.\.\([0-9]*\) applied in one transaction.*/\1 \2/p" apply.err >merged &&
	cat merged &&
	# a chunk inside a merged run, after live wagons
	while read -r lo hi; do
		while read -r r; do
			if [ "$r" -gt "$lo" ] && [ "$r" -le "$hi" ]; then
				echo "$r"
			fi
		done <range.seqs
	done <merged >inside &&
	test "$(wc -l <inside)" -ge 5 &&
	{ ! grep "differs from the source" apply.err; } &&
	no_failures
'

test_expect_success '--chunk-bytes bounds a chunk whatever --chunk-rows says' '
	dst_sql "SET sql_log_bin = 0; DELETE FROM r.t WHERE id % 7 = 0" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.t \
		--chunk-rows 1000000 --chunk-bytes 64K 2>resync3.err &&
	cat resync3.err &&
	chunks=$(sed -n "s/.*resync copied r.t: .* in \([0-9]*\) chunks, .*/\1/p" resync3.err) &&
	test "$chunks" -ge 8 && test "$chunks" -le 14 &&
	test_wait_until 60 caught_up &&
	checksum_both r.t r.cnt
'

test_expect_success 'srdf-rewind refuses to undo a chunk: the rows it replaced are not in the wagon' '
	test_bg_stop apply &&
	sums=$(dst_sql "CHECKSUM TABLE r.t, r.cnt") &&
	test_expect_code 65 srdf-rewind --dir "$D" --key-file key \
		--defaults-file "$DST_CNF" --to "$g0" 2>rewind.err &&
	cat rewind.err &&
	grep -q "it holds a key range copied again by srdf-bootstrap --resync or --add: the target.s rows it replaced are not in the wagon, so it cannot be undone; nothing was rewound" rewind.err &&
	test "$(dst_sql "CHECKSUM TABLE r.t, r.cnt")" = "$sums" &&
	apply_start
'

# srdf-bootstrap(1) --max-lag: the copy waits while a wagon sealed longer
# ago than that is not confirmed; real ACKs through srdf-ackd.
test_expect_success '--max-lag: srdf-ackd away, the copy waits for the pipeline; back, it goes on and ends equal' '
	port=$(test_free_port) &&
	test_bg ackd srdf-ackd --dir "$S" --key-file key --insecure \
		--listen 127.0.0.1:$port &&
	test_wait_until 10 "grep -q \"listening on\" ackd.err" &&
	test_bg_stop apply &&
	test_bg apply srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--ack-to http://127.0.0.1:$port --insecure &&
	src_sql "UPDATE r.cnt SET n = n + 1 WHERE id = 1" &&
	test_wait_until 30 caught_up &&
	test_wait_until 30 "test -z \"\$(ledger-wagons \"\$S\" | jq -r \"select(.state != \\\"confirmed\\\") | .seq\")\"" &&
	test_bg_stop ackd &&
	dst_sql "SET sql_log_bin = 0; UPDATE r.t SET v = -3 WHERE id % 13 = 0" &&
	test_bg copy srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync r.t --chunk-rows 50 --max-lag 100ms &&
	test_wait_until 30 "grep -q \"the copy waits: wagon [0-9]* (sealed\\|sending\\|received\\|confirmed\\|failed), sealed [0-9.]* s ago, is not confirmed yet (--max-lag 0.1 s)\" copy.err" &&
	c1=$(resync_chunk r t) && sleep 2 &&
	test "$(resync_chunk r t)" = "$c1" && test "$c1" -ge 1 &&
	test "$(src_sql "SELECT state FROM srdf.resync WHERE db = \"r\" AND tbl = \"t\"")" = copying &&
	test_bg ackd2 srdf-ackd --dir "$S" --key-file key --insecure \
		--listen 127.0.0.1:$port &&
	test_wait_until 90 "! kill -0 \$(cat copy.pid) 2>/dev/null" &&
	test_bg_stop copy &&
	cat copy.err | grep -v "resync r.t:" &&
	grep -q "r.t: paused [0-9.]* s of it for the pipeline.s lag (--max-lag 0.1 s)" copy.err &&
	test_wait_until 60 caught_up &&
	checksum_both r.t r.cnt &&
	no_failures
'
# From here on srdf-ackd takes the ACKs: the copies below are paced.

test_expect_success 'a table without a primary key, duplicate rows in it, is copied whole in one chunk; equal' '
	src_sql "CREATE TABLE r.nopk (a INT, b VARCHAR(20));
		INSERT INTO r.nopk SELECT seq % 50, CONCAT(\"b\", seq % 7) FROM r.seq_1_to_600" &&
	test_wait_until 60 caught_up &&
	checksum_both r.nopk &&
	dst_sql "SET sql_log_bin = 0;
		DELETE FROM r.nopk WHERE a = 7;
		UPDATE r.nopk SET b = \"drift\" WHERE a = 8 LIMIT 3;
		INSERT INTO r.nopk VALUES (9, \"b2\"), (9, \"b2\"), (1000, \"extra\")" &&
	! checksum_both r.nopk 2>/dev/null &&
	load_start 6038 &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.nopk \
		2>nopk.err &&
	grep -q "resync copied r.nopk: 600 rows of ~[0-9]* ([0-9]*%) in 1 chunks" nopk.err &&
	src_sql "UPDATE r.nopk SET b = \"after\" WHERE a = 3; DELETE FROM r.nopk WHERE a = 4 LIMIT 5" &&
	load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both r.nopk r.t r.cnt &&
	test "$(dst_sql "SELECT COUNT(*) FROM r.nopk WHERE a = 9")" = 12 &&
	no_failures
'

test_expect_success 'a table without a primary key larger than --chunk-bytes is refused, the target unchanged' '
	dst_sql "SET sql_log_bin = 0; DELETE FROM r.nopk WHERE a = 11" &&
	before=$(dst_sql "CHECKSUM TABLE r.nopk") &&
	test_expect_code 65 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync r.nopk --chunk-bytes 4K 2>big.err &&
	cat big.err &&
	grep -q "r.nopk has no primary key that orders key ranges, so it is copied in one chunk, and it holds more than --chunk-bytes (4096 bytes after [0-9]* rows): add a primary key, or give a --chunk-bytes it fits in" big.err &&
	test_expect_code 64 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync r.nopk --resync-after "[\"1\"]" 2>after.err &&
	grep -q "it is copied whole, not --resync-after or --resync-upto a key" after.err &&
	sleep 1 && test_wait_until 60 caught_up &&
	test "$(dst_sql "CHECKSUM TABLE r.nopk")" = "$before" &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.nopk 2>ok.err &&
	test_wait_until 60 caught_up &&
	checksum_both r.nopk
'

# A MyISAM table: a locking read holds no writer off until the watermark
# commits, so srdf-bootstrap takes LOCK TABLES ... READ per chunk.
test_expect_success 'a MyISAM table under a write load is copied chunk by chunk under LOCK TABLES READ: equal' '
	src_sql "CREATE TABLE r.m (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60)) ENGINE=MyISAM;
		INSERT INTO r.m SELECT seq, seq, \"p\" FROM r.seq_1_to_4000" &&
	test_wait_until 60 caught_up &&
	dst_sql "UPDATE r.m SET v = -1 WHERE id % 10 = 0" &&
	test_expect_code 77 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync r.m 2>nolock.err &&
	grep -q "r.m: cannot LOCK TABLES ... READ (a table not in InnoDB is copied online under a table read lock, so the account needs the LOCK TABLES privilege on its database and on srdf)" nolock.err &&
	src_sql "SET sql_log_bin = 0; GRANT LOCK TABLES ON r.* TO srdf@\"127.0.0.1\", srdf@localhost;
		GRANT LOCK TABLES ON srdf.* TO srdf@\"127.0.0.1\", srdf@localhost" &&
	load_start 6048 r.m &&
	srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" --resync r.m \
		--chunk-rows 20 2>myisam.err &&
	grep -q "r.m is MyISAM, not InnoDB: each chunk is read under LOCK TABLES ... READ" myisam.err &&
	sleep 1 && load_stop &&
	test_wait_until 60 caught_up &&
	checksum_both r.m r.cnt &&
	no_failures
'

# A DDL on the table during its copy: srdf-bootstrap reads the
# definition under each chunk's lock and goes on with the new columns;
# a new primary key starts it over.
test_expect_success 'ALTER TABLE during the copy: a new column, values set in it, then a new primary key; equal' '
	src_sql "CREATE TABLE r.d (id INT PRIMARY KEY, v INT NOT NULL);
		INSERT INTO r.d SELECT seq, seq FROM r.seq_1_to_3000" &&
	test_wait_until 60 caught_up &&
	dst_sql "UPDATE r.d SET v = -1 WHERE id % 3 = 0" &&
	test_bg ddlcopy srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync r.d --chunk-rows 5 --resync-spool 1 &&
	test_wait_until 30 "test \$(resync_chunk r d) -ge 20" &&
	src_sql "ALTER TABLE r.d ADD COLUMN c INT NOT NULL DEFAULT 7;
		UPDATE r.d SET c = id % 5 WHERE id > 2000" &&
	test_wait_until 30 "test \$(resync_chunk r d) -ge 300" &&
	src_sql "ALTER TABLE r.d DROP PRIMARY KEY, ADD PRIMARY KEY (v, id)" &&
	test_wait_until 60 "! kill -0 \$(cat ddlcopy.pid) 2>/dev/null" &&
	test_bg_stop ddlcopy &&
	grep "definition changed\|primary key changed\|resync copied" ddlcopy.err &&
	grep -q "r.d: its definition changed during the copy (a DDL): the copy goes on with the new one" ddlcopy.err &&
	grep -q "r.d: its primary key changed: the copy starts over from the first key" ddlcopy.err &&
	test_wait_until 60 caught_up &&
	checksum_both r.d &&
	test "$(dst_sql "SELECT COUNT(*) FROM r.d WHERE c = 7")" = 2000 &&
	no_failures
'

test_expect_success 'refusals: a name without db., --restart beside it' '
	test_expect_code 64 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync nodot 2>nodot.err &&
	grep -q "give the table as db.table" nodot.err &&
	test_expect_code 64 srdf-bootstrap --defaults-file "$SRC_CNF" --dir "$S" \
		--resync r.t --restart 2>both.err &&
	grep -q "do not go together" both.err
'

test_done
