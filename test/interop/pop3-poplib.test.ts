// Python's poplib against our POP3 server (memory store): plain on loopback, STLS, POP3_SSL (self-signed
// certificate, not checked), the plaintext refusal outside plaintext_auth_networks, and deletion at QUIT.
import { afterEach, describe, expect, it } from 'vitest';
import { poplibLoginError, poplibSession } from './harness/poplib.js';
import { deliver, startPop3, type StartedPop3 } from '../pop3/harness.js';

const ALICE = 'alice@example.org';
const MESSAGES = ['From: a@x\nSubject: one\n\nHello\n.leading dot\n', 'From: b@x\r\nSubject: two\r\n\r\nl1\r\nl2\r\n', 'Subject: 8bit \u00e9\n\nbody \u00fc\n'];
const crlf = (s: string): string => s.replace(/(?<!\r)\n/g, '\r\n');

let s: StartedPop3 | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('poplib', () => {
  for (const mode of ['plain', 'stls', 'ssl'] as const) {
    it(`reads every message (${mode})`, async () => {
      s = await startPop3();
      await deliver(s.store, ALICE, MESSAGES);
      const port = mode === 'ssl' ? s.tlsPort : s.port;
      const r = await poplibSession({ port, user: ALICE, password: 'secret', mode, top: [0, 1] });
      expect(r.welcome).toBe('+OK Mailgate ready.');
      expect(Object.keys(r.capa)).toEqual(expect.arrayContaining(['TOP', 'UIDL', 'USER', 'SASL', 'PIPELINING', 'RESP-CODES']));
      expect(Object.keys(r.capa).includes('STLS')).toBe(mode === 'plain');
      const sizes = MESSAGES.map((m) => Buffer.byteLength(crlf(m)));
      expect(r.stat).toEqual([3, sizes.reduce((a, b) => a + b, 0)]);
      expect(r.list).toEqual(sizes.map((n, i) => `${i + 1} ${n}`));
      expect(r.uidl.map((l) => l.split(' ')[1])).toEqual([expect.stringMatching(/^00000001[0-9a-f]{8}$/), expect.stringMatching(/^00000002/), expect.stringMatching(/^00000003/)]);
      // poplib hands back lines without their CRLF; joined again they are the CRLF message minus its last line end.
      expect(r.messages.map((m) => m.text.toString('utf8'))).toEqual(MESSAGES.map((m) => crlf(m).replace(/\r\n$/, '')));
      expect(r.top.map((t) => t.toString())).toEqual(['From: a@x\r\nSubject: one\r\n', 'From: a@x\r\nSubject: one\r\n\r\nHello']);
      expect(r.quit).toMatch(/^\+OK/);
    });
  }

  it('is refused a plaintext login outside plaintext_auth_networks, and may log in after stls()', async () => {
    s = await startPop3({ config: { plaintextAuthNetworks: [] } });
    await deliver(s.store, ALICE, MESSAGES.slice(0, 1));
    expect(await poplibLoginError({ port: s.port, user: ALICE, password: 'secret', mode: 'plain' })).toBe('-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.');
    const r = await poplibSession({ port: s.port, user: ALICE, password: 'secret', mode: 'stls' });
    expect(r.stat[0]).toBe(1);
  });

  it('deletes at QUIT, and a wrong password is [AUTH]', async () => {
    s = await startPop3();
    await deliver(s.store, ALICE, MESSAGES);
    expect(await poplibLoginError({ port: s.port, user: ALICE, password: 'nope', mode: 'plain' })).toBe('-ERR [AUTH] Authentication failed.');
    await poplibSession({ port: s.port, user: ALICE, password: 'secret', mode: 'plain', deleteAll: true });
    const again = await poplibSession({ port: s.port, user: ALICE, password: 'secret', mode: 'plain' });
    expect(again.stat).toEqual([0, 0]);
  });
});
