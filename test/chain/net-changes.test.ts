/**
 * The chain's net changes: whatever its children do, the changes the MTA receives, applied to the
 * message the MTA sent, give exactly the message the last child saw, and the envelope the children's
 * edits make. Headers are checked against an independent model of Postfix's rules (postfix-model.ts,
 * its own hidden Received included): each child sees what Postfix would have written had that child
 * edited the message itself, and Postfix, given the net changes, writes the same. The message editor
 * (applyChanges) is checked the same way.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Chain, type ChildDefinition } from '../../src/chain/chain.js';
import { applyChanges } from '../../src/mail/apply-changes.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import type { Change } from '../../src/mail/changes.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { bareAddress, type Envelope } from '../../src/mail/envelope.js';
import { ALL_ACTIONS } from '../../src/mail/filter.js';
import { HeaderList } from '../../src/mail/header-list.js';
import { silentLogger } from '../../src/mail/logger.js';
import { Message } from '../../src/mail/message.js';
import { CONTINUE } from '../../src/mail/reply.js';
import { EVENT_STAGES } from '../../src/mail/stage.js';
import { context, spillDescriptors } from '../milter/helpers.js';
import { OWN_RECEIVED, postfixApply, type ModelField } from '../mail/postfix-model.js';

const NAMES = ['Received', 'Subject', 'To', 'X-A'];
const ADDRESSES = ['<b@example.org>', '<c@example.org>', 'c@example.org', '<d@example.net>'];
const word = fc.constantFrom('a', 'b', 'x y', 'z\n\tfolded');

/** Header values without the space after the colon; a child that negotiated leadingSpace adds it. */
const value = word;

const change: fc.Arbitrary<Change> = (() => {
  return fc.oneof(
    fc.record({ kind: fc.constant('addHeader' as const), name: fc.constantFrom(...NAMES), value }),
    fc.record({ kind: fc.constant('insertHeader' as const), index: fc.nat(6), name: fc.constantFrom(...NAMES), value }),
    fc.record({ kind: fc.constant('changeHeader' as const), index: fc.nat(3), name: fc.constantFrom(...NAMES), value: fc.oneof(value, fc.constant('')) }),
    fc.record({ kind: fc.constant('deleteHeader' as const), index: fc.integer({ min: 1, max: 3 }), name: fc.constantFrom(...NAMES) }),
    fc.record({ kind: fc.constant('replaceBody' as const), body: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) }),
    fc.record({ kind: fc.constant('addRecipient' as const), recipient: fc.constantFrom(...ADDRESSES) }, { requiredKeys: ['kind', 'recipient'] }),
    fc.record({ kind: fc.constant('addRecipient' as const), recipient: fc.constantFrom(...ADDRESSES), args: fc.constant('NOTIFY=NEVER') }),
    fc.record({ kind: fc.constant('deleteRecipient' as const), recipient: fc.constantFrom(...ADDRESSES) }),
    fc.record({ kind: fc.constant('changeSender' as const), sender: fc.constantFrom('<>', '<s@example.com>') }),
    fc.record({ kind: fc.constant('quarantine' as const), reason: fc.constantFrom('q1', 'q2') }),
  );
})();

const editor = fc.record({ leadingSpace: fc.boolean(), changes: fc.array(change, { maxLength: 6 }) });

/** A change as a child sends it: header values as they follow the colon if it negotiated leadingSpace. */
function sent(c: Change, leadingSpace: boolean): Change {
  if (!leadingSpace || !(c.kind === 'addHeader' || c.kind === 'insertHeader' || c.kind === 'changeHeader') || c.value === '') return c;
  return { ...c, value: ` ${c.value}` };
}

const scenario = fc.record({
  mtaLeadingSpace: fc.boolean(),
  headers: fc.array(fc.tuple(fc.constantFrom(...NAMES), word), { maxLength: 5 }),
  body: fc.array(fc.uint8Array({ minLength: 1, maxLength: 30 }).map((b) => Buffer.from(b)), { maxLength: 3 }),
  recipients: fc.uniqueArray(fc.constantFrom('<b@example.org>', '<c@example.org>'), { minLength: 1 }),
  editors: fc.array(editor, { minLength: 1, maxLength: 3 }),
  memoryLimit: fc.constantFrom(8, 1 << 20),
});

describe('the chain’s net changes, applied with the message editor', () => {
  it('turn the MTA’s message into the one the last child saw, and the envelope into the children’s', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const children: ChildDefinition[] = sc.editors.map((e, i) => ({
          name: `edit${i}`,
          filter: defineFilter(`edit${i}`, { actions: ALL_ACTIONS, stages: EVENT_STAGES, leadingSpace: e.leadingSpace }, () => ({
            // Children get the MTA's offer: leadingSpace only where the MTA has it.
            endOfMessage: () => ({ reply: CONTINUE, changes: e.changes.map((c) => sent(c, e.leadingSpace && sc.mtaLeadingSpace)) }),
          })),
          fallbackStatus: 'accept',
          evaluationMode: false,
          conditions: [],
        }));
        // The last child sees values as they follow the colon when the MTA allows it, so every byte.
        const seen = { headers: [] as [string, string][], body: [] as Buffer[] };
        children.push({
          name: 'last',
          filter: defineFilter('last', { stages: EVENT_STAGES, leadingSpace: true }, () => ({
            header: (n, v) => (seen.headers.push([n, v]), CONTINUE),
            body: (c) => (seen.body.push(c), CONTINUE),
          })),
          fallbackStatus: 'accept',
          evaluationMode: false,
          conditions: [],
        });
        const chain = new Chain(children, { fallbackStatus: 'accept', logger: silentLogger, bodyMemoryLimit: sc.memoryLimit });
        // The MTA's message: values as it sends them (without the space unless leadingSpace).
        const mtaValue = (w: string) => (sc.mtaLeadingSpace ? ` ${w}` : w);
        const s = chain.open();
        const ctx = context();
        await s.negotiate({ ...FULL_OFFER, leadingSpace: sc.mtaLeadingSpace });
        await s.connect({ hostname: 'h', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
        await s.mail('<a@example.com>', [], ctx);
        for (const r of sc.recipients) await s.rcpt(r, [], ctx);
        await s.data(ctx);
        for (const [n, w] of sc.headers) await s.header(n, mtaValue(w), ctx);
        await s.endOfHeaders(ctx);
        for (const c of sc.body) await s.body(c, ctx);
        const eom = await s.endOfMessage(ctx);
        await s.close();
        chain.dispose();
        expect(eom.reply).toEqual(CONTINUE);

        // What Postfix would write, each child in turn editing what the one before left (values
        // stored as they follow the colon: each child's value gets the one space Postfix adds).
        const sentFields: ModelField[] = sc.headers.map(([name, w]) => ({ name, value: ` ${w}` }));
        let expected: ModelField[] = [OWN_RECEIVED, ...sentFields];
        let touchedOwn = false;
        for (const e of sc.editors) {
          const step = postfixApply(expected, e.changes, (v) => ` ${v}`);
          expected = step.fields;
          touchedOwn ||= step.touchedOwn;
        }
        // The one documented difference: the chain never edits Postfix's own Received (its text is unknown).
        fc.pre(!touchedOwn);
        const asSeen = (v: string) => (sc.mtaLeadingSpace || !v.startsWith(' ') ? v : v.slice(1));
        expect(seen.headers).toEqual(expected.filter((f) => !f.own).map((f) => [f.name, asSeen(f.value)]));

        // Postfix applies the net changes to what it received (its values as it stores them).
        const atMta = postfixApply([OWN_RECEIVED, ...sentFields], eom.changes, (v) => (sc.mtaLeadingSpace ? v : ` ${v}`));
        expect(atMta.touchedOwn).toBe(false);
        expect(atMta.fields).toEqual(expected);

        // So does the message editor, with the MTA's own Received hidden on top.
        const envelope: Envelope = { sender: '<a@example.com>', senderArgs: [], recipients: sc.recipients.map((address) => ({ address, args: [] })) };
        const mta = new Message(envelope, new HeaderList(sentFields, { hiddenTop: OWN_RECEIVED }));
        for (const c of sc.body) await mta.body.append(c);
        await applyChanges(mta, eom.changes, { leadingSpace: sc.mtaLeadingSpace });
        expect(mta.headers.all).toEqual(expected);
        expect(mta.headers.visible.map((h) => [h.name, asSeen(h.value)])).toEqual(seen.headers);
        expect(await mta.body.toBuffer()).toEqual(Buffer.concat(seen.body));
        expect(mta.envelope).toEqual(expectedEnvelope(sc.recipients, sc.editors.flatMap((e) => e.changes)));
        const quarantines = sc.editors.flatMap((e) => e.changes).filter((c) => c.kind === 'quarantine');
        expect(mta.quarantine).toBe(quarantines.at(-1)?.reason);
        // The net changes say each thing once: at most one body, one sender, one quarantine.
        for (const kind of ['replaceBody', 'changeSender', 'quarantine']) expect(eom.changes.filter((c) => c.kind === kind).length).toBeLessThanOrEqual(1);
      }),
      { seed: 7, numRuns: 400 },
    );
    // No spill file outlives its session (neither a name nor an open descriptor).
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`mailgate-body-${process.pid}-`))).toEqual([]);
    expect(spillDescriptors()).toEqual([]);
  });
});

/** The envelope after the children's edits, in the order they made them, modelled apart from the editor. */
function expectedEnvelope(recipients: string[], changes: readonly Change[]): Envelope {
  let sender = '<a@example.com>';
  let rcpts = recipients.map((address) => ({ address, args: [] as string[] }));
  for (const c of changes) {
    if (c.kind === 'changeSender') sender = c.sender;
    else if (c.kind === 'addRecipient') rcpts.push({ address: c.recipient, args: c.args === undefined ? [] : [c.args] });
    else if (c.kind === 'deleteRecipient') rcpts = rcpts.filter((r) => bareAddress(r.address) !== bareAddress(c.recipient));
  }
  return { sender, senderArgs: [], recipients: rcpts };
}
