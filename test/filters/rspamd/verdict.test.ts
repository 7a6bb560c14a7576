import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RSPAMD_DEFAULTS } from '../../../src/config/builtins/rspamd.js';
import { HeaderList } from '../../../src/mail/header-list.js';
import { milterHeaderValue, replyLines } from '../../../src/filters/rspamd/header-value.js';
import type { CheckReply, MilterBlock } from '../../../src/filters/rspamd/reply.js';
import { resultText, verdictFor, type MessageHeaders, type VerdictSettings } from '../../../src/filters/rspamd/verdict.js';

const SETTINGS: VerdictSettings = { ...RSPAMD_DEFAULTS, milterBlock: true };

function headersOf(list: [string, string][]): MessageHeaders & { list: HeaderList } {
  const subject = list.find(([n]) => n.toLowerCase() === 'subject')?.[1];
  return {
    list: new HeaderList(list.map(([name, value]) => ({ name, value }))),
    count: (name) => list.filter(([n]) => n.toLowerCase() === name.toLowerCase()).length,
    total: list.length,
    ...(subject === undefined ? {} : { subject }),
  };
}

const MESSAGE: [string, string][] = [
  ['Received', 'from a by b'],
  ['From', 'alice@example.net'],
  ['Subject', 'hello'],
  ['X-Spam', 'forged'],
  ['X-Spam', 'forged again'],
];

function reply(action: string, extra: Partial<CheckReply> = {}): CheckReply {
  return { action, score: 1, requiredScore: 15, isSkipped: false, symbols: [], dkimSignatures: [], ...extra };
}

function block(b: Partial<MilterBlock>): MilterBlock {
  return { removeHeaders: [], addHeaders: [], addRcpt: [], delRcpt: [], ...b };
}

/** The headers after the verdict's changes, as the MTA would apply them. */
function applied(v: ReturnType<typeof verdictFor>, h: ReturnType<typeof headersOf>): [string, string][] {
  const list = h.list.clone();
  list.apply(v.changes);
  return list.all.map((x) => [x.name, x.value]);
}

describe('verdictFor: the actions, as rspamd\'s milter maps them', () => {
  it('reject → 554 5.7.1 "Spam message rejected", no changes', () => {
    const v = verdictFor(reply('reject', { milter: block({ addHeaders: [{ name: 'X-A', value: '1' }] }) }), headersOf(MESSAGE), SETTINGS);
    expect(v.reply).toEqual({ status: 'reject', code: 554, enhancedCode: '5.7.1', text: 'Spam message rejected' });
    expect(v.changes).toEqual([]);
  });

  it('reject uses rspamd\'s smtp_message, then the configured reject_message', () => {
    expect(verdictFor(reply('reject', { smtpMessage: 'Gtube pattern' }), headersOf(MESSAGE), SETTINGS).reply.text).toBe('Gtube pattern');
    expect(verdictFor(reply('reject'), headersOf(MESSAGE), { ...SETTINGS, rejectMessage: 'Go away' }).reply.text).toBe('Go away');
    expect(verdictFor(reply('reject', { smtpMessage: 'line 1\r\nline 2\n' }), headersOf(MESSAGE), SETTINGS).reply.text).toEqual(['line 1', 'line 2']);
  });

  it('reject with milter reject = "discard" / "quarantine"', () => {
    expect(verdictFor(reply('reject', { milter: block({ rejectAs: 'discard' }) }), headersOf(MESSAGE), SETTINGS).reply.status).toBe('discard');
    const q = verdictFor(reply('reject', { milter: block({ rejectAs: 'quarantine' }) }), headersOf(MESSAGE), SETTINGS);
    expect(q.reply.status).toBe('accept');
    expect(q.changes).toContainEqual({ kind: 'quarantine', reason: 'Spam message quarantined' });
  });

  it('soft reject → 451 4.7.1 "Try again later" (or smtp_message)', () => {
    expect(verdictFor(reply('soft reject'), headersOf(MESSAGE), SETTINGS).reply).toEqual({ status: 'tempfail', code: 451, enhancedCode: '4.7.1', text: 'Try again later' });
    expect(verdictFor(reply('soft reject', { smtpMessage: 'Greylisted' }), headersOf(MESSAGE), SETTINGS).reply.text).toBe('Greylisted');
  });

  it('greylist → accept (rspamd\'s milter), or 451 4.7.1 with greylist_action = tempfail', () => {
    expect(verdictFor(reply('greylist'), headersOf(MESSAGE), SETTINGS).reply.status).toBe('accept');
    expect(verdictFor(reply('greylist'), headersOf(MESSAGE), { ...SETTINGS, greylistAction: 'tempfail' }).reply).toEqual({
      status: 'tempfail',
      code: 451,
      enhancedCode: '4.7.1',
      text: 'Try again later',
    });
  });

  it('add header → every X-Spam replaced by one "X-Spam: Yes"', () => {
    const h = headersOf(MESSAGE);
    const v = verdictFor(reply('add header'), h, SETTINGS);
    expect(v.reply.status).toBe('accept');
    expect(v.changes).toEqual([
      { kind: 'deleteHeader', name: 'X-Spam', index: 2 },
      { kind: 'deleteHeader', name: 'X-Spam', index: 1 },
      { kind: 'addHeader', name: 'X-Spam', value: 'Yes' },
    ]);
    expect(applied(v, h).filter(([n]) => n === 'X-Spam')).toEqual([['X-Spam', 'Yes']]);
  });

  it('add header uses the configured spam_header name', () => {
    const v = verdictFor(reply('add header'), headersOf(MESSAGE), { ...SETTINGS, spamHeader: 'X-Spam-Flag' });
    expect(v.changes).toEqual([{ kind: 'addHeader', name: 'X-Spam-Flag', value: 'Yes' }]);
  });

  it('add header with the milter block\'s spam_header (string or pairs)', () => {
    const h = headersOf(MESSAGE);
    const s = verdictFor(reply('add header', { milter: block({ spamHeader: 'Spam!' }) }), h, SETTINGS);
    expect(applied(s, h).filter(([n]) => n === 'X-Spam')).toEqual([['X-Spam', 'Spam!']]);
    const p = verdictFor(reply('add header', { milter: block({ spamHeader: [{ name: 'X-Spam-Flag', value: 'YES' }] }) }), h, SETTINGS);
    expect(p.changes).toEqual([{ kind: 'addHeader', name: 'X-Spam-Flag', value: 'YES' }]);
  });

  it('rewrite subject → the subject rspamd returned', () => {
    const h = headersOf(MESSAGE);
    const v = verdictFor(reply('rewrite subject', { subject: '***SPAM*** hello' }), h, SETTINGS);
    expect(v.reply.status).toBe('accept');
    expect(v.changes).toEqual([{ kind: 'changeHeader', name: 'Subject', index: 1, value: '***SPAM*** hello' }]);
  });

  it('rewrite subject without a subject in the reply → the configured pattern with %s', () => {
    const h = headersOf(MESSAGE);
    expect(verdictFor(reply('rewrite subject'), h, SETTINGS).changes).toEqual([{ kind: 'changeHeader', name: 'Subject', index: 1, value: '***SPAM*** hello' }]);
    expect(verdictFor(reply('rewrite subject'), h, { ...SETTINGS, rewriteSubject: '[SPAM %s] %s' }).changes[0]).toMatchObject({ value: '[SPAM hello] hello' });
    // No Subject at all: changeHeader of a missing header adds it.
    const none = headersOf([['From', 'a@b']]);
    const v = verdictFor(reply('rewrite subject'), none, SETTINGS);
    expect(applied(v, none)).toContainEqual(['Subject', '***SPAM*** ']);
  });

  it('quarantine and discard actions', () => {
    const q = verdictFor(reply('quarantine'), headersOf(MESSAGE), SETTINGS);
    expect(q.reply.status).toBe('accept');
    expect(q.changes).toEqual([{ kind: 'quarantine', reason: 'Spam message quarantined' }]);
    expect(verdictFor(reply('discard'), headersOf(MESSAGE), SETTINGS).reply.status).toBe('discard');
  });

  it('no action and unknown (custom) actions → accept', () => {
    expect(verdictFor(reply('no action'), headersOf(MESSAGE), SETTINGS)).toMatchObject({ reply: { status: 'accept' }, changes: [] });
    expect(verdictFor(reply('my custom'), headersOf(MESSAGE), SETTINGS).reply.status).toBe('accept');
  });
});

describe('verdictFor: the milter block', () => {
  it('add_headers: plain → add, order ≥ 0 → insert at that index, negative → counted from the end', () => {
    const h = headersOf(MESSAGE);
    const v = verdictFor(
      reply('no action', {
        milter: block({
          addHeaders: [
            { name: 'X-Plain', value: 'p' },
            { name: 'X-Top', value: 't', order: 0 },
            { name: 'X-Last', value: 'l', order: -1 },
            { name: 'X-Way-Back', value: 'w', order: -100 },
          ],
        }),
      }),
      h,
      SETTINGS,
    );
    expect(v.changes).toEqual([
      { kind: 'addHeader', name: 'X-Plain', value: 'p' },
      { kind: 'insertHeader', name: 'X-Top', value: 't', index: 0 },
      { kind: 'insertHeader', name: 'X-Last', value: 'l', index: 7 },
      { kind: 'insertHeader', name: 'X-Way-Back', value: 'w', index: 0 },
    ]);
    expect(applied(v, h).map(([n]) => n)).toEqual(['X-Way-Back', 'X-Top', 'Received', 'From', 'Subject', 'X-Spam', 'X-Spam', 'X-Plain', 'X-Last']);
  });

  it('remove_headers: 0 = every occurrence, n = the n-th, -n = n-th from the end; absent headers are left alone', () => {
    const h = headersOf(MESSAGE);
    const all = verdictFor(reply('no action', { milter: block({ removeHeaders: [{ name: 'x-spam', index: 0 }] }) }), h, SETTINGS);
    expect(applied(all, h).map(([n]) => n)).toEqual(['Received', 'From', 'Subject']);
    const second = verdictFor(reply('no action', { milter: block({ removeHeaders: [{ name: 'X-Spam', index: 2 }] }) }), h, SETTINGS);
    expect(applied(second, h).filter(([n]) => n === 'X-Spam')).toEqual([['X-Spam', 'forged']]);
    const last = verdictFor(reply('no action', { milter: block({ removeHeaders: [{ name: 'X-Spam', index: -1 }] }) }), h, SETTINGS);
    expect(last.changes).toEqual([{ kind: 'deleteHeader', name: 'X-Spam', index: 2 }]);
    const missing = verdictFor(reply('no action', { milter: block({ removeHeaders: [{ name: 'X-None', index: 0 }, { name: 'X-Spam', index: 3 }] }) }), h, SETTINGS);
    expect(missing.changes).toEqual([]);
  });

  it('change_from, add_rcpt, del_rcpt', () => {
    const v = verdictFor(
      reply('no action', { milter: block({ changeFrom: 'new@example.org', addRcpt: ['<archive@example.org>'], delRcpt: ['bob@example.org'] }) }),
      headersOf(MESSAGE),
      SETTINGS,
    );
    expect(v.changes).toEqual([
      { kind: 'changeSender', sender: '<new@example.org>' },
      { kind: 'addRecipient', recipient: '<archive@example.org>' },
      { kind: 'deleteRecipient', recipient: '<bob@example.org>' },
    ]);
  });

  it('no_action: the action is only reported in X-Rspamd-Action', () => {
    const v = verdictFor(reply('reject', { milter: block({ noAction: true }) }), headersOf(MESSAGE), SETTINGS);
    expect(v.reply.status).toBe('accept');
    expect(v.changes).toEqual([{ kind: 'addHeader', name: 'X-Rspamd-Action', value: 'reject' }]);
  });

  it('the block is ignored with milter_block = false', () => {
    const v = verdictFor(reply('no action', { milter: block({ addHeaders: [{ name: 'X-A', value: '1' }], noAction: true }) }), headersOf(MESSAGE), { ...SETTINGS, milterBlock: false });
    expect(v.changes).toEqual([]);
  });

  it('headers with impossible names are dropped; values are folded with LF + white space', () => {
    const v = verdictFor(
      reply('no action', {
        milter: block({
          addHeaders: [
            { name: 'Bad Name', value: 'x' },
            { name: 'Bad:Name', value: 'x' },
            { name: '', value: 'x' },
            { name: 'X-Spamd-Result', value: 'default: False [7.00 / 15.00];\r\n\tSYM(7.00)[a]\r\nInjected: yes\0' },
          ],
          removeHeaders: [{ name: 'Bad Name', index: 0 }],
        }),
      }),
      headersOf([...MESSAGE, ['Bad Name', 'x']]),
      SETTINGS,
    );
    expect(v.changes).toEqual([{ kind: 'addHeader', name: 'X-Spamd-Result', value: 'default: False [7.00 / 15.00];\n\tSYM(7.00)[a]\n\tInjected: yes' }]);
  });

  it('dkim-signature values are inserted on top', () => {
    const v = verdictFor(reply('no action', { dkimSignatures: ['v=1; d=a', 'v=1; d=b'] }), headersOf(MESSAGE), SETTINGS);
    expect(v.changes).toEqual([
      { kind: 'insertHeader', name: 'DKIM-Signature', value: 'v=1; d=a', index: 0 },
      { kind: 'insertHeader', name: 'DKIM-Signature', value: 'v=1; d=b', index: 1 },
    ]);
  });
});

describe('verdictFor: score and result headers', () => {
  const scored = reply('add header', {
    score: 7.123,
    requiredScore: 15,
    symbols: [
      { name: 'B_SYM', score: 5, options: ['x', 'y'] },
      { name: 'A_SYM', score: 2.123, options: [] },
    ],
  });

  it('score_header replaces forged ones with "SCORE / REQUIRED"', () => {
    const h = headersOf([...MESSAGE, ['X-Spam-Score', '-100']]);
    const v = verdictFor(scored, h, { ...SETTINGS, scoreHeader: 'X-Spam-Score' });
    expect(applied(v, h).filter(([n]) => n === 'X-Spam-Score')).toEqual([['X-Spam-Score', '7.12 / 15.00']]);
  });

  it('result_header lists the symbols like X-Spamd-Result', () => {
    expect(resultText(scored)).toBe('default: False [7.12 / 15.00];\n\tA_SYM(2.12)[];\n\tB_SYM(5.00)[x,y]');
    const v = verdictFor(scored, headersOf(MESSAGE), { ...SETTINGS, resultHeader: 'X-Spamd-Result' });
    expect(v.changes.at(-1)).toMatchObject({ kind: 'addHeader', name: 'X-Spamd-Result' });
  });

  it('no score headers on a refusal', () => {
    expect(verdictFor(reply('reject'), headersOf(MESSAGE), { ...SETTINGS, scoreHeader: 'X-Spam-Score' }).changes).toEqual([]);
  });
});

describe('header values and reply text (properties)', () => {
  it('a folded value never starts a new header line and never carries CR or NUL', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\r', '\n', '\0', ':', 'é') }), (s) => {
        const v = milterHeaderValue(s);
        expect(v).not.toMatch(/[\r\0]/);
        for (const line of v.split('\n').slice(1)) expect(line).toMatch(/^[ \t]/);
        expect(v.endsWith('\n')).toBe(false);
      }),
    );
  });

  it('reply lines carry no control characters', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        // eslint-disable-next-line no-control-regex
        for (const l of replyLines(s)) expect(l).not.toMatch(/[\x00-\x1f\x7f]/);
      }),
    );
  });
});

describe('parse + verdict (property)', () => {
  it('any answer gives a well-formed verdict: valid header names, refusals without changes', async () => {
    const { parseCheckReply } = await import('../../../src/filters/rspamd/reply.js');
    const { isHeaderName } = await import('../../../src/filters/rspamd/header-value.js');
    const name = fc.oneof(fc.constantFrom('X-Spam', 'Subject', 'X-Spamd-Result', 'Bad Name', ''), fc.string({ maxLength: 8 }));
    const anything = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string());
    const answer = fc.record(
      {
        action: fc.oneof(fc.constantFrom('reject', 'soft reject', 'greylist', 'add header', 'rewrite subject', 'no action', 'quarantine', 'discard'), fc.string()),
        subject: anything,
        score: anything,
        'dkim-signature': anything,
        messages: fc.record({ smtp_message: anything }, { requiredKeys: [] }),
        milter: fc.record(
          {
            add_headers: fc.dictionary(name, fc.oneof(anything, fc.record({ value: anything, order: fc.oneof(fc.integer({ min: -10, max: 10 }), anything) }))),
            remove_headers: fc.dictionary(name, fc.oneof(fc.integer({ min: -5, max: 5 }), anything)),
            change_from: anything,
            add_rcpt: anything,
            del_rcpt: anything,
            reject: fc.oneof(fc.constantFrom('discard', 'quarantine', 'reject'), anything),
            no_action: anything,
            spam_header: fc.oneof(anything, fc.dictionary(name, anything)),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ['action'] },
    );
    fc.assert(
      fc.property(answer, fc.boolean(), (a, tempfailGreylist) => {
        const p = parseCheckReply(JSON.stringify(a));
        if (!p.ok) return;
        const v = verdictFor(p.reply, headersOf(MESSAGE), { ...SETTINGS, greylistAction: tempfailGreylist ? 'tempfail' : 'accept', scoreHeader: 'X-Spam-Score' });
        expect(['accept', 'reject', 'tempfail', 'discard']).toContain(v.reply.status);
        if (v.reply.status !== 'accept') expect(v.changes).toEqual([]);
        for (const c of v.changes) {
          if ('name' in c) expect(isHeaderName(c.name)).toBe(true);
          if ('value' in c) expect(c.value).not.toMatch(/[\r\0]|\n(?![ \t])/);
          if (c.kind === 'insertHeader') expect(c.index).toBeGreaterThanOrEqual(0);
          if (c.kind === 'deleteHeader' || c.kind === 'changeHeader') expect(c.index).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });
});
