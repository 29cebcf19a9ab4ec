#!/usr/bin/env bash
# Runs scenarios/local-prometheus.toml against a real Prometheus on loopback that this script
# installs (Debian package `prometheus`), starts on a temporary data folder and stops afterwards.
# Usage: scenarios/local-prometheus.sh [run|capacity|canary] [scenario.toml] [extra flags, e.g. --set run.duration=2m]
#   (the command defaults to `run`, the scenario to scenarios/local-prometheus.toml; `capacity`
#   searches the most active series it holds)
#        scenarios/local-prometheus.sh canary [scenario.toml] [canary flags, e.g. --listen 127.0.0.1:9464 --duration 1h]
#   runs the always-on canary against it until stopped (Ctrl-C) or for --duration
#        scenarios/local-prometheus.sh model [extra model flags, e.g. --scale 2]
#   fills the Prometheus (it scrapes itself) with a short run of local-prometheus.toml, then writes
#   scenarios/local-modelled.toml: the scenario `lgtm-bench model` reads from it. Then e.g.
#   scenarios/local-prometheus.sh capacity scenarios/local-modelled.toml --from 1x
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
# It scrapes itself, as a cluster's Prometheus does (its own metrics come with metadata).
printf 'global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$port" > "$data/prometheus.yml"
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
case "${1:-}" in run|capacity|canary|model) command=$1; shift ;; esac
if [ "$command" = model ]; then
  echo "filling the Prometheus with a short run of scenarios/local-prometheus.toml…" >&2
  ./target/release/lgtm-bench run scenarios/local-prometheus.toml --set run.duration=10s --quiet --out "$data/results" >/dev/null || true
  ./target/release/lgtm-bench model --prometheus "http://127.0.0.1:$port" \
    --write-url "http://127.0.0.1:$port/api/v1/write" --memory-url "http://127.0.0.1:$port/metrics" \
    --out scenarios/local-modelled.toml "$@"
  exit $?
fi
scenario=scenarios/local-prometheus.toml
case "${1:-}" in *.toml) scenario=$1; shift ;; esac
set +e
./target/release/lgtm-bench "$command" "$scenario" "$@"
code=$?
set -e
exit $code
