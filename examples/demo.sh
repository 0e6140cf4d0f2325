#!/bin/bash
# examples/demo.sh — `make demo`, the README's first command.
#
# On a fresh Debian machine: installs what is missing (as root), builds,
# and runs examples/pipeline.sh: a throwaway source and target mariadbd
# (t/srdf-servers), sysbench tables on the source before srdf starts,
# srdf-bootstrap | srdf-seal copying them, then every srdf tool between
# the two (capture | dedup | seal from the snapshot, ship, recv, apply;
# the ACKs pulled back by srdf-ship, or pushed to srdf-ackd with
# DEMO_ACKS=push) under 30 s of sysbench, with srdf-status figures every 5 s.  At
# the end it prints the lag, CHECKSUM TABLE of both sides, srdf-verify
# and the wagons, all confirmed.  It cleans up after itself, ^C included,
# and is safe to run twice.  DEMO_SECONDS (default 30) sets the
# workload's length; see examples/pipeline.sh for the other settings.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
seconds=${DEMO_SECONDS:-30}

packages=(build-essential pkg-config mariadb-server mariadb-client
	libmariadb-dev libzstd-dev libsodium-dev libcurl4-openssl-dev
	libjansson-dev liblmdb-dev libmicrohttpd-dev zlib1g-dev libsystemd-dev sysbench jq
	python3)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -qx 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "demo: missing packages: ${missing[*]}; run as root or" \
			"apt-get install them" >&2
		exit 69
	fi
	echo "demo: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi
make -s

# The whole chain on this host: capture | dedup | seal, ship, recv, apply,
# the ACKs back (pulled; DEMO_ACKS=push: srdf-ackd), between two
# throwaway servers, under a live sysbench load.
exec examples/pipeline.sh "$seconds"
