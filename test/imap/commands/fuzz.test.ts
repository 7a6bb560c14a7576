/**
 * The mailbox commands under random arguments: token soups built from the grammar's pieces (atoms,
 * quoted strings, lists, sequence sets, flags, modifiers, wildcards, traversal names, bad mUTF-7) sent as
 * one command line. Every command gets exactly one tagged OK, NO or BAD, the session is never stuck or
 * closed, and no name outside the user's folders ever appears (bob's mail is never listed).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Env, loggedIn, type Client } from '../harness/transcript.js';
import { deliver } from './helpers.js';

const SEED = 20261203;
const RUNS = Number(process.env['MAILGATE_FUZZ_RUNS'] ?? 1500);

const COMMANDS = ['CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LIST', 'LSUB', 'STATUS', 'STORE', 'UID STORE', 'COPY', 'UID COPY', 'MOVE', 'UID MOVE', 'EXPUNGE', 'UID EXPUNGE', 'GETQUOTA', 'GETQUOTAROOT', 'SETQUOTA', 'APPEND'];
const TOKENS = [
  'INBOX', 'inbox', 'Work', '"Work"', 'Sent', '""', '"*"', '%', '*', '"../bob/INBOX"', '"INBOX/../../"', '..', '&AMk-t&AOk-', '&Jjo', '&AC4ALg-',
  '(', ')', '()', '(\\Seen)', '\\Seen', '\\Recent', '\\Foo', '$Junk', '+FLAGS', '-FLAGS.SILENT', 'FLAGS', 'FLAGS.SILENT', '(UNCHANGEDSINCE 1)',
  '(UNCHANGEDSINCE 99999999999999999999)', '1', '0', '1:*', '*:2', '4294967296', '1,3', '(MESSAGES UIDNEXT)', '(FOO)', 'RETURN', '(CHILDREN)',
  '(SUBSCRIBED RECURSIVEMATCH)', '(STATUS (SIZE))', '"User quota"', '(STORAGE 10)', '"01-Feb-2026 10:00:00 +0000"', '"31-Feb-2026 10:00:00 +0000"',
  '"unterminated', '\\', '"a\\"b"', 'NIL', '{3+}\r\nabc', '{0+}\r\n', 'x'.repeat(300),
];

let env: Env;
let c: Client;
beforeAll(async () => {
  env = new Env();
  await deliver(env, 3);
  await deliver(env, 1, { user: 'bob' });
  await (await env.store.openUser('bob')).create('BobSecret');
  await (await env.store.openUser('alice')).create('Work');
  c = await loggedIn(env);
  await c.run(`
    C: s1 SELECT INBOX
  `);
  for (let line = await c.line(); !line.startsWith('s1 '); line = await c.line());
});
afterAll(async () => {
  await env.close();
});

describe('mailbox commands fuzz', () => {
  it('always one tagged OK/NO/BAD, never stuck, never another user\'s names', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...COMMANDS), fc.array(fc.constantFrom(...TOKENS), { maxLength: 6 }), fc.boolean(), async (cmd, tokens, space) => {
        const tag = `f${n++}`;
        const line = `${tag} ${cmd}${tokens.length > 0 || space ? ' ' : ''}${tokens.join(space ? ' ' : '')}`;
        // A NOOP after each keeps the session's count of bad commands in a row (BYE at 20) at zero.
        c.send(`${line}\r\n${tag}n NOOP\r\n`);
        let tagged = 0;
        for (;;) {
          const got = await c.line();
          expect(got).not.toMatch(/BobSecret/);
          if (got.startsWith(`${tag} `)) {
            expect(got).toMatch(new RegExp(`^${tag} (OK|NO|BAD) `));
            // An unexpected exception in a handler is NO [SERVERBUG]: never for any input.
            expect(got).not.toMatch(/SERVERBUG/);
            tagged++;
            continue;
          }
          if (got.startsWith(`${tag}n `)) {
            expect(got).toBe(`${tag}n OK NOOP completed.`);
            expect(tagged).toBe(1);
            break;
          }
          if (got.startsWith('+ ')) {
            // A synchronising literal announced by the soup: send what it asked for.
            const size = /\{(\d+)\}$/.exec(line)?.[1];
            c.send(`${'z'.repeat(Number(size ?? 0))}\r\n`);
            continue;
          }
          expect(got).toMatch(/^\* /);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });
});
