#!/usr/bin/env bash
# 0007-lib-clock: unit tests of lib/clock.c (ISO 8601 times); no database.
exec "$(dirname "$0")/helpers/unit-clock"
