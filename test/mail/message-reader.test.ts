import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { applyChanges } from '../../src/mail/apply-changes.js';
import { MessageReader, readMessage } from '../../src/mail/message-reader.js';
import type { Message } from '../../src/mail/message.js';
import { tempDir } from '../milter/helpers.js';

const dirs: { path: string; cleanup(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
function dir(): string {
  const d = tempDir('mailgate-reader-test-');
  dirs.push(d);
  return d.path;
}

async function bytes(m: Message): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of m.read(7)) out.push(c);
  return Buffer.concat(out);
}

const RECEIVED = Buffer.from(
  'Received: from client.example.com\r\n\tby mx.example.org; Thu, 3 Dec 2026 07:00:00 +0000\r\n' +
    'Subject: hello\r\n' +
    'From:<a@example.com>\r\n' +
    '\r\n' +
    'line one\r\n\r\nline three\r\n',
);

describe('MessageReader', () => {
  it('splits fields (value as it follows the colon, folds as LF) from the body', async () => {
    const m = await readMessage(RECEIVED);
    expect(m.headers.all).toEqual([
      { name: 'Received', value: ' from client.example.com\n\tby mx.example.org; Thu, 3 Dec 2026 07:00:00 +0000' },
      { name: 'Subject', value: ' hello' },
      { name: 'From', value: '<a@example.com>' },
    ]);
    expect((await m.body.toBuffer()).toString()).toBe('line one\r\n\r\nline three\r\n');
    expect(await bytes(m)).toEqual(RECEIVED);
  });

  it('gives the same message whatever the chunks, and streams back the bytes it read', async () => {
    const where = dir();
    const field = fc
      .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,8}$/), fc.array(fc.stringMatching(/^[ \t]?[ -~]{0,12}$/), { minLength: 1, maxLength: 3 }))
      .map(([name, lines]) => `${name}:${lines.map((l, i) => (i === 0 ? l : `\t${l}`)).join('\r\n')}\r\n`);
    const message = fc
      .tuple(fc.array(field, { maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 200 }))
      .map(([fields, body]) => Buffer.from(`${fields.join('')}\r\n${body}`, 'utf8'));
    await fc.assert(
      fc.asyncProperty(message, fc.array(fc.nat(400), { maxLength: 6 }), fc.nat(64), async (raw, cuts, memoryLimit) => {
        const reader = new MessageReader(undefined, { memoryLimit, directory: where });
        const at = [...new Set(cuts.map((c) => c % (raw.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const c of [...at, raw.length]) {
          await reader.write(raw.subarray(from, c));
          from = c;
        }
        const m = await reader.end();
        const whole = await readMessage(raw);
        expect(m.headers.all).toEqual(whole.headers.all);
        expect(await bytes(m)).toEqual(raw);
        await m.dispose();
      }),
      { seed: 9, numRuns: 300 },
    );
    expect(readdirSync(where)).toEqual([]);
  });

  it('a line that is not a field ends the headers and is the body’s first line (Postfix)', async () => {
    const m = await readMessage(Buffer.from('Subject: x\r\nnot a field\r\nmore\r\n'));
    expect(m.headers.all).toEqual([{ name: 'Subject', value: ' x' }]);
    expect((await m.body.toBuffer()).toString()).toBe('not a field\r\nmore\r\n');
  });

  it('takes bare LF line ends, and a message that is all headers', async () => {
    const m = await readMessage(Buffer.from('A: 1\n B\nC: 2'));
    expect(m.headers.all).toEqual([
      { name: 'A', value: ' 1\n B' },
      { name: 'C', value: ' 2' },
    ]);
    expect(m.body.length).toBe(0);
  });

  it('decodes a field as UTF-8 when it is valid UTF-8, otherwise as Latin-1 (as the milter stages do)', async () => {
    const m = await readMessage(Buffer.concat([Buffer.from('Subject: caf\u00e9\r\nX-Old: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')]));
    expect(m.headers.values('subject')).toEqual([' caf\u00e9']);
    expect(m.headers.values('x-old')).toEqual([' caf\u00e9']);
  });

  it('end of message in the SMTP server: received bytes, the chain’s changes, one queue file', async () => {
    const where = dir();
    const m = await readMessage(RECEIVED, { sender: '<a@example.com>', senderArgs: [], recipients: [{ address: '<b@example.org>', args: [] }] }, { memoryLimit: 16, directory: where });
    expect(m.body.spilled).toBe(true);
    await applyChanges(m, [
      { kind: 'insertHeader', index: 0, name: 'X-Spam-Status', value: 'No' },
      { kind: 'changeHeader', name: 'Subject', index: 1, value: '[ok] hello' },
      { kind: 'replaceBody', body: Buffer.from('new body\r\n') },
      { kind: 'addRecipient', recipient: '<archive@example.org>' },
    ]);
    const file = join(where, 'queued');
    await pipeline(m.stream(), createWriteStream(file));
    await m.dispose();
    expect(readFileSync(file, 'utf8')).toBe(
      'X-Spam-Status: No\r\n' +
        'Received: from client.example.com\r\n\tby mx.example.org; Thu, 3 Dec 2026 07:00:00 +0000\r\n' +
        'Subject: [ok] hello\r\n' +
        'From:<a@example.com>\r\n' +
        '\r\n' +
        'new body\r\n',
    );
    expect(m.envelope.recipients.map((r) => r.address)).toEqual(['<b@example.org>', '<archive@example.org>']);
    expect(readdirSync(where)).toEqual(['queued']);
  });
});
