/**
 * GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208): the "User quota" root, STORAGE in KiB and MESSAGE, only
 * the resources that have a limit, "No quota" without limits, SETQUOTA refused, BAD cases, state.
 */
import { afterEach, beforeEach, describe, it } from 'vitest';
import { Env, loggedIn } from '../harness/transcript.js';
import { deliver, useStore } from './helpers.js';

let env: Env;
beforeEach(() => {
  env = new Env();
});
afterEach(async () => {
  await env.close();
});

describe('QUOTA', () => {
  it('GETQUOTAROOT and GETQUOTA give STORAGE (KiB) and MESSAGE', async () => {
    useStore(env, { quotaBytes: 10 * 1024 * 1024, quotaMessages: 100 });
    await deliver(env, 3, { text: () => 'x'.repeat(1000) });
    const c = await loggedIn(env);
    await c.run(`
      C: a1 GETQUOTAROOT INBOX
      S: * QUOTAROOT INBOX "User quota"
      S: * QUOTA "User quota" (STORAGE 3 10240 MESSAGE 3 100)
      S: a1 OK Getquotaroot completed.
      C: a2 GETQUOTA "User quota"
      S: * QUOTA "User quota" (STORAGE 3 10240 MESSAGE 3 100)
      S: a2 OK Getquota completed.
      C: a3 GETQUOTAROOT &AMk-t&AOk-
      S: a3 NO [NONEXISTENT] *
      C: a4 GETQUOTA "Other"
      S: a4 NO Quota root doesn't exist.
      C: a5 SETQUOTA "User quota" (STORAGE 100)
      S: a5 NO Quota can be changed only by admin.
      C: a6 GETQUOTAROOT "../bob/INBOX"
      S: a6 NO [NONEXISTENT] *
    `);
  });

  it('only the resources with a limit', async () => {
    useStore(env, { quotaMessages: 7 });
    const c = await loggedIn(env);
    await c.run(`
      C: a1 GETQUOTAROOT Sent
      S: * QUOTAROOT Sent "User quota"
      S: * QUOTA "User quota" (MESSAGE 0 7)
      S: a1 OK Getquotaroot completed.
    `);
  });

  it('no limits: no quota root', async () => {
    const c = await loggedIn(env);
    await c.run(`
      C: a1 GETQUOTAROOT INBOX
      S: a1 OK No quota.
      C: a2 GETQUOTA "User quota"
      S: a2 NO Quota root doesn't exist.
    `);
  });

  it.each([
    ['GETQUOTA', 'GETQUOTA'],
    ['GETQUOTA a b', 'GETQUOTA'],
    ['GETQUOTAROOT', 'GETQUOTAROOT'],
    ['SETQUOTA "User quota"', 'SETQUOTA'],
    ['SETQUOTA "User quota" (STORAGE)', 'SETQUOTA'],
    ['SETQUOTA "User quota" (STORAGE x)', 'SETQUOTA'],
  ])('%s is BAD', async (cmd, name) => {
    const c = await loggedIn(env);
    await c.run(`
      C: b1 ${cmd}
      S: b1 BAD Error in IMAP command ${name}: *
    `);
  });

  it('is refused before login; QUOTA is announced after', async () => {
    const c = await env.client();
    await c.run(`
      C: a1 GETQUOTAROOT INBOX
      S: a1 BAD GETQUOTAROOT is not allowed before login: log in first.
      C: a2 LOGIN alice secret
      S: a2 OK [CAPABILITY * QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE *] Logged in
    `);
  });
});
