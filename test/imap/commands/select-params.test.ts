/**
 * SELECT/EXAMINE's (CONDSTORE) parameter (RFC 7162 §3.1.8): it turns CONDSTORE on, so HIGHESTMODSEQ is
 * announced; an unknown parameter or a broken list is BAD, with Dovecot's text.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';

let env: Env;
beforeEach(() => {
  env = new Env();
});
afterEach(async () => {
  await env.close();
});

describe('SELECT (CONDSTORE)', () => {
  it('turns CONDSTORE on and announces HIGHESTMODSEQ', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 EXAMINE INBOX (CONDSTORE)
      S: * FLAGS *
      S: * OK [PERMANENTFLAGS ()] *
      S: * 0 EXISTS
      S: * 0 RECENT
      S: * OK [UIDVALIDITY *] *
      S: * OK [UIDNEXT 1] *
      S: * OK [HIGHESTMODSEQ *] Highest
      S: a1 OK [READ-ONLY] Examine completed.
    `);
    expect(c.session.enabled.has('CONDSTORE')).toBe(true);
  });

  it.each([
    ['SELECT INBOX (FOO)', 'SELECT', 'Unknown FETCH modifier'],
    ['SELECT INBOX (CONDSTORE', 'SELECT', 'expected SP or ")" *'],
    ['EXAMINE INBOX CONDSTORE', 'EXAMINE', 'expected a list of select parameters *'],
    ['SELECT INBOX (CONDSTORE) x', 'SELECT', 'expected end of command *'],
  ])('%s is BAD', async (cmd, name, text) => {
    const c = await loggedIn(env);
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command ${name}: ${text}
    `);
    expect(c.session.enabled.has('CONDSTORE')).toBe(false);
  });
});
