/** The clamd client against fake servers on loopback: every way a clamd can fail, and round-robin. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClamdClient } from '../../../src/filters/clamav/client.js';
import { ClamdError } from '../../../src/filters/clamav/connection.js';
import { deadTcpAddress, replyWith, startFakeClamd, type FakeClamd } from './fake-clamd.js';
import { recordingLogger } from './drive.js';
import { hangGuard } from '../../hang-guard.js';

const fakes: FakeClamd[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});
async function fake(...args: Parameters<typeof startFakeClamd>): Promise<FakeClamd> {
  const f = await startFakeClamd(...args);
  fakes.push(f);
  return f;
}

const FAST = { connectMs: 500, readMs: 300 };
const MESSAGE = [Buffer.from('From: a@example.com\r\n\r\n'), Buffer.from('body\r\n')];

async function scanError(client: ClamdClient): Promise<ClamdError> {
  const err = await client.scan(MESSAGE).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClamdError);
  return err as ClamdError;
}

describe('ClamdClient', () => {
  it('streams the parts as one zINSTREAM and reads the verdict (tcp and unix)', async () => {
    for (const where of ['tcp', 'unix'] as const) {
      const f = await fake(replyWith('stream: Eicar-Signature FOUND'), where);
      const client = new ClamdClient([f.spec], { timeouts: FAST });
      await expect(client.scan(MESSAGE)).resolves.toMatchObject({ kind: 'infected', virus: 'Eicar-Signature' });
      expect(f.scanned).toEqual([Buffer.concat(MESSAGE)]);
    }
  });

  it('PING and VERSION', async () => {
    const f = await fake((socket, received) => {
      if (!received.includes(0)) return;
      const cmd = received.toString('latin1', 0, received.indexOf(0));
      socket.end(cmd === 'zPING' ? 'PONG\0' : 'ClamAV 1.4.6/27345/Mon Jul 21 08:00:00 2025\0');
    });
    const client = new ClamdClient([f.spec], { timeouts: FAST });
    await expect(client.ping()).resolves.toBe(true);
    await expect(client.version()).resolves.toMatchObject({ engine: '1.4.6', database: '27345' });
  });

  it('unreachable: a connect failure', async () => {
    const client = new ClamdClient([await deadTcpAddress()], { timeouts: FAST });
    const err = await scanError(client);
    expect(err.phase).toBe('connect');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('a clamd that never takes the connection: a connect failure after connect_timeout', async () => {
    // A listener with a full accept queue that never accepts: further SYNs are dropped, connect hangs.
    const py = spawn('python3', ['-c', 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0); print(s.getsockname()[1], flush=True); time.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fillers: Socket[] = [];
    try {
      const port = Number((await once(py.stdout, 'data'))[0]);
      for (let i = 0; i < 3; i++) fillers.push(connect({ host: '127.0.0.1', port }).on('error', () => undefined));
      await new Promise((r) => setTimeout(r, 100));
      const client = new ClamdClient([{ type: 'inet', host: '127.0.0.1', port, family: 4 }], { timeouts: FAST });
      const noHang = hangGuard(500);
      const err = await scanError(client);
      expect(err.phase).toBe('connect');
      expect(err.message).toMatch(/no connection within 0.5 s/);
      noHang();
    } finally {
      for (const f of fillers) f.destroy();
      py.kill();
    }
  });

  it('a unix socket that does not exist: a connect failure', async () => {
    const client = new ClamdClient([{ type: 'unix', path: '/nonexistent/clamd.ctl' }], { timeouts: FAST });
    expect((await scanError(client)).message).toMatch(/ENOENT/);
  });

  it('garbage reply: unknown, not a verdict', async () => {
    const f = await fake(replyWith('HTTP/1.1 400 Bad Request'));
    const client = new ClamdClient([f.spec], { timeouts: FAST });
    await expect(client.scan(MESSAGE)).resolves.toMatchObject({ kind: 'unknown', text: 'HTTP/1.1 400 Bad Request' });
  });

  it('endless garbage without a NUL: fails without reading forever', async () => {
    const f = await fake((socket) => socket.write(Buffer.alloc(8192, 0x41)));
    const client = new ClamdClient([f.spec], { timeouts: FAST });
    const err = await scanError(client);
    expect(err.phase).toBe('exchange');
    expect(err.message).toMatch(/garbage reply/);
  });

  it('closes in the middle of the stream: fails', async () => {
    const f = await fake((socket) => socket.destroy());
    const client = new ClamdClient([f.spec], { timeouts: FAST });
    const err = await scanError(client);
    expect(err.phase).toBe('exchange');
    expect(err.message).toMatch(/closed the connection without a reply|ECONNRESET|EPIPE/);
  });

  it('closes in the middle of its reply: fails, showing what came', async () => {
    const f = await fake(replyWith(Buffer.from('stream: Ei'), { close: true }));
    const client = new ClamdClient([f.spec], { timeouts: FAST });
    expect((await scanError(client)).message).toMatch(/in the middle of its reply \("stream: Ei"\)/);
  });

  it('never answers: fails after the read timeout', async () => {
    const f = await fake(() => undefined);
    const client = new ClamdClient([f.spec], { timeouts: FAST });
    const noHang = hangGuard(300);
    const err = await scanError(client);
    expect(err.phase).toBe('exchange');
    expect(err.message).toMatch(/no answer within 0.3 s/);
    noHang();
  });

  it('INSTREAM size limit: an error result saying so', async () => {
    const f = await fake(replyWith('INSTREAM size limit exceeded. ERROR'));
    const client = new ClamdClient([f.spec], { timeouts: FAST });
    await expect(client.scan(MESSAGE)).resolves.toMatchObject({ kind: 'error', sizeLimit: true });
  });

  it('round-robin over several addresses', async () => {
    const a = await fake(replyWith('stream: OK'));
    const b = await fake(replyWith('stream: OK'), 'unix');
    const client = new ClamdClient([a.spec, b.spec], { timeouts: FAST });
    for (let i = 0; i < 6; i++) await client.scan(MESSAGE);
    expect([a.connections, b.connections]).toEqual([3, 3]);
  });

  it('a dead address is skipped for the next one, logged once, and left aside afterwards', async () => {
    const { logger, lines } = recordingLogger();
    const dead = await deadTcpAddress();
    const live = await fake(replyWith('stream: OK'));
    let now = 1_000_000;
    const client = new ClamdClient([dead, live.spec], { timeouts: FAST, logger, now: () => now, retryMs: 30_000 });
    for (let i = 0; i < 4; i++) await expect(client.scan(MESSAGE)).resolves.toMatchObject({ kind: 'clean', address: `inet:${live.spec.type === 'inet' ? live.spec.port : 0}@127.0.0.1` });
    expect(live.connections).toBe(4);
    const warnings = lines.filter((l) => l['level'] === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!['msg']).toMatch(/^clamd inet:\d+@127.0.0.1 unreachable \(connect ECONNREFUSED 127.0.0.1:\d+\), skipped for 30 s$/);
    // After the retry period the dead one is tried again (and found dead again: one more warning).
    now += 31_000;
    await client.scan(MESSAGE);
    await client.scan(MESSAGE);
    expect(lines.filter((l) => l['level'] === 40)).toHaveLength(2);
  });

  it('every address dead: one error naming them all', async () => {
    const client = new ClamdClient([await deadTcpAddress(), { type: 'unix', path: '/nonexistent/clamd.ctl' }], { timeouts: FAST });
    const err = await scanError(client);
    expect(err.phase).toBe('connect');
    expect(err.message).toMatch(/^clamd inet:\d+@127.0.0.1, unix:\/nonexistent\/clamd.ctl: not reachable \(inet:\d+@127.0.0.1: connect ECONNREFUSED .*; unix:\/nonexistent\/clamd.ctl: connect ENOENT .*\)$/);
  });
});
