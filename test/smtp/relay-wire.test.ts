/**
 * The relay tricks typed on a raw socket into a real smtp-server on loopback whose onRcptTo calls
 * parsePath and relayDecision (as src/smtp/ does): whatever smtp-server's own parsing lets through or
 * rewrites (it drops source routes and turns A-label domains into Unicode), nothing for a non-local
 * destination is accepted from an unauthenticated client outside mynetworks, while local mail is, and an
 * authenticated client or one in mynetworks may relay.
 */
import { connect } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkList } from '../../src/mail/network-list.js';
import type { Reply } from '../../src/mail/reply.js';
import { isPathError, parsePath } from '../../src/smtp/address.js';
import { relayDecision } from '../../src/smtp/relay-policy.js';
import { TRICKS } from './relay-tricks.js';

const LOCAL = new Set(['local.example', 'localhost', 'bücher.example']);
const isLocalDomain = (d: string): boolean => LOCAL.has(d.toLowerCase());

/** What the server let through onRcptTo, per session id: the test checks nothing non-local got in. */
const accepted: { address: string; kind: string; authenticated: boolean }[] = [];
let mynetworks = new NetworkList([]);

function smtpError(reply: Reply): Error {
  // smtp-server writes `${responseCode} ${message}`; ENHANCEDSTATUSCODES is hidden so that the enhanced
  // code is ours, not its default for the reply code
  return Object.assign(new Error(`${reply.enhancedCode ?? ''} ${String(reply.text ?? '')}`.trim()), { responseCode: reply.code });
}

function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void): void {
  const smtputf8 = (session.envelope as { smtpUtf8?: boolean }).smtpUtf8 === true;
  const path = parsePath(address.address, { smtputf8 });
  if (isPathError(path)) return callback(smtpError(path.reply));
  const client = { authenticated: session.user !== undefined, trusted: mynetworks.has(session.remoteAddress) };
  const decision = relayDecision(path, client, isLocalDomain, { shownAddress: address.address });
  if (!decision.allowed) return callback(smtpError(decision.reply));
  accepted.push({ address: path.address, kind: decision.kind, authenticated: client.authenticated });
  callback();
}

let server: SMTPServer;
let port = 0;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    hideENHANCEDSTATUSCODES: true,
    logger: false,
    onAuth: (auth, _session, cb) => (auth.username === 'alice@local.example' && auth.password === 'pw' ? cb(null, { user: auth.username }) : cb(new Error('no'))),
    onRcptTo,
    onData: (stream, _session, cb) => {
      stream.resume();
      stream.on('end', () => cb());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  port = addr.port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * One SMTP session on a raw socket: each entry of `lines` is written as it is, followed by CRLF, and the
 * replies to it are read (as many as the CRLFs it holds, plus one). Returns the last line of each reply.
 */
async function rawSession(lines: readonly string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let buffer = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => undefined);
  /** The next complete reply (its last line), or 'closed'. */
  const reply = async (): Promise<string> => {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3}(?: [^\n]*)?)\r?\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return (m[1] as string).replace(/\r$/, '');
      }
      if (closed) return 'closed';
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const out: string[] = [];
  try {
    await reply();
    for (const line of lines) {
      socket.write(Buffer.from(`${line}\r\n`, 'utf8'));
      const count = line.split('\r\n').length;
      for (let i = 0; i < count; i++) out.push(await reply());
    }
  } finally {
    socket.end('QUIT\r\n');
    socket.destroySoon();
  }
  return out;
}

/** Tricks whose source route smtp-server strips, leaving user@local.example: refused by relayDecision when it sees the route, delivered locally on the wire. */
const SOURCE_ROUTED_TO_LOCAL = ['@other.example:user@local.example', '@local.example,@other.example:user@local.example', '@LOCAL.EXAMPLE:user@local.example'];

const AUTH_PLAIN = `AUTH PLAIN ${Buffer.from('\0alice@local.example\0pw').toString('base64')}`;

describe('relay tricks on the wire, through smtp-server', () => {
  it('refuses every trick from an unauthenticated client outside mynetworks, with Postfix replies', async () => {
    mynetworks = new NetworkList([]);
    accepted.length = 0;
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
    expect(accepted).toEqual(SOURCE_ROUTED_TO_LOCAL.map(() => ({ address: 'user@local.example', kind: 'local', authenticated: false })));
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
    mynetworks = new NetworkList([]);
    accepted.length = 0;
    const replies = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example> SMTPUTF8', line]);
    expect(replies[1]).toMatch(/^250 /);
    for (const r of replies.slice(2)) expect(r).toMatch(/^(250|501|500|554|555|421) |^closed$/);
    // only the plain local recipient may have been taken
    for (const a of accepted) expect(a).toEqual({ address: 'user@local.example', kind: 'local', authenticated: false });
  });

  it('takes local mail from anyone, as typed in any case, quoted or as an A-label', async () => {
    mynetworks = new NetworkList([]);
    accepted.length = 0;
    const rcpts = ['user@local.example', 'USER@LOCAL.EXAMPLE', '"user"@local.example', 'user@xn--bcher-kva.example', 'Postmaster', 'user@localhost'];
    const replies = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example>', ...rcpts.map((r) => `RCPT TO:<${r}>`)]);
    expect(replies.slice(2)).toEqual(rcpts.map(() => '250 Accepted'));
    expect(accepted.map((a) => a.kind)).toEqual(rcpts.map(() => 'local'));
  });

  it('lets an authenticated client relay, and refuses it again in a new unauthenticated session', async () => {
    mynetworks = new NetworkList([]);
    accepted.length = 0;
    const replies = await rawSession(['EHLO client.example', AUTH_PLAIN, 'MAIL FROM:<alice@local.example>', 'RCPT TO:<user@other.example>']);
    expect(replies[1]).toMatch(/^235 /);
    expect(replies[3]).toBe('250 Accepted');
    expect(accepted).toEqual([{ address: 'user@other.example', kind: 'relay', authenticated: true }]);
    const again = await rawSession(['EHLO client.example', 'MAIL FROM:<alice@local.example>', 'RCPT TO:<user@other.example>']);
    expect(again[2]).toBe('554 5.7.1 <user@other.example>: Relay access denied');
  });

  it('lets a client in mynetworks relay', async () => {
    mynetworks = new NetworkList(['127.0.0.0/8', '::1/128']);
    accepted.length = 0;
    const replies = await rawSession(['EHLO client.example', 'MAIL FROM:<s@client.example>', 'RCPT TO:<user@other.example>']);
    expect(replies[2]).toBe('250 Accepted');
    expect(accepted).toEqual([{ address: 'user@other.example', kind: 'relay', authenticated: false }]);
    mynetworks = new NetworkList([]);
  });
});
