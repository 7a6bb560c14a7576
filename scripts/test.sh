#!/usr/bin/env bash
# The one test command (npm test, and .ci/run): dependencies, test peers, build, lint, then every test twice:
# under this machine's node (Node 20, the oldest Mailgate supports, as Debian 13 ships it) and under the current LTS
# (scripts/node-lts.sh: its own Node and its own build of the native modules, cached in .node-lts/).
set -euo pipefail
cd "$(dirname "$0")/.."
# A step before the tests that fails (install, build, lint) still ends with the closing line CI reads.
summarised=0
trap 'code=$?; if [ "$summarised" = 0 ] && [ "$code" != 0 ]; then
  echo "npm test stopped before its closing line (exit $code; see above): counted as 1 failed"
  echo "tests: 0 passed, 1 failed, 0 skipped"
fi' EXIT

bash scripts/ensure-deps.sh
# Real peers (Postfix, swaks, miltertest, opendkim, pymilter): installed when root, else must be there.
bash scripts/install-test-peers.sh
npm run build
npm run lint

mkdir -p .tmp
rm -f .tmp/vitest.json .tmp/vitest-lts.json
status=0
# Each run's exit code goes to the closing line: a run that stopped early must count there as well.
echo "== tests under node $(node --version)"
run20=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || run20=$?
echo "== tests under the current LTS (scripts/node-lts.sh)"
run24=0
bash scripts/node-lts.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$PWD/.tmp/vitest-lts.json" "$@" || run24=$?

summarised=1
# Per run: its skipped tests by name and its counts; then one plain closing line that any CI reads:
# "tests: N passed, N failed, N skipped" (both runs together). A run with no results (it could not be
# prepared, or vitest died) or a non-zero exit with no failed test (an unhandled error, a file that
# failed to load) counts as one failed test, said on the line before, so the line never reads
# "0 failed" when the command fails.
node -e '
  const fs = require("fs");
  const total = { passed: 0, failed: 0, skipped: 0 };
  const counted = []; // why a run counts as failed without a failed test: printed just above the closing line
  for (const arg of process.argv.slice(1)) {
    const [file, node, code] = arg.split("|");
    const exit = Number(code);
    let r;
    try {
      r = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      console.log(`node ${node}: no test results`);
      counted.push(`node ${node}: the run did not complete (no test results in ${file}; exit ${exit}): counted as 1 failed`);
      total.failed += 1;
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
    if (r.numTotalTests === 0) {
      counted.push(`node ${node}: no test ran (exit ${exit}): counted as 1 failed`);
      n.failed = Math.max(n.failed, 1);
    } else if (exit !== 0 && n.failed === 0) {
      const suites = r.numFailedTestSuites > 0 ? `${r.numFailedTestSuites} test file(s) failed outside a test` : "an unhandled error, see above";
      counted.push(`node ${node}: vitest exited ${exit} with no failed test (${suites}): counted as 1 failed`);
      n.failed = 1;
    }
    for (const k in total) total[k] += n[k];
  }
  for (const why of counted) console.log(why);
  console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exit(total.failed > 0 ? 1 : 0);
' ".tmp/vitest.json|$(node --version)|$run20" ".tmp/vitest-lts.json|$(.node-lts/node/bin/node --version 2>/dev/null || echo 'LTS (not installed)')|$run24" || status=1
# The line and the exit code agree; a run's own non-zero exit fails the command in any case.
[ "$run20" = 0 ] && [ "$run24" = 0 ] || status=1
exit $status
