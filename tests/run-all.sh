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
# The recorded fixtures are facts about real servers: an edited one fails here (tests/fixtures/README.md).
(cd tests/fixtures && sha256sum --check --quiet SHA256SUMS)
# One clean build: incremental state only pays off on rebuilds and would double what the build
# leaves on disk.
export CARGO_INCREMENTAL=0
cargo fmt --all --check
cargo clippy --locked --all-targets -- -D warnings
# Every test binary runs even when one fails, so one failure does not hide the rest.
cargo test --locked --all-targets --no-fail-fast

# A clone anywhere passes: the tests that read recorded fixtures run again from a fresh clone of this
# commit in a temporary folder with nothing beside it (the shared build folder keeps it to one compile of
# lgtm-bench itself). Uncommitted changes are not in the clone: commit before relying on this step.
clone_parent=$(mktemp -d)
trap 'rm -rf "$clone_parent"' EXIT
git clone --quiet --no-hardlinks . "$clone_parent/lgtm-bench"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" \
  cargo test --locked --manifest-path "$clone_parent/lgtm-bench/Cargo.toml" --no-fail-fast \
  --test contract_mimir --test contract_tempo --test kubernetes --test memory_watch --test layout
