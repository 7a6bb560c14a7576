/**
 * LOGIN and AUTHENTICATE PLAIN (with and without SASL-IR): success, failure with [AUTHENTICATIONFAILED]
 * after the delay, the address slowed down, BYE after the per-connection limit, aborts and bad base64,
 * authorization identities, and the log lines.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Env } from './harness/transcript.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

let env: Env;
beforeEach(() => {
  env = new Env();
});
afterEach(async () => {
  await env.close();
});

describe('LOGIN', () => {
  it('logs in with atoms, quoted strings and literals; user names are the accounts\' canonical ones', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 LOGIN "ALICE" "secret"
      S: a1 OK [CAPABILITY IMAP4rev1 *] Logged in
      C: a2 NAMESPACE
      S: * NAMESPACE *
      S: a2 OK *
    `);
    expect(c.session.user).toBe('alice');
  });

  it('a wrong password is NO [AUTHENTICATIONFAILED]; the address is slowed down; BYE at the limit', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 LOGIN alice wrong
      S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.
    `);
    expect(env.guard.delayMs('127.0.0.1')).toBeGreaterThan(0);
    await c.run(`
      C: a2 LOGIN nobody secret
      S: a2 NO [AUTHENTICATIONFAILED] Authentication failed.
      C: a3 LOGIN alice wrong
      S: a3 NO [AUTHENTICATIONFAILED] Authentication failed.
      S: * BYE Too many invalid authentication attempts.
    `);
    expect(await c.closed()).toBe(true);
    await c.done;
    expect(env.logs.filter((l) => l.startsWith('imap login failed: user=<alice>, method=LOGIN, rip=127.0.0.1')).length).toBe(2);
    expect(env.logs.some((l) => /imap disconnected before login, rip=127\.0\.0\.1: Too many failed logins/.test(l))).toBe(true);
  });

  it('a successful login after a failure works', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 LOGIN alice wrong
      S: a1 NO [AUTHENTICATIONFAILED] *
      C: a2 LOGIN alice secret
      S: a2 OK [CAPABILITY *] Logged in
    `);
  });
});

describe('AUTHENTICATE PLAIN', () => {
  it('with an initial response (SASL-IR)', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 AUTHENTICATE PLAIN ${b64('\0alice\0secret')}
      S: a1 OK [CAPABILITY *] Logged in
    `);
    expect(env.logs.some((l) => l.startsWith('imap login: user=<alice>, method=PLAIN'))).toBe(true);
  });

  it('with a continuation, and with authzid = authcid', async () => {
    const c = await env.client();
    c.send('a1 authenticate plain\r\n');
    expect(await c.line()).toBe('+ ');
    c.send(b64('alice\0alice\0secret') + '\r\n');
    expect(await c.line()).toMatch(/^a1 OK \[CAPABILITY /);
  });

  it('refuses another authorization identity, bad base64, a short response, an abort, other mechanisms', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 AUTHENTICATE PLAIN ${b64('bob\0alice\0secret')}
      S: a1 NO [AUTHORIZATIONFAILED] *
      C: a2 AUTHENTICATE PLAIN %%%%
      S: a2 BAD Error in IMAP command AUTHENTICATE: *
      C: a3 AUTHENTICATE PLAIN ${b64('alice\0secret')}
      S: a3 NO [AUTHENTICATIONFAILED] *
      C: a4 AUTHENTICATE PLAIN
      S: + *
      C: *
      S: a4 BAD Authentication aborted by client.
      C: a5 AUTHENTICATE CRAM-MD5
      S: a5 NO Unsupported authentication mechanism.
      C: a6 AUTHENTICATE PLAIN
      S: + *
      C: not base64!
      S: a6 BAD Invalid base64 data in the authentication response.
      C: a7 AUTHENTICATE PLAIN =
      S: a7 NO [AUTHENTICATIONFAILED] *
      C: a8 NOOP
      S: a8 OK NOOP completed.
    `);
  });

  it('a wrong password counts as a failure', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 AUTHENTICATE PLAIN ${b64('\0alice\0nope')}
      S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.
    `);
    expect(env.guard.delayMs('127.0.0.1')).toBeGreaterThan(0);
  });
});

describe('user connection limit', () => {
  it('refuses a login past the per user and address limit with NO [LIMIT]', async () => {
    // The server wires userSlots from user_connection_limit; here a session gets one directly.
    const limited = new Env();
    const c = await limited.client();
    (c.session as unknown as { deps: { userSlots: unknown } }).deps.userSlots = { enter: () => false, leave: () => undefined };
    await c.run(`
      C: a1 LOGIN alice secret
      S: a1 NO [LIMIT] *
    `);
    await limited.close();
  });
});
