#!/usr/bin/env bash
# npm ci when node_modules was not installed from this package-lock.json (npm test and npm start), compared
# by content, not by date: a fresh checkout or a git worktree has a lock file newer than an up-to-date
# node_modules. npm ci empties node_modules first, following a link, so a node_modules shared by several
# checkouts (a link to another one's) is never reinstalled from here. Native modules are built from source
# against the running node's headers (installed when root and missing), with no download but npm's.
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

# Native modules (better-sqlite3) are compiled here against the running node's own headers: without this,
# prebuild-install tries GitHub and node-gyp fetches headers from nodejs.org, neither of which a test host may
# reach (only the npm registry and Debian's mirror). scripts/node-lts.sh does the same for Node 24.
say() { echo "ensure-deps: $*" >&2; }
as_root() { [ "$(id -u)" = 0 ]; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || apt-get update -q </dev/null >&2
  apt_updated=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >&2
}
node_version=$(node -p 'process.versions.node')
prefix=$(node -p 'require("path").resolve(process.execPath, "..", "..")') # /usr for /usr/bin/node
headers=$prefix/include/node
headers_version() {
  sed -n 's/^#define NODE_\(MAJOR\|MINOR\|PATCH\)_VERSION \([0-9]*\)$/\2/p' "$headers/node_version.h" 2>/dev/null | paste -sd.
}
if [ "$(headers_version)" != "$node_version" ] && as_root && command -v dpkg-query >/dev/null; then
  # NodeSource's nodejs package carries its headers; Debian's own keeps them in libnode-dev, of the same
  # version as its nodejs (never install another version's: a module built against it would not load).
  installed=$(dpkg-query -W -f '${Version}' nodejs 2>/dev/null || true)
  apt-get update -q </dev/null >&2 && apt_updated=1
  candidate=$(apt-cache policy libnode-dev 2>/dev/null | sed -n 's/^ *Candidate: //p')
  if [ -n "$installed" ] && [ "$installed" = "$candidate" ]; then
    say "installing libnode-dev (the headers of Debian's node $node_version)"
    apt_install libnode-dev
  fi
fi
if [ "$(headers_version)" != "$node_version" ]; then
  found=$(headers_version || true)
  say "no headers of node $node_version in $headers (found: ${found:-none}); native modules are compiled against them." \
    "Install them: with Debian's nodejs, apt-get install libnode-dev; NodeSource's nodejs package carries them (reinstall it)"
  exit 1
fi
missing=()
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ] && as_root; then
  say "installing build-essential and python3 (${missing[*]} missing): node-gyp compiles better-sqlite3"
  apt_install build-essential python3
  missing=()
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  command -v python3 >/dev/null || missing+=(python3)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "${missing[*]} missing: node-gyp compiles better-sqlite3 with them; as root: apt-get install build-essential python3"
  exit 1
fi
npm_config_nodedir=$prefix npm_config_build_from_source=true npm ci --no-audit --no-fund
