/**
 * The cached FETCH texts (src/imap/fetch/text-cache.ts): the cached form gives back exactly the bytes it
 * was given, refuses another version's or a damaged value, and through the Maildir store (SQLite text,
 * 8-bit bytes as one char each) a warm answer is byte for byte the cold one and what the encoders write
 * from the tree, for every MIME fixture (the ones the Dovecot differential test holds to Dovecot's bytes).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTexts, encodeTexts, loadFetchTexts, textsOf, type FetchTexts } from '../../../src/imap/fetch/text-cache.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';
import { STRUCTURE_VERSION } from '../../../src/mail/mime/structure.js';
import type { MailboxStore } from '../../../src/store/mailbox/mailbox-store.js';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/mime');

const byteString = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'));
const listText = byteString.map((s) => `(${s})`);
const textsArb = fc.record({ envelope: listText, body: listText, bodystructure: listText });

describe('the cached form', () => {
  it('gives back exactly the texts it holds, whatever bytes they carry', () => {
    fc.assert(
      fc.property(textsArb, (t: FetchTexts) => {
        expect(decodeTexts(encodeTexts(t))).toEqual(t);
      }),
      { seed: 20261203, numRuns: 500 },
    );
  });

  it('refuses another version, a cut value and noise, and never throws', () => {
    const good = encodeTexts({ envelope: '(NIL)', body: '("text" "plain")', bodystructure: '("text" "plain" NIL)' });
    const tag = good.slice(0, good.indexOf(' '));
    expect(tag).toBe(`F1.${STRUCTURE_VERSION}`);
    expect(decodeTexts(good.replace(/^F1/, 'F0'))).toBeUndefined();
    expect(decodeTexts(good.replace(tag, `F1.${STRUCTURE_VERSION + 1}`))).toBeUndefined();
    expect(decodeTexts(good.slice(0, -3))).toBeUndefined();
    expect(decodeTexts(`${tag} 5 2\n(NIL)`)).toBeUndefined();
    expect(decodeTexts('{"kind":"leaf"}')).toBeUndefined();
    fc.assert(
      fc.property(fc.oneof(byteString, byteString.map((s) => `F1.${STRUCTURE_VERSION} ${s}`)), (s) => {
        const t = decodeTexts(s);
        if (t !== undefined) expect(encodeTexts(t)).toBe(s);
      }),
      { seed: 20261203, numRuns: 1000 },
    );
  });
});

describe('through the Maildir store', () => {
  let tmp: TempDir;
  let store: MailboxStore;

  beforeAll(async () => {
    tmp = await makeTempDir('fetch-text-cache');
    store = openMaildirMailboxStore({ maildirOf: () => join(tmp.path, 'mail'), hostname: 'mx.example.org' });
  });

  afterAll(async () => {
    await store.close();
    await tmp.remove();
  });

  it('answers warm with the same bytes as cold and as the encoders, for every MIME fixture', async () => {
    const user = await store.openUser('alice');
    const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.eml')).sort();
    const expected = new Map<number, FetchTexts>();
    for (const name of names) {
      const bytes = await readFile(join(FIXTURES, name));
      const { uid } = await user.append('INBOX', { content: bytes });
      expected.set(uid, textsOf(parseStructure(bytes)));
    }
    const box = await user.open('INBOX', 'read-write');
    await box.snapshot();
    const uids = [...expected.keys()];
    const cold = await loadFetchTexts(box, uids);
    const warm = await loadFetchTexts(box, uids);
    expect((await box.meta(uids, 'fetch-text')).size).toBe(uids.length);
    for (const uid of uids) {
      expect(cold.get(uid)).toEqual(expected.get(uid));
      expect(warm.get(uid)).toEqual(expected.get(uid));
    }
    // some fixtures carry 8-bit header bytes: the test means something only if one of them is here
    expect([...warm.values()].some((t) => /[\x80-\xff]/.test(t.envelope))).toBe(true);
    await box.close();
    await user.release();
  });

  it('leaves the saving to the caller when asked (FETCH saves after its reply): same texts, nothing written', async () => {
    const user = await store.openUser('bob');
    const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.eml')).sort().slice(0, 5);
    const uids: number[] = [];
    for (const name of names) uids.push((await user.append('INBOX', { content: await readFile(join(FIXTURES, name)) })).uid);
    const box = await user.open('INBOX', 'read-write');
    await box.snapshot();
    const unsaved = new Map<number, string>();
    const cold = await loadFetchTexts(box, uids, undefined, unsaved);
    expect((await box.meta(uids, 'fetch-text')).size).toBe(0);
    expect([...unsaved.keys()]).toEqual(uids);
    for (const uid of uids) expect(unsaved.get(uid)).toBe(encodeTexts(cold.get(uid)!));
    await box.saveMeta('fetch-text', unsaved);
    const warm = await loadFetchTexts(box, uids, undefined, new Map());
    expect(warm).toEqual(cold);
    await box.close();
    await user.release();
  });
});
