#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need (Debian's prometheus,
# which the tests start themselves on loopback, and chromium, which opens the HTML report headless
# with networking off), checks the style gates (rustfmt, clippy with
# warnings as errors), then runs every test, the benches in test mode included. CI runs exactly
# this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null || ! command -v curl >/dev/null || ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus curl chromium >/dev/null
fi

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
# One clean build: incremental state only pays off on rebuilds and would double what the build
# leaves on disk.
export CARGO_INCREMENTAL=0
cargo fmt --all --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --all-targets
