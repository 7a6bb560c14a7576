import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderList } from '../../../src/mail/header-list.js';
import { forgedSpamHeaderRemovals, rewrittenFieldChanges, spamHeaderAdditions } from '../../../src/filters/spamassassin/header-changes.js';
import { isSpamHeader, parseRewrittenMessage, toMilterValue, toWireValue, unfolded } from '../../../src/filters/spamassassin/rewritten.js';
import { refuses } from '../../../src/filters/spamassassin/verdict.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('parseRewrittenMessage', () => {
  it('splits fields and body, keeping folding and dropping the space after the colon', () => {
    const m = parseRewrittenMessage(
      b('X-Spam-Level: \r\nX-Spam-Status: No, score=-0.0 required=5.0 tests=MSGID_SHORT,NO_RECEIVED,\r\n\tNO_RELAYS autolearn=disabled\r\nSubject: hi\r\n\r\nbody\r\n\r\nmore\r\n'),
    );
    expect(m.headers).toEqual([
      { name: 'X-Spam-Level', value: '' },
      { name: 'X-Spam-Status', value: 'No, score=-0.0 required=5.0 tests=MSGID_SHORT,NO_RECEIVED,\r\n\tNO_RELAYS autolearn=disabled' },
      { name: 'Subject', value: 'hi' },
    ]);
    expect(m.body.toString()).toBe('body\r\n\r\nmore\r\n');
  });

  it('reads a HEADERS answer (header block only) and LF-only text', () => {
    expect(parseRewrittenMessage(b('X-Spam-Flag: YES\r\n\r\n'))).toEqual({ headers: [{ name: 'X-Spam-Flag', value: 'YES' }], body: Buffer.alloc(0) });
    expect(parseRewrittenMessage(b('A: 1\n B\n\nbody')).headers).toEqual([{ name: 'A', value: '1\r\n B' }]);
  });

  it('decodes UTF-8 values (a rewritten Subject) and never throws on garbage', () => {
    expect(parseRewrittenMessage(Buffer.from('Subject: [SPAM] café\r\n\r\n', 'utf8')).headers[0]!.value).toBe('[SPAM] café');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const m = parseRewrittenMessage(Buffer.from(bytes));
        for (const h of m.headers) expect(h.name).toMatch(/^[\x21-\x39\x3b-\x7e]+$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('helpers', () => {
    expect(isSpamHeader('X-Spam-Flag')).toBe(true);
    expect(isSpamHeader('x-spam-status')).toBe(true);
    expect(isSpamHeader('X-Spam-')).toBe(false);
    expect(isSpamHeader('X-Spammer')).toBe(false);
    expect(toWireValue('a\n\tb')).toBe('a\r\n\tb');
    expect(toWireValue('a\r\n\tb')).toBe('a\r\n\tb');
    // A stray line break cannot start a new field in what spamd sees.
    expect(toWireValue('a\nX-Spam-Flag: NO')).toBe('a\r\n X-Spam-Flag: NO');
    expect(toWireValue('a\rb')).toBe('a\r\n b');
    expect(toMilterValue('a\r\n\tb')).toBe('a\n\tb');
    expect(unfolded(' a\r\n\tb ')).toBe('a\tb');
  });
});

describe('forgedSpamHeaderRemovals', () => {
  it('deletes every occurrence, last first, and leaves other fields alone', () => {
    const incoming = [
      { name: 'X-Spam-Flag', value: 'NO' },
      { name: 'Subject', value: 'x' },
      { name: 'x-spam-flag', value: 'NO' },
      { name: 'X-Spam-Status', value: 'No' },
    ];
    expect(forgedSpamHeaderRemovals(incoming)).toEqual([
      { kind: 'changeHeader', name: 'X-Spam-Flag', index: 2, value: '' },
      { kind: 'changeHeader', name: 'X-Spam-Flag', index: 1, value: '' },
      { kind: 'changeHeader', name: 'X-Spam-Status', index: 1, value: '' },
    ]);
    const list = new HeaderList(incoming);
    list.apply(forgedSpamHeaderRemovals(incoming));
    expect(list.all).toEqual([{ name: 'Subject', value: 'x' }]);
  });

  it('property: after the removals no X-Spam-* field is left and the others keep their order', () => {
    const name = fc.constantFrom('X-Spam-Flag', 'x-spam-flag', 'X-Spam-Status', 'Subject', 'Received', 'X-Spammy');
    fc.assert(
      fc.property(fc.array(fc.record({ name, value: fc.string({ maxLength: 5 }).map((s) => `v${s}`) }), { maxLength: 12 }), (incoming) => {
        const list = new HeaderList(incoming);
        list.apply(forgedSpamHeaderRemovals(incoming));
        expect(list.all).toEqual(incoming.filter((h) => !isSpamHeader(h.name)));
      }),
    );
  });
});

describe('spamHeaderAdditions', () => {
  it("adds SpamAssassin's X-Spam-* fields in its order, folded with LF", () => {
    const out = parseRewrittenMessage(b('Received: from localhost\r\nX-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=1000.0\r\n\ttests=GTUBE\r\nSubject: x\r\n\r\n'));
    expect(spamHeaderAdditions(out.headers)).toEqual([
      { kind: 'addHeader', name: 'X-Spam-Flag', value: 'YES' },
      { kind: 'addHeader', name: 'X-Spam-Status', value: 'Yes, score=1000.0\n\ttests=GTUBE' },
    ]);
  });
});

describe('rewrittenFieldChanges', () => {
  it('changes a rewritten Subject, adds the MIME wrapper fields, deletes a dropped encoding', () => {
    const incoming = [
      { name: 'Subject', value: 'cheap pills' },
      { name: 'Content-Type', value: 'text/plain' },
      { name: 'Content-Transfer-Encoding', value: '7bit' },
    ];
    const rewritten = [
      { name: 'Subject', value: '*****SPAM***** cheap pills' },
      { name: 'MIME-Version', value: '1.0' },
      { name: 'Content-Type', value: 'multipart/mixed; boundary="b"' },
    ];
    const changes = rewrittenFieldChanges(incoming, rewritten);
    expect(changes).toEqual([
      { kind: 'changeHeader', name: 'Subject', index: 1, value: '*****SPAM***** cheap pills' },
      { kind: 'addHeader', name: 'MIME-Version', value: '1.0' },
      { kind: 'changeHeader', name: 'Content-Type', index: 1, value: 'multipart/mixed; boundary="b"' },
      { kind: 'changeHeader', name: 'Content-Transfer-Encoding', index: 1, value: '' },
    ]);
    const list = new HeaderList(incoming);
    list.apply(changes);
    expect(list.get('Subject')).toBe('*****SPAM***** cheap pills');
    expect(list.get('Content-Transfer-Encoding')).toBeUndefined();
  });

  it('leaves fields that differ only in folding', () => {
    expect(rewrittenFieldChanges([{ name: 'Subject', value: 'a long\n subject' }], [{ name: 'Subject', value: 'a long\r\n subject' }])).toEqual([]);
  });

  it('property: applying the changes makes the named fields equal SpamAssassin’s', () => {
    const field = fc.record({ name: fc.constantFrom('Subject', 'subject', 'Content-Type', 'From', 'X-Other'), value: fc.constantFrom('a', 'b', 'c d') });
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), fc.array(field, { maxLength: 8 }), (incoming, rewritten) => {
        const list = new HeaderList(incoming);
        list.apply(rewrittenFieldChanges(incoming, rewritten, ['Subject', 'Content-Type', 'From']));
        for (const n of ['subject', 'content-type', 'from']) {
          const values = (hs: readonly { name: string; value: string }[]) => hs.filter((h) => h.name.toLowerCase() === n).map((h) => h.value);
          expect(values(list.all)).toEqual(values(rewritten));
        }
        expect(list.all.filter((h) => h.name === 'X-Other')).toEqual(incoming.filter((h) => h.name === 'X-Other'));
      }),
    );
  });
});

describe('refuses (reject_score)', () => {
  const v = (score: number, isSpam = score >= 5) => ({ isSpam, score, threshold: 5 });
  it('refuses at or above the score, never without one, and anything flagged with -1', () => {
    expect(refuses(v(1000), undefined)).toBe(false);
    expect(refuses(v(15), 15)).toBe(true);
    expect(refuses(v(14.9), 15)).toBe(false);
    expect(refuses(v(6), -1)).toBe(true);
    expect(refuses(v(4), -1)).toBe(false);
  });
});

describe('toWireValue', () => {
  it('property: the wire value never holds a line that does not start with white space', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\r', '\n', ':', 'X') , maxLength: 30 }), (v) => {
        const lines = toWireValue(v).split('\r\n');
        for (const line of lines.slice(1)) expect(line).toMatch(/^[ \t]/);
        for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
      }),
    );
  });
});
