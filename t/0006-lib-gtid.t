#!/usr/bin/env bash
# 0006-lib-gtid: unit tests of lib/gtid.c (GTID positions); no database.
exec "$(dirname "$0")/helpers/unit-gtid"
