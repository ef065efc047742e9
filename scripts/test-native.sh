#!/usr/bin/env bash
# The core's tests without Node: a normal build, an ASan+UBSan build, and a
# bounded libFuzzer run of each fuzz target (SSE_FUZZ_SECONDS in all, shared
# equally). Appends "suite passed failed" lines to $SSE_RESULTS (if set) for
# scripts/test-all.sh to total.
set -uo pipefail
cd "$(dirname "$0")/.."
results=${SSE_RESULTS:-/dev/null}
jobs=${SSE_JOBS:-2}
fuzz_seconds=${SSE_FUZZ_SECONDS:-60}

record() { echo "$1 $2 $3" >>"$results"; }

# Runs ctest in build dir $2 and records its summary line as suite $1.
run_ctest() {
  local suite=$1 dir=$2 log
  log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 300 2>&1 | tee "$log"
  local line total failed skipped
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    record "$suite" 0 1
  else
    failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    # A skipped test did not pass: leave it out of the count.
    skipped=$(grep -cE '^\s+[0-9]+ - .*\(Skipped\)' "$log" || true)
    record "$suite" $((total - failed - skipped)) "$failed"
  fi
  rm -f "$log"
}

build() {  # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null &&
    cmake --build "$dir" -j"$jobs" 2>&1 | grep -E 'error|warning|Error' ; return "${PIPESTATUS[0]}"
}

# The core suite runs twice in each build: with the flush's io_uring on and
# off (SSE_NATIVE_IO_URING, native/core/io/send_ring.h); where io_uring is
# not built or not allowed, "on" falls back to writev and tests the same.
echo "== core: build + ctest (io_uring on, then off)"
if build out/native; then
  SSE_NATIVE_IO_URING=1 run_ctest core out/native
  SSE_NATIVE_IO_URING=0 run_ctest core-writev out/native
else
  record core-build 0 1
fi

echo "== core under AddressSanitizer + UBSan"
if build out/asan -DSSE_SANITIZE=ON -DSSE_BENCH=OFF; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    SSE_NATIVE_IO_URING=1 run_ctest core-asan out/asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    SSE_NATIVE_IO_URING=0 run_ctest core-asan-writev out/asan
else
  record core-asan-build 0 1
fi

# The fuzz budget is shared: each target gets an equal slice of it.
fuzz_targets=(parser client_parse frame http_head http_request)
slice=$((fuzz_seconds / ${#fuzz_targets[@]}))
[ "$slice" -ge 1 ] || slice=1
echo "== fuzz: ${fuzz_targets[*]} (${slice}s each)"
if ! command -v clang++ >/dev/null; then
  echo "clang++ missing: cannot build the fuzzers"
  record fuzz 0 1
elif CXX=clang++ build out/fuzz -DSSE_FUZZ=ON -DSSE_BENCH=OFF; then
  passed=0 failed=0
  for t in "${fuzz_targets[@]}"; do
    if [ ! -x "out/fuzz/${t}_fuzz" ]; then
      echo "${t}_fuzz was not built"
      failed=$((failed + 1))
      continue
    fi
    corpus=$(mktemp -d)
    cp "test/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
    echo "-- ${t}_fuzz"
    if "./out/fuzz/${t}_fuzz" -max_total_time="$slice" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$corpus/" "$corpus" 2>&1 | tail -6; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      ls "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* 2>/dev/null
    fi
    rm -rf "$corpus"
  done
  record fuzz "$passed" "$failed"
else
  record fuzz-build 0 1
fi
