import { describe, expect, it } from 'vitest';
import { extractPath, parseMailFile } from '../../src/cli/test-server/mail-file.js';

describe('test-server mail file', () => {
  it('reads headers, folded values, envelope defaults and the raw body', () => {
    const raw = Buffer.from(
      'From sender@example.com Mon Jan  1 00:00:00 2024\n' +
        'From: Alice <alice@example.com>\r\n' +
        'To: bob@example.org\r\n' +
        'Subject: a long\r\n  subject é\r\n' +
        '\r\n' +
        'body line 1\r\nbody line 2\r\n',
    );
    const m = parseMailFile(raw);
    expect(m.from).toBe('<alice@example.com>');
    expect(m.to).toEqual(['<bob@example.org>']);
    expect(m.headers).toEqual([
      { name: 'From', value: 'Alice <alice@example.com>' },
      { name: 'To', value: 'bob@example.org' },
      { name: 'Subject', value: 'a long\n  subject é' },
    ]);
    expect(m.body.toString()).toBe('body line 1\r\nbody line 2\r\n');
  });

  it('rejects a line that is neither a header nor a continuation', () => {
    expect(() => parseMailFile(Buffer.from('From: a@b\n:bad\n\nbody'))).toThrow(/invalid header line 2/);
  });

  it('extracts the path of an address', () => {
    expect(extractPath('Name <a@b.c>')).toBe('<a@b.c>');
    expect(extractPath('  a@b.c (comment)')).toBe('<a@b.c>');
    expect(() => extractPath('Name <a@b.c')).toThrow(/invalid mail address/);
  });
});
