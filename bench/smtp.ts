/**
 * `npm run bench:smtp` — the MTA's throughput against Postfix's on this machine (issue 10). Postfix's
 * smtp-source sends 4 KiB messages over 10 and then 50 parallel sessions to:
 *   postfix                 a private Postfix, no milter, relaying to a counting smtp-sink (reference);
 *   mailgate (empty-chain)  `mailgate start`, relay_host = the sink, chain empty;
 *   mailgate (one-filter)   the same with one built-in filter (rules).
 * Each MTA fsyncs before its 250 (Postfix's default, Mailgate's only mode). For each row: accepted
 * msg/s (until smtp-source has every 250), end-to-end msg/s (until the sink counted every message),
 * Mailgate's peak RSS and CPU time per message (its one process; Postfix's are many), and Mailgate/Postfix ratios. Each MTA gets its own sink, and they run one
 * after another so they never share the CPU. Both log to a file, not to this process.
 * Needs root (Postfix and smtp-sink run as in the interop tests) and, for Mailgate, `npm run build`.
 * Options: `npm run bench:smtp -- --help`.
 */
import { availableParallelism, cpus } from 'node:os';
import { startSmtpSink, type SmtpSink } from '../test/interop/harness/smtp-sink.js';
import { benchOptions, choice, count, dir, flag } from './options.js';
import { measure, type Load, type Measurement, type MtaUnderTest } from './smtp/measure.js';
import { startReferencePostfix } from './smtp/postfix.js';
import { startMailgateUnderTest, type MailgateVariant } from './smtp/mailgate.js';
import { fmt, table } from './stats.js';

const o = benchOptions('bench:smtp', {
  messages: count(5000, 'messages per measured row'),
  size: count(4096, 'payload bytes per message (smtp-source -l)'),
  low: count(10, 'parallel sessions, first row of each MTA'),
  high: count(50, 'parallel sessions, second row of each MTA'),
  warmup: count(300, 'messages sent to each MTA before measuring (not counted)'),
  reuse: flag('several messages per connection (smtp-source -d); default: one connection per message'),
  only: choice(['postfix', 'mailgate'], 'measure one side only'),
  profile: dir('write a V8 CPU profile of each Mailgate process into DIR (figures are then perturbed)'),
});

/** Issue 10's targets: Mailgate at least 1.5 x Postfix's rate, and under 100 MB at 50 sessions. */
const TARGET_RATIO = 1.5;
const TARGET_RSS_MB = 100;

interface Side {
  name: string;
  start(sink: SmtpSink): Promise<MtaUnderTest>;
}

/** The side's rows, or why it has none. */
async function runSide(side: Side, loads: readonly Load[]): Promise<Measurement[] | string> {
  const sink = await startSmtpSink({ save: false, backlog: 1000 });
  try {
    let mta: MtaUnderTest;
    try {
      mta = await side.start(sink);
    } catch (err) {
      return `did not start: ${(err as Error).message.split('\n').slice(0, 3).join(' / ')}`;
    }
    try {
      process.stderr.write(`bench:smtp: ${mta.name}: warm-up, ${o.warmup} messages\n`);
      await measure(mta, { sessions: o.low, messages: o.warmup, size: o.size, reuse: o.reuse });
      const rows: Measurement[] = [];
      for (const load of loads) {
        const m = await measure(mta, load);
        process.stderr.write(
          `bench:smtp: ${mta.name}, ${load.sessions} sessions: ${fmt(m.acceptedPerSec, 0)} accepted/s, ` +
            `${fmt(m.endToEndPerSec, 0)} end-to-end/s${m.problem ? ` (${m.problem})` : ''}\n`,
        );
        rows.push(m);
      }
      return rows;
    } finally {
      await mta.stop();
    }
  } finally {
    await sink.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:smtp: must run as root (private Postfix and smtp-sink, as in the interop tests)\n');
    process.exit(2);
  }
  const started = performance.now();
  const loads: Load[] = [o.low, o.high].map((sessions) => ({ sessions, messages: o.messages, size: o.size, reuse: o.reuse }));
  const sides: Side[] = [];
  if (o.only !== 'mailgate') sides.push({ name: 'postfix', start: startReferencePostfix });
  if (o.only !== 'postfix') {
    for (const variant of ['empty-chain', 'one-filter'] as const satisfies readonly MailgateVariant[]) {
      sides.push({ name: `mailgate (${variant})`, start: (sink) => startMailgateUnderTest(sink, variant, o.profile) });
    }
  }
  const results = new Map<string, Measurement[] | string>();
  for (const side of sides) results.set(side.name, await runSide(side, loads));

  const reference = results.get('postfix');
  const refRow = (sessions: number): Measurement | undefined => (Array.isArray(reference) ? reference.find((m) => m.load.sessions === sessions) : undefined);
  const ratio = (m: Measurement, key: 'acceptedPerSec' | 'endToEndPerSec'): string => {
    const ref = refRow(m.load.sessions)?.[key];
    return m.mta === 'postfix' || ref === undefined ? '-' : `${fmt(m[key] / ref, 2)}x`;
  };
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const [name, r] of results) {
    if (typeof r === 'string') {
      notes.push(`${name}: ${r}`);
      continue;
    }
    for (const m of r) {
      rows.push([
        m.mta,
        String(m.load.sessions),
        fmt(m.load.messages, 0),
        fmt(m.acceptedPerSec, 0),
        fmt(m.endToEndPerSec, 0),
        ratio(m, 'acceptedPerSec'),
        ratio(m, 'endToEndPerSec'),
        Number.isFinite(m.peakRssMb) ? fmt(m.peakRssMb, 0) : '-',
        Number.isFinite(m.cpuMsPerMessage) ? fmt(m.cpuMsPerMessage, 2) : '-',
      ]);
      if (m.problem) notes.push(`${m.mta}, ${m.load.sessions} sessions: ${m.problem}`);
    }
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log('');
  console.log(`Mailgate MTA benchmark: node ${process.version}, ${availableParallelism()} CPUs (${cpu})`);
  console.log(
    `smtp-source → MTA (fsync before 250) → smtp-sink (counting), ${fmt(o.size, 0)}-byte payload, ` +
      `${o.reuse ? 'several messages per connection' : 'one connection per message'}, ${o.warmup} warm-up messages per MTA`,
  );
  console.log('');
  console.log(table(['MTA', 'sessions', 'messages', 'accepted/s', 'end-to-end/s', 'accepted ratio', 'e2e ratio', 'peak RSS MB', 'CPU ms/msg'], rows));
  for (const n of notes) console.log(n);
  console.log(`(ratios: Mailgate / Postfix at the same sessions; targets: >= ${TARGET_RATIO}x, RSS < ${TARGET_RSS_MB} MB at ${o.high} sessions)`);
  const headline = [...results.values()]
    .flatMap((r) => (typeof r === 'string' ? [] : r))
    .map((m) => `${m.mta.replace(/[ ()]+/g, '-').replace(/-$/, '')}@${m.load.sessions}=${Math.round(m.acceptedPerSec)}/${Math.round(m.endToEndPerSec)}`)
    .join(' ');
  console.log('');
  console.log(`bench:smtp accepted/end-to-end msg/s: ${headline}`);
  console.log(`(total bench time ${fmt((performance.now() - started) / 1000, 1)} s)`);
}

await main();
