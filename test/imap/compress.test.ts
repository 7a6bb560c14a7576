/**
 * COMPRESS=DEFLATE (RFC 4978) end to end on a real listener (TCP, memory store), with a raw client doing its
 * own zlib (harness/deflate-client.ts), so compression is proven on the wire: the capability only after
 * login, COMPRESS refused before login, bad arguments, `OK` written uncompressed, then LOGIN'd traffic
 * compressed both ways — SELECT, FETCH of a large message (fewer octets on the wire than decoded), APPEND
 * with a synchronising literal (its `+` arrives while the client waits), IDLE
 * whose `+` and EXISTS for a delivery arrive while the client waits (the server flushes), a second COMPRESS
 * (NO [COMPRESSIONACTIVE]), LOGOUT — and the logout line counting decompressed octets as Dovecot's does.
 * Also: a command pipelined in the same packet as COMPRESS, COMPRESS inside STARTTLS, corrupt input (one
 * log line, connection closed, server unharmed); commands sent just before the client closes its side all
 * run, as without compression (50 pipelined APPENDs + LOGOUT then FIN; LOGOUT then FIN); a client ending its
 * DEFLATE stream: quiet at LOGOUT, a protocol error (one log line, closed) if it goes on sending.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeflateClient } from './harness/deflate-client.js';
import { startServer, type Running } from './harness/server.js';

let running: Running;
const BIG = Buffer.from(
  ['From: bob@example.org', 'To: alice@example.org', 'Subject: the big one', '', ...Array.from({ length: 20_000 }, (_, i) => `line ${i} of a long and rather repetitive report`), ''].join('\r\n'),
);

async function deliver(r: Running, message: Buffer): Promise<void> {
  await r.store.delivery.deliver('alice', () => Readable.from([message]), { hostname: 'test' });
}

beforeAll(async () => {
  running = await startServer();
  await deliver(running, BIG);
});
afterAll(async () => {
  await running?.server.close(1000);
});

async function connect(port: number): Promise<DeflateClient> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return new DeflateClient(socket);
}

async function loggedIn(c: DeflateClient): Promise<string> {
  expect(await c.line()).toMatch(/^\* OK \[CAPABILITY /);
  c.send('l1 LOGIN alice secret\r\n');
  return c.line();
}

/** The logout line logged for this session, once it is there. */
async function logoutLine(r: Running, before: number): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const line = r.logs.slice(before).find((l) => l.startsWith('imap logout: user=<alice>'));
    if (line !== undefined) return line;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`no logout line in ${r.logs.slice(before).join('\n')}`);
}

describe('COMPRESS=DEFLATE', () => {
  it('announced and accepted only after login, with its argument checked', async () => {
    const c = await connect(running.port('imap'));
    const greeting = await c.line();
    expect(greeting).not.toContain('COMPRESS');
    c.send('a0 COMPRESS DEFLATE\r\n');
    expect(await c.line()).toMatch(/^a0 BAD /);
    c.send('a1 LOGIN alice secret\r\n');
    const ok = await c.line();
    expect(ok).toMatch(/^a1 OK \[CAPABILITY .* COMPRESS=DEFLATE[ \]]/);
    for (const [cmd, want] of [
      ['a2 COMPRESS X-BOGUS', /^a2 BAD /],
      ['a3 COMPRESS', /^a3 BAD /],
      ['a4 COMPRESS DEFLATE EXTRA', /^a4 BAD /],
      ['a5 COMPRESS "DEFLATE"', /^a5 BAD /],
    ] as const) {
      c.send(`${cmd}\r\n`);
      expect(await c.line()).toMatch(want);
    }
    // Still uncompressed after all the refusals.
    c.send('a6 NOOP\r\n');
    expect(await c.line()).toMatch(/^a6 OK/);
    c.destroy();
  });

  it('compresses a whole session: SELECT, a large FETCH, IDLE woken by a delivery, LOGOUT', async () => {
    const r = await startServer();
    try {
      await deliver(r, BIG);
      const before = r.logs.length;
      const c = await connect(r.port('imap'));
      expect(await loggedIn(c)).toMatch(/^l1 OK /);
      c.send('z1 compress deflate\r\n');
      expect(await c.line()).toBe('z1 OK DEFLATE active');
      c.startCompress();
      const wireAtSwitch = c.wireIn;
      const plainAtSwitch = c.plainIn;

      c.send('s1 SELECT INBOX\r\n');
      expect(await c.untilTagged('s1')).toContain('* 1 EXISTS');

      c.send('f1 FETCH 1 BODY.PEEK[]\r\n');
      const head = await c.line();
      expect(head).toBe(`* 1 FETCH (BODY[] {${BIG.length}}`);
      expect((await c.bytes(BIG.length)).equals(BIG)).toBe(true);
      expect(await c.line()).toBe(')');
      expect(await c.line()).toMatch(/^f1 OK /);
      // The report compresses well: far fewer octets crossed the wire than were decoded.
      expect(c.wireIn - wireAtSwitch).toBeLessThan((c.plainIn - plainAtSwitch) / 5);

      // A synchronising literal: the client waits for the `+` before sending the message.
      const appended = Buffer.from('Subject: appended compressed\r\n\r\nbody\r\n');
      c.send(`ap1 APPEND Drafts {${appended.length}}\r\n`);
      expect(await c.line()).toMatch(/^\+ /);
      c.send(Buffer.concat([appended, Buffer.from('\r\n')]));
      expect(await c.line()).toMatch(/^ap1 OK \[APPENDUID /);

      c.send('i1 IDLE\r\n');
      expect(await c.line()).toBe('+ idling');
      await deliver(r, Buffer.from('Subject: while idling\r\n\r\nhello\r\n'));
      const updates: string[] = [];
      while (!updates.includes('* 2 EXISTS')) updates.push(await c.line());
      c.send('DONE\r\n');
      expect((await c.untilTagged('i1')).at(-1)).toMatch(/^i1 OK /);

      c.send('z2 COMPRESS DEFLATE\r\n');
      expect(await c.line()).toMatch(/^z2 NO \[COMPRESSIONACTIVE\] /);

      c.send('o1 LOGOUT\r\n');
      expect(await c.line()).toMatch(/^\* BYE/);
      expect(await c.line()).toMatch(/^o1 OK /);
      expect(await c.closed()).toBe(true);
      // The logout line counts IMAP octets (decompressed), as Dovecot's in=/out= do.
      const line = await logoutLine(r, before);
      expect(line).toContain(`in=${c.plainOut} out=${c.plainIn} `);
    } finally {
      await r.server.close(1000);
    }
  });

  it('takes a command pipelined in the same packet as COMPRESS, already compressed', async () => {
    const c = await connect(running.port('imap'));
    expect(await loggedIn(c)).toMatch(/^l1 OK /);
    const compressedNoop = deflateRawSync(Buffer.from('p2 NOOP\r\n'), { finishFlush: constants.Z_SYNC_FLUSH });
    c.socket.write(Buffer.concat([Buffer.from('p1 COMPRESS DEFLATE\r\n'), compressedNoop]));
    expect(await c.line()).toBe('p1 OK DEFLATE active');
    c.startCompress();
    expect(await c.line()).toMatch(/^p2 OK /);
    c.destroy();
  });

  it('compresses inside TLS after STARTTLS', async () => {
    const socket = net.connect(running.port('imap'), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const plain = new DeflateClient(socket);
    await plain.line();
    plain.send('t1 STARTTLS\r\n');
    expect(await plain.line()).toMatch(/^t1 OK /);
    socket.removeAllListeners('data');
    const secure = tls.connect({ socket, ca: running.cert, servername: 'imap.test' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const c = new DeflateClient(secure);
    c.send('t2 LOGIN alice secret\r\n');
    expect(await c.line()).toMatch(/^t2 OK \[CAPABILITY .*COMPRESS=DEFLATE/);
    c.send('t3 COMPRESS DEFLATE\r\n');
    expect(await c.line()).toBe('t3 OK DEFLATE active');
    c.startCompress();
    c.send('t4 SELECT INBOX\r\n');
    expect(await c.untilTagged('t4')).toContain('* 1 EXISTS');
    c.send('t5 LOGOUT\r\n');
    expect((await c.untilTagged('t5')).at(-1)).toMatch(/^t5 OK /);
    expect(c.compressedChunks.length).toBeGreaterThan(0);
    c.destroy();
  });

  it('closes a connection sending corrupt DEFLATE data, with one log line, and goes on serving', async () => {
    const before = running.logs.length;
    const c = await connect(running.port('imap'));
    expect(await loggedIn(c)).toMatch(/^l1 OK /);
    c.send('x1 COMPRESS DEFLATE\r\n');
    expect(await c.line()).toBe('x1 OK DEFLATE active');
    c.startCompress();
    c.socket.write(Buffer.alloc(32, 0xff));
    expect(await c.closed()).toBe(true);
    const logs = running.logs.slice(before);
    expect(logs.filter((l) => l.includes('corrupt DEFLATE data'))).toHaveLength(1);
    expect(await logoutLine(running, before)).toContain('Corrupt compressed input');

    const d = await connect(running.port('imap'));
    expect(await loggedIn(d)).toMatch(/^l1 OK /);
    d.destroy();
  });
});

/** The number of messages in alice's INBOX, asked over a fresh (uncompressed) connection. */
async function inboxCount(r: Running): Promise<number> {
  const c = await connect(r.port('imap'));
  expect(await loggedIn(c)).toMatch(/^l1 OK /);
  c.send('e1 EXAMINE INBOX\r\n');
  const exists = (await c.untilTagged('e1')).map((l) => /^\* (\d+) EXISTS$/.exec(l)).find((m) => m !== null);
  c.destroy();
  return Number(exists![1]);
}

/** Logged in, and compressed when asked. */
async function session(r: Running, compressed: boolean): Promise<DeflateClient> {
  const c = await connect(r.port('imap'));
  expect(await loggedIn(c)).toMatch(/^l1 OK /);
  if (compressed) {
    c.send('z1 COMPRESS DEFLATE\r\n');
    expect(await c.line()).toBe('z1 OK DEFLATE active');
    c.startCompress();
  }
  return c;
}

describe('COMPRESS=DEFLATE: the client closing its side', () => {
  it('runs every command sent before the close, as without compression (50 APPENDs + LOGOUT, then FIN)', async () => {
    const outcome: Record<string, { appended: number; reason: string | undefined }> = {};
    for (const compressed of [false, true]) {
      const r = await startServer();
      try {
        const before = r.logs.length;
        const c = await session(r, compressed);
        const appends = Array.from({ length: 50 }, (_, i) => {
          const m = `Subject: pipelined ${i}\r\n\r\n${'x'.repeat(20_000)}\r\n`;
          return `a${i} APPEND INBOX {${m.length}+}\r\n${m}\r\n`;
        });
        c.send(`${appends.join('')}o1 LOGOUT\r\n`);
        await c.end();
        const line = await logoutLine(r, before);
        outcome[compressed ? 'compressed' : 'plain'] = { appended: await inboxCount(r), reason: /: ([A-Za-z ]+) in=/.exec(line)?.[1] };
        c.destroy();
      } finally {
        await r.server.close(1000);
      }
    }
    expect(outcome['plain']).toEqual({ appended: 50, reason: 'Logged out' });
    expect(outcome['compressed']).toEqual(outcome['plain']);
  });

  it('logs LOGOUT then an immediate close as a logout, compressed or not', async () => {
    const reasons: Record<string, string[]> = { plain: [], compressed: [] };
    for (const compressed of [false, true]) {
      for (let i = 0; i < 5; i++) {
        const before = running.logs.length;
        const c = await session(running, compressed);
        c.send('o1 LOGOUT\r\n');
        await c.end();
        const line = await logoutLine(running, before);
        reasons[compressed ? 'compressed' : 'plain']!.push(/: ([A-Za-z ]+) in=/.exec(line)?.[1] ?? line);
        c.destroy();
      }
    }
    expect(reasons['plain']).toEqual(Array(5).fill('Logged out'));
    expect(reasons['compressed']).toEqual(reasons['plain']);
  });

  it('is quiet when the client ends its DEFLATE stream at LOGOUT, then closes', async () => {
    const before = running.logs.length;
    const c = await session(running, true);
    c.send('o1 LOGOUT\r\n');
    await c.end(true);
    expect(await logoutLine(running, before)).toContain(': Logged out in=');
    expect(running.logs.slice(before).filter((l) => l.includes('DEFLATE'))).toEqual([]);
    c.destroy();
  });

  it('closes a connection that sends more after ending its DEFLATE stream, with one log line', async () => {
    const before = running.logs.length;
    const c = await session(running, true);
    // n1 ends the client's stream (BFINAL); n2 comes after it, compressed on its own.
    c.socket.write(deflateRawSync(Buffer.from('n1 NOOP\r\n'), { finishFlush: constants.Z_FINISH }));
    expect(await c.line()).toMatch(/^n1 OK /);
    c.socket.write(deflateRawSync(Buffer.from('n2 NOOP\r\n'), { finishFlush: constants.Z_SYNC_FLUSH }));
    expect(await c.closed()).toBe(true);
    expect(await logoutLine(running, before)).toContain('Corrupt compressed input');
    const logs = running.logs.slice(before).filter((l) => l.includes('DEFLATE'));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('data after the end of the compressed stream');
    c.destroy();
  });
});
