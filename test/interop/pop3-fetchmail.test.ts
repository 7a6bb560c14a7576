// fetchmail against our POP3 server (memory store): `keep uidl` fetches everything once and nothing the
// second time (UIDL is stable across sessions); without keep (and with flush, for what it saw before) the
// maildrop is emptied; STLS and implicit TLS
// (certificate not checked: the test's is self-signed) work as plain does.
import { afterEach, describe, expect, it } from 'vitest';
import { fetchmail, type Fetchmail } from './harness/fetchmail.js';
import { deliver, startPop3, type StartedPop3 } from '../pop3/harness.js';

const ALICE = 'alice@example.org';
const MESSAGES = ['From: a@example.net\nTo: alice@example.org\nSubject: one\nMessage-ID: <1@x>\n\nHello\n.leading dot\n', 'From: b@example.net\r\nTo: alice@example.org\r\nSubject: two\r\nMessage-ID: <2@x>\r\n\r\nsecond\r\n'];

let s: StartedPop3 | undefined;
let f: Fetchmail | undefined;
afterEach(async () => {
  await s?.close();
  await f?.remove();
  s = undefined;
  f = undefined;
});

async function inboxCount(started: StartedPop3): Promise<number> {
  const handle = await started.store.openUser(ALICE);
  const status = await handle.status('INBOX');
  await handle.release();
  return status.messages;
}

describe('fetchmail', () => {
  it('keep uidl: fetches both messages, then nothing; without keep the server is emptied', async () => {
    s = await startPop3();
    await deliver(s.store, ALICE, MESSAGES);
    f = await fetchmail();
    const first = await f.run({ port: s.port, user: ALICE, password: 'secret', keep: true, tls: 'plain' });
    expect(first.result.exitCode).toBe(0);
    expect(first.bsmtp).toContain('Subject: one');
    expect(first.bsmtp).toContain('Subject: two');
    // BSMTP stuffs the leading dot again for its own DATA.
    expect(first.bsmtp).toContain('\r\n..leading dot\r\n');
    expect(await inboxCount(s)).toBe(2);

    const second = await f.run({ port: s.port, user: ALICE, password: 'secret', keep: true, tls: 'plain' });
    expect(second.result.exitCode).toBe(1);
    expect(second.bsmtp).not.toContain('Subject:');

    const third = await f.run({ port: s.port, user: ALICE, password: 'secret', keep: false, flush: true, tls: 'plain' });
    expect([0, 1]).toContain(third.result.exitCode);
    await expect.poll(() => inboxCount(s!)).toBe(0);
  });

  for (const tls of ['stls', 'ssl'] as const) {
    it(`fetches and deletes over ${tls === 'ssl' ? 'implicit TLS' : 'STLS'}`, async () => {
      s = await startPop3({ config: { plaintextAuthNetworks: [] } });
      await deliver(s.store, ALICE, MESSAGES);
      f = await fetchmail();
      const r = await f.run({ port: tls === 'ssl' ? s.tlsPort : s.port, user: ALICE, password: 'secret', keep: false, tls });
      expect(r.result.exitCode).toBe(0);
      expect(r.bsmtp).toContain('Subject: two');
      await expect.poll(() => inboxCount(s!)).toBe(0);
    });
  }
});
