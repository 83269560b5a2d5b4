#!/usr/bin/env bash
# The relay durability test as a longer soak: 500 SIGKILL cycles (override with the first argument).
# Replay a failure with PEERLOG_SEED=<seed printed by the failing run>.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERLOG_DURABILITY_CYCLES="${1:-500}" cargo test --release -p peerlog-server --test durability -- --nocapture
