#!/usr/bin/env bash
test_description='the libFuzzer harnesses of t/fuzz run 5 s each without a crash'
# 0004-lib-fuzz: make check's short turn of t/fuzz (t/fuzz/README): each
# harness built with clang's libFuzzer and the sanitizers, then run for
# FUZZ_CHECK_SECONDS (default 5) from its seed corpus.  make fuzz runs
# them for longer.  Skipped without a clang that links -fsanitize=fuzzer.
. "$(dirname "$0")/lib.sh"

cc=${FUZZ_CC:-clang}
secs=${FUZZ_CHECK_SECONDS:-5}
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ return 0; }\n' >probe.c
"$cc" -fsanitize=fuzzer,address,undefined -o probe probe.c >/dev/null 2>&1 ||
	skip_all "no $cc that links libFuzzer (-fsanitize=fuzzer): apt-get install clang libclang-rt-14-dev"

test_expect_success 'the harnesses build' '
	make -C "$top" -s --no-print-directory FUZZ_CC="$cc" fuzz-build
'

for src in "$top"/t/fuzz/*.c; do
	h=$(basename "$src" .c)
	test_expect_success "$h: $secs s, no crash" '
		"$top/t/fuzz/run" "$secs" "$h"
	'
done

test_done
