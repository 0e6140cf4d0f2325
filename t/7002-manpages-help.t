#!/bin/bash
test_description='every man page is mandoc-lint clean, every tool has one, and --help names the options of its SYNOPSIS'
. "$(dirname "$0")/lib.sh"

test_expect_success 'mandoc -T lint -W warning is silent on every page' '
	mandoc -T lint -W warning "$top"/man/*.[1-9] >lint 2>&1 &&
	test_cmp /dev/null lint
'

for bin in "$top"/bin/srdf-*; do
	t=$(basename "$bin")
	test_expect_success "$t: --help and the SYNOPSIS of $t(1) name the same options" '
		test -f "$top/man/$t.1" &&
		"$bin" --help 2>&1 | grep -o -- "--[a-z][a-z-]*" | sort -u >help &&
		mandoc -T ascii "$top/man/$t.1" | col -b |
			sed -n "/^SYNOPSIS/,/^DESCRIPTION/p" |
			grep -o -- "--[a-z][a-z-]*" | sort -u >synopsis &&
		test_cmp synopsis help &&
		"$bin" --version | grep -q "^$t [0-9]"
	'
done

test_done
