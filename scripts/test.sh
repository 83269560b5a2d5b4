#!/usr/bin/env bash
# Runs every check a submission must pass: formatting, clippy with warnings denied, all tests.
# The same script runs locally and in CI (.ci/run installs prerequisites, then calls this).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test (workspace)"
cargo test --workspace --locked

echo "== benchmarks compile"
cargo bench --workspace --locked --no-run

echo "== mobile FFI: bindings regenerated, Python/Kotlin/Swift tests against a real relay"
./scripts/ffi-test.sh
