/**
 * The session's state machine and the commands without mailbox logic, as transcripts over the in-memory
 * duplex: greeting, CAPABILITY by state, NOOP, LOGOUT, ID, ENABLE, NAMESPACE, CHECK, CLOSE, UNSELECT,
 * SELECT/EXAMINE responses, commands in the wrong state, bad input (never a crash, never stuck).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANY_STATE, command, no, ok } from '../../src/imap/command.js';
import { Env, loggedIn } from './harness/transcript.js';

let env: Env;
beforeEach(() => {
  env = new Env();
});
afterEach(async () => {
  await env.close();
});

describe('greeting and capabilities', () => {
  it('greets with the pre-login capabilities', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 CAPABILITY
      S: * CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN
      S: a1 OK Capability completed.
    `);
  });

  it('says LOGINDISABLED (and no AUTH=) to a client outside the plaintext networks before TLS', async () => {
    const c = await env.client({ address: '192.0.2.7' });
    await c.run(`
      C: a1 CAPABILITY
      S: * CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE LOGINDISABLED
      S: a1 OK *
      C: a2 LOGIN alice secret
      S: a2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.
      C: a3 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==
      S: a3 NO [PRIVACYREQUIRED] *
    `);
  });

  it('offers AUTH=PLAIN over implicit TLS from anywhere', async () => {
    const c = await env.client({ address: '192.0.2.7', tls: true });
    await c.run(`
      C: a1 CAPABILITY
      S: * CAPABILITY IMAP4rev1 * AUTH=PLAIN
      S: a1 OK *
      C: a2 LOGIN alice secret
      S: a2 OK [CAPABILITY IMAP4rev1 *] Logged in
    `);
  });

  it('lists the post-login capabilities after login', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 CAPABILITY
      S: * CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE CONDSTORE QRESYNC COMPRESS=DEFLATE APPENDLIMIT=10000000
      S: a1 OK Capability completed.
    `);
  });

  it('does not offer STARTTLS without a certificate', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 STARTTLS
      S: a1 BAD TLS support isn't enabled.
    `);
  });
});

describe('simple commands', () => {
  it('NOOP, ID, NAMESPACE, ENABLE, LOGOUT', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 NOOP
      S: a1 OK NOOP completed.
      C: a2 ID ("name" "test" "version" NIL)
      S: * ID ("name" "Mailgate")
      S: a2 OK ID completed.
      C: a3 ID NIL
      S: * ID *
      S: a3 OK *
      C: a4 NAMESPACE
      S: a4 BAD NAMESPACE is not allowed before login: log in first.
      C: a5 LOGIN alice secret
      S: a5 OK *
      C: a6 NAMESPACE
      S: * NAMESPACE (("" "/")) NIL NIL
      S: a6 OK Namespace completed.
      C: a7 ENABLE CONDSTORE X-UNKNOWN
      S: * ENABLED CONDSTORE
      S: a7 OK Enabled.
      C: a8 LOGOUT
      S: * BYE Logging out
      S: a8 OK Logout completed.
    `);
    expect(await c.closed()).toBe(true);
    await c.done;
    expect(env.logs.some((l) => /imap login: user=<alice>, method=LOGIN, rip=127\.0\.0\.1/.test(l))).toBe(true);
    expect(env.logs.some((l) => /imap logout: user=<alice>, rip=127\.0\.0\.1: Logged out in=\d+ out=\d+ secs=\d+/.test(l))).toBe(true);
  });

  it('LOGOUT before login ends the session too', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 LOGOUT
      S: * BYE Logging out
      S: a1 OK Logout completed.
    `);
    expect(await c.closed()).toBe(true);
  });

  it('bad ID syntax is BAD', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 ID ("name")
      S: a1 BAD Error in IMAP command ID: *
      C: a2 ID
      S: a2 BAD Error in IMAP command ID: *
    `);
  });
});

describe('states', () => {
  it('refuses mailbox commands before login and selected-state ones before SELECT', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 SELECT INBOX
      S: a1 BAD SELECT is not allowed before login: log in first.
      C: a2 CHECK
      S: a2 BAD CHECK is not allowed before login: log in first.
      C: a3 LOGIN alice secret
      S: a3 OK *
      C: a4 CHECK
      S: a4 BAD No mailbox selected.
      C: a5 CLOSE
      S: a5 BAD No mailbox selected.
      C: a6 UNSELECT
      S: a6 BAD No mailbox selected.
      C: a7 LOGIN alice secret
      S: a7 BAD Already logged in.
      C: a8 AUTHENTICATE PLAIN
      S: a8 BAD Already logged in.
      C: a9 ENABLE CONDSTORE
      S: * ENABLED CONDSTORE
      S: a9 OK *
    `);
  });

  it('answers unknown commands and UID forms BAD', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 FROBNICATE
      S: a1 BAD Error in IMAP command FROBNICATE: Unknown command.
      C: a2 UID NOOP
      S: a2 BAD Error in IMAP command UID NOOP: Unknown command.
      C: a3 UID
      S: a3 BAD Error in IMAP command UID: missing command name
      C: a4 NOOP extra
      S: a4 BAD Error in IMAP command NOOP: *
    `);
  });
});

describe('SELECT and EXAMINE', () => {
  async function deliver(user: string, text: string): Promise<void> {
    await env.store.delivery.deliver(user, () => Readable.from([Buffer.from(text)]), { hostname: 'test' });
  }

  it('SELECT gives FLAGS, PERMANENTFLAGS, EXISTS, RECENT, UNSEEN, UIDVALIDITY, UIDNEXT, READ-WRITE (as Dovecot 2.3)', async () => {
    await deliver('alice', 'Subject: one\n\nbody\n');
    await deliver('alice', 'Subject: two\n\nbody\n');
    const c = await loggedIn(env);
    await c.run(`
      C: a1 SELECT INBOX
      S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
      S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.
      S: * 2 EXISTS
      S: * 2 RECENT
      S: * OK [UNSEEN 1] First unseen.
      S: * OK [UIDVALIDITY *] UIDs valid
      S: * OK [UIDNEXT 3] Predicted next UID
      S: a1 OK [READ-WRITE] Select completed.
      C: a2 CHECK
      S: a2 OK Check completed.
      C: a2b ENABLE CONDSTORE
      S: a2b BAD ENABLE is only allowed before a mailbox is selected.
      C: a3 UNSELECT
      S: a3 OK Unselect completed.
      C: a4 CHECK
      S: a4 BAD No mailbox selected.
    `);
    // The recent messages were claimed by that session: a second SELECT sees none.
    await c.run(`
      C: a5 EXAMINE inbox
      S: * FLAGS *
      S: * OK [PERMANENTFLAGS ()] Read-only mailbox.
      S: * 2 EXISTS
      S: * 0 RECENT
      S: * OK [UNSEEN 1] *
      S: * OK [UIDVALIDITY *] *
      S: * OK [UIDNEXT 3] *
      S: a5 OK [READ-ONLY] Examine completed.
    `);
  });

  it('HIGHESTMODSEQ once CONDSTORE is on', async () => {
    const c = await loggedIn(env);
    c.session.enable('CONDSTORE');
    await c.run(`
      C: a1 EXAMINE Trash
      S: * FLAGS *
      S: * OK [PERMANENTFLAGS ()] *
      S: * 0 EXISTS
      S: * 0 RECENT
      S: * OK [UIDVALIDITY *] UIDs valid
      S: * OK [UIDNEXT 1] Predicted next UID
      S: * OK [HIGHESTMODSEQ 1] Highest
      S: a1 OK [READ-ONLY] Examine completed.
    `);
  });

  it('a failed SELECT leaves the authenticated state; a missing mailbox is NO [NONEXISTENT]', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 SELECT Drafts
      S: * FLAGS *
      S: * OK [PERMANENTFLAGS *] *
      S: * 0 EXISTS
      S: * 0 RECENT
      S: * OK [UIDVALIDITY *] *
      S: * OK [UIDNEXT 1] *
      S: a1 OK [READ-WRITE] *
      C: a2 SELECT Nowhere
      S: * OK [CLOSED] Previous mailbox closed.
      S: a2 NO [NONEXISTENT] *
      C: a3 CHECK
      S: a3 BAD No mailbox selected.
      C: a4 SELECT "&Jjo-"
      S: a4 NO [NONEXISTENT] *
      C: a5 SELECT "&Jjo"
      S: a5 NO Mailbox name is not valid mUTF-7*
    `);
  });

  it('CLOSE removes \\Deleted messages silently; EXAMINE+CLOSE removes nothing', async () => {
    await deliver('alice', 'Subject: one\n\n1\n');
    await deliver('alice', 'Subject: two\n\n2\n');
    const user = await env.store.openUser('alice');
    const box = await user.open('INBOX', 'read-write');
    await box.setFlags([1], { mode: 'add', flags: ['\\Deleted'] });
    const c = await loggedIn(env);
    await c.run(`
      C: a1 EXAMINE INBOX
      S: * FLAGS *
      S: * OK [PERMANENTFLAGS ()] *
      S: * 2 EXISTS
      S: * 2 RECENT
      S: * OK [UNSEEN 1] *
      S: * OK [UIDVALIDITY *] *
      S: * OK [UIDNEXT 3] *
      S: a1 OK [READ-ONLY] *
      C: a2 CLOSE
      S: a2 OK Close completed.
    `);
    expect((await user.status('INBOX')).messages).toBe(2);
    await c.run(`
      C: a3 SELECT INBOX
      S: * FLAGS *
      S: * OK [PERMANENTFLAGS *] *
      S: * 2 EXISTS
      S: * 2 RECENT
      S: * OK [UNSEEN 1] *
      S: * OK [UIDVALIDITY *] *
      S: * OK [UIDNEXT 3] *
      S: a3 OK [READ-WRITE] *
      C: a4 CLOSE
      S: a4 OK Close completed.
      C: a5 NOOP
      S: a5 OK NOOP completed.
    `);
    expect((await user.status('INBOX')).messages).toBe(1);
    await box.close();
  });
});

describe('bad input', () => {
  it('answers garbage, empty lines and broken strings without dying', async () => {
    const c = await env.client();
    await c.run(`
      C: 
      S: * BAD Error in IMAP command received by server: *
      C: (bad tag
      S: * BAD *
      C: a1
      S: a1 BAD *
      C: a2 LOGIN "alice secret
      S: a2 BAD Error in IMAP command LOGIN: *
      C: a3 LOGIN alice
      S: a3 BAD *
      C: a4 NOOP
      S: a4 OK NOOP completed.
    `);
  });

  it('takes a password as a literal, and refuses a big literal before login unread', async () => {
    const c = await env.client();
    c.send('a1 LOGIN alice {6}\r\n');
    expect(await c.line()).toBe('+ Ready for literal data');
    c.send('secret\r\n');
    expect(await c.line()).toMatch(/^a1 OK \[CAPABILITY /);
    const d = await env.client();
    d.send('b1 LOGIN alice {100000}\r\n');
    expect(await d.line()).toMatch(/^b1 NO \[TOOBIG\]/);
    await d.run(`
      C: b2 NOOP
      S: b2 OK NOOP completed.
    `);
  });

  it('a line over the limit is BAD and the session goes on', async () => {
    const small = new Env({ maxLineLength: 100 });
    const c = await small.client();
    c.send(`a1 NOOP ${'x'.repeat(500)}\r\n`);
    expect(await c.line()).toMatch(/^a1 BAD /);
    await c.run(`
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
    await small.close();
  });

  it('hangs up after 20 bad commands in a row', async () => {
    const c = await env.client();
    for (let i = 0; i < 20; i++) c.send(`x${i} BOGUS\r\n`);
    for (let i = 0; i < 20; i++) expect(await c.line()).toMatch(/^x\d+ BAD /);
    expect(await c.line()).toBe('* BYE Too many invalid IMAP commands.');
    expect(await c.closed()).toBe(true);
  });

  it('login timeout: BYE', async () => {
    const quick = new Env({ settings: { loginTimeoutMs: 50 } });
    const c = await quick.client();
    expect(await c.line()).toBe('* BYE Disconnected: login timed out.');
    expect(await c.closed()).toBe(true);
    await quick.close();
    expect(quick.logs.some((l) => /disconnected before login.*Login timeout/.test(l))).toBe(true);
  });

  it('idle timeout after login: BYE', async () => {
    const quick = new Env({ settings: { idleTimeoutMs: 50 } });
    const c = await loggedIn(quick);
    expect(await c.line()).toBe('* BYE Disconnected for inactivity.');
    expect(await c.closed()).toBe(true);
    await quick.close();
  });

  it('shutdown sends BYE to a session between commands', async () => {
    const c = await loggedIn(env);
    c.session.shutdown();
    expect(await c.line()).toBe('* BYE Server shutting down.');
    expect(await c.closed()).toBe(true);
  });
});

describe('literals through the connection', () => {
  /** Test double: takes one string argument and says how long it was and a checksum of its bytes. */
  const xecho = command<Buffer>({
    name: 'XECHO',
    states: ANY_STATE,
    expungeSafe: true,
    parse(args) {
      args.sp();
      return args.stringBytes();
    },
    run: (_session, bytes) => Promise.resolve(ok(`${bytes.length} ${createHash('sha1').update(bytes).digest('hex')}`)),
  });

  it('a handler may refuse a synchronising literal unread (APPEND to a missing mailbox, say)', async () => {
    const picky = command<Buffer>({ ...xecho, name: 'XPICKY', literal: (_s, a) => (a.size > 3 ? no('Too big for me', 'TOOBIG') : undefined) });
    const env2 = new Env({ commands: [picky] });
    const c = await env2.client();
    c.send('a1 XPICKY {10}\r\n');
    expect(await c.line()).toBe('a1 NO [TOOBIG] Too big for me');
    c.send('a2 XPICKY {3}\r\n');
    expect(await c.line()).toBe('+ Ready for literal data');
    c.send('abc\r\n');
    expect(await c.line()).toMatch(/^a2 OK 3 /);
    await env2.close();
  });

  it('a handler may take a literal\'s bytes as they arrive (openLiteral): the frame keeps only its size', async () => {
    const received: Buffer[] = [];
    const sinking = command<number>({
      name: 'XSINK',
      states: ANY_STATE,
      expungeSafe: true,
      openLiteral: () => (chunk) => received.push(Buffer.from(chunk)),
      parse(args) {
        args.sp();
        const seg = args.literalSegment();
        return seg.sunk ? seg.size : -1;
      },
      run: (_s, size) => Promise.resolve(ok(`sunk ${size} ${Buffer.concat(received).toString('hex')}`)),
    });
    const env2 = new Env({ commands: [sinking] });
    const c = await env2.client();
    c.send('a1 XSINK {5+}\r\nhe\nlo\r\n');
    expect(await c.line()).toBe(`a1 OK sunk 5 ${Buffer.from('he\nlo').toString('hex')}`);
    await env2.close();
  });

  it('a large literal full of line ends (synchronising and LITERAL+) arrives exactly, and what follows is the next command', async () => {
    const echo = new Env({ commands: [xecho] });
    const c = await loggedIn(echo);
    const body = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i} \u00e9\r\n`).join(''), 'utf8');
    const sum = createHash('sha1').update(body).digest('hex');
    c.send(`a1 XECHO {${body.length}}\r\n`);
    expect(await c.line()).toBe('+ Ready for literal data');
    c.send(Buffer.concat([body, Buffer.from('\r\na2 NOOP\r\n')]));
    expect(await c.line()).toBe(`a1 OK ${body.length} ${sum}`);
    expect(await c.line()).toBe('a2 OK NOOP completed.');
    c.send(Buffer.concat([Buffer.from(`b1 XECHO {${body.length}+}\r\n`), body, Buffer.from('\r\nb2 NOOP\r\n')]));
    expect(await c.line()).toBe(`b1 OK ${body.length} ${sum}`);
    expect(await c.line()).toBe('b2 OK NOOP completed.');
    await echo.close();
  });
});

describe('random input', () => {
  const token = fc.constantFrom('a1 ', 'LOGIN ', 'alice ', 'secret', '{5}', '{3+}', '\r\n', '\n', '"', '(', ')', ' ', 'SELECT INBOX', 'IDLE', 'DONE', 'AUTHENTICATE PLAIN', '*', 'UID ', 'STARTTLS', 'NOOP', '\0', '\u00ff');
  const input = fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), fc.array(token, { maxLength: 40 }).map((t) => Buffer.from(t.join(''), 'latin1')));

  it('never crashes a session, never leaves it stuck, answers only in well-formed lines', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 4 }), async (chunks) => {
        const fuzz = new Env({ settings: { idleKeepaliveMs: 60_000 } });
        const c = await fuzz.client();
        for (const chunk of chunks) c.send(chunk);
        c.socket.end();
        const finished = await Promise.race([c.done.then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]);
        expect(finished).toBe(true);
        for (const line of c.unread()) expect(line).toMatch(/^(\* |\+ |[^\s(){%*"\\+]+ (OK|NO|BAD) )/);
        expect(fuzz.logs.filter((l) => /session error|SERVERBUG| failed: /.test(l) && !/login failed/.test(l))).toEqual([]);
        await fuzz.close();
      }),
      { numRuns: 300 },
    );
  });
});
