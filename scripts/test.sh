#!/usr/bin/env bash
# The one test command (npm test, and .ci/run): dependencies, test peers, build, lint, then every test twice:
# under this machine's node (Node 20, the oldest Mailgate supports, as Debian 13 ships it) and under the current LTS
# (scripts/node-lts.sh: its own Node and its own build of the native modules, cached in .node-lts/).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-deps.sh
# Real peers (Postfix, swaks, miltertest, opendkim, pymilter): installed when root, else must be there.
bash scripts/install-test-peers.sh
npm run build
npm run lint

mkdir -p .tmp
rm -f .tmp/vitest.json .tmp/vitest-lts.json
status=0
echo "== tests under node $(node --version)"
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || status=1
echo "== tests under the current LTS (scripts/node-lts.sh)"
bash scripts/node-lts.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$PWD/.tmp/vitest-lts.json" "$@" || status=1

# Per run: its skipped tests by name and its counts; then one plain closing line that any CI reads:
# "tests: N passed, N failed, N skipped" (both runs together).
node -e '
  const fs = require("fs");
  const total = { passed: 0, failed: 0, skipped: 0 };
  let ok = true;
  for (const [file, node] of process.argv.slice(1).map((a) => a.split("="))) {
    let r;
    try {
      r = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      console.error(`node ${node}: no test results (${file})`);
      ok = false;
      continue;
    }
    const n = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
    // A skip is named, so that it is seen (its title says why).
    for (const f of r.testResults) {
      for (const t of f.assertionResults) {
        if (["pending", "skipped", "todo"].includes(t.status)) console.log(`  skipped (${t.status}): ${f.name.replace(process.cwd() + "/", "")} > ${t.fullName}`);
      }
    }
    console.log(`node ${node}: ${n.passed} passed, ${n.failed} failed, ${n.skipped} skipped`);
    for (const k in total) total[k] += n[k];
    if (r.numTotalTests === 0) { console.error(`node ${node}: no test ran`); ok = false; }
  }
  console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exit(ok ? 0 : 1);
' ".tmp/vitest.json=$(node --version)" ".tmp/vitest-lts.json=$(.node-lts/node/bin/node --version 2>/dev/null || echo 'LTS (not installed)')" || status=1
exit $status
