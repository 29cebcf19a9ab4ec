#!/usr/bin/env bash
# (Re)starts the local Prometheus that scenarios/local-prometheus.toml targets on an empty data
# folder: a target in the same state for every run, as `--fresh-target-command` wants it, e.g.
#   lgtm-bench run scenarios/local-prometheus.toml --repeat 5 --fresh-target-command scenarios/fresh-prometheus.sh
# Stop it afterwards with `scenarios/fresh-prometheus.sh stop`. Port: LGTM_BENCH_PROM_PORT (19090).
# No out-of-order window, as Mimir by default.
set -euo pipefail
port=${LGTM_BENCH_PROM_PORT:-19090}
state=${TMPDIR:-/tmp}/lgtm-bench-prometheus-$port
# Whether the process is still running (a zombie left for a parent that never reaps it is not).
running() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }
if [ -f "$state/pid" ]; then
  pid=$(cat "$state/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
fi
rm -rf "$state"
[ "${1:-}" = stop ] && exit 0
command -v prometheus >/dev/null || { echo "prometheus is not installed: apt-get install -y prometheus" >&2; exit 1; }
mkdir -p "$state"
printf 'global:\n  scrape_interval: 15s\n' > "$state/prometheus.yml"
setsid prometheus --config.file="$state/prometheus.yml" --storage.tsdb.path="$state/tsdb" \
  --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver --enable-feature=native-histograms,exemplar-storage \
  >"$state/prometheus.log" 2>&1 < /dev/null &
echo $! > "$state/pid"
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && exit 0
  running "$(cat "$state/pid")" || { cat "$state/prometheus.log" >&2; exit 1; }
  sleep 0.2
done
echo "prometheus on port $port did not become ready within 30 s (log: $state/prometheus.log)" >&2
exit 1
