#!/usr/bin/env bash
# Mailgate's main job for now: a milter on 127.0.0.1:10025 that an MTA (Postfix: smtpd_milters =
# inet:127.0.0.1:10025) can call; it prints every command and macro it receives. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run build >/dev/null
exec node dist/cli/main.js test-client -s "${MAILGATE_SPEC:-inet:10025@[127.0.0.1]}" "$@"
