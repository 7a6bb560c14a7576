/**
 * SIGKILL at random points: a child writes the spool (and, in the second test, delivers from it) and is
 * killed; every message it acknowledged must then be in the spool complete, no partial file may survive
 * the next start, and every recipient of every acknowledged message is delivered at least once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtModule } from '../dist.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { decodeEnvelope } from '../../src/queue/queue-file.js';
import { openQueue } from '../../src/queue/open.js';
import { FakeTransport, memoryLogger } from './fake-transport.js';

const CHILD = fileURLToPath(new URL('./fixtures/spool-child.mjs', import.meta.url));
// A URL, not a literal specifier: the fixture is plain JavaScript (the child runs it) with no declarations.
const { bodyFor } = (await import(new URL('./fixtures/body.mjs', import.meta.url).href)) as { bodyFor: (id: string) => string };

let dir: TempDir | undefined;
afterEach(async () => dir?.remove());

/** Runs the child until it acknowledged `minAcks` messages plus a random extra moment, then SIGKILLs it. */
async function runAndKill(dataDir: string, mode: 'write' | 'deliver', log: string, minAcks: number): Promise<string[]> {
  const child = spawn(process.execPath, [CHILD, builtModule('queue/open.js'), dataDir, mode, log], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acks: string[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`the child acknowledged only ${acks.length} messages`)), 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('ACK ')) acks.push(l.slice(4));
      if (acks.length >= minAcks && child.exitCode === null && !child.killed) {
        clearTimeout(guard);
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 40));
      }
    });
    child.on('exit', () => {
      clearTimeout(guard);
      resolve();
    });
  });
  // Lines read before the exit were all acknowledged before the kill.
  return acks;
}

async function checkSpool(dataDir: string, acked: readonly string[]): Promise<string[]> {
  const q = join(dataDir, 'queue');
  const present = await readdir(join(q, 'messages'));
  for (const id of acked) expect(present, `acknowledged ${id} is missing`).toContain(id);
  for (const id of present) {
    const buf = await readFile(join(q, 'messages', id));
    const { envelope, bodyOffset } = decodeEnvelope(buf);
    expect(envelope.id).toBe(id);
    expect(buf.subarray(bodyOffset).toString(), `${id} is incomplete`).toBe(bodyFor(id));
  }
  return present;
}

describe('crash safety (SIGKILL)', () => {
  it('every acknowledged message survives a SIGKILL while the spool is written, and no partial one remains after a start', async () => {
    dir = await makeTempDir('queue-crash');
    const acked: string[] = [];
    let leftovers = 0;
    for (let round = 0; round < 6; round++) {
      acked.push(...(await runAndKill(dir.path, 'write', '/dev/null', 5 + Math.floor(Math.random() * 60))));
      await checkSpool(dir.path, acked);
      leftovers += (await readdir(join(dir.path, 'queue', 'tmp'))).length;
    }
    // Not asserted (the kill's moment is random), but shown: how many half-written files the kills left.
    process.stderr.write(`crash test: ${acked.length} acknowledged, ${leftovers} temp file(s) left by the kills\n`);
    const transport = new FakeTransport(() => ({ status: 'deferred' }));
    const queue = openQueue({ dataDir: dir.path, hostname: 'h', transport, logger: memoryLogger().logger, minimalBackoffTime: 60_000 });
    await queue.start();
    await queue.stop();
    expect(await readdir(join(dir.path, 'queue', 'tmp'))).toEqual([]);
    const present = await checkSpool(dir.path, acked);
    expect(queue.size).toBe(present.length);
  });

  it('every recipient of every acknowledged message is delivered at least once across SIGKILLs during delivery', async () => {
    dir = await makeTempDir('queue-crash');
    const log = join(dir.path, 'delivered.log');
    const acked: string[] = [];
    for (let round = 0; round < 4; round++) {
      acked.push(...(await runAndKill(dir.path, 'deliver', log, 20 + Math.floor(Math.random() * 60))));
      await checkSpool(dir.path, []);
    }
    const { lines, logger } = memoryLogger();
    const transport = new FakeTransport(() => ({}));
    const queue = openQueue({ dataDir: dir.path, hostname: 'h', transport, logger, queueRunDelay: 20 });
    await queue.start();
    await transport.until(() => queue.size === 0, 'an empty queue', 20_000);
    await queue.stop();
    const delivered = new Set((await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean));
    for (const d of transport.deliveries) for (const r of d.recipients) delivered.add(`${d.queueId} ${r}`);
    for (const id of acked) for (const k of [1, 2, 3]) expect(delivered, `${id} r${k} never delivered`).toContain(`${id} r${k}@d${k}.example`);
    expect(lines.filter((l) => l.endsWith(': removed')).length).toBeGreaterThan(0);
    expect(await readdir(join(dir.path, 'queue', 'messages'))).toEqual([]);
  });
});
