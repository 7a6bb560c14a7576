import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCheckReply, RspamdReplyError } from '../../../src/filters/rspamd/reply.js';

// A real answer of rspamd 3.4's normal worker (milter_headers with extended_spam_headers).
const REAL = `{"is_skipped":false,"score":7.0,"required_score":15.0,"action":"add header","symbols":{"MAILGATE_TEST_SCORE":{"name":"MAILGATE_TEST_SCORE","score":7.0,"metric_score":1.0,"options":["score 7"]}},"messages":{},"message-id":"undef","time_real":0.000423,"milter":{"add_headers":{"X-Rspamd-Action":{"value":"add header","order":-1},"X-Spamd-Result":{"value":"default: False [7.00 / 15.00];\\r\\n\\tMAILGATE_TEST_SCORE(7.00)[score 7]","order":-1}},"remove_headers":{"X-Spamd-Result":0,"X-Spam":0}}}`;

describe('parseCheckReply', () => {
  it('reads a real rspamd 3.4 answer', () => {
    const p = parseCheckReply(Buffer.from(REAL));
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.reply).toMatchObject({ action: 'add header', score: 7, requiredScore: 15, isSkipped: false });
    expect(p.reply.symbols).toEqual([{ name: 'MAILGATE_TEST_SCORE', score: 7, options: ['score 7'] }]);
    expect(p.reply.milter?.addHeaders).toEqual([
      { name: 'X-Rspamd-Action', value: 'add header', order: -1 },
      { name: 'X-Spamd-Result', value: 'default: False [7.00 / 15.00];\r\n\tMAILGATE_TEST_SCORE(7.00)[score 7]', order: -1 },
    ]);
    expect(p.reply.milter?.removeHeaders).toEqual([
      { name: 'X-Spamd-Result', index: 0 },
      { name: 'X-Spam', index: 0 },
    ]);
  });

  it('reads GTUBE: reject with smtp_message', () => {
    const p = parseCheckReply('{"is_skipped":true,"score":15.0,"required_score":15.0,"action":"reject","symbols":{"GTUBE":{"name":"GTUBE","score":0.0}},"messages":{"smtp_message":"Gtube pattern"}}');
    expect(p.ok && p.reply).toMatchObject({ action: 'reject', smtpMessage: 'Gtube pattern', isSkipped: true });
  });

  it('reads every milter block form rspamd documents', () => {
    const p = parseCheckReply(
      JSON.stringify({
        action: 'no action',
        subject: 'new',
        'dkim-signature': ['v=1; a', 'v=1; b'],
        milter: {
          add_headers: { A: 'plain', B: { value: 'v', order: 0 }, C: [{ value: 'c1' }, 'c2'], D: { value: 'i', index: 2.7 }, E: 5 },
          remove_headers: { X: 1, Y: -1, Z: 'no', W: 1.5 },
          change_from: '<new@example.org>',
          add_rcpt: ['<a@example.org>', 7],
          del_rcpt: ['<b@example.org>'],
          reject: 'discard',
          no_action: false,
          spam_header: { 'X-Spam-Flag': 'YES', Bad: 1 },
        },
      }),
    );
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.reply.subject).toBe('new');
    expect(p.reply.dkimSignatures).toEqual(['v=1; a', 'v=1; b']);
    expect(p.reply.milter).toEqual({
      addHeaders: [
        { name: 'A', value: 'plain' },
        { name: 'B', value: 'v', order: 0 },
        { name: 'C', value: 'c1' },
        { name: 'C', value: 'c2' },
        { name: 'D', value: 'i', order: 2 },
      ],
      removeHeaders: [
        { name: 'X', index: 1 },
        { name: 'Y', index: -1 },
      ],
      changeFrom: '<new@example.org>',
      addRcpt: ['<a@example.org>'],
      delRcpt: ['<b@example.org>'],
      rejectAs: 'discard',
      noAction: false,
      spamHeader: [{ name: 'X-Spam-Flag', value: 'YES' }],
    });
  });

  it.each([
    ['not JSON', 'HTTP/1.1 200 OK', 'not-json'],
    ['truncated JSON', '{"action":"reje', 'not-json'],
    ['empty', '', 'not-json'],
    ['an array', '[1,2]', 'not-an-object'],
    ['null', 'null', 'not-an-object'],
    ['a number', '42', 'not-an-object'],
    ['no action', '{"score":3}', 'no-action'],
    ['action not a string', '{"action":5}', 'no-action'],
    ['an rspamd error', '{"error":"Message has no body"}', 'server-error'],
  ])('%s → a typed error', (_what, text, reason) => {
    const p = parseCheckReply(text);
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.error).toBeInstanceOf(RspamdReplyError);
    expect(p.error.reason).toBe(reason);
  });

  it('keeps a "__proto__" key as a plain header name', () => {
    const p = parseCheckReply('{"action":"no action","milter":{"add_headers":{"__proto__":"x"}}}');
    expect(p.ok && p.reply.milter?.addHeaders).toEqual([{ name: '__proto__', value: 'x' }]);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  describe('properties', () => {
    const check = (text: string | Buffer): void => {
      const p = parseCheckReply(text);
      if (p.ok) {
        expect(typeof p.reply.action).toBe('string');
        expect(Array.isArray(p.reply.symbols)).toBe(true);
        for (const s of p.reply.symbols) expect(Number.isFinite(s.score)).toBe(true);
        for (const h of p.reply.milter?.addHeaders ?? []) expect(typeof h.value).toBe('string');
        for (const h of p.reply.milter?.removeHeaders ?? []) expect(Number.isInteger(h.index)).toBe(true);
      } else {
        expect(p.error).toBeInstanceOf(RspamdReplyError);
        expect(p.error.message.length).toBeLessThan(200);
      }
    };

    it('never throws on arbitrary bytes', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => check(Buffer.from(bytes))));
    });

    it('never throws on arbitrary JSON', () => {
      fc.assert(fc.property(fc.json(), (text) => check(text)));
    });

    it('never throws on reply-shaped JSON with wrong types anywhere', () => {
      const anything = fc.oneof(fc.jsonValue(), fc.constant(undefined));
      const header = fc.oneof(fc.string(), fc.record({ value: anything, order: anything, index: anything }, { requiredKeys: [] }), fc.array(anything));
      const milter = fc.record(
        {
          add_headers: fc.oneof(anything, fc.dictionary(fc.string(), header)),
          remove_headers: fc.oneof(anything, fc.dictionary(fc.string(), anything)),
          change_from: anything,
          add_rcpt: fc.oneof(anything, fc.array(anything)),
          del_rcpt: anything,
          reject: anything,
          no_action: anything,
          spam_header: anything,
        },
        { requiredKeys: [] },
      );
      const reply = fc.record(
        {
          action: fc.oneof(fc.constantFrom('reject', 'no action', 'add header', 'soft reject', 'rewrite subject', 'greylist'), anything),
          score: anything,
          required_score: anything,
          symbols: fc.oneof(anything, fc.dictionary(fc.string(), fc.record({ name: anything, score: anything, options: anything }, { requiredKeys: [] }))),
          messages: fc.oneof(anything, fc.record({ smtp_message: anything }, { requiredKeys: [] })),
          subject: anything,
          'dkim-signature': anything,
          milter: fc.oneof(anything, milter),
        },
        { requiredKeys: [] },
      );
      fc.assert(fc.property(reply, (r) => check(JSON.stringify(r))));
    });
  });
});
