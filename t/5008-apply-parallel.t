#!/bin/bash
test_description='srdf-apply --parallel: srdf-bootstrap row wagons over several connections, committed in order; a failing one stops the run at itself'
. "$(dirname "$0")/lib.sh"
. "$top/t/5-apply-lib.sh"
srdf_servers_start

# first_row_wagon: the sequence of the first wagon holding rows (the
# schema's wagons come first)
first_row_wagon() {
	local n f
	for f in "$S"/outbox/new/*.wagon; do
		n=${f##*/}
		n=$((10#${n%.wagon}))
		if srdf-cat --key-file key "$f" 2>/dev/null | head -n 1 | grep -q '"table":'; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

# connections: how many parallel connections applied wagons (apply.err)
connections() {
	sed -n 's/.*applied wagon [0-9]* on connection \([0-9]*\):.*/\1/p' apply.err | sort -u | wc -l
}

# rows_of FROM TO: the row changes the ledger says wagons FROM..TO applied
rows_of() {
	ledger-wagons "$D" | jq -s --argjson a "$1" --argjson b "$2" \
		'map(select(.seq >= $a and .seq <= $b) | .rows // 0) | add // 0'
}

test_expect_success 'setup: two tables of 6000 rows each, AUTO_INCREMENT, a secondary and a UNIQUE key' '
	apply_setup &&
	src_sql "CREATE DATABASE pp;
		CREATE TABLE pp.a (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL,
			c VARCHAR(60), u INT, UNIQUE KEY (u), KEY (k));
		CREATE TABLE pp.b (id BIGINT PRIMARY KEY, v TEXT, d DATETIME(6));
		CREATE TABLE pp.seq (n INT PRIMARY KEY);
		INSERT INTO pp.seq SELECT seq FROM pp.seq_1_to_6000;
		INSERT INTO pp.a (id, k, c, u) SELECT n, n * 7919 % 1000, CONCAT(\"row \", n), n FROM pp.seq;
		INSERT INTO pp.b SELECT n * 3, REPEAT(CHAR(65 + n % 26), n % 300),
			FROM_UNIXTIME(1700000000 + n) FROM pp.seq" &&
	srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir "$S" --databases pp \
		--chunk-rows 500 --parallel 2 2>bootstrap.err |
		srdf-seal --dir "$S" --key-file key 2>>seal.err &&
	first=$(first_row_wagon) && echo "$first" >first &&
	n=$(wagon_count) && echo "$n" >count &&
	test "$((n - first))" -ge 30
'

test_expect_success 'applied over three connections: equal, every wagon applied, in order' '
	deliver &&
	apply_once --parallel 3 -v &&
	checksum_both pp.a pp.b pp.seq &&
	test "$(applied_seq)" = "$(cat count)" &&
	test "$(connections)" -ge 2 &&
	test "$(ledger-wagons "$D" | jq -r .state | sort -u)" = applied &&
	! grep -q "failed on parallel connection" apply.err
'

test_expect_success 'a row wagon that fails: the wagons before it commit, none after it' '
	rm -rf "$D" && mkdir -p "$D/inbox/new" && : >apply.err &&
	dst_sql "DROP DATABASE pp; DROP DATABASE srdf" &&
	first=$(cat first) && n=$(cat count) &&
	deliver $(seq 1 $((first - 1))) &&
	apply_once &&
	test "$(applied_seq)" = $((first - 1)) &&
	bad=$((first + 8)) &&
	until srdf-cat --key-file key "$S/outbox/new/$(wagon_name $bad)" |
		head -n 1 | grep -q "\"table\":\"a\""; do
		bad=$((bad + 1)); test "$bad" -lt "$n" || return 1
	done &&
	key=$(srdf-cat --key-file key "$S/outbox/new/$(wagon_name $bad)" |
		jq -r "select(.type == \"insert\") | .after.u // empty" | sed -n 17p) &&
	test -n "$key" &&
	dst_sql "INSERT INTO pp.a (id, k, c, u) VALUES (100000, 1, \"in the way\", $key)" &&
	deliver $(seq "$first" "$n") &&
	test_expect_code 65 apply_once --parallel 2 --retry none -v &&
	grep -q "failed on parallel connection [0-9]: .*Duplicate entry (value withheld) for key .u." apply.err &&
	test "$(applied_seq)" = $((bad - 1)) &&
	test "$(wagon_state $bad)" = dead &&
	wagon_field $bad last_error | grep -q "Duplicate entry (value withheld) for key" &&
	! wagon_field $bad last_error | grep -q "$key" &&
	test "$(wagon_state $((bad + 1)))" != applied &&
	want=$(( $(rows_of "$first" $((bad - 1))) + 1 )) &&
	got=$(dst_sql "SELECT (SELECT COUNT(*) FROM pp.a) + (SELECT COUNT(*) FROM pp.b) + (SELECT COUNT(*) FROM pp.seq)") &&
	test "$got" = "$want"
'

test_expect_success 'the row out of the way, the next start goes on in parallel: equal' '
	dst_sql "DELETE FROM pp.a WHERE id = 100000" &&
	apply_once --parallel 2 -v &&
	checksum_both pp.a pp.b pp.seq &&
	test "$(applied_seq)" = "$(cat count)" &&
	test "$(connections)" -ge 1
'

# A copy big enough to be killed in the middle of: 150000 rows in
# wagons of 2500, in a source directory and target inbox of its own.
test_expect_success 'kill -9 while wagons are applied in parallel, six times: equal, no wagon twice' '
	src_sql "CREATE DATABASE kk;
		CREATE TABLE kk.t (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(100), KEY (k));
		INSERT INTO kk.t SELECT seq, seq * 7 % 1000, REPEAT(CHAR(65 + seq % 26), 100)
			FROM kk.seq_1_to_150000" &&
	mkdir -p ksrc kdst/inbox/new &&
	srdf-bootstrap --defaults-file "$SRC_ADMIN_CNF" --dir ksrc --databases kk \
		--chunk-rows 2500 2>>bootstrap.err |
		srdf-seal --dir ksrc --key-file key 2>>seal.err &&
	kn=$(ls ksrc/outbox/new | grep -c "\.wagon\$") &&
	dst_sql "DROP DATABASE srdf" &&
	cp ksrc/outbox/new/*.wagon kdst/inbox/new/ &&
	RANDOM=${CRASH_SEED:-5} &&
	for i in $(seq 6); do
		test_bg daemon srdf-apply --dir kdst --key-file key \
			--defaults-file "$DST_CNF" --parallel 3 &&
		test_wait_until 60 "grep -q \"target checkpoint\" daemon.err" &&
		sleep "0.$(printf %02d $((RANDOM % 15 + 5)))" &&
		kill -9 "$(cat daemon.pid)" &&
		{ wait "$(cat daemon.pid)"; true; } &&
		cat daemon.err >>daemons.err &&
		echo "kill $i at wagon $(dst_sql "SELECT MAX(seq) FROM srdf.applied") of $kn" >>kills || return 1
	done &&
	cat kills >&2 &&
	test "$(awk "\$5 > 1 && \$5 < \$7" kills | wc -l)" -ge 2 &&
	srdf-apply --dir kdst --key-file key --defaults-file "$DST_CNF" --once \
		--parallel 3 2>>daemons.err &&
	checksum_both kk.t &&
	test "$(dst_sql "SELECT MAX(seq) FROM srdf.applied")" = "$kn" &&
	test "$(ledger-wagons kdst | jq -r .state | sort -u)" = applied &&
	! grep -q "Duplicate entry" daemons.err
'

test_expect_success '--parallel 1 applies every wagon on one connection; a bad count is refused' '
	rm -rf "$D" && mkdir -p "$D/inbox/new" && : >apply.err &&
	dst_sql "DROP DATABASE pp; DROP DATABASE srdf" &&
	deliver &&
	apply_once --parallel 1 -v &&
	checksum_both pp.a pp.b pp.seq &&
	! grep -q "on connection" apply.err &&
	test_expect_code 64 apply_once --parallel 0 &&
	grep -q "bad --parallel 0 (want 1 to 64)" apply.err
'

test_done
