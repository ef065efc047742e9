#!/usr/bin/env bash
# `npm run bench`: the core's Google Benchmark suite (Release build), then
# the Node-level comparisons, each anchor measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B out/bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build out/bench -j2 --target sse_core_bench >/dev/null
./out/bench/sse_core_bench --benchmark_min_time=0.3 ${SSE_BENCH_FILTER:+--benchmark_filter=$SSE_BENCH_FILTER}
npx tsc -p tsconfig.json
node bench/node/parser.bench.mjs
