#!/bin/bash
test_description='lib/scan: the record scanner of srdf-dedup and srdf-seal accepts exactly what jansson and record_check accept'
. "$(dirname "$0")/lib.sh"

# SCAN_SEED and SCAN_CASES run other cases; a disagreement prints the line.
test_expect_success 'three seeds, a million random and mutated records: no disagreement' '
	for s in ${SCAN_SEED:-1 2 3}; do
		scanfuzz "$s" "${SCAN_CASES:-350000}" || return 1
	done
'

test_expect_success 'SRDF_DEDUP_VERIFY=1 re-reads every record with jansson' '
	printf "%s\n" "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-1\",\"ts\":1}" \
		"{\"v\":1,\"type\":\"insert\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"],\"after\":{\"id\":1,\"s\":\"\\u00e9\\ud83d\\ude00\"}}" \
		"{\"v\":1,\"type\":\"commit\",\"gtid\":\"0-1-1\",\"ts\":1}" >records &&
	SRDF_DEDUP_VERIFY=1 srdf-dedup <records >out 2>err &&
	test "$(grep -c group_end out)" = 1
'

test_done
