#!/usr/bin/env bash
# `npm start`: the mail server, `mailgate start`, on the embedded defaults (no mailgate.toml here) or on
# ./mailgate.toml: data in ./data, MX on 127.0.0.1:2525, submission on 2587 and 2465, the local domain
# localhost, the milter listener on inet:10025@[127.0.0.1]. Ctrl-C stops it. Arguments after `--` go to
# `mailgate start` (e.g. `npm start -- --config /etc/mailgate/mailgate.toml`).
# Says what it is doing at each step: a first run spends a minute or two in npm ci and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'npm start: %s\n' "$*" >&2; }
say "checking dependencies (npm ci when they differ from package-lock.json; a minute or two the first time)..."
bash scripts/ensure-deps.sh
say "building (tsc)..."
npm run --silent build
say "starting the mail server (mailgate start); it prints where it listens and what to type next."
say "(sudo npm link puts mailgate on the PATH; see the README's Quick start)"
# The commands it prints are typed in this clone, where npx runs its own mailgate.
export MAILGATE_COMMAND="${MAILGATE_COMMAND:-npx mailgate}"
# The V8 flags of the command's first line (#!/usr/bin/env -S node FLAGS), as when it runs as `mailgate`.
# (`|| true`: read fails at end of input when the line has no flags, which must not end the script.)
read -r -a node_flags < <(sed -n '1s|^#!/usr/bin/env -S node||p' dist/cli/main.js) || true
exec node ${node_flags[@]+"${node_flags[@]}"} dist/cli/main.js start --log-format human "$@"
