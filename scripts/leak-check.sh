#!/usr/bin/env bash
# Leak check of the Node-level churn: scripts/leak-churn.js (streams on both
# sinks, hub, broadcasts, parsers, encoders, web streams, Workers) under
# valgrind memcheck, then a verdict on what is ours.
#
#   bash scripts/leak-check.sh [--streams 1000 --workers 10 --parsers 1000]
#
# Valgrind reports every block nobody points to at exit. Node and V8 leave
# some of their own (scripts/leak.supp suppresses the known ones); a record
# is counted as ours when any frame of its stack is in the addon
# (sse_native.node), whatever allocated it (an addon that leaks a napi
# reference shows V8 frames on top and ours below). Invalid reads/writes with
# an addon frame count too. Exit 1 when the churn failed or anything is ours.
# The full valgrind log: out/leak-check.log (LEAK_LOG to change). Needs
# valgrind, `npm run build` done. Takes a few minutes (valgrind runs Node
# about 30 times slower).
set -uo pipefail
cd "$(dirname "$0")/.."
log=${LEAK_LOG:-out/leak-check.log}
mkdir -p "$(dirname "$log")"
command -v valgrind >/dev/null || { echo "valgrind missing (apt-get install valgrind)"; exit 2; }
[ -f build/Release/sse_native.node ] && [ -f dist/index.js ] || { echo "build first: npm run build"; exit 2; }
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--streams 1000 --workers 10 --parsers 1000)

valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite \
  --num-callers=64 --suppressions=scripts/leak.supp --log-file="$log" \
  node --expose-gc scripts/leak-churn.js "${args[@]}"
churn=$?
echo "churn exit $churn (valgrind log: $log)"

node - "$log" "$churn" <<'EOF'
const fs = require('node:fs');
const [log, churn] = process.argv.slice(2);
const text = fs.readFileSync(log, 'utf8');
// Records: a header line then "at"/"by" frames, up to a bare "==pid==" line.
const blocks = text.split(/\n==\d+== \n/);
const ours = /sse_native\.node|native\/(core|addon)\//;
const out = { definite: { ours: 0, oursBytes: 0, other: 0, otherBytes: 0 }, indirect: { ours: 0, oursBytes: 0, other: 0, otherBytes: 0 }, errorsOurs: 0 };
const shown = [];
for (const b of blocks) {
  const m = /([\d,]+) (?:\([\d,]+ direct, [\d,]+ indirect\) )?bytes in [\d,]+ blocks are (definitely|indirectly) lost/.exec(b);
  const mine = ours.test(b);
  if (m) {
    const kind = m[2] === 'definitely' ? 'definite' : 'indirect';
    const bytes = Number(m[1].replace(/,/g, ''));
    if (mine) {
      out[kind].ours++;
      out[kind].oursBytes += bytes;
      shown.push(b);
    } else {
      out[kind].other++;
      out[kind].otherBytes += bytes;
    }
  } else if (/Invalid (read|write|free)|uninitialised|Mismatched free/.test(b) && mine) {
    out.errorsOurs++;
    shown.push(b);
  }
}
const summary = /LEAK SUMMARY:[\s\S]*?suppressed:[^\n]*/.exec(text)?.[0].replace(/==\d+== /g, '') ?? '(no leak summary: did node exit normally?)';
// Printed without the pid prefix, runs of one repeated frame folded.
const fold = (b) => b.replace(/==\d+== /g, '').split('\n').filter((l, i, a) => i === 0 || l !== a[i - 1]).join('\n');
for (const b of shown) console.log(fold(b) + '\n');
console.log(summary);
console.log(JSON.stringify(out));
const ok = churn === '0' && out.definite.ours === 0 && out.indirect.ours === 0 && out.errorsOurs === 0 && /LEAK SUMMARY/.test(text);
console.log(ok ? 'leak check: nothing lost by the addon' : 'leak check: FAILED (see above)');
process.exitCode = ok ? 0 : 1;
EOF
