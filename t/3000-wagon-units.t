#!/usr/bin/env bash
# 3000-wagon-units: unit tests of lib/wagon.c and lib/key.c (the wagon
# format, each verification error, key files) that need no database.
# t/helpers/wagon-units prints the TAP; this script gives it a fresh
# scratch directory and removes it afterwards.  Not exec: the EXIT trap
# must outlive the helper to remove the directory.
set -eu
export LANG=C LC_ALL=C TZ=UTC
helper=$(cd "$(dirname "$0")" && pwd)/helpers/wagon-units
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
"$helper"
