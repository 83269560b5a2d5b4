#!/usr/bin/env bash
# The mobile library as apps use it: builds the debug cdylib and the pinned uniffi-bindgen,
# regenerates the Kotlin, Swift and Python bindings into target/ (never committed, so stale
# bindings cannot pass), starts a real relay (`peerlog serve`) on a loopback port for each
# language and runs that language's tests in mobile-ffi/tests/<language>/ against it.
#
#   scripts/ffi-test.sh                 # python, kotlin and swift
#   scripts/ffi-test.sh python kotlin   # a selection
#
# Toolchains (mobile-ffi/tests/setup-toolchains.sh installs them, as .ci/run does):
#   kotlin: java, Debian's JNA (/usr/share/java/jna.jar), kotlinc from npm in
#           mobile-ffi/tests/kotlin/tools (KOTLIN_HOME overrides)
#   swift:  a Debian 13 chroot with swiftlang in target/ffi-tools/trixie (SWIFT_CHROOT
#           overrides); running it needs root (chroot, mount -t proc)
# A missing toolchain skips its language with a loud message, or fails the run when
# PEERLOG_REQUIRE_FFI=1 (as in CI). FFI_CYCLES sets the open/close cycles (default 1000).
# FFI_LIB=target/release-ffi/libpeerlog_ffi.so tests a release library with the bindings
# generated from the debug one (bindgen cannot read a stripped library).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

LANGS=("$@")
[ ${#LANGS[@]} -gt 0 ] || LANGS=(python kotlin swift)
for lang in "${LANGS[@]}"; do
  case $lang in python | kotlin | swift) ;; *) echo "unknown language: $lang (python, kotlin, swift)" >&2; exit 2 ;; esac
done
REQUIRE=${PEERLOG_REQUIRE_FFI:-0}

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
LIB=$TARGET/debug/libpeerlog_ffi.so
TEST_LIB=${FFI_LIB:-$LIB}
case $TEST_LIB in /*) ;; *) TEST_LIB=$ROOT/$TEST_LIB ;; esac
BINDGEN=$TARGET/debug/uniffi-bindgen
PEERLOG=$TARGET/debug/peerlog
GEN=$TARGET/ffi/bindings
RUN=$TARGET/ffi/run
TESTS=$ROOT/mobile-ffi/tests
KOTLIN_HOME=${KOTLIN_HOME:-$TESTS/kotlin/tools/node_modules/kotlin-compiler}
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
SWIFT_CHROOT=${SWIFT_CHROOT:-$TARGET/ffi-tools/trixie}
export FFI_CYCLES=${FFI_CYCLES:-1000}

timed() { # label, command...: runs it and prints its wall time
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "[time] $label: $((SECONDS - start)) s"
}

SKIPPED=()
missing() { # language, what is missing
  if [ "$REQUIRE" = 1 ]; then
    echo "FAIL: $1 tests cannot run: $2 (PEERLOG_REQUIRE_FFI=1)" >&2
    exit 1
  fi
  echo "!!!!!!!! SKIPPED $1 FFI tests: $2 (mobile-ffi/tests/setup-toolchains.sh installs it) !!!!!!!!" >&2
  SKIPPED+=("$1")
}

# --- relays -------------------------------------------------------------------------------
RELAY_PID=
stop_relay() {
  if [ -n "$RELAY_PID" ]; then
    kill "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=
  fi
}
SWIFT_PROC_MOUNTED=0
cleanup() {
  stop_relay
  if [ "$SWIFT_PROC_MOUNTED" = 1 ]; then umount "$SWIFT_CHROOT/proc" 2>/dev/null || true; fi
}
trap cleanup EXIT

# start_relay DATA_DIR: a fresh relay on 127.0.0.1 with an OS-chosen port; sets RELAY_URL.
start_relay() {
  local data=$1
  rm -rf "$data" "$data.log"
  mkdir -p "$(dirname "$data")"
  "$PEERLOG" serve --listen 127.0.0.1:0 --data "$data" >"$data.log" 2>&1 &
  RELAY_PID=$!
  RELAY_URL=
  for _ in $(seq 1 150); do
    RELAY_URL=$(sed -n 's#^peerlog relay listening on \(http://[0-9.:]*\).*#\1#p' "$data.log" | head -n 1)
    [ -n "$RELAY_URL" ] && break
    if ! kill -0 "$RELAY_PID" 2>/dev/null; then
      cat "$data.log" >&2
      echo "the relay did not start" >&2
      exit 1
    fi
    sleep 0.2
  done
  [ -n "$RELAY_URL" ] || { cat "$data.log" >&2; echo "the relay did not say where it listens" >&2; exit 1; }
  echo "relay for this run: $RELAY_URL (data $data)"
}

# --- build and generate ---------------------------------------------------------------------
# Three cargo invocations on purpose: built together, uniffi's `cli` feature would be unified
# into the library too (a 6x larger cdylib and a rebuild every time).
echo "== build: relay, uniffi-bindgen, cdylib"
timed "cargo build relay" cargo build --locked -q -p peerlog-server --bin peerlog
timed "cargo build uniffi-bindgen" cargo build --locked -q -p peerlog-ffi --features cli --bin uniffi-bindgen
timed "cargo build cdylib" cargo build --locked -q -p peerlog-ffi --lib

echo "== generate bindings (from the library just built)"
rm -rf "$GEN"
for lang in python kotlin swift; do
  "$BINDGEN" generate --no-format "$LIB" --language "$lang" --out-dir "$GEN/$lang" >/dev/null
done
# The Android flavour (Android's cleaner; compiles only in an Android build): generated to check
# that mobile-ffi/uniffi-android.toml still takes effect.
"$BINDGEN" generate --no-format --config mobile-ffi/uniffi-android.toml "$LIB" --language kotlin \
  --out-dir "$GEN/kotlin-android" >/dev/null
grep -q 'android.os.Build' "$GEN/kotlin-android/uniffi/peerlog_ffi/peerlog_ffi.kt" ||
  { echo "the Android bindings lack Android's cleaner: check mobile-ffi/uniffi-android.toml" >&2; exit 1; }

# --- python -------------------------------------------------------------------------------
run_python() {
  local dir=$RUN/python
  rm -rf "$dir" && mkdir -p "$dir"
  # The generated module loads the library from its own folder.
  cp "$GEN/python/peerlog_ffi.py" "$TEST_LIB" "$TESTS/python/test_peerlog_ffi.py" "$dir/"
  start_relay "$RUN/relay-python"
  PEERLOG_BIN=$PEERLOG PEERLOG_DATA=$RUN/relay-python PEERLOG_RELAY_URL=$RELAY_URL \
    PEERLOG_TEST_DIR=$dir/stores timed "python tests" python3 "$dir/test_peerlog_ffi.py"
  stop_relay
}

# --- kotlin -------------------------------------------------------------------------------
run_kotlin() {
  command -v java >/dev/null || { missing kotlin "no java"; return; }
  [ -f "$JNA_JAR" ] || { missing kotlin "no JNA at $JNA_JAR (apt libjna-java)"; return; }
  [ -x "$KOTLIN_HOME/bin/kotlinc" ] || { missing kotlin "no kotlinc at $KOTLIN_HOME"; return; }
  local dir=$RUN/kotlin cp
  rm -rf "$dir" && mkdir -p "$dir"
  cp=$JNA_JAR:$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar
  timed "kotlinc" "$KOTLIN_HOME/bin/kotlinc" -nowarn \
    "$GEN/kotlin/uniffi/peerlog_ffi/peerlog_ffi.kt" "$TESTS/kotlin/Main.kt" \
    -classpath "$cp" -d "$dir/test.jar" 2>&1 | grep -v '^warning: ' || true
  [ -f "$dir/test.jar" ] || { echo "kotlinc failed" >&2; exit 1; }
  start_relay "$RUN/relay-kotlin"
  PEERLOG_BIN=$PEERLOG PEERLOG_DATA=$RUN/relay-kotlin PEERLOG_RELAY_URL=$RELAY_URL \
    PEERLOG_TEST_DIR=$dir/stores timed "kotlin tests" \
    java -Djna.library.path="$(dirname "$TEST_LIB")" -cp "$dir/test.jar:$cp:$KOTLIN_HOME/lib/kotlin-stdlib.jar" MainKt
  stop_relay
}

# --- swift (in a Debian 13 chroot: Debian 12 has no Swift) ----------------------------------
run_swift() {
  [ -x "$SWIFT_CHROOT/usr/bin/swiftc" ] || { missing swift "no Swift chroot at $SWIFT_CHROOT"; return; }
  [ "$(id -u)" = 0 ] || { missing swift "chroot needs root"; return; }
  # Everything the test touches lives inside the chroot: the library, the bindings, the relay's
  # binary and data (the relay runs outside, the CLI inside; both see the same files).
  local inside=/ffi dir=$SWIFT_CHROOT/ffi
  rm -rf "$dir" && mkdir -p "$dir"
  cp -r "$GEN/swift" "$dir/gen"
  cp "$TEST_LIB" "$PEERLOG" "$TESTS/swift/main.swift" "$dir/"
  if ! mountpoint -q "$SWIFT_CHROOT/proc"; then
    mount -t proc proc "$SWIFT_CHROOT/proc"
    SWIFT_PROC_MOUNTED=1
  fi
  timed "swiftc" chroot "$SWIFT_CHROOT" /bin/sh -c "cd $inside && swiftc -suppress-warnings \
    -module-name peerlogtest -Xcc -fmodule-map-file=gen/peerlog_ffiFFI.modulemap -I gen -L . \
    -lpeerlog_ffi gen/peerlog_ffi.swift main.swift -o swifttest"
  start_relay "$dir/relay"
  timed "swift tests" chroot "$SWIFT_CHROOT" /usr/bin/env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH=$inside \
    PEERLOG_BIN=$inside/peerlog PEERLOG_DATA=$inside/relay PEERLOG_RELAY_URL="$RELAY_URL" \
    PEERLOG_TEST_DIR=$inside/stores FFI_CYCLES="$FFI_CYCLES" HOME=/root "$inside/swifttest"
  stop_relay
}

[ -f "$TEST_LIB" ] || { echo "no library at $TEST_LIB" >&2; exit 1; }
echo "testing $TEST_LIB"
for lang in "${LANGS[@]}"; do
  echo "== $lang"
  "run_$lang"
done

if [ ${#SKIPPED[@]} -gt 0 ]; then
  echo "!!!!!!!! FFI tests SKIPPED for: ${SKIPPED[*]} !!!!!!!!" >&2
else
  echo "FFI tests passed: ${LANGS[*]}"
fi
