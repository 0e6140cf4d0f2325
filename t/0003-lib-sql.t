#!/usr/bin/env bash
# 0003-lib-sql: unit tests of lib/sql.c (sql_literal_span against
# sql_literal); no database.
exec "$(dirname "$0")/helpers/unit-sql"
