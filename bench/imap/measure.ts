/**
 * bench:imap's script, run the same way against each server: the figures of issue 11's "Performance"
 * section, in an order that makes "cold" mean what it says (the first SELECT and the first FETCH of
 * ENVELOPE and BODYSTRUCTURE a server ever answers for the mailbox, its indexes empty). Warm figures are
 * the median of `repeat` runs. Each figure also carries the server's CPU time for it (its process, or its
 * process tree), which varies less than wall time on a machine that is busy with other work.
 */
import { ImapClient, toCrlf } from './client.js';
import { corpusMessage, BODY_WORD, SUBJECT_WORD } from './corpus.js';
import type { ImapUnderTest } from './target.js';
import { percentile } from '../stats.js';

export interface Figure {
  readonly key: string;
  readonly label: string;
  /** The figure: ms, or kB for memory. */
  readonly value: number;
  readonly unit: 'ms' | 's' | 'kB';
  /** Server CPU for the figure (ms; for medians the CPU of the median run), NaN when not read. */
  readonly cpuMs: number;
  /** What the server answered, to compare between servers (e.g. SEARCH hits, untagged count). */
  readonly note?: string;
}

export interface Script {
  readonly repeat: number;
  readonly appendCount: number;
  readonly clients: number;
  readonly loops: number;
  readonly idle: number;
  readonly seed: number;
  /** Progress lines (stderr). */
  readonly say: (s: string) => void;
}

async function session(t: ImapUnderTest): Promise<ImapClient> {
  const c = await ImapClient.connect(t.port);
  await c.login(t.user, t.password);
  return c;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Runs `once` `n` times; the median run's time and CPU. */
async function medianOf(t: ImapUnderTest, n: number, once: () => Promise<{ ms: number; note?: string }>): Promise<{ ms: number; cpuMs: number; note?: string }> {
  const runs: { ms: number; cpuMs: number; note?: string }[] = [];
  for (let i = 0; i < n; i++) {
    const cpu0 = await t.cpuMs();
    const r = await once();
    runs.push({ ...r, cpuMs: (await t.cpuMs()) - cpu0 });
  }
  const m = median(runs.map((r) => r.ms));
  return runs.find((r) => r.ms === m)!;
}

export async function runScript(t: ImapUnderTest, o: Script): Promise<Figure[]> {
  const figures: Figure[] = [];
  const add = (f: Figure): void => {
    figures.push(f);
    o.say(`${t.name}: ${f.label}: ${f.unit === 's' ? (f.value / 1000).toFixed(2) : f.value.toFixed(f.unit === 'kB' ? 0 : 1)} ${f.unit === 's' ? 's' : f.unit}${f.note ? ` (${f.note})` : ''}`);
  };
  /** Runs one part of the script; when it fails, its figures are recorded as failed and the script goes on. */
  const phase = async (figs: readonly (readonly [key: string, label: string, unit: Figure['unit']])[], run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (err) {
      const why = (err as Error).message.split('\n')[0]!.slice(0, 100);
      for (const [key, label, unit] of figs) if (!figures.some((f) => f.key === key)) add({ key, label, value: NaN, unit, cpuMs: NaN, note: `failed: ${why}` });
    }
  };

  // LOGIN, then SELECT INBOX for the first time ever: the server meets the Maildir here.
  let exists = NaN;
  let loginMs = NaN;
  await phase([['select-cold', 'SELECT INBOX, cold', 'ms']], async () => {
    const cpu0 = await t.cpuMs();
    const c = await ImapClient.connect(t.port);
    const login0 = performance.now();
    await c.login(t.user, t.password);
    loginMs = performance.now() - login0;
    const cold = await c.select();
    exists = cold.exists;
    add({ key: 'select-cold', label: 'SELECT INBOX, cold', value: cold.ms, unit: 'ms', cpuMs: (await t.cpuMs()) - cpu0, note: `${exists} EXISTS` });
    await c.logout();
  });

  await phase([['login', 'LOGIN (plaintext; password hash check)', 'ms']], async () => {
    const login = await medianOf(t, o.repeat, async () => {
      const k = await ImapClient.connect(t.port);
      const s = performance.now();
      await k.login(t.user, t.password);
      const ms = performance.now() - s;
      await k.logout();
      return { ms };
    });
    add({ key: 'login', label: 'LOGIN (plaintext; password hash check)', value: login.ms, unit: 'ms', cpuMs: login.cpuMs, note: `first ${loginMs.toFixed(1)} ms` });
  });

  await phase([['select-warm', 'SELECT INBOX, warm', 'ms']], async () => {
    const warm = await medianOf(t, o.repeat, async () => {
      const k = await session(t);
      const r = await k.select();
      await k.logout();
      return { ms: r.ms };
    });
    add({ key: 'select-warm', label: 'SELECT INBOX, warm', value: warm.ms, unit: 'ms', cpuMs: warm.cpuMs });
  });

  const c = await session(t);
  await c.select();
  await phase([['uid-fetch-flags', 'UID FETCH 1:* (FLAGS)', 'ms']], async () => {
    const flags = await medianOf(t, o.repeat, async () => {
      const r = await c.ok('UID FETCH 1:* (FLAGS)');
      return { ms: r.ms, note: `${r.untagged} FETCH` };
    });
    add({ key: 'uid-fetch-flags', label: 'UID FETCH 1:* (FLAGS)', value: flags.ms, unit: 'ms', cpuMs: flags.cpuMs, ...(flags.note ? { note: flags.note } : {}) });
  });

  const range = `1:${Number.isFinite(exists) ? Math.min(1000, exists) : 1000}`;
  const envCold = `FETCH ${range} (ENVELOPE BODYSTRUCTURE), cold`;
  const envWarm = `FETCH ${range} (ENVELOPE BODYSTRUCTURE), warm`;
  await phase([['fetch-env-cold', envCold, 'ms'], ['fetch-env-warm', envWarm, 'ms']], async () => {
    const cpu0 = await t.cpuMs();
    const cold = await c.ok(`FETCH ${range} (ENVELOPE BODYSTRUCTURE)`);
    add({ key: 'fetch-env-cold', label: envCold, value: cold.ms, unit: 'ms', cpuMs: (await t.cpuMs()) - cpu0, note: `${cold.untagged} FETCH` });
    const warm = await medianOf(t, o.repeat, async () => ({ ms: (await c.ok(`FETCH ${range} (ENVELOPE BODYSTRUCTURE)`)).ms }));
    add({ key: 'fetch-env-warm', label: envWarm, value: warm.ms, unit: 'ms', cpuMs: warm.cpuMs });
  });

  const searchHits = (r: { kept: readonly string[] }): number => r.kept.reduce((n, l) => n + l.split(' ').length - 2, 0);
  for (const [key, criteria] of [
    ['search-header', `HEADER Subject ${SUBJECT_WORD}`],
    ['search-body', `BODY ${BODY_WORD}`],
  ] as const) {
    await phase([[key, `SEARCH ${criteria}`, 'ms']], async () => {
      const r = await medianOf(t, o.repeat, async () => {
        const reply = await c.ok(`SEARCH ${criteria}`, { keep: '* SEARCH' });
        return { ms: reply.ms, note: `${searchHits(reply)} hits` };
      });
      add({ key, label: `SEARCH ${criteria}`, value: r.ms, unit: 'ms', cpuMs: r.cpuMs, ...(r.note ? { note: r.note } : {}) });
    });
  }
  await c.logout().catch(() => c.destroy());

  // APPEND: `appendCount` messages of another seed, pipelined with LITERAL+, into INBOX.
  const appendLabel = `APPEND ${o.appendCount} messages (LITERAL+, pipelined)`;
  await phase([['append', appendLabel, 'ms']], async () => {
    const messages: Buffer[] = [];
    for (let i = 0; i < o.appendCount; i++) messages.push(toCrlf(corpusMessage(o.seed + 1, i, o.appendCount, 'bench@bench.example').bytes));
    const a = await session(t);
    const cpu0 = await t.cpuMs();
    const a0 = performance.now();
    const replies: Promise<unknown>[] = [];
    for (const m of messages) {
      replies.push(a.ok([`APPEND INBOX (\\Seen) {${m.length}+}\r\n`, m]));
      await a.drained();
    }
    await Promise.all(replies);
    add({ key: 'append', label: appendLabel, value: performance.now() - a0, unit: 'ms', cpuMs: (await t.cpuMs()) - cpu0 });
    await a.logout();
  });

  // `clients` clients at once, each `loops` times: connect, LOGIN, SELECT, FETCH the newest 50, LOGOUT.
  const totalLabel = `${o.clients} clients x ${o.loops} login-select-fetch-logout, total`;
  await phase(
    [
      ['clients-total', totalLabel, 's'],
      ['clients-p95', '  one loop, p95', 'ms'],
    ],
    async () => {
      const cpu0 = await t.cpuMs();
      const latencies: number[] = [];
      const l0 = performance.now();
      await Promise.all(
        Array.from({ length: o.clients }, async () => {
          for (let i = 0; i < o.loops; i++) {
            const s = performance.now();
            const k = await session(t);
            const { exists: n } = await k.select();
            await k.ok(`FETCH ${Math.max(1, n - 49)}:* (UID FLAGS RFC822.SIZE ENVELOPE)`);
            await k.logout();
            latencies.push(performance.now() - s);
          }
        }),
      );
      const total = performance.now() - l0;
      const cpuLoops = (await t.cpuMs()) - cpu0;
      const sorted = Float64Array.from(latencies).sort();
      add({ key: 'clients-total', label: totalLabel, value: total, unit: 's', cpuMs: cpuLoops });
      add({ key: 'clients-p95', label: '  one loop, p95', value: percentile(sorted, 95), unit: 'ms', cpuMs: NaN, note: `p50 ${percentile(sorted, 50).toFixed(0)} ms` });
    },
  );

  // Memory per idle authenticated connection, on a fresh process (the mailbox's indexes already built):
  // one session logged in first (whatever a first login of the user opens is then in the baseline), then
  // `idle` more, 25 at a time. Each reading the median of 3, half a second apart (GC moves an RSS around).
  // Mailgate's figure is still within some tens of kB of noise (its heap grows in steps): read it with
  // `--idle` large enough that the connections outweigh that.
  const memLabel = `memory per idle authenticated connection (${o.idle})`;
  await phase([['idle-memory', memLabel, 'kB']], async () => {
    await t.restart();
    const sample = async (): Promise<number> => {
      const v: number[] = [];
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 500));
        v.push(await t.memoryKb());
      }
      return median(v);
    };
    // Two rounds of 25 logins at once first: memory that logins use and give back (scrypt's 32 MiB blocks
    // on the thread pool, the allocator's arenas) is then in the baseline too, not counted per connection.
    for (let round = 0; round < 2; round++) {
      const warm = await Promise.all(Array.from({ length: 25 }, () => session(t)));
      await Promise.all(warm.map((k) => k.logout()));
    }
    const first = await session(t);
    const before = await sample();
    const idle: ImapClient[] = [];
    try {
      for (let i = 0; i < o.idle; i += 25) {
        idle.push(...(await Promise.all(Array.from({ length: Math.min(25, o.idle - i) }, () => session(t)))));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const after = await sample();
      add({ key: 'idle-memory', label: memLabel, value: (after - before) / o.idle, unit: 'kB', cpuMs: NaN, note: `${(before / 1024).toFixed(0)} -> ${(after / 1024).toFixed(0)} MB` });
    } finally {
      await Promise.all([first, ...idle].map((k) => k.logout().catch(() => k.destroy())));
    }
  });
  return figures;
}
