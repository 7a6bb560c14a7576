#!/usr/bin/env bash
# Mailgate's main job for now: a milter on 127.0.0.1:10025 that an MTA (Postfix: smtpd_milters =
# inet:127.0.0.1:10025) can call; it prints every command and macro it receives. Ctrl-C stops it.
# Says what it is doing at each step: a first run spends a minute or two in npm ci and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
spec="${MAILGATE_SPEC:-inet:10025@[127.0.0.1]}"
say() { printf 'npm start: %s\n' "$*" >&2; }
say "checking dependencies (npm ci when they differ from package-lock.json; a minute or two the first time)..."
bash scripts/ensure-deps.sh
say "building (tsc)..."
npm run --silent build
say "starting the test milter (mailgate test-client) on $spec; it prints what the MTA sends."
say "to try it, from another terminal in this directory:"
say "  npx mailgate test-server -s '$spec' -f sender@example.com -r rcpt@example.org -h 'Subject:hello'"
say "(sudo npm link puts mailgate on the PATH; see the README's Quick start)"
exec node dist/cli/main.js test-client -s "$spec" "$@"
