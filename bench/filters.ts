/**
 * `npm run bench:filters`: greylist decisions/s with 1 million tuples (SQLite and Redis) and memory;
 * the spamd and clamd filters' per-message overhead over calling spamd/clamd directly (target < 5 %).
 * Parts run one after another so they don't share the CPU; `--only greylist|spamd|clamd` runs one.
 */
import { runClamdBench } from './filters/clamd.js';
import { runGreylistBench } from './filters/greylist.js';
import { runSpamdBench } from './filters/spamd.js';

const PARTS = { greylist: runGreylistBench, spamd: runSpamdBench, clamd: runClamdBench } as const;

const i = process.argv.indexOf('--only');
const only = i >= 0 ? process.argv[i + 1] : undefined;
if (only !== undefined && !Object.hasOwn(PARTS, only)) {
  process.stderr.write(`bench:filters: --only takes one of ${Object.keys(PARTS).join(', ')}\n`);
  process.exit(2);
}
for (const [name, run] of Object.entries(PARTS)) {
  if (only === undefined || only === name) await run();
}
