#!/usr/bin/env bash
# npm ci when node_modules was not installed from this package-lock.json (npm test and npm start), compared
# by content, not by date: a fresh checkout or a git worktree has a lock file newer than an up-to-date
# node_modules. npm ci empties node_modules first, following a link, so a node_modules shared by several
# checkouts (a link to another one's) is never reinstalled from here.
set -euo pipefail
cd "$(dirname "$0")/.."

if node -e '
  const fs = require("fs");
  const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
  const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
  const differs = (k) => k !== "" && have[k]?.version !== want[k]?.version && !(want[k]?.optional && !have[k]);
  process.exit(Object.keys(want).some(differs) || Object.keys(have).some((k) => !(k in want)) ? 1 : 0);
' 2>/dev/null; then
  exit 0
fi
if [ -L node_modules ]; then
  echo "node_modules links to $(readlink -f node_modules), which was not installed from this package-lock.json; run npm ci there" >&2
  exit 1
fi
npm ci --no-audit --no-fund
