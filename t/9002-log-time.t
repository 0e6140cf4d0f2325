#!/bin/bash
test_description='log lines: an RFC 3339 time in UTC with microseconds after the priority prefix, except when stderr is the journal (JOURNAL_STREAM names its device:inode)'
. "$(dirname "$0")/lib.sh"

# One error line from srdf-dedup: a record of an unknown version (65).
bad() { echo '{"v":2,"type":"begin","gtid":"0-1-4"}'; }
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z'

test_expect_success 'stderr to a file, no JOURNAL_STREAM: the time, in UTC, now' '
	before=$(date -u +%s) &&
	bad >in && test_expect_code 65 env -u JOURNAL_STREAM srdf-dedup <in >out 2>err &&
	after=$(date -u +%s) &&
	cat err &&
	test "$(wc -l <err)" = 1 &&
	grep -Eq "^<3>$stamp srdf-dedup: stdin:1: " err &&
	t=$(sed -E "s/^<3>([^ ]*) .*/\1/" err) &&
	s=$(date -u -d "${t%.*}Z" +%s) &&
	test "$s" -ge "$before" && test "$s" -le "$after"
'

test_expect_success 'JOURNAL_STREAM naming stderr: no time, the line as before' '
	: >jerr &&
	js=$(stat -c %d:%i jerr) &&
	bad >in && test_expect_code 65 env JOURNAL_STREAM=$js srdf-dedup <in >out 2>>jerr &&
	cat jerr &&
	test "$(wc -l <jerr)" = 1 &&
	grep -q "^<3>srdf-dedup: stdin:1: " jerr &&
	! grep -Eq "$stamp" jerr
'

test_expect_success 'JOURNAL_STREAM inherited but stderr redirected elsewhere: the time' '
	: >other &&
	js=$(stat -c %d:%i other) &&
	bad >in && test_expect_code 65 env JOURNAL_STREAM=$js srdf-dedup <in >out 2>err2 &&
	cat err2 &&
	grep -Eq "^<3>$stamp srdf-dedup: stdin:1: " err2
'

test_expect_success 'a malformed JOURNAL_STREAM is no journal: the time' '
	: >merr &&
	js=$(stat -c %d:%i merr) &&
	bad >in && test_expect_code 65 env JOURNAL_STREAM="$js:x" srdf-dedup <in >out 2>>merr &&
	grep -Eq "^<3>$stamp srdf-dedup: " merr &&
	: >merr2 &&
	bad >in && test_expect_code 65 env JOURNAL_STREAM="" srdf-dedup <in >out 2>>merr2 &&
	grep -Eq "^<3>$stamp srdf-dedup: " merr2
'

test_done
