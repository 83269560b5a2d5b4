#!/usr/bin/env bash
# Provision command for the automerge-repo benchmark harness against `peerlog serve`:
#   bench/provision-relay.sh {url} {dir} {n} {c}
# Prints the harness's manifest JSON (see bench/provision-relay.mjs). Needs Node 20 and a release
# build (`cargo build --release -p peerlog-server`), or PEERLOG_BIN pointing at a `peerlog` binary.
set -euo pipefail
if [ "$#" -ne 4 ]; then
  echo "usage: $0 URL DIR N C" >&2
  exit 2
fi
exec node "$(cd "$(dirname "$0")" && pwd)/provision-relay.mjs" "$@"
