#!/usr/bin/env bash
# `npm test`: every suite (core ctest, core under ASan/UBSan, parser fuzz,
# Jest), then one closing line "N passed, M failed" totalling all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
results=$(mktemp)
export SSE_RESULTS=$results

bash scripts/ensure-deps.sh || echo "warning: could not install Debian packages; native suites may fail"
bash scripts/test-native.sh

echo "== jest"
# Workers and the examples load the compiled package (dist/): build it from lib/ first.
npx tsc -p tsconfig.json || echo "jest 0 1" >>"$results"
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

echo
echo "== summary"
awk '{ printf "  %-16s %5d passed, %d failed\n", $1, $2, $3; p += $2; f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$results"
failed=$(awk '{ f += $3 } END { print f + 0 }' "$results")
rm -f "$results"
[ "$failed" -eq 0 ]
