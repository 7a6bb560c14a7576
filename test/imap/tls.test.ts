/**
 * TLS on loopback with a self-signed certificate: Python's imaplib (a real client) over STARTTLS and over
 * implicit TLS doing LOGIN, SELECT INBOX, NOOP, LOGOUT; LOGIN refused before STARTTLS when loopback is not
 * a plaintext network; and no command injection: plaintext pipelined after STARTTLS is never run.
 */
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON3 } from '../interop/harness/imap.js';
import { describeResult, runCommand } from '../interop/harness/process.js';
import { LineClient } from './harness/transcript.js';
import { connectPlain, startServer, type Running } from './harness/server.js';

const SCRIPT = String.raw`
import imaplib, json, ssl, sys
mode, port, cafile, user, password, try_plain = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] == '1'
ctx = ssl.create_default_context(cadata=cafile)
ctx.check_hostname = False
out = {}
if mode == 'starttls':
    m = imaplib.IMAP4('127.0.0.1', port, timeout=20)
    out['before'] = sorted(m.capabilities)
    if try_plain:
        try:
            m.login(user, password)
            out['plainLogin'] = 'OK'
        except imaplib.IMAP4.error as e:
            out['plainLogin'] = str(e)
    m.starttls(ssl_context=ctx)
else:
    m = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx, timeout=20)
out['after'] = sorted(m.capabilities)
typ, data = m.login(user, password)
out['login'] = typ
typ, data = m.select('INBOX')
out['select'] = typ
out['exists'] = int(data[0])
typ, data = m.noop()
out['noop'] = typ
typ, data = m.logout()
out['logout'] = typ
print(json.dumps(out))
`;

interface Result {
  before?: string[];
  plainLogin?: string;
  after: string[];
  login: string;
  select: string;
  exists: number;
  noop: string;
  logout: string;
}

/** `tryPlain`: a LOGIN before STARTTLS first (its answer in plainLogin). */
async function imaplib(mode: 'starttls' | 'ssl', port: number, cert: string, tryPlain = false): Promise<Result> {
  const r = await runCommand(PYTHON3, ['-c', SCRIPT, mode, String(port), cert, 'alice', 'secret', tryPlain ? '1' : '0'], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`imaplib ${mode} failed: ${describeResult(r)}`);
  return JSON.parse(r.stdout) as Result;
}

let running: Running;
let strict: Running;
beforeAll(async () => {
  running = await startServer();
  strict = await startServer({ plaintextAuthNetworks: [] });
  for (const s of [running, strict]) await s.store.delivery.deliver('alice', () => Readable.from([Buffer.from('Subject: hi\n\nbody\n')]), { hostname: 'test' });
});
afterAll(async () => {
  await running?.server.close(1000);
  await strict?.server.close(1000);
});

describe('imaplib', () => {
  it('STARTTLS, LOGIN, SELECT INBOX, NOOP, LOGOUT', async () => {
    const r = await imaplib('starttls', running.port('imap'), running.cert);
    expect(r.before).toContain('STARTTLS');
    expect(r.after).not.toContain('STARTTLS');
    expect(r.before).toContain('AUTH=PLAIN');
    expect(r).toMatchObject({ login: 'OK', select: 'OK', exists: 1, noop: 'OK', logout: 'BYE' });
    expect(running.logs.some((l) => /imap login: user=<alice>, method=LOGIN, rip=127\.0\.0\.1, TLS$/.test(l))).toBe(true);
  });

  it('refuses LOGIN before STARTTLS when loopback is not a plaintext network, then logs in over TLS', async () => {
    const r = await imaplib('starttls', strict.port('imap'), strict.cert, true);
    expect(r.before).toEqual(expect.arrayContaining(['STARTTLS', 'LOGINDISABLED']));
    expect(r.before).not.toContain('AUTH=PLAIN');
    expect(r.plainLogin).toMatch(/PRIVACYREQUIRED/);
    expect(r.after).toContain('AUTH=PLAIN');
    expect(r).toMatchObject({ login: 'OK', select: 'OK', exists: 1, noop: 'OK', logout: 'BYE' });
    expect(strict.logs.some((l) => /imap login: user=<alice>, method=LOGIN, rip=127\.0\.0\.1, TLS$/.test(l))).toBe(true);
    expect(strict.logs.some((l) => /imap logout: user=<alice>, rip=127\.0\.0\.1, TLS: Logged out in=\d+ out=\d+ secs=\d+/.test(l))).toBe(true);
  });

  it('implicit TLS: LOGIN, SELECT INBOX, NOOP, LOGOUT', async () => {
    const r = await imaplib('ssl', running.port('imaps'), running.cert);
    expect(r.after).toContain('AUTH=PLAIN');
    expect(r).toMatchObject({ login: 'OK', select: 'OK', exists: 1, noop: 'OK', logout: 'BYE' });
  });
});

describe('STARTTLS', () => {
  it('discards plaintext pipelined after STARTTLS (no command injection)', async () => {
    const plain = await connectPlain(strict.port('imap'));
    expect(await plain.line()).toMatch(/^\* OK \[CAPABILITY .*STARTTLS.*LOGINDISABLED\] Mailgate ready\.$/);
    plain.send('a1 STARTTLS\r\nb1 LOGIN alice secret\r\nb2 NOOP\r\n');
    expect(await plain.line()).toBe('a1 OK Begin TLS negotiation now.');
    plain.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: plain.socket as import('node:net').Socket, ca: strict.cert, servername: 'imap.test' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const c = new LineClient(secure);
    await c.run(`
      C: c1 NAMESPACE
      S: c1 BAD NAMESPACE is not allowed before login: log in first.
      C: c2 STARTTLS
      S: c2 BAD TLS is already active.
      C: c3 LOGIN alice secret
      S: c3 OK [CAPABILITY *] Logged in
      C: c4 LOGOUT
      S: * BYE Logging out
      S: c4 OK Logout completed.
    `);
  });

  it('a client that answers STARTTLS with plaintext is cut off; the server goes on', async () => {
    const plain = await connectPlain(running.port('imap'));
    await plain.line();
    plain.send('a1 STARTTLS\r\n');
    expect(await plain.line()).toBe('a1 OK Begin TLS negotiation now.');
    plain.send('a2 LOGIN alice secret\r\n');
    expect(await plain.closed()).toBe(true);
    const next = await connectPlain(running.port('imap'));
    expect(await next.line()).toMatch(/^\* OK /);
    next.socket.destroy();
  });
});
