// Random input against live sessions (memory store, loopback): any bytes before and after login are answered
// with +OK/-ERR lines or end the connection with a final -ERR — never a crash, never a hang — and the server
// keeps serving (a normal session works after every run).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pop3TestClient } from './client.js';
import { deliver, startPop3, type StartedPop3 } from './harness.js';

let s: StartedPop3;
beforeAll(async () => {
  s = await startPop3();
  await deliver(s.store, 'alice@example.org', ['Subject: a\n\nbody\n', 'Subject: b\n\n.\n..\n']);
});
afterAll(() => s.close());

// STLS is left out: a client sending plaintext after it waits for the handshake's idle timeout, rightly.
const KEYWORDS = ['USER', 'PASS', 'AUTH', 'CAPA', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'TOP', 'UIDL', 'APOP', 'XYZ'];
const line = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYWORDS), fc.array(fc.oneof(fc.nat().map(String), fc.constantFrom('-1', '0', '99999999999999999999', '', 'PLAIN', '=', '*')), { maxLength: 3 })).map(([k, a]) => Buffer.from([k, ...a].join(' '))),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).filter((x) => x !== 10 && x !== 13)),
);

async function healthy(): Promise<void> {
  const c = await Pop3TestClient.connect(s.port);
  expect(await c.line()).toMatch(/^\+OK/);
  await c.command('USER alice@example.org');
  expect(await c.command('PASS secret')).toMatch(/^\+OK/);
  expect(await c.command('RSET')).toMatch(/^\+OK/);
  await c.command('QUIT');
  await c.closed();
}

describe('POP3 session fuzz', () => {
  it('answers or closes on any input, before and after login', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(line, { minLength: 1, maxLength: 8 }), async (login, lines) => {
        const c = await Pop3TestClient.connect(s.port);
        await c.line();
        if (login) {
          await c.command('USER alice@example.org');
          await c.command('PASS secret');
        }
        c.send(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\r\n')])));
        // A last "AUTH PLAIN" waits for a continuation line and would take QUIT as its response (RFC 5034), as
        // Dovecot does; "*" cancels such an exchange and is merely an unknown command otherwise.
        c.send('*\r\nQUIT\r\n');
        // Every reply is a status line, a continuation or a body line; the connection always ends.
        await c.closed();
        await healthy();
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
