import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../src/mail/apply-changes.js';
import type { Change } from '../../src/mail/changes.js';
import { HeaderList, type Header } from '../../src/mail/header-list.js';
import { MessageBody } from '../../src/mail/message-body.js';
import { Message } from '../../src/mail/message.js';
import { spillDescriptors, tempDir } from '../milter/helpers.js';

/** Values as they follow the colon, the Message's own form. */
function message(headers: [string, string][] = [['Received', ' a'], ['Subject', ' s'], ['received', ' b']], body = 'body\r\n'): Message {
  const m = new Message(
    { sender: '<a@example.com>', senderArgs: ['BODY=8BITMIME'], recipients: [{ address: '<b@example.org>', args: [] }, { address: '<c@example.org>', args: ['NOTIFY=NEVER'] }] },
    new HeaderList(headers.map(([name, value]) => ({ name, value }))),
  );
  void m.body.append(Buffer.from(body));
  return m;
}

const pairs = (h: readonly Header[]) => h.map((x) => `${x.name}:${x.value}`);

async function edited(changes: Change[], m = message(), leadingSpace = false): Promise<Message> {
  await applyChanges(m, changes, { leadingSpace });
  return m;
}

describe('applyChanges: headers, with the milter protocol’s index rules', () => {
  it('addHeader appends, with the space after the colon put back', async () => {
    const m = await edited([{ kind: 'addHeader', name: 'X-A', value: '1' }]);
    expect(pairs(m.headers.all)).toEqual(['Received: a', 'Subject: s', 'received: b', 'X-A: 1']);
  });

  it('insertHeader inserts at a 0-based index over all fields; past the end appends', async () => {
    const m = await edited([
      { kind: 'insertHeader', index: 0, name: 'X-Top', value: 't' },
      { kind: 'insertHeader', index: 2, name: 'X-Two', value: '2' },
      { kind: 'insertHeader', index: 99, name: 'X-End', value: 'e' },
    ]);
    expect(pairs(m.headers.all)).toEqual(['X-Top: t', 'Received: a', 'X-Two: 2', 'Subject: s', 'received: b', 'X-End: e']);
  });

  it('changeHeader changes the Nth field of that name, case-insensitively (0 counts as 1)', async () => {
    const m = await edited([
      { kind: 'changeHeader', name: 'RECEIVED', index: 2, value: 'B2' },
      { kind: 'changeHeader', name: 'subject', index: 0, value: 'new' },
    ]);
    expect(pairs(m.headers.all)).toEqual(['Received: a', 'Subject: new', 'received: B2']);
  });

  it('changeHeader with an empty value deletes the Nth field; a missing occurrence is added', async () => {
    const m = await edited([
      { kind: 'changeHeader', name: 'Received', index: 1, value: '' },
      { kind: 'changeHeader', name: 'Received', index: 5, value: 'added' },
      { kind: 'changeHeader', name: 'X-None', index: 1, value: '' },
    ]);
    expect(pairs(m.headers.all)).toEqual(['Subject: s', 'received: b', 'Received: added']);
  });

  it('deleteHeader deletes the Nth field of that name; a missing one is no change', async () => {
    const m = await edited([
      { kind: 'deleteHeader', name: 'received', index: 2 },
      { kind: 'deleteHeader', name: 'Subject', index: 2 },
    ]);
    expect(pairs(m.headers.all)).toEqual(['Received: a', 'Subject: s']);
  });

  it('takes values as they are when the filter negotiated leadingSpace', async () => {
    const m = await edited([{ kind: 'addHeader', name: 'X-A', value: '\tfolded\n next' }], message(), true);
    expect(m.headers.get('X-A')).toBe('\tfolded\n next');
    expect(m.headerBlock().toString()).toContain('X-A:\tfolded\r\n next\r\n');
  });
});

describe('applyChanges: body, envelope, quarantine', () => {
  it('replaceBody replaces the whole body; a later one replaces it again', async () => {
    const m = await edited([
      { kind: 'replaceBody', body: Buffer.from('first\r\n') },
      { kind: 'replaceBody', body: Buffer.from('second\r\n') },
    ]);
    expect((await m.body.toBuffer()).toString()).toBe('second\r\n');
  });

  it('replaceBody of a spilled body closes its file', async () => {
    const dir = tempDir();
    try {
      const m = new Message(undefined, new HeaderList(), new MessageBody({ memoryLimit: 4, directory: dir.path }));
      await m.body.append(Buffer.from('0123456789'));
      expect(spillDescriptors(dir.path)).toHaveLength(1);
      await applyChanges(m, [{ kind: 'replaceBody', body: Buffer.from('ok') }]);
      expect(spillDescriptors(dir.path)).toEqual([]);
      expect(m.body.spilled).toBe(false);
      expect((await m.body.toBuffer()).toString()).toBe('ok');
    } finally {
      dir.cleanup();
    }
  });

  it('addRecipient appends with its ESMTP args', async () => {
    const m = await edited([
      { kind: 'addRecipient', recipient: '<d@example.net>' },
      { kind: 'addRecipient', recipient: '<e@example.net>', args: 'NOTIFY=SUCCESS  ORCPT=rfc822;e@example.net' },
    ]);
    expect(m.envelope.recipients.slice(2)).toEqual([
      { address: '<d@example.net>', args: [] },
      { address: '<e@example.net>', args: ['NOTIFY=SUCCESS', 'ORCPT=rfc822;e@example.net'] },
    ]);
  });

  it('deleteRecipient removes every recipient with that address, angle brackets or not, compared exactly', async () => {
    const m = message();
    m.envelope.recipients.push({ address: 'b@example.org', args: ['NOTIFY=NEVER'] });
    await applyChanges(m, [
      { kind: 'deleteRecipient', recipient: 'b@example.org' },
      { kind: 'deleteRecipient', recipient: '<C@example.org>' }, // another address to Postfix (strcmp)
      { kind: 'deleteRecipient', recipient: '<nobody@example.org>' },
    ]);
    expect(m.envelope.recipients).toEqual([{ address: '<c@example.org>', args: ['NOTIFY=NEVER'] }]);
  });

  it('changeSender replaces the sender and its args', async () => {
    const m = await edited([{ kind: 'changeSender', sender: '<bounces@example.com>', args: 'SIZE=10' }]);
    expect(m.envelope.sender).toBe('<bounces@example.com>');
    expect(m.envelope.senderArgs).toEqual(['SIZE=10']);
    const plain = await edited([{ kind: 'changeSender', sender: '<>' }]);
    expect(plain.envelope).toMatchObject({ sender: '<>', senderArgs: [] });
  });

  it('quarantine records the reason; the last one wins', async () => {
    const m = await edited([
      { kind: 'quarantine', reason: 'first' },
      { kind: 'quarantine', reason: 'virus found' },
    ]);
    expect(m.quarantine).toBe('virus found');
    expect((await edited([])).quarantine).toBeUndefined();
  });

  it('applies a mixed list in order', async () => {
    const m = await edited([
      { kind: 'addRecipient', recipient: '<x@example.net>' },
      { kind: 'deleteRecipient', recipient: '<x@example.net>' },
      { kind: 'addHeader', name: 'X-Spam', value: 'no' },
      { kind: 'deleteHeader', name: 'X-Spam', index: 1 },
      { kind: 'addHeader', name: 'X-Spam', value: 'yes' },
    ]);
    expect(m.envelope.recipients.map((r) => r.address)).toEqual(['<b@example.org>', '<c@example.org>']);
    expect(m.headers.values('x-spam')).toEqual([' yes']);
  });
});
