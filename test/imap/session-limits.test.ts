/**
 * Reviewer-found session defects, each pinned: LITERAL+ before login is held to the pre-login literal
 * limit (as `{n}` is), never buffered nor read: over it the connection ends at once; a line longer than the 256 KiB pause threshold but within a larger
 * max_line_length still completes (the socket is not paused mid-line forever); a store failure during IDLE
 * still lets IDLE consume the client's DONE.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandReader } from '../../src/imap/wire/reader.js';
import { Env, loggedIn } from './harness/transcript.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('LITERAL+ before login', () => {
  // Review finding (issue 11): it was read and dropped up to 64 MiB before login. Now BAD [TOOBIG] and BYE
  // at once, as Dovecot's imap-login disconnects on a literal too large; nothing of it is read.
  it('{n+} over the pre-login limit gets BAD [TOOBIG] and BYE at once, not read as a password', async () => {
    env = new Env();
    const c = await env.client();
    c.send(`a1 LOGIN alice {9000+}\r\n`); // the bytes never need to come
    expect(await c.line()).toMatch(/^a1 BAD \[TOOBIG\] /);
    expect(await c.line()).toMatch(/^\* BYE literal larger than 8192 octets/);
    expect(await c.closed()).toBe(true);
  });

  it('{n} over the pre-login limit is still refused unread, the session goes on', async () => {
    env = new Env();
    const c = await env.client();
    c.send(`a1 LOGIN alice {9000}\r\n`);
    expect(await c.line()).toMatch(/^a1 NO \[TOOBIG\]/);
    await c.run(`
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
  });

  it('after login the configured limit applies again', async () => {
    env = new Env();
    const c = await loggedIn(env);
    const msg = `Subject: big\r\n\r\n${'y'.repeat(9000)}\r\n`;
    c.send(`a1 APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
    expect(await c.line()).toMatch(/^a1 OK /);
  });

  it('a 9 MB {n+} at the reader with the pre-login limit is fatal at the marker, nothing read', () => {
    const reader = new CommandReader({ maxLiteralSize: 10_240_000 });
    reader.setLiteralLimit(8192);
    const events = [...reader.feed(Buffer.from('a1 LOGIN alice {9000000+}\r\n'))];
    expect(reader.dead).toBe(true);
    events.push(...reader.feed(Buffer.alloc(1 << 20, 0x78)));
    expect(reader.buffered).toBe(0);
    expect(events.filter((e) => e.type === 'command')).toEqual([]);
    const errors = events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
    expect(errors.map((e) => [e.kind, e.tag, e.fatal, e.error.message])).toEqual([['literal-overflow', 'a1', true, 'literal larger than 8192 octets']]);
    const small = new CommandReader({ maxLiteralSize: 10_240_000 });
    small.setLiteralLimit(8192);
    const ok = [...small.feed(Buffer.from('a1 LOGIN alice {5+}\r\nsecre\r\n'))];
    expect(ok.map((e) => e.type)).toEqual(['command']);
    small.setLiteralLimit(undefined);
    expect(small.limits.maxLiteralSize).toBe(10_240_000);
    expect(small.limits.maxDiscardSize).toBeGreaterThanOrEqual(10_240_000);
  });
});

describe('a long line with max_line_length over the pause threshold', () => {
  it('a 400 KB line without CRLF, then CRLF: an answer comes', async () => {
    env = new Env({ maxLineLength: 1_000_000 });
    const c = await env.client();
    c.send(`a1 NOOP ${'x'.repeat(400_000)}`);
    await new Promise((r) => setTimeout(r, 50));
    c.send('\r\n');
    expect(await c.line()).toMatch(/^a1 BAD /);
    await c.run(`
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
  });
});

describe('IDLE when the store fails', () => {
  it('DONE is still consumed by IDLE; the session goes on', async () => {
    env = new Env();
    await env.store.delivery.deliver('alice', () => Readable.from([Buffer.from('Subject: hi\n\nbody\n')]), { hostname: 'test' });
    const c = await loggedIn(env);
    c.send('s1 SELECT INBOX\r\n');
    for (let line = await c.line(); !line.startsWith('s1 '); line = await c.line());
    const handle = c.session.selected!.handle;
    const real = handle.changesSince.bind(handle);
    let thrown = 0;
    handle.changesSince = (modseq) => {
      if (thrown++ === 0) return Promise.reject(new Error('disk on fire'));
      return real(modseq);
    };
    await c.run(`
      C: a1 IDLE
      S: + idling
    `);
    await new Promise((r) => setTimeout(r, 30));
    expect(thrown).toBe(1);
    expect(c.unread()).toEqual([]);
    await c.run(`
      C: DONE
      S: a1 NO [SERVERBUG] *
      C: a2 NOOP
      S: a2 OK NOOP completed.
    `);
    expect(env.logs.filter((l) => /disk on fire/.test(l))).toHaveLength(1);
  });
});
