// Nothing acknowledged is lost: `mailgate start` is killed with SIGKILL in the middle of a 10,000-message
// smtp-source run (and, second, in the middle of delivering), then started again. Every message that got
// a 250 must be delivered: to the Maildir exactly once, to the remote sink at least once (duplicates are
// reported; they may only be messages in flight at the kill).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from '../interop/harness/mta.js';
import { startSmtpSink, type SmtpSink } from '../interop/harness/smtp-sink.js';
import { sendTracked } from '../interop/harness/smtp-tracker.js';
import { startDaemon, waitFor } from '../interop/harness/process.js';

const TOTAL = 10_000;
const SOURCE_SESSIONS = 10;

function messageIds(texts: readonly string[]): string[] {
  return texts.map((t) => /^Message-ID: <([^>]+)>/im.exec(t)?.[1]).filter((x): x is string => x !== undefined);
}

/**
 * The last value of smtp-source's running counter (-c). smtp-source counts a message when it has sent the
 * final "." (smtp-source.c, data_done), before the server's reply: up to one message per session may be
 * counted without a 250, so the acknowledged ones are at least counter - SOURCE_SESSIONS.
 */
function sourceCount(output: string): number {
  const all = [...output.matchAll(/(\d+)\r/g)].map((m) => Number(m[1]));
  return all.length > 0 ? Math.max(...all) : 0;
}

// Above the sum of each test's phase guards (120 s each): a stuck phase fails with what it waited for (the
// queue, the server's log), not with the bare test timeout.
describe('SIGKILL while receiving and while delivering', { timeout: 400_000 }, () => {
  let mta: Mta | undefined;
  let sink: SmtpSink | undefined;
  afterEach(async () => {
    await mta?.remove();
    await sink?.stop();
    mta = sink = undefined;
  });

  it('delivers every acknowledged message to the Maildir exactly once after a kill mid-run', async () => {
    mta = await makeMta();
    await mta.addUser('alice@localhost', 'pw-alice-1');
    await mta.start();
    const source = startDaemon('smtp-source', '/usr/sbin/smtp-source', [
      '-c', '-s', String(SOURCE_SESSIONS), '-m', String(TOTAL), '-l', '4096', '-f', 'load@example.org', '-t', 'alice@localhost', `127.0.0.1:${mta.mxPort}`,
    ]);
    const tracked = sendTracked({ port: mta.mxPort, to: 'alice@localhost', count: 100_000, sessions: 4, tag: 'k1' });
    // Kill once a good part of the run is acknowledged, while sessions are mid-transaction.
    await waitFor('1,000 messages acknowledged', () => (sourceCount(source.stdout()) + tracked.acknowledged.size >= 1_000 ? true : undefined), {
      timeoutMs: 120_000,
      daemon: source,
    });
    await mta.kill();
    tracked.stop();
    await tracked.done;
    await source.exited;
    // Locks the kill left behind (each must name its dead holder, or it blocks delivery for its stale time)
    const root = join(mta.dataDir, 'mail', 'localhost', 'alice');
    for (const f of (await readdir(root)).filter((n) => n.endsWith('.lock'))) console.log(`left by the kill: ${f} "${await readFile(join(root, f), 'latin1')}"`);
    const fromSource = sourceCount(source.stdout());
    expect(fromSource).toBeLessThan(TOTAL); // the kill really was in the middle of the run
    console.log(`sigkill mid-run: smtp-source had ${fromSource} of ${TOTAL} acknowledged, the tracked client ${tracked.acknowledged.size} (${tracked.sent.size} sent)`);

    await mta.start();
    const want = fromSource - SOURCE_SESSIONS + tracked.acknowledged.size;
    const m = mta;
    await mta.waitForMaildir('alice@localhost', want, 120_000).catch(async (err: unknown) => {
      // Say what is missing, not only that the count was not reached.
      const have = await m.maildir('alice@localhost');
      const got = new Set(messageIds(have));
      const missing = [...tracked.acknowledged].filter((id) => !got.has(id));
      const queue = await m.cli(['queue', 'list']);
      throw new Error(`${have.length} of ${want} in the Maildir; acknowledged but missing: ${missing.join(' ')}\nqueue:\n${queue.stdout}${queue.stderr}\n${String(err)}`);
    });
    // Then until the queue is empty: every message it holds is delivered, none left to add a duplicate.
    await waitFor('an empty queue', async () => ((await m.cli(['queue', 'list'])).stdout.includes('Mail queue is empty') ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      daemon: m.daemon(),
      diagnostics: async () => (await m.cli(['queue', 'list'])).stdout,
    });
    const delivered = await mta.maildir('alice@localhost');
    const ids = messageIds(delivered);
    const seen = new Map<string, number>();
    for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    for (const id of tracked.acknowledged) expect(seen.get(id), `acknowledged ${id}`).toBe(1);
    for (const [id, n] of seen) expect(n, `delivered ${id} ${n} times`).toBe(1);
    // smtp-source's messages carry no id of their own: count them (delivered ≥ acknowledged).
    const sourceDelivered = delivered.length - ids.filter((id) => id.endsWith('@tracker.example')).length;
    expect(sourceDelivered).toBeGreaterThanOrEqual(fromSource - SOURCE_SESSIONS);
  });

  it('delivers every acknowledged message to the remote sink at least once after a kill mid-delivery', async () => {
    sink = await startSmtpSink();
    mta = await makeMta({ extra: `[delivery]\nrelay_host = "[127.0.0.1]:${sink.port}"\n` });
    await mta.start();
    const count = 2_000;
    const tracked = sendTracked({ port: mta.mxPort, to: 'bob@remote.example', count, sessions: 10, tag: 'k2' });
    const s = sink;
    // Kill once the sink has some of them: the queue is delivering.
    await waitFor('deliveries under way', async () => ((await s.messages()).length >= 200 ? true : undefined), { timeoutMs: 120_000 });
    await mta.kill();
    tracked.stop();
    await tracked.done;
    await mta.start();
    const acknowledged = tracked.acknowledged;
    const dumps = await waitFor(
      'every acknowledged message at the sink',
      async () => {
        const got = new Set(messageIds(await s.messages()));
        return [...acknowledged].every((id) => got.has(id)) ? got : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const all = messageIds(await s.messages());
    const duplicates = all.length - new Set(all).size;
    console.log(`sigkill mid-delivery: ${acknowledged.size} acknowledged, ${dumps.size} distinct at the sink, ${duplicates} duplicate(s)`);
    for (const id of acknowledged) expect(dumps.has(id)).toBe(true);
  });
});
