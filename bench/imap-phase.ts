/**
 * `npm run bench:build && node .tmp/bench-build/bench/imap-phase.js [--repeat N] [--warmup N] [--profile DIR]`:
 * one phase of bench:imap alone (`--phase`: `UID FETCH 1:* (FLAGS)` by default, or SEARCH BODY or HEADER as bench:imap sends them) on the cached 100,000-message corpus in a mailbox
 * already selected, to profile and tune it in seconds rather than the whole bench's minutes. The server (the
 * Maildir store and the IMAP server, with `mailgate start`'s V8 flags, plus any in IMAP_PHASE_NODE_FLAGS such
 * as --trace-opt) runs in a child process as under bench:imap, so the client's parsing is not in its CPU
 * figure or its profile. As bench:imap, no warm-up by default: the first FETCHes include V8 optimising the
 * code, which is part of the figure. Each run prints its wall time, the server's CPU and the longest
 * event-loop stall in the server meanwhile (how long other sessions could have waited). The corpus is
 * hard-linked once into .tmp/imap-phase/ and its index kept there, so only the first run pays for the first
 * SELECT. `--profile DIR` writes a .cpuprofile of the server over the measured FETCHes only (summarise with
 * `npm run bench:profile-top -- FILE`). Figures, not assertions.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchOptions, choice, count, dir } from './options.js';
import { ImapClient } from './imap/client.js';
import { BODY_WORD, ensureCorpus, SUBJECT_WORD } from './imap/corpus.js';
import { BENCH_USER, linkCopy } from './imap/target.js';
import { PhaseProfiler } from './profiler.js';

const SERVE = 'MAILGATE_IMAP_PHASE_SERVE';

type ToServer = { readonly op: 'cpu' } | { readonly op: 'profile-start' } | { readonly op: 'profile-stop'; readonly file: string };
type FromServer = { readonly port: number } | { readonly cpuMs: number; readonly lagMs: number } | { readonly done: true };

/** The server side: the store on `maildir`, one IMAP listener on a free loopback port, driven over IPC. */
async function serve(maildir: string): Promise<void> {
  const { openMaildirMailboxStore } = await import('../src/store/mailbox/open.js');
  const { createImapServer } = await import('../src/imap/server.js');
  const { DEFAULT_IMAP } = await import('../src/config/defaults.js');
  const store = openMaildirMailboxStore({ maildirOf: () => maildir, hostname: 'bench' });
  const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => logger };
  const accounts = { authenticate: (login: string, password: string) => Promise.resolve(login === 'bench' && password === 'bench' ? 'bench' : undefined) };
  const server = createImapServer(
    { ...DEFAULT_IMAP, listen: [{ host: '127.0.0.1', port: 0 }], tlsListen: [], connectionLimit: 100, clientConnectionLimit: 0, userConnectionLimit: 0 },
    { accounts, store, logger: logger as never },
  );
  await server.listen();
  const profiler = new PhaseProfiler();
  // the event loop's longest stall between two readings: the longest synchronous stretch, to within 1 ms
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const send = (m: FromServer): void => void process.send!(m);
  process.on('message', (m: ToServer) => {
    void (async () => {
      if (m.op === 'cpu') {
        const u = process.cpuUsage();
        send({ cpuMs: (u.user + u.system) / 1000, lagMs: lag.max / 1e6 });
        lag.reset();
      } else if (m.op === 'profile-start') {
        await profiler.start();
        send({ done: true });
      } else {
        await profiler.stop(m.file);
        send({ done: true });
      }
    })();
  });
  process.once('disconnect', () => {
    void server.close(100).then(() => store.close()).then(() => process.exit(0));
  });
  send({ port: server.addresses()[0]!.port });
}

class Server {
  private waiting: ((m: FromServer) => void) | undefined;
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromServer) => this.waiting?.(m));
  }

  static async start(maildir: string): Promise<{ server: Server; port: number }> {
    const cli = resolve('dist', 'cli', 'main.js');
    const first = existsSync(cli) ? (readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '') : '';
    const flags = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
    const child = fork(fileURLToPath(import.meta.url), [], { execArgv: [...flags, '--enable-source-maps', ...(process.env['IMAP_PHASE_NODE_FLAGS']?.split(' ').filter(Boolean) ?? [])], env: { ...process.env, [SERVE]: maildir } });
    const server = new Server(child);
    const m = await server.next();
    if (!('port' in m)) throw new Error('server did not start');
    return { server, port: m.port };
  }

  private next(): Promise<FromServer> {
    return new Promise((done) => (this.waiting = done));
  }

  async ask(m: ToServer): Promise<FromServer> {
    const reply = this.next();
    this.child.send(m);
    return reply;
  }

  /** The server's CPU time so far, and the longest event-loop stall since the last reading (ms). */
  async cpu(): Promise<{ cpuMs: number; lagMs: number }> {
    const m = await this.ask({ op: 'cpu' });
    return 'cpuMs' in m ? m : { cpuMs: NaN, lagMs: NaN };
  }

  stop(): void {
    this.child.disconnect();
  }

  /** Stops the server and waits until its process has exited (its last writes done). */
  async stopped(): Promise<void> {
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
    this.stop();
    await exited;
  }
}

async function main(): Promise<void> {
  const o = benchOptions('bench:imap-phase', {
    messages: count(100_000, 'messages in the mailbox'),
    seed: count(1, 'corpus seed (a corpus is cached per seed and size)'),
    repeat: count(3, 'FETCHes measured (each is printed, then the median), as bench:imap measures it'),
    warmup: count(0, 'FETCHes before those measured (bench:imap has none: its figure includes the JIT warming up)'),
    profile: dir('write a V8 CPU profile of the server over the measured FETCHes into DIR'),
    phase: choice(['flags', 'fetch-env', 'search-body', 'search-header', 'select-cold'], "the command measured: bench:imap's UID FETCH 1:* (FLAGS), FETCH 1:1000 (ENVELOPE BODYSTRUCTURE), SEARCH BODY or SEARCH HEADER, or the first SELECT of a fresh copy (a new server each run)", 'flags'),
  });
  const corpus = await ensureCorpus(resolve('.tmp', 'bench-imap'), o.seed, o.messages, BENCH_USER, (s) => void process.stderr.write(`${s}\n`));
  const base = resolve('.tmp', 'imap-phase');
  if (o.phase === 'select-cold') return selectCold(corpus.dir, base, o.repeat, o.profile);
  const command = { flags: 'UID FETCH 1:* (FLAGS)', 'fetch-env': 'FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)', 'search-body': `SEARCH BODY ${BODY_WORD}`, 'search-header': `SEARCH HEADER Subject ${SUBJECT_WORD}` }[o.phase];
  const maildir = join(base, `s${o.seed}-n${o.messages}`);
  if (!existsSync(`${maildir}.complete`)) {
    await rm(maildir, { recursive: true, force: true });
    await mkdir(base, { recursive: true });
    await linkCopy(corpus.dir, maildir);
  }
  const { server, port } = await Server.start(maildir);
  try {
    // As in bench:imap, an earlier session selected the mailbox (and took its \Recent), then logged out.
    const first = await ImapClient.connect(port);
    await first.login('bench', 'bench');
    const sel = await first.select();
    console.log(`SELECT INBOX: ${sel.exists} EXISTS, ${sel.ms.toFixed(0)} ms`);
    await first.logout();
    const c = await ImapClient.connect(port);
    await c.login('bench', 'bench');
    await c.select();
    // the index is written by now: later runs start warm
    await writeFile(`${maildir}.complete`, '');
    for (let i = 0; i < o.warmup; i++) await c.ok(command);
    if (o.profile !== undefined) await server.ask({ op: 'profile-start' });
    const runs: { ms: number; cpu: number }[] = [];
    let untagged = 0;
    let stall = 0;
    for (let i = 0; i < o.repeat; i++) {
      const before = await server.cpu();
      const r = await c.ok(command);
      const after = await server.cpu();
      runs.push({ ms: r.ms, cpu: after.cpuMs - before.cpuMs });
      console.log(`  run ${i + 1}: ${r.ms.toFixed(1)} ms, server CPU ${(after.cpuMs - before.cpuMs).toFixed(1)} ms, longest stall ${after.lagMs.toFixed(1)} ms`);
      stall = Math.max(stall, after.lagMs);
      untagged = r.untagged;
    }
    if (o.profile !== undefined) {
      await mkdir(o.profile, { recursive: true });
      const file = join(o.profile, `imap-phase-${Date.now()}.cpuprofile`);
      await server.ask({ op: 'profile-stop', file });
      console.log(`profile: ${file}`);
    }
    runs.sort((a, b) => a.ms - b.ms);
    const med = runs[Math.floor((runs.length - 1) / 2)]!;
    const cpus = runs.map((r) => r.cpu).sort((a, b) => a - b);
    console.log(`${command}: ${untagged} untagged; wall median ${med.ms.toFixed(1)} ms (fastest ${runs[0]!.ms.toFixed(1)}), server CPU median ${cpus[Math.floor((cpus.length - 1) / 2)]!.toFixed(1)} ms; longest event-loop stall ${stall.toFixed(1)} ms`);
    await c.logout();
  } finally {
    server.stop();
  }
}

/**
 * The first SELECT of a folder no index has seen, as bench:imap's cold line: each run a fresh hard-linked
 * copy of the corpus and a fresh server, logged in first (LOGIN opens the user's index); the profile, if
 * asked, covers the first run's SELECT only.
 */
async function selectCold(corpusDir: string, base: string, repeat: number, profile: string | undefined): Promise<void> {
  const runs: { ms: number; cpu: number }[] = [];
  for (let i = 0; i < repeat; i++) {
    const maildir = join(base, `cold-${process.pid}-${i}`);
    await rm(maildir, { recursive: true, force: true });
    await mkdir(base, { recursive: true });
    await linkCopy(corpusDir, maildir);
    const { server, port } = await Server.start(maildir);
    try {
      const c = await ImapClient.connect(port);
      await c.login('bench', 'bench');
      if (profile !== undefined && i === 0) await server.ask({ op: 'profile-start' });
      const before = await server.cpu();
      const sel = await c.select();
      const after = await server.cpu();
      if (profile !== undefined && i === 0) {
        await mkdir(profile, { recursive: true });
        const file = join(profile, `imap-phase-select-cold-${Date.now()}.cpuprofile`);
        await server.ask({ op: 'profile-stop', file });
        console.log(`profile: ${file}`);
      }
      runs.push({ ms: sel.ms, cpu: after.cpuMs - before.cpuMs });
      console.log(`  run ${i + 1}: ${sel.exists} EXISTS, ${sel.ms.toFixed(1)} ms, server CPU ${(after.cpuMs - before.cpuMs).toFixed(1)} ms (rows written after the answer partly included), longest stall ${after.lagMs.toFixed(1)} ms`);
      await c.logout();
    } finally {
      await server.stopped();
    }
    await rm(maildir, { recursive: true, force: true });
  }
  runs.sort((a, b) => a.ms - b.ms);
  console.log(`SELECT INBOX, cold: wall median ${runs[Math.floor((runs.length - 1) / 2)]!.ms.toFixed(1)} ms (fastest ${runs[0]!.ms.toFixed(1)})`);
}

if (process.env[SERVE] !== undefined) await serve(process.env[SERVE]);
else await main();
