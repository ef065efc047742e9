#!/usr/bin/env bash
# `npm run bench`: the core's Google Benchmark suite (Release build), the
# Node-level parser/encoder comparison, the one-connection engine bench,
# then the quick whole-server suite
# (bench/run.mjs: sse-native adopted and fallback against raw res.write and
# better-sse, native load generator, results in bench/results/latest.*).
# `npm run bench:full` (or `scripts/bench.sh --full`) runs the whole matrix
# of the server suite only. Extra arguments go to bench/run.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
# Both the servers and the load generator need one fd per connection.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# The nchan anchor needs nginx + libnginx-mod-nchan (bench only, not the tests).
bash scripts/ensure-deps.sh --bench || echo "bench: could not install nginx + nchan; the nchan anchor will fail" >&2
cmake -S . -B out/bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build out/bench -j2 --target sse_core_bench sse_load sse_floor >/dev/null
npx tsc -p tsconfig.json || echo "bench: tsc reported errors; benchmarking dist/ as emitted" >&2
if [[ " $* " != *" --full "* && " $* " != *" --soak-minutes "* ]]; then
  ./out/bench/sse_core_bench --benchmark_min_time=0.3 ${SSE_BENCH_FILTER:+--benchmark_filter=$SSE_BENCH_FILTER}
  node bench/node/parser.bench.mjs
  node bench/node/engine.bench.mjs --events 200000 --idle 10000
fi
node bench/run.mjs --no-build "$@"
