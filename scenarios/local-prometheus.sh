#!/usr/bin/env bash
# Runs scenarios/local-prometheus.toml against a real Prometheus on loopback that this script
# installs (Debian package `prometheus`), starts on a temporary data folder and stops afterwards.
# Usage: scenarios/local-prometheus.sh [run|capacity] [extra flags, e.g. --set run.duration=2m]
#   (the command defaults to `run`; `capacity` searches the most active series it holds)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null; then
  echo "installing Prometheus (Debian package prometheus)…" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
fi

port=19090
data=$(mktemp -d)
# No out-of-order window, as Mimir by default: a sample older than its series' newest is refused.
printf 'global:\n  scrape_interval: 15s\n' > "$data/prometheus.yml"
prometheus --config.file="$data/prometheus.yml" --storage.tsdb.path="$data/tsdb" \
  --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver --enable-feature=native-histograms,exemplar-storage \
  >"$data/prometheus.log" 2>&1 &
prom=$!
cleanup() { kill "$prom" 2>/dev/null || true; wait "$prom" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  kill -0 "$prom" 2>/dev/null || { cat "$data/prometheus.log" >&2; exit 1; }
  sleep 0.2
done

echo "building lgtm-bench (release; the first build takes a few minutes)…" >&2
cargo build --release
command=run
case "${1:-}" in run|capacity) command=$1; shift ;; esac
set +e
./target/release/lgtm-bench "$command" scenarios/local-prometheus.toml "$@"
code=$?
set -e
exit $code
