#!/usr/bin/env bash
# 4001-lib-hauth-ack: unit tests of the request signatures (lib/hauth.c:
# every refusal, replays, expiry, the bounded nonce cache) and of the ACK
# format (lib/ack.c: round trips, every refusal).  t/helpers/unit-transport
# prints the TAP.
set -eu
export LANG=C LC_ALL=C TZ=UTC
exec "$(cd "$(dirname "$0")" && pwd)/helpers/unit-transport"
