#!/usr/bin/env bash
# Installs what scripts/ffi-test.sh needs beyond Rust and Python, on a fresh Debian 12 machine.
# Idempotent: each step checks first, so a second run takes about a second.
#
#   kotlin: Debian's libjna-java (JNA >= 5.12, which UniFFI needs); kotlinc, kotlin-stdlib and
#           kotlinx-coroutines from the npm package kotlin-compiler, at the exact version of
#           mobile-ffi/tests/kotlin/tools/package-lock.json, into that folder.
#   swift:  Debian 12 has no Swift; a Debian 13 (trixie) chroot with swiftlang and libc6-dev,
#           cached in target/ffi-tools/trixie (about 3.3 GB, a 527 MB download once). Needs root.
#
#   mobile-ffi/tests/setup-toolchains.sh            # kotlin and swift
#   mobile-ffi/tests/setup-toolchains.sh kotlin     # a selection
# Uses sudo (non-interactively) only when not root and sudo is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

WANT=("$@")
[ ${#WANT[@]} -gt 0 ] || WANT=(kotlin swift)

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
SWIFT_CHROOT=${SWIFT_CHROOT:-$TARGET/ffi-tools/trixie}

if [ "$(id -u)" = 0 ]; then
  AS_ROOT=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  AS_ROOT=(sudo -n)
else
  AS_ROOT=(unavailable)
fi
have_root() { [ "${AS_ROOT[0]:-}" != unavailable ]; }

APT_UPDATED=0
apt_install() { # packages...: installs the ones missing
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  have_root || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
  if [ "$APT_UPDATED" = 0 ]; then
    "${AS_ROOT[@]}" apt-get update -qq
    APT_UPDATED=1
  fi
  "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_kotlin() {
  local start=$SECONDS tools=$ROOT/mobile-ffi/tests/kotlin/tools
  apt_install libjna-java
  local want have
  want=$(sed -n 's/.*"kotlin-compiler": "\([^"]*\)".*/\1/p' "$tools/package.json")
  have=$(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' "$tools/node_modules/kotlin-compiler/package.json" 2>/dev/null | head -n 1 || true)
  if [ "$have" != "$want" ] || [ ! -x "$tools/node_modules/kotlin-compiler/bin/kotlinc" ]; then
    (cd "$tools" && npm ci --no-audit --no-fund --silent)
  fi
  echo "[time] kotlin toolchain: $((SECONDS - start)) s (kotlin-compiler $want, JNA $(dpkg-query -W -f '${Version}' libjna-java))"
}

setup_swift() {
  local start=$SECONDS ready=$SWIFT_CHROOT/.peerlog-swift-ready
  if [ -f "$ready" ] && [ -x "$SWIFT_CHROOT/usr/bin/swiftc" ]; then
    echo "[time] swift chroot: cached in $SWIFT_CHROOT"
    return 0
  fi
  have_root || { echo "the Swift chroot needs root (or sudo)" >&2; return 1; }
  apt_install debootstrap
  local mirror
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  # An interrupted earlier attempt leaves a tree debootstrap refuses: start over.
  if mountpoint -q "$SWIFT_CHROOT/proc" 2>/dev/null; then "${AS_ROOT[@]}" umount "$SWIFT_CHROOT/proc"; fi
  "${AS_ROOT[@]}" rm -rf "$SWIFT_CHROOT"
  mkdir -p "$(dirname "$SWIFT_CHROOT")"
  "${AS_ROOT[@]}" debootstrap --variant=minbase trixie "$SWIFT_CHROOT" "$mirror" >/dev/null
  "${AS_ROOT[@]}" chroot "$SWIFT_CHROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends swiftlang libc6-dev >/dev/null 2>&1
  "${AS_ROOT[@]}" chroot "$SWIFT_CHROOT" apt-get clean
  "${AS_ROOT[@]}" touch "$ready"
  echo "[time] swift chroot: $((SECONDS - start)) s ($("${AS_ROOT[@]}" chroot "$SWIFT_CHROOT" dpkg-query -W -f '${Version}' swiftlang))"
}

for what in "${WANT[@]}"; do
  case $what in
    kotlin) setup_kotlin ;;
    swift) setup_swift ;;
    *) echo "unknown toolchain: $what (kotlin, swift)" >&2; exit 2 ;;
  esac
done
