// `mailgate manager` against the defects a hostile test found (issue 9 §7), each checked on the real
// process: needs `npm run build` first (the manager runs as node dist/cli/main.js).
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeCommand } from '../../src/milter/commands.js';
import { PacketDecoder } from '../../src/milter/packet.js';
import { decodeResponse } from '../../src/milter/responses.js';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';
import { Teardown } from './harness/teardown.js';
import { startManager, type Manager } from './harness/manager.js';
import { waitFor } from './harness/process.js';

const LIMITS = { timeout: 60_000 };
const OPTNEG = encodeCommand({ type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff });

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Sends OPTNEG and resolves with the reply's type, or 'closed' when the manager hangs up first. */
function negotiate(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    const decoder = new PacketDecoder(1 << 20);
    s.on('data', (d: Buffer) => {
      const [p] = decoder.push(d);
      if (p) resolve(decodeResponse(p).type);
    });
    s.once('close', () => resolve('closed'));
    s.write(OPTNEG);
  });
}

/** A manager with no children whose PATH finds `script` as postconf first. */
async function managerWithPostconf(tmp: TempDir, script: string): Promise<Manager> {
  const bin = await tmp.sub('bin');
  await writeFile(join(bin, 'postconf'), script);
  await chmod(join(bin, 'postconf'), 0o755);
  return startManager({
    dir: tmp.path,
    config: { socketPath: join(tmp.path, 'manager.sock'), children: [] },
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
  });
}

describe('a slow postconf never freezes sessions (start and reload)', LIMITS, () => {
  const td = new Teardown();
  let tmp: TempDir;
  let manager: Manager;
  let marks: string;

  beforeAll(async () => {
    tmp = await makeTempDir('manager-postconf');
    td.defer(() => tmp.remove());
    // A postconf as slow as Postfix's with main.cf missing (a 1 s fatal-error sleep per call), only
    // slower, so that "still running" is unmistakable; it notes when each call starts and ends.
    marks = join(tmp.path, 'postconf.marks');
    await writeFile(marks, '');
    manager = await managerWithPostconf(
      tmp,
      `#!/bin/sh\necho start >> ${marks}\nsleep 4\necho end >> ${marks}\necho "postconf: fatal: open /etc/postfix/main.cf: No such file or directory" >&2\nexit 1\n`,
    );
    td.defer(() => manager.stop());
  });
  afterAll(() => td.run());

  const count = async (word: string): Promise<number> => (await readFile(marks, 'utf8')).split('\n').filter((l) => l === word).length;

  /** A session answered now, and how many postconf calls had ended when its answer came. */
  async function sessionWhilePostconfRuns(startsBefore: number): Promise<void> {
    await waitFor('postconf started', async () => ((await count('start')) > startsBefore ? true : undefined), { timeoutMs: 15_000 });
    const endsBefore = await count('end');
    const s = await open(manager.socketPath);
    const reply = await negotiate(s);
    const endsAtAnswer = await count('end');
    s.destroy();
    expect(reply).toBe('optneg');
    // The cause, not a time: the session was answered while postconf was still sleeping.
    expect(endsAtAnswer, 'postconf had finished before the session was answered: it blocked the event loop').toBe(endsBefore);
    expect(await count('start')).toBeGreaterThan(endsAtAnswer);
  }

  test('at start: the manager listens and answers while postconf still runs', async () => {
    await sessionWhilePostconfRuns(0);
  });

  test('at reload: sessions are answered while postconf runs again', async () => {
    // This postconf fails, so one lookup is two calls in a row (-M smtp/inet, then -h
    // default_process_limit): start === end is also true for a moment between them, and a SIGHUP
    // then finds the lookup still running and starts none (CI saw that once).
    await waitFor('the first lookup over (both calls)', async () => ((await count('end')) === 2 ? true : undefined), { timeoutMs: 20_000 });
    const starts = await count('start');
    expect(starts).toBe(2);
    manager.daemon(); // running
    process.kill(manager.daemon().pid, 'SIGHUP');
    await sessionWhilePostconfRuns(starts);
    await manager.waitForRecord('reloaded', (r) => r.msg === 'configuration reloaded');
  });
});

describe('the stress threshold learnt from a slow postconf applies once it answers', LIMITS, () => {
  const td = new Teardown();
  let tmp: TempDir;
  let manager: Manager;

  beforeAll(async () => {
    tmp = await makeTempDir('manager-stress');
    td.defer(() => tmp.remove());
    // master.cf's smtp line with maxproc 8: milter-manager's threshold is 3/4 of it, 6.
    manager = await managerWithPostconf(tmp, '#!/bin/sh\nsleep 1\necho "smtp       inet  n       -       y       -       8       smtpd"\n');
    td.defer(() => manager.stop());
  });
  afterAll(() => td.run());

  test('one log line with the threshold, after the manager is ready', async () => {
    const r = await manager.waitForRecord('the threshold', (x) => String(x.msg).startsWith('stress threshold from Postfix'));
    expect(r['threshold']).toBe(6);
    const msgs = manager.records().map((x) => x.msg);
    expect(msgs.indexOf('manager ready')).toBeLessThan(msgs.indexOf(r.msg));
  });
});

describe('an MTA connection that stalls mid-packet is closed after mta_timeout', LIMITS, () => {
  const td = new Teardown();
  let tmp: TempDir;
  let manager: Manager;

  beforeAll(async () => {
    tmp = await makeTempDir('manager-mta-timeout');
    td.defer(() => tmp.remove());
    manager = await startManager({
      dir: tmp.path,
      config: { socketPath: join(tmp.path, 'manager.sock'), maxConnections: 1, mtaTimeout: 1, children: [] },
    });
    td.defer(() => manager.stop());
  });
  afterAll(() => td.run());

  test('the stalled connection is closed with one log line, and the slot it held serves the next session', async () => {
    const stalled = await open(manager.socketPath);
    const closed = new Promise<void>((r) => stalled.once('close', () => r()));
    stalled.on('error', () => undefined);
    stalled.write(OPTNEG.subarray(0, 7)); // length and part of the payload, then silence
    // With max_connections = 1 this one waits for the stalled connection's slot.
    const next = await open(manager.socketPath);
    const reply = negotiate(next);
    await closed; // the generous test timeout is the hang guard (libmilter's would be 7,210 s)
    expect(await reply).toBe('optneg');
    next.destroy();
    // The log line travels through the manager's stdout pipe: wait for it, then count.
    await manager.waitForRecord('the stall logged', (r) => /silent for 1 s/.test(String(r.msg)));
    const lines = manager.records().filter((r) => /silent for 1 s in the middle of a packet/.test(String(r.msg)));
    expect(lines, manager.output()).toHaveLength(1);
    expect(lines[0]!.level).toBe(40);
  });
});
