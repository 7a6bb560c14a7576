/**
 * The relay tricks typed on a raw socket into a real smtp-server on loopback whose onRcptTo calls
 * parsePath and relayDecision (as src/smtp/ does): whatever smtp-server's own parsing lets through or
 * rewrites (it drops source routes and turns A-label domains into Unicode), nothing for a non-local
 * destination is accepted from an unauthenticated client outside mynetworks, while local mail is, and an
 * authenticated client or one in mynetworks may relay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawSession as raw, startRelayServer, type RelayServer } from './relay-server.js';
import { TRICKS } from './relay-tricks.js';

let server: RelayServer;
beforeAll(async () => {
  server = await startRelayServer(['local.example', 'localhost', 'bücher.example']);
});
afterAll(async () => {
  await server.close();
});

const rawSession = (lines: readonly string[]): Promise<string[]> => raw(server.port, lines);

/** Tricks whose source route smtp-server strips, leaving user@local.example: refused by relayDecision when it sees the route, delivered locally on the wire. */
const SOURCE_ROUTED_TO_LOCAL = ['@other.example:user@local.example', '@local.example,@other.example:user@local.example', '@LOCAL.EXAMPLE:user@local.example'];

const AUTH_PLAIN = `AUTH PLAIN ${Buffer.from('\0alice@local.example\0pw').toString('base64')}`;

describe('relay tricks on the wire, through smtp-server', () => {
  it('refuses every trick from an unauthenticated client outside mynetworks, with Postfix replies', async () => {
    server.setMynetworks([]);
    server.accepted.length = 0;
    for (const [addr] of TRICKS) {
      const [, mail, ...rcpt] = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example> SMTPUTF8', `RCPT TO:<${addr}>`]);
      expect(mail).toMatch(/^250 /);
      if (SOURCE_ROUTED_TO_LOCAL.includes(addr)) {
        // smtp-server drops the source route before onRcptTo (RFC 5321 appendix C): what is left is the
        // local mailbox itself, delivered here and routed nowhere else
        expect(rcpt).toEqual(['250 Accepted']);
        continue;
      }
      // a reply for every command written (a CRLF inside the address makes two), each one a refusal
      for (const r of rcpt) expect(r, addr).toMatch(/^(501|554) /);
    }
    // only the source-routed local mailboxes went through onRcptTo, as plain local recipients
    expect(server.accepted).toEqual(SOURCE_ROUTED_TO_LOCAL.map(() => ({ address: 'user@local.example', kind: 'local', authenticated: false })));
    // the denied ones that smtp-server passes on unchanged get exactly Postfix's line
    const expectExact = [
      'user@other.example',
      'user%other.example@local.example',
      'other.example!user@local.example',
      'user@[192.0.2.1]',
      'user@[127.0.0.1]',
      'user%other.example@localhost',
    ];
    for (const addr of expectExact) {
      const [, , rcpt] = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example>', `RCPT TO:<${addr}>`]);
      expect(rcpt).toBe(`554 5.7.1 <${addr}>: Relay access denied`);
    }
  });

  it.each([
    'RCPT TO:user@other.example',
    'RCPT TO: <user@other.example>',
    'RCPT TO:<user@other.example> ',
    'rcpt to:<USER@OTHER.EXAMPLE>',
    'RCPT TO:<user@other.example> NOTIFY=NEVER',
    'RCPT TO:<user@local.example> <user@other.example>',
    'RCPT TO:<user@other.example> <user@local.example>',
    'RCPT TO:<@local.example:user@other.example>',
    'RCPT TO:<@local.example,@local.example:user@other.example>',
    'RCPT TO:<user@xn--bcher-kva.other>',
    'RCPT TO:<user@bücher.other>',
    'RCPT TO:<"user@other.example"@local.example>',
    'RCPT TO:<"user%other.example"@local.example>',
    'RCPT TO:<user\\@other.example@local.example>',
    'RCPT TO:<user@local.example\u0000@other.example>',
    'RCPT TO:<user@local.example\r@other.example>',
    'RCPT TO:<user@local.example\n@other.example>',
    'RCPT TO:<user@other.example\r\nRCPT TO:<user%other.example@local.example>',
    `RCPT TO:<${'a'.repeat(300)}@other.example>`,
    `RCPT TO:<user@${'a.'.repeat(200)}other.example>`,
    'RCPT TO:<user@ｏｔｈｅｒ.example>',
    'RCPT TO:<user@other\u200b.example>',
  ])('%j never gets a recipient accepted for a non-local destination', async (line) => {
    server.setMynetworks([]);
    server.accepted.length = 0;
    const replies = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example> SMTPUTF8', line]);
    expect(replies[1]).toMatch(/^250 /);
    for (const r of replies.slice(2)) expect(r).toMatch(/^(250|501|500|554|555|421) |^closed$/);
    // only the plain local recipient may have been taken
    for (const a of server.accepted) expect(a).toEqual({ address: 'user@local.example', kind: 'local', authenticated: false });
  });

  it('takes local mail from anyone, as typed in any case, quoted or as an A-label', async () => {
    server.setMynetworks([]);
    server.accepted.length = 0;
    const rcpts = ['user@local.example', 'USER@LOCAL.EXAMPLE', '"user"@local.example', 'user@xn--bcher-kva.example', 'Postmaster', 'user@localhost'];
    const replies = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example>', ...rcpts.map((r) => `RCPT TO:<${r}>`)]);
    expect(replies.slice(2)).toEqual(rcpts.map(() => '250 Accepted'));
    expect(server.accepted.map((a) => a.kind)).toEqual(rcpts.map(() => 'local'));
  });

  it('lets an authenticated client relay, and refuses it again in a new unauthenticated session', async () => {
    server.setMynetworks([]);
    server.accepted.length = 0;
    const replies = await rawSession(['EHLO client.example', AUTH_PLAIN, 'MAIL FROM:<alice@local.example>', 'RCPT TO:<user@other.example>']);
    expect(replies[1]).toMatch(/^235 /);
    expect(replies[3]).toBe('250 Accepted');
    expect(server.accepted).toEqual([{ address: 'user@other.example', kind: 'relay', authenticated: true }]);
    const again = await rawSession(['EHLO client.example', 'MAIL FROM:<alice@local.example>', 'RCPT TO:<user@other.example>']);
    expect(again[2]).toBe('554 5.7.1 <user@other.example>: Relay access denied');
  });

  it('lets a client in mynetworks relay', async () => {
    server.setMynetworks(['127.0.0.0/8', '::1/128']);
    server.accepted.length = 0;
    const replies = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example>', 'RCPT TO:<user@other.example>']);
    expect(replies[2]).toBe('250 Accepted');
    expect(server.accepted).toEqual([{ address: 'user@other.example', kind: 'relay', authenticated: false }]);
    server.setMynetworks([]);
  });
});
