/**
 * IDLE (RFC 2177): a delivery wakes the idling session with EXISTS at once (the store's watch()), an
 * expunge by another handle is sent as EXPUNGE during IDLE, `* OK Still here` keeps the connection,
 * DONE ends it, anything else is BAD; the server's shutdown reaches an idling session.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Env, loggedIn, type Client } from './harness/transcript.js';

let env: Env;
afterEach(async () => {
  await env.close();
});

async function deliver(text = 'Subject: hi\n\nbody\n'): Promise<void> {
  await env.store.delivery.deliver('alice', () => Readable.from([Buffer.from(text)]), { hostname: 'test' });
}

async function selectInbox(c: Client): Promise<void> {
  c.send('s1 SELECT INBOX\r\n');
  for (let line = await c.line(); !line.startsWith('s1 '); line = await c.line());
}

describe('IDLE', () => {
  it('a delivery wakes the idling session with EXISTS and RECENT; DONE ends it', async () => {
    env = new Env();
    await deliver();
    const c = await loggedIn(env);
    await selectInbox(c);
    await c.run(`
      C: a1 IDLE
      S: + idling
    `);
    await deliver();
    await c.run(`
      S: * 2 EXISTS
      S: * 2 RECENT
      C: DONE
      S: a1 OK Idle completed.
    `);
  });

  it('expunges and flag changes by another handle go out during IDLE', async () => {
    env = new Env();
    await deliver();
    await deliver();
    const user = await env.store.openUser('alice');
    const other = await user.open('INBOX', 'read-write');
    const c = await loggedIn(env);
    await selectInbox(c);
    await c.run(`
      C: a1 IDLE
      S: + idling
    `);
    await other.setFlags([1], { mode: 'add', flags: ['\\Deleted'] });
    await c.run(`
      S: * 1 FETCH (FLAGS (\\Deleted \\Recent))
    `);
    await other.expunge();
    await c.run(`
      S: * 1 EXPUNGE
      C: done
      S: a1 OK Idle completed.
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
    await other.close();
  });

  it('keepalive, and anything but DONE is BAD', async () => {
    env = new Env({ settings: { idleKeepaliveMs: 20 } });
    const c = await loggedIn(env);
    await c.run(`
      C: a1 IDLE
      S: + idling
      S: * OK Still here
      C: STOP
      S: a1 BAD Expected DONE.
      C: a2 NOOP
      S: a2 OK *
    `);
  });

  it('IDLE in the authenticated state only keeps the connection', async () => {
    env = new Env();
    const c = await loggedIn(env);
    await c.run(`
      C: a1 IDLE
      S: + idling
      C: DONE
      S: a1 OK Idle completed.
    `);
  });

  it('before login IDLE is refused', async () => {
    env = new Env();
    const c = await env.client();
    await c.run(`
      C: a1 IDLE
      S: a1 BAD IDLE is not allowed before login: log in first.
    `);
  });

  it('shutdown reaches an idling session', async () => {
    env = new Env();
    const c = await loggedIn(env);
    await selectInbox(c);
    await c.run(`
      C: a1 IDLE
      S: + idling
    `);
    c.session.shutdown();
    expect(await c.line()).toBe('* BYE Server shutting down.');
    expect(await c.closed()).toBe(true);
  });

  it('the idle timeout applies during IDLE', async () => {
    env = new Env({ settings: { idleTimeoutMs: 60 } });
    const c = await loggedIn(env);
    await c.run(`
      C: a1 IDLE
      S: + idling
      S: * BYE Disconnected for inactivity.
    `);
    expect(await c.closed()).toBe(true);
  });
});
