import fc from 'fast-check';
import { EVENT_STAGES } from '../../src/mail/stage.js';
import { describe, expect, it } from 'vitest';
import { Chain } from '../../src/chain/chain.js';
import { headerChanges, type BufferedHeader } from '../../src/chain/net-changes.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { applyChanges } from '../../src/mail/apply-changes.js';
import { HeaderList, type Header } from '../../src/mail/header-list.js';
import { Message } from '../../src/mail/message.js';
import { silentLogger } from '../../src/mail/logger.js';
import { CONTINUE, reject } from '../../src/mail/reply.js';
import { context } from '../milter/helpers.js';

describe('headerChanges (net difference sent to the MTA)', () => {
  const original: Header[] = [
    { name: 'Received', value: ' a' },
    { name: 'Subject', value: ' s' },
    { name: 'Received', value: ' b' },
    { name: 'To', value: ' t' },
  ];
  const tracked = () => new HeaderList(original.map((h, id) => ({ ...h, id })));

  it('is empty when nothing changed', () => {
    expect(headerChanges(original, tracked().all as BufferedHeader[])).toEqual([]);
  });

  it('replays to the same final list under the MTA’s editing rules, whatever the children did', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), name: fc.constantFrom('X-A', 'Received', 'Subject'), value: fc.string({ maxLength: 3 }) }),
      fc.record({ kind: fc.constant('insert' as const), index: fc.nat(6), name: fc.constantFrom('X-B', 'To'), value: fc.string({ maxLength: 3 }) }),
      fc.record({ kind: fc.constant('change' as const), name: fc.constantFrom('Received', 'Subject', 'To', 'X-A'), index: fc.integer({ min: 1, max: 3 }), value: fc.string({ maxLength: 3 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 8 }), async (ops) => {
        const list = tracked();
        for (const o of ops) {
          if (o.kind === 'add') list.add(o.name, ` ${o.value}`);
          else if (o.kind === 'insert') list.insert(o.index, o.name, ` ${o.value}`);
          else list.change(o.name, o.index, o.value === '' ? '' : ` ${o.value}`);
        }
        // Through the message editor, values as they follow the colon (the chain's own form).
        const replay = new Message(undefined, new HeaderList(original));
        await applyChanges(replay, headerChanges(original, list.all as BufferedHeader[]), { leadingSpace: true });
        expect(replay.headers.all.map(({ name, value }) => ({ name, value }))).toEqual(list.all.map(({ name, value }) => ({ name, value })));
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});

describe('Chain at DATA', () => {
  it('aborts a child that accepted no recipient; it does not see the message', async () => {
    let pickySawMessage = false;
    const chain = new Chain(
      [
        {
          name: 'picky',
          filter: defineFilter('picky', { stages: EVENT_STAGES }, () => ({
            rcpt: () => reject(550, '5.1.1', 'not mine'),
            endOfMessage: () => ((pickySawMessage = true), { reply: CONTINUE, changes: [] }),
          })),
          fallbackStatus: 'accept',
          evaluationMode: true, // its reject does not refuse the recipient for everyone
          conditions: [],
        },
        { name: 'other', filter: defineFilter('other', { stages: EVENT_STAGES }, () => ({})), fallbackStatus: 'accept', evaluationMode: false, conditions: [] },
      ],
      { fallbackStatus: 'accept', logger: silentLogger },
    );
    const s = chain.open();
    const ctx = context();
    await s.negotiate(FULL_OFFER);
    await s.connect({ hostname: 'h', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
    await s.mail('<a@b>', [], ctx);
    expect(await s.rcpt('<c@d>', [], ctx)).toEqual(CONTINUE);
    await s.data(ctx);
    await s.header('Subject', ' x', ctx);
    const eom = await s.endOfMessage(ctx);
    await s.close();
    expect(eom.reply).toEqual(CONTINUE);
    expect(pickySawMessage).toBe(false);
  });
});
