#!/usr/bin/env bash
# 0002-lib-buf: unit tests of lib/buf.c (the record writer); no database.
exec "$(dirname "$0")/helpers/unit-buf"
