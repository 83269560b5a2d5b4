#!/usr/bin/env bash
# The interrupted-sync test as a longer soak: 2,000 cycles of connections cut mid-frame by a TCP
# proxy, relay SIGKILLs mid-session and device restarts, against the real relay binary (override
# the count with the first argument). Replay a failure with PEERLOG_SEED=<seed printed by the
# failing run>.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERLOG_INTERRUPT_CYCLES="${1:-2000}" cargo test --release -p peerlog-tests --test e2e_interruptions -- --nocapture
