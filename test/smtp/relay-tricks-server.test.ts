/**
 * The relay tricks (relay-tricks.ts) against the whole SMTP server: smtp-server's parsing, the relay
 * parser and decision, then Accounts. From a client outside mynetworks, no trick gets a non-local recipient
 * accepted; only the source routes smtp-server strips down to a local mailbox reach that mailbox.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RawClient } from './raw-client.js';
import { startServer, type Started } from './harness.js';
import { TRICKS } from './relay-tricks.js';

let started: Started;
beforeAll(async () => {
  started = await startServer({ smtp: { mynetworks: [] } });
  // The tricks' local domains, with the mailbox they aim at.
  (started.accounts.domains as string[]).push('local.example', 'bücher.example');
  started.accounts.users['user@local.example'] = 'pw';
});
afterAll(async () => {
  await started.close();
});

const SOURCE_ROUTED_TO_LOCAL = new Set(['@other.example:user@local.example', '@local.example,@other.example:user@local.example', '@LOCAL.EXAMPLE:user@local.example']);

it('refuses every relay trick from a stranger, at RCPT, with a 5xx', async () => {
  const c = await RawClient.open(started.port('mx'));
  await c.reply();
  await c.command('EHLO client.example');
  for (const [addr] of TRICKS) {
    expect(await c.command('MAIL FROM:<s@client.example> SMTPUTF8')).toMatch(/^250 /);
    c.write(`RCPT TO:<${addr}>\r\n`);
    const lines = addr.includes('\r\n') ? 2 : 1;
    for (let i = 0; i < lines; i++) {
      const reply = (await c.reply())!.at(-1)!;
      if (SOURCE_ROUTED_TO_LOCAL.has(addr)) expect(reply, addr).toMatch(/^250 /);
      else expect(reply, addr).toMatch(/^5\d\d /);
    }
    expect(await c.command('RSET')).toMatch(/^250 /);
  }
  c.close();
  expect(started.spool.messages).toHaveLength(0);
});
