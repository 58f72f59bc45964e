#!/usr/bin/env bash
# HTTP throughput of the search API under the standard query mix, with wrk
# (Debian package `wrk`), keep-alive, at 100k and 1M providers.
#
#   bash benches/http_throughput.sh [SIZES] [DURATION] [CONNECTIONS] [api|pages]
#   bash benches/http_throughput.sh "100000 1000000" 20s 16
#   bash benches/http_throughput.sh 100000 20s 16 pages    # the HTML results page
#
# It builds the release binary, generates the CSVs (deterministic, seed 1)
# and their indexes under target/, starts `ketadir serve` on a free local
# port with rate limiting off, and runs wrk with benches/wrk_mix.lua.
# Client and server share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${1:-"100000 1000000"}
duration=${2:-20s}
connections=${3:-16}
case ${4:-api} in
  api) prefix='/api/v1/search?' ;;
  pages) prefix='/?' ;;
  *) echo "the 4th argument is api or pages" >&2; exit 1 ;;
esac
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet --bin ketadir --example generate
mkdir -p target/bench-data
python3 benches/query_paths.py data/us_cities.csv 10000 "$prefix" > target/bench-data/paths.txt

for rows in $sizes; do
  csv=target/bench-data/providers-$rows.csv
  [ -f "$csv" ] || ./target/release/examples/generate --rows "$rows" --seed 1 > "$csv"
  index=target/bench-index-$rows
  if [ ! -f "$index/CURRENT" ]; then
    ./target/release/ketadir --index-dir "$index" index "$csv" > /dev/null
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  KETADIR_LOG=warn ./target/release/ketadir --index-dir "$index" serve \
    --addr "127.0.0.1:$port" --rate-limit 0 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  until curl -sf "http://127.0.0.1:$port/readyz" > /dev/null; do sleep 0.2; done
  # Warm the page cache and the lazily built rank orders.
  WRK_PATHS=target/bench-data/paths.txt wrk -t2 -c"$connections" -d5s \
    -s benches/wrk_mix.lua "http://127.0.0.1:$port" > /dev/null
  echo "## $rows providers: wrk -t2 -c$connections -d$duration"
  WRK_PATHS=target/bench-data/paths.txt wrk -t2 -c"$connections" -d"$duration" --latency \
    -s benches/wrk_mix.lua "http://127.0.0.1:$port"
  kill "$server"
  wait "$server" 2>/dev/null || true
  trap - EXIT
done
