#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need (Debian's prometheus,
# which the tests start themselves on loopback), then runs every test, the benches in test mode
# included. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null || ! command -v curl >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus curl >/dev/null
fi

cargo test --locked --all-targets
