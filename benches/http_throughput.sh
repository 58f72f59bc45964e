#!/usr/bin/env bash
# HTTP throughput of the search API under the standard query mix, with wrk
# (Debian package `wrk`), keep-alive, at 100k and 1M providers.
#
#   bash benches/http_throughput.sh [SIZES] [DURATION] [CONNECTIONS] [api|pages]
#   bash benches/http_throughput.sh "100000 1000000" 20s 16
#   bash benches/http_throughput.sh 100000 20s 16 pages    # the HTML results page
#
# It builds the release binary, uses the CSVs of `cargo bench --bench search`
# (target/bench-data/providers-v2-ROWS.csv, generated with seed 1 when
# missing, as that bench does), indexes each once into
# target/bench-index-providers-v2-ROWS (named after the CSV, so a new data
# set gets a new index; an index of an older format is rebuilt by `serve`
# itself before it answers, see src/index/upgrade.rs, and one that `serve`
# refuses, e.g. of a newer format, is deleted and built again), starts
# `ketadir serve` on a free local port with rate limiting off, and runs wrk
# with benches/wrk_mix.lua over the mix of benches/query_paths.py (the
# proportions of the Rust bench's mix). After the run it prints the
# server's resident memory ("serving RSS").
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

# Starts the server on the index; returns non-zero when it exits before
# it is ready (it refused the index).
start_server() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  KETADIR_LOG=warn ./target/release/ketadir --index-dir "$index" serve \
    --addr "127.0.0.1:$port" --rate-limit 0 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  until curl -sf "http://127.0.0.1:$port/readyz" > /dev/null; do
    if ! kill -0 "$server" 2>/dev/null; then
      wait "$server" 2>/dev/null || true
      trap - EXIT
      return 1
    fi
    sleep 0.2
  done
}

for rows in $sizes; do
  # The data set of `cargo bench --bench search` (its `ensure_csv`).
  name=providers-v2-$rows
  csv=target/bench-data/$name.csv
  [ -f "$csv" ] || ./target/release/examples/generate --rows "$rows" --seed 1 > "$csv"
  index=target/bench-index-$name
  if [ ! -f "$index/CURRENT" ]; then
    ./target/release/ketadir --index-dir "$index" index "$csv" > /dev/null
  fi
  if ! start_server; then
    echo "ketadir serve refused $index (see above): building it again" >&2
    rm -rf "$index"
    ./target/release/ketadir --index-dir "$index" index "$csv" > /dev/null
    start_server || { echo "ketadir serve failed on a fresh index" >&2; exit 1; }
  fi
  # Warm the page cache and the lazily built rank orders.
  WRK_PATHS=target/bench-data/paths.txt wrk -t2 -c"$connections" -d5s \
    -s benches/wrk_mix.lua "http://127.0.0.1:$port" > /dev/null
  echo "## $rows providers: wrk -t2 -c$connections -d$duration"
  WRK_PATHS=target/bench-data/paths.txt wrk -t2 -c"$connections" -d"$duration" --latency \
    -s benches/wrk_mix.lua "http://127.0.0.1:$port"
  rss_kib=$(ps -o rss= -p "$server")
  echo "serving RSS: $((rss_kib / 1024)) MiB (ketadir serve after the run, $rows providers)"
  kill "$server"
  wait "$server" 2>/dev/null || true
  trap - EXIT
done
