import { readdirSync, statSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageBody } from '../../src/mail/message-body.js';
import { spillDescriptors, tempDir } from '../milter/helpers.js';

const dirs: { path: string; cleanup(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
function dir(): string {
  const d = tempDir('mailgate-body-test-');
  dirs.push(d);
  return d.path;
}

async function chunks(body: MessageBody, size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of body.read(size)) out.push(c);
  return out;
}

describe('MessageBody', () => {
  it('keeps a body within the threshold in memory, as the chunks given (no copy)', async () => {
    const body = new MessageBody({ memoryLimit: 1000, directory: dir() });
    const chunk = Buffer.alloc(1000, 0x61);
    await body.append(chunk);
    expect(body.spilled).toBe(false);
    expect(body.length).toBe(1000);
    expect(await body.toBuffer()).toBe(chunk);
  });

  it('spills past the threshold to a private file with no name (nothing left after a crash), and reads back the same bytes', async () => {
    const where = dir();
    const body = new MessageBody({ memoryLimit: 1000, directory: where });
    await body.append(Buffer.alloc(600, 0x61));
    expect(body.spilled).toBe(false);
    await body.append(Buffer.alloc(600, 0x62));
    expect(body.spilled).toBe(true);
    // No directory entry while the body is spilled: only this process's descriptor holds the file.
    expect(readdirSync(where)).toEqual([]);
    const open = spillDescriptors(where);
    expect(open).toHaveLength(1);
    expect(statSync(open[0]!).mode & 0o777).toBe(0o600);
    expect(statSync(open[0]!).size).toBe(1200);
    await body.append(Buffer.from('c'));
    expect((await chunks(body, 500)).map((c) => c.length)).toEqual([500, 500, 201]);
    expect((await body.toBuffer()).toString()).toBe('a'.repeat(600) + 'b'.repeat(600) + 'c');
    expect(await text(body.stream(100))).toBe('a'.repeat(600) + 'b'.repeat(600) + 'c');
    await body.dispose();
    expect(spillDescriptors(where)).toEqual([]);
    expect(readdirSync(where)).toEqual([]);
    expect(body.length).toBe(0);
  });

  it('replace() drops the spill file and holds the new body', async () => {
    const where = dir();
    const body = new MessageBody({ memoryLimit: 10, directory: where });
    await body.append(Buffer.alloc(20));
    expect(spillDescriptors(where)).toHaveLength(1);
    await body.replace(Buffer.from('short'));
    expect(body.spilled).toBe(false);
    expect(spillDescriptors(where)).toEqual([]);
    expect((await body.toBuffer()).toString()).toBe('short');
    await body.replace(Buffer.alloc(11, 0x7a));
    expect(body.spilled).toBe(true);
    expect((await body.toBuffer()).toString()).toBe('z'.repeat(11));
    expect(spillDescriptors(where)).toHaveLength(1);
    await body.dispose();
    expect(spillDescriptors(where)).toEqual([]);
    expect(readdirSync(where)).toEqual([]);
  });

  it('an empty body reads as nothing', async () => {
    const body = new MessageBody();
    await body.append(Buffer.alloc(0));
    expect(await chunks(body, 10)).toEqual([]);
    expect((await body.toBuffer()).length).toBe(0);
  });
});
