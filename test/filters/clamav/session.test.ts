/**
 * Kept clamd sessions (keep_alive) and streamed scans, against fake clamd servers on loopback:
 * connections reused and numbered, closed when idle or broken, and a stream replayed when its
 * connection is dropped.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClamdClient } from '../../../src/filters/clamav/client.js';
import { ClamdConnection } from '../../../src/filters/clamav/connection.js';
import { ClamdPool } from '../../../src/filters/clamav/pool.js';
import { ClamdStream } from '../../../src/filters/clamav/stream.js';
import { recordingLogger } from './drive.js';
import { deadTcpAddress, replyWith, startFakeClamd, type Behaviour, type FakeClamd } from './fake-clamd.js';
import { hangGuard } from '../../hang-guard.js';

const fakes: FakeClamd[] = [];
const clients: ClamdClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});
async function fake(behave: Behaviour, where: 'tcp' | 'unix' = 'tcp'): Promise<FakeClamd> {
  const f = await startFakeClamd(behave, where);
  fakes.push(f);
  return f;
}
function client(f: FakeClamd, extra: { idleMs?: number } = {}): ClamdClient {
  const c = new ClamdClient([f.spec], { timeouts: FAST, keepAlive: true, ...extra });
  clients.push(c);
  return c;
}
const until = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
};

const FAST = { connectMs: 500, readMs: 300 };
const MESSAGE = [Buffer.from('From: a@example.com\r\n\r\n'), Buffer.from('body\r\n')];
/** A clamd that keeps its sessions open: answers each request, never closes. */
const clean = replyWith('stream: OK', { close: false });

describe('keep_alive: clamd sessions', () => {
  it('scans one after another on one session, the replies numbered 1, 2, 3 (tcp and unix)', async () => {
    for (const where of ['tcp', 'unix'] as const) {
      const f = await fake(clean, where);
      const c = client(f);
      for (let i = 0; i < 3; i++) await expect(c.scan(MESSAGE)).resolves.toMatchObject({ kind: 'clean' });
      expect([f.connections, f.sessions]).toEqual([1, 1]);
      expect(f.scanned).toHaveLength(3);
    }
  });

  it('PING and VERSION go over the kept session too', async () => {
    const f = await fake((socket, received) => {
      if (!received.includes(0)) return;
      const cmd = received.toString('latin1', 0, received.indexOf(0));
      socket.write(cmd === 'zPING' ? 'PONG\0' : 'ClamAV 1.4.6/27345/Mon Jul 21 08:00:00 2025\0');
    });
    const c = client(f);
    await expect(c.ping()).resolves.toBe(true);
    await expect(c.version()).resolves.toMatchObject({ engine: '1.4.6' });
    expect(f.connections).toBe(1);
  });

  it('a session clamd closed while idle is not used again: the next scan opens a new one', async () => {
    const f = await fake(clean);
    const c = client(f);
    await c.scan(MESSAGE);
    f.sockets()[0]!.end(); // clamd's IdleTimeout
    await until(() => f.sockets().length === 0);
    await new Promise((r) => setTimeout(r, 20));
    await expect(c.scan(MESSAGE)).resolves.toMatchObject({ kind: 'clean' });
    expect(f.connections).toBe(2);
  });

  it('a kept session that ends while a request is on it: not retried (clamd may have died of that message)', async () => {
    let served = 0;
    const f = await fake((socket, received) => {
      if (!received.subarray(0, 10).equals(Buffer.from('zINSTREAM\0'))) return;
      if (served++ === 1) socket.destroy(); // took the second request, then went away
      else clean(socket, received);
    });
    const c = client(f);
    await c.scan(MESSAGE);
    await expect(c.scan(MESSAGE)).rejects.toMatchObject({ phase: 'exchange', dropped: false });
    expect(f.connections).toBe(1);
  });

  it('a session that clamd times out just as it is reused (COMMAND READ TIMED OUT, then closed): the request goes again', async () => {
    let served = 0;
    let f: FakeClamd | undefined = undefined;
    f = await fake((socket, received) => {
      if (!received.subarray(0, 10).equals(Buffer.from('zINSTREAM\0'))) return;
      // Written on the raw socket: clamd's timeout line is not a numbered reply.
      if (served++ === 1) f!.sockets()[0]!.end('COMMAND READ TIMED OUT\n');
      else clean(socket, received);
    });
    const { logger, lines } = recordingLogger();
    const c = new ClamdClient([f.spec], { timeouts: FAST, keepAlive: true, logger });
    clients.push(c);
    await c.scan(MESSAGE);
    await expect(c.scan(MESSAGE)).resolves.toMatchObject({ kind: 'clean' });
    expect(f.connections).toBe(2);
    expect(lines).toEqual([]);
  });

  it('idle sessions are closed after idle time (before clamd would), politely with zEND', async () => {
    const f = await fake(clean);
    const c = client(f, { idleMs: 50 });
    await c.scan(MESSAGE);
    expect(f.sockets()).toHaveLength(1);
    await until(() => f.sockets().length === 0);
    expect(f.sockets()).toHaveLength(0);
  });

  it('close() ends the kept sessions', async () => {
    const f = await fake(clean);
    const c = client(f);
    await c.scan(MESSAGE);
    c.close();
    await until(() => f.sockets().length === 0);
    expect(f.sockets()).toHaveLength(0);
  });

  it('after an ERROR reply the session is not reused (clamd closes it)', async () => {
    let n = 0;
    const f = await fake((socket, received) => replyWith(n++ === 0 ? "stream: Can't create temporary file ERROR" : 'stream: OK', { close: false })(socket, received));
    const c = client(f);
    await expect(c.scan(MESSAGE)).resolves.toMatchObject({ kind: 'error' });
    await expect(c.scan(MESSAGE)).resolves.toMatchObject({ kind: 'clean' });
    expect(f.connections).toBe(2);
  });

  it('a server that knows no sessions: its unnumbered answer is reported, the connection not kept', async () => {
    // As clamd before 0.95 would: "UNKNOWN COMMAND" to zIDSESSION, then close.
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end('UNKNOWN COMMAND\0'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const c = new ClamdClient([{ type: 'inet', host: '127.0.0.1', port, family: 4 }], { timeouts: FAST, keepAlive: true });
      clients.push(c);
      await expect(c.scan(MESSAGE)).resolves.toMatchObject({ kind: 'unknown', text: 'UNKNOWN COMMAND' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('ClamdConnection', () => {
  it('close() while a reply is awaited fails that wait instead of leaving it hanging', async () => {
    const f = await fake(() => undefined);
    const conn = new ClamdConnection(f.spec, FAST);
    const reply = conn.send([Buffer.from('zPING\0')]);
    conn.close();
    await expect(reply).rejects.toThrow(/connection closed before the reply/);
  });
});

describe('ClamdStream: a scan written as the message comes', () => {
  it('holds small writes and sends the whole message at the end, in one chunk', async () => {
    const f = await fake(replyWith('stream: OK'));
    const pool = new ClamdPool([f.spec], { timeouts: FAST });
    const s = new ClamdStream(pool);
    expect(s.write([Buffer.from('From: a\r\n\r\n')])).toBeUndefined();
    expect(s.write([Buffer.from('hello\r\n')])).toBeUndefined();
    await expect(s.finish()).resolves.toMatchObject({ reply: 'stream: OK' });
    expect(f.scanned).toEqual([Buffer.from('From: a\r\n\r\nhello\r\n')]);
  });

  it('past the hold size, writes go out before the end', async () => {
    const chunks: number[] = [];
    const f = await fake((socket, received) => {
      chunks.push(received.length);
      replyWith('stream: OK')(socket, received);
    });
    const pool = new ClamdPool([f.spec], { timeouts: FAST });
    const s = new ClamdStream(pool, 1000);
    s.write([Buffer.alloc(600, 0x61)]);
    s.write([Buffer.alloc(600, 0x62)]); // 1200 waiting: written now
    await until(() => chunks.length > 0);
    expect(chunks[0]).toBeGreaterThanOrEqual(1200);
    s.write([Buffer.alloc(10, 0x63)]);
    await expect(s.finish()).resolves.toMatchObject({ reply: 'stream: OK' });
    expect(f.scanned[0]).toEqual(Buffer.concat([Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x62), Buffer.alloc(10, 0x63)]));
  });

  it('a connection that could not connect is replayed whole on another address (within the replay limit)', async () => {
    const live = await fake(replyWith('stream: OK'));
    const dead = await deadTcpAddress();
    const pool = new ClamdPool([dead, live.spec], { timeouts: FAST });
    const s = new ClamdStream(pool, 4000);
    s.write([Buffer.alloc(1500, 0x61)]);
    s.write([Buffer.alloc(1500, 0x62)]);
    await expect(s.finish()).resolves.toMatchObject({ reply: 'stream: OK' });
    expect(live.scanned).toEqual([Buffer.concat([Buffer.alloc(1500, 0x61), Buffer.alloc(1500, 0x62)])]);
  });

  it('a connection that failed before its first byte is replaced, whatever the size (nothing was lost)', async () => {
    const live = await fake(replyWith('stream: OK'));
    const dead = await deadTcpAddress();
    const pool = new ClamdPool([dead, live.spec], { timeouts: FAST });
    const s = new ClamdStream(pool, 1000);
    await new Promise((r) => setTimeout(r, 50)); // the refusal arrives before the first write
    s.write([Buffer.alloc(1500, 0x61)]); // past the replay limit: written now, on the replacement
    s.write([Buffer.alloc(1500, 0x62)]);
    await expect(s.finish()).resolves.toMatchObject({ reply: 'stream: OK' });
    expect(live.scanned[0]?.length).toBe(3000);
  });

  it('clamd dropping a fresh connection after taking the stream: not handed the message again', async () => {
    const f = await fake((socket, received) => {
      if (received.includes(Buffer.alloc(4))) socket.destroy(); // took it all, then went away (a crash)
    });
    const pool = new ClamdPool([f.spec], { timeouts: FAST });
    const s = new ClamdStream(pool, 4000);
    s.write([Buffer.alloc(100, 0x61)]);
    await expect(s.finish()).rejects.toMatchObject({ phase: 'exchange' });
    expect(f.connections).toBe(1);
  });

  it('past the replay limit, a connection refused after the first write cannot be replayed: the failure is the result', async () => {
    const f = await fake(() => undefined);
    const pool = new ClamdPool([f.spec], { timeouts: FAST });
    const s = new ClamdStream(pool, 1000);
    await until(() => f.connections === 1);
    s.write([Buffer.alloc(1500, 0x61)]); // written, and not kept
    f.sockets()[0]!.destroy();
    await until(() => f.sockets().length === 0);
    await expect(s.finish()).rejects.toBeInstanceOf(Error);
  });

  it('a clamd that stops reading: the writer is told to wait, and the read timeout ends it', async () => {
    const f = await fake((socket) => socket.pause());
    const pool = new ClamdPool([f.spec], { timeouts: FAST });
    const s = new ClamdStream(pool, 64 * 1024);
    let waited: Promise<void> | undefined;
    for (let i = 0; i < 400 && waited === undefined; i++) waited = s.write([Buffer.alloc(64 * 1024)]);
    expect(waited).toBeInstanceOf(Promise);
    const noHang = hangGuard(300);
    await waited;
    noHang();
    await expect(s.finish()).rejects.toThrow(/no answer within 0.3 s/);
  });

  it('clamd answers early (its size limit) while the rest is still coming: that answer is the result', async () => {
    const f = await fake((socket, received) => {
      if (received.length > 100) {
        socket.write('INSTREAM size limit exceeded. ERROR\0');
        socket.end();
      }
    });
    const pool = new ClamdPool([f.spec], { timeouts: FAST });
    const s = new ClamdStream(pool, 1000);
    s.write([Buffer.alloc(2000)]);
    await until(() => f.sockets().length === 0);
    await new Promise((r) => setTimeout(r, 20));
    s.write([Buffer.alloc(2000)]); // dropped: the connection is done
    const result = await s.finish().then(
      (r) => r.reply,
      (e: unknown) => (e as Error).message,
    );
    expect(result).toMatch(/size limit exceeded|EPIPE|ECONNRESET/);
  });
});
