#!/usr/bin/env bash
# Search latency while listing reports pour in: the search mix of
# benches/http_throughput.sh alone, then the same mix while
# benches/report_load.py sends RATE reports a second (each from its own
# client, random providers and reasons), alternating ROUNDS times because
# the machine is shared. Prints wrk's figures for each run and the p99
# ratio (with reports / alone) per round.
#
#   bash benches/reports_load.sh [ROWS] [DURATION_SECONDS] [CONNECTIONS] [RATE] [ROUNDS]
#   bash benches/reports_load.sh 100000 20 16 200 2
#
# The report queue is a fresh SQLite file in the bench index directory,
# or the PostgreSQL database of KETADIR_DATABASE_URL when it is set (use
# a throwaway database: the reports stay). Everything runs on 127.0.0.1;
# the server runs with --rate-limit 0 (as in http_throughput.sh) and
# --trusted-proxy 127.0.0.1 so that each report counts as its own client.
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${1:-100000}
seconds=${2:-20}
connections=${3:-16}
rate=${4:-200}
rounds=${5:-2}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet --bin ketadir --example generate
mkdir -p target/bench-data
paths=target/bench-data/paths.txt
[ -f "$paths" ] || python3 benches/query_paths.py data/us_cities.csv 10000 '/api/v1/search?' > "$paths"
csv=target/bench-data/providers-$rows.csv
[ -f "$csv" ] || ./target/release/examples/generate --rows "$rows" --seed 1 > "$csv"
index=target/bench-index-$rows
if [ ! -f "$index/CURRENT" ]; then
  ./target/release/ketadir --index-dir "$index" index "$csv" > /dev/null
fi
if [ -z "${KETADIR_DATABASE_URL:-}" ]; then
  rm -f "$index"/reports.sqlite "$index"/reports.sqlite-wal "$index"/reports.sqlite-shm
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
KETADIR_LOG=warn ./target/release/ketadir --index-dir "$index" serve \
  --addr "127.0.0.1:$port" --rate-limit 0 --trusted-proxy 127.0.0.1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf "$base/readyz" > /dev/null; do sleep 0.2; done
# Warm the page cache and the lazily built rank orders.
WRK_PATHS=$paths wrk -t2 -c"$connections" -d5s -s benches/wrk_mix.lua "$base" > /dev/null

p99() { awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' "$1"; }
out=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
  echo "## round $round: search mix alone (wrk -t2 -c$connections -d${seconds}s)"
  WRK_PATHS=$paths wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s benches/wrk_mix.lua "$base" | tee "$out/alone-$round.txt"
  echo "## round $round: search mix + $rate reports/s"
  python3 benches/report_load.py "$base" "$rate" "$seconds" "$rows" "$round" > "$out/reports-$round.txt" &
  loader=$!
  WRK_PATHS=$paths wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s benches/wrk_mix.lua "$base" | tee "$out/loaded-$round.txt"
  wait "$loader"
  cat "$out/reports-$round.txt"
  alone=$(p99 "$out/alone-$round.txt")
  loaded=$(p99 "$out/loaded-$round.txt")
  echo "round $round: search p99 alone ${alone} ms, with reports ${loaded} ms, ratio $(awk -v a="$alone" -v b="$loaded" 'BEGIN { printf "%.2f", b / a }')"
done
echo "## the queue afterwards"
curl -s "$base/metrics" | grep -E '^ketadir_reports_(open|total)' || true
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT
rm -rf "$out"
