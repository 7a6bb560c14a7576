/**
 * Reviewer-found session defects, each pinned: LITERAL+ before login is held to the pre-login literal
 * limit (as `{n}` is) and never buffered; a line longer than the 256 KiB pause threshold but within a larger
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
  it('{n+} over the pre-login limit is refused with TOOBIG, not read as a password', async () => {
    env = new Env();
    const c = await env.client();
    c.send(`a1 LOGIN alice {9000+}\r\n${'x'.repeat(9000)}\r\n`);
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

  it('a 9 MB {n+} at the reader with the pre-login limit is dropped as it comes, never buffered', () => {
    const reader = new CommandReader({ maxLiteralSize: 10_240_000 });
    reader.setLiteralLimit(8192);
    const events = [...reader.feed(Buffer.from('a1 LOGIN alice {9000000+}\r\n'))];
    const chunk = Buffer.alloc(1 << 20, 0x78);
    let fed = 0;
    while (fed + chunk.length <= 9_000_000) {
      events.push(...reader.feed(chunk));
      fed += chunk.length;
      expect(reader.buffered).toBe(0);
    }
    events.push(...reader.feed(Buffer.alloc(9_000_000 - fed, 0x78)), ...reader.feed(Buffer.from('\r\n')));
    expect(events.filter((e) => e.type === 'command')).toEqual([]);
    const errors = events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
    expect(errors.map((e) => [e.kind, e.tag, e.error.code, e.fatal])).toEqual([['literal-too-big', 'a1', 'TOOBIG', false]]);
    reader.setLiteralLimit(undefined);
    expect(reader.limits.maxLiteralSize).toBe(10_240_000);
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
