#!/usr/bin/env bash
# The one test command (npm test, and .ci/run): dependencies, test peers, build, lint, every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Real peers (Postfix, swaks, miltertest, opendkim, pymilter): installed when root, else must be there.
bash scripts/install-test-peers.sh
npm run build
npm run lint

mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || status=$?
# One plain closing line that any CI reads: "N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' || status=1
exit $status
