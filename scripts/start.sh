#!/usr/bin/env bash
# Mailgate's main job for now: a milter on 127.0.0.1:10025 that an MTA (Postfix: smtpd_milters =
# inet:127.0.0.1:10025) can call; it prints every command and macro it receives. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build >/dev/null
exec node dist/cli/main.js test-client -s "${MAILGATE_SPEC:-inet:10025@[127.0.0.1]}" "$@"
