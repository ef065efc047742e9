#!/usr/bin/env bash
# `npm test`: every suite (core ctest, core under ASan/UBSan, parser fuzz,
# Jest, a short soak with the native load generator), then one closing line
# "N passed, M failed" totalling all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
results=$(mktemp)
export SSE_RESULTS=$results

bash scripts/ensure-deps.sh || echo "warning: could not install Debian packages; native suites may fail"
bash scripts/test-native.sh

echo "== lib floors: no import cycle, no upward import (scripts/check-floors.js)"
if node scripts/check-floors.js; then echo "floors 1 0" >>"$results"; else echo "floors 0 1" >>"$results"; fi

echo "== types: lib/ and every test type-check strictly (tsc -p tsconfig.test.json)"
if npx tsc -p tsconfig.test.json --noEmit; then echo "types 1 0" >>"$results"; else echo "types 0 1" >>"$results"; fi

echo "== jest"
# Workers and the examples load the compiled package (dist/): build it from lib/ first.
npm run build:ts || echo "jest 0 1" >>"$results"
jest_json=$(mktemp)
npx jest --json --outputFile="$jest_json" "$@"
if node -e "JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'))" "$jest_json" 2>/dev/null; then
  node -e "const r=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));
    const failedSuites=r.numFailedTestSuites-(r.testResults||[]).filter(t=>t.assertionResults&&t.assertionResults.some(a=>a.status==='failed')).length;
    console.log('jest', r.numPassedTests, r.numFailedTests + Math.max(0, failedSuites))" "$jest_json" >>"$results"
else
  echo "jest 0 1" >>"$results"
fi
rm -f "$jest_json"

echo "== soak (short): 200 readers x 100 events/s for 30 s through the hub, with churn and slow readers; every event must arrive, nothing may grow"
soak_dir=$(mktemp -d)
if node bench/run.mjs --soak-minutes 0.5 --soak-subs 200 --soak-rate 100 --soak-interval-s 5 --soak-churn 20 --soak-slow 4 --out "$soak_dir"; then
  echo "soak 1 0" >>"$results"
else
  echo "soak 0 1" >>"$results"
fi
rm -rf "$soak_dir"

echo
echo "== summary"
awk '{ printf "  %-16s %5d passed, %d failed\n", $1, $2, $3; p += $2; f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$results"
failed=$(awk '{ f += $3 } END { print f + 0 }' "$results")
rm -f "$results"
[ "$failed" -eq 0 ]
