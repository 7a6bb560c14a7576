/**
 * FETCH's texts saved after its reply (src/imap/fetch/save-texts.ts): in transactions of at most
 * SAVE_CHUNK rows with a turn of the event loop between (a first FETCH of 100,000 messages made one
 * transaction of them all: most of a second with no other session served), each chunk let go once written,
 * a failure ending the save once; and through a session, the save still done before the next command is
 * read, and a client leaving mid-save ending its session cleanly.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SAVE_CHUNK, saveFetchTexts } from '../../../src/imap/fetch/save-texts.js';
import type { Mailbox, MetaKind } from '../../../src/store/mailbox/mailbox-store.js';
import { Env, loggedIn } from '../harness/transcript.js';

function texts(n: number): Map<number, string> {
  return new Map(Array.from({ length: n }, (_, i) => [i + 1, `F1.1 ${i}`] as const));
}

describe('saveFetchTexts', () => {
  it('writes in chunks of at most SAVE_CHUNK, each once, letting go of each chunk as it is written', async () => {
    const unsaved = texts(2 * SAVE_CHUNK + SAVE_CHUNK / 2);
    const total = unsaved.size;
    const sizes: number[] = [];
    const left: number[] = [];
    const saved = new Map<number, string>();
    const handle = {
      saveMeta(kind: MetaKind, entries: ReadonlyMap<number, string>): Promise<void> {
        expect(kind).toBe('fetch-text');
        sizes.push(entries.size);
        left.push(unsaved.size);
        for (const [uid, text] of entries) {
          expect(saved.has(uid)).toBe(false);
          saved.set(uid, text);
        }
        return Promise.resolve();
      },
    };
    const expected = new Map(unsaved);
    await saveFetchTexts(handle, unsaved);
    expect(sizes).toEqual([SAVE_CHUNK, SAVE_CHUNK, SAVE_CHUNK / 2]);
    expect(left).toEqual([total - SAVE_CHUNK, total - 2 * SAVE_CHUNK, 0]);
    expect(saved).toEqual(expected);
    expect(unsaved.size).toBe(0);
  });

  it('gives the event loop a turn between chunks (an immediate queued meanwhile runs before the next chunk)', async () => {
    const events: string[] = [];
    const handle = {
      saveMeta(_kind: MetaKind, entries: ReadonlyMap<number, string>): Promise<void> {
        events.push(`save ${entries.size}`);
        setImmediate(() => events.push('other work'));
        return Promise.resolve();
      },
    };
    await saveFetchTexts(handle, texts(3 * SAVE_CHUNK));
    expect(events.slice(0, 5)).toEqual([`save ${SAVE_CHUNK}`, 'other work', `save ${SAVE_CHUNK}`, 'other work', `save ${SAVE_CHUNK}`]);
  });

  it('stops at the first failure (the store closed under it): rejects once, no further writes, nothing held', async () => {
    let calls = 0;
    const handle = {
      saveMeta(): Promise<void> {
        calls++;
        return calls === 2 ? Promise.reject(new Error('Mailbox handle is closed')) : Promise.resolve();
      },
    };
    const unsaved = texts(5 * SAVE_CHUNK);
    await expect(saveFetchTexts(handle, unsaved)).rejects.toThrow('Mailbox handle is closed');
    expect(calls).toBe(2);
    expect(unsaved.size).toBe(0);
  });
});

describe('through a session', () => {
  const MESSAGES = 2 * SAVE_CHUNK + 7;
  let env: Env;
  let chunks: number[];
  let events: string[];

  beforeEach(async () => {
    env = new Env();
    const user = await env.store.openUser('alice');
    for (let i = 0; i < MESSAGES; i++) await user.append('INBOX', { content: Buffer.from(`From: a@example.org\nSubject: m${i}\n\nbody ${i}\n`) });
    // every handle of the in-memory store shares the prototype: each save recorded and made slow
    const probe: Mailbox = await user.open('INBOX', 'read-only');
    const saveMeta = Object.getPrototypeOf(probe).saveMeta as Mailbox['saveMeta'];
    await probe.close();
    await user.release();
    chunks = [];
    events = [];
    vi.spyOn(Object.getPrototypeOf(probe) as Mailbox, 'saveMeta').mockImplementation(async function (this: Mailbox, kind, entries) {
      if (kind !== 'fetch-text') return saveMeta.call(this, kind, entries);
      chunks.push(entries.size);
      events.push('save started');
      await new Promise((resolve) => setTimeout(resolve, 5));
      await saveMeta.call(this, kind, entries);
      events.push('save done');
    });
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await env.close();
  });

  it('saves in chunks after the tagged reply, and reads the next command only once all are saved', async () => {
    const c = await loggedIn(env);
    c.send('s SELECT INBOX\r\n');
    while (!(await c.line()).startsWith('s ')) {
      /* the SELECT responses */
    }
    c.send('a FETCH 1:* (ENVELOPE BODYSTRUCTURE)\r\nb NOOP\r\n');
    let fetched = 0;
    for (;;) {
      const line = await c.line();
      if (line.startsWith('* ') && line.includes(' FETCH (')) fetched++;
      if (line.startsWith('a ')) {
        expect(line).toBe('a OK Fetch completed.');
        events.push('FETCH replied');
      }
      if (line.startsWith('b ')) {
        events.push('NOOP replied');
        break;
      }
    }
    expect(fetched).toBe(MESSAGES);
    expect(chunks).toEqual([SAVE_CHUNK, SAVE_CHUNK, 7]);
    expect(events.indexOf('FETCH replied')).toBeLessThan(events.indexOf('save done'));
    expect(events.at(-2)).toBe('save done');
    expect(events.at(-1)).toBe('NOOP replied');
    // the texts saved answer the next FETCH: nothing more to save
    c.send('c FETCH 1:* (ENVELOPE)\r\n');
    while (!(await c.line()).startsWith('c ')) {
      /* the FETCH responses */
    }
    expect(chunks).toEqual([SAVE_CHUNK, SAVE_CHUNK, 7]);
  });

  it('a client gone mid-save: the save ends, the session closes cleanly, nothing unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const c = await loggedIn(env);
      c.send('s SELECT INBOX\r\n');
      while (!(await c.line()).startsWith('s ')) {
        /* the SELECT responses */
      }
      c.send('a FETCH 1:* (BODYSTRUCTURE)\r\n');
      while (!(await c.line()).startsWith('a ')) {
        /* the FETCH responses */
      }
      while (!events.includes('save started')) await new Promise((resolve) => setTimeout(resolve, 1));
      c.socket.destroy();
      await c.done;
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(env.logs.filter((l) => /failed|error/i.test(l))).toEqual([]);
      expect(events.filter((e) => e === 'save done').length).toBe(chunks.length);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
