#!/usr/bin/env bash
# How fast a refused connection (REJ) seen by an RX core shows in /metrics: real Linux TCP over a veth into
# a network namespace, synscope on net_af_packet, N refused connects, each timed from connect() returning
# ECONNREFUSED to the first /metrics scrape that counts it. Prints p50/p99/max. Needs root.
# Usage: bench/rej_latency.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 tests/integration/live_af_packet_test.py --binary build/app/synscope --refused "${1:-500}" --accepted 5
