#!/usr/bin/env bash
# 0001-lib-units: unit tests of lib/ (fault, lock, spool, ledger, opt) that
# need no database.  t/helpers/unit-lib prints the TAP; this script gives
# it a fresh scratch directory and removes it afterwards.  Not exec: the
# EXIT trap must outlive the helper to remove the directory.
set -eu
export LANG=C LC_ALL=C TZ=UTC
helper=$(cd "$(dirname "$0")" && pwd)/helpers/unit-lib
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
"$helper"
