/**
 * `npm run bench:filters`: greylist decisions/s with 1 million tuples (SQLite and Redis) and memory;
 * the spamd and clamd filters' per-message overhead over calling spamd/clamd directly (target < 5 %).
 * Parts run one after another so they don't share the CPU; `--only greylist|spamd|clamd` runs one,
 * and the counts below shorten a run (`--help` lists them).
 */
import { runClamdBench } from './filters/clamd.js';
import { runGreylistBench } from './filters/greylist.js';
import { runSpamdBench } from './filters/spamd.js';
import { benchOptions, choice, count, list } from './options.js';

const o = benchOptions('bench:filters', {
  only: choice(['greylist', 'spamd', 'clamd'], 'run one part only'),
  tuples: count(1_000_000, 'greylist: tuples stored before measuring'),
  seconds: count(3, 'greylist: seconds per measured row'),
  stores: list(['sqlite', 'redis'], ['sqlite', 'redis'], 'greylist: stores to measure'),
  rounds: count(60, 'spamd: rounds of every message in both modes (measuring stops after 90 s anyway)'),
  pairs: count(2000, 'clamd: messages per size through every path'),
});

const PARTS = {
  greylist: () => runGreylistBench({ tuples: o.tuples, seconds: o.seconds, stores: o.stores }),
  spamd: () => runSpamdBench(o.rounds),
  clamd: () => runClamdBench(o.pairs),
} as const;

for (const [name, run] of Object.entries(PARTS)) {
  if (o.only === undefined || o.only === name) await run();
}
