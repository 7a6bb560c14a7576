import { describe, expect, it } from 'vitest';
import { simpleParser, type ParsedMail } from 'mailparser';
import { composeDsn, headerSection, remoteMta, rfc5322Date, type DsnInput } from '../../src/queue/dsn.js';

const ORIGINAL = Buffer.from('From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nthe body\r\n');

function dsn(more: Partial<DsnInput> = {}): Buffer {
  return composeDsn({
    kind: 'failure',
    hostname: 'mx.test',
    dsnId: 'ABCDEFGHIJKLM',
    envelope: {
      id: '0123456789ABC',
      sender: 'a@example.com',
      recipients: [],
      envid: 'QQ314159',
      client: 'c [192.0.2.1]',
      arrival: Date.UTC(2026, 11, 3, 9, 0, 0),
    },
    recipients: [
      {
        address: 'b@example.org',
        original: 'b@example.org',
        orcpt: 'rfc822;B@Example.org',
        action: 'failed',
        status: '5.1.1',
        diagnostic: 'host mx.example.org[192.0.2.1] said: 550 5.1.1 unknown',
        remoteReply: '550 5.1.1 unknown',
        relay: 'mx.example.org[192.0.2.1]:25',
      },
      { address: 'c@localhost', original: 'alias@localhost', action: 'failed', status: '5.2.2', diagnostic: 'mailbox full' },
    ],
    original: ORIGINAL,
    returnFull: true,
    now: new Date(Date.UTC(2026, 11, 3, 10, 0, 0)),
    ...more,
  });
}

/** The message/delivery-status part as fields: per-message block first, then one per recipient. */
function statusBlocks(raw: string): Record<string, string>[] {
  const part = /Content-Type: message\/delivery-status\r\n\r\n([\s\S]*?)\r\n--/.exec(raw)![1]!;
  return part
    .split(/\r\n\r\n/)
    .filter((b) => b.trim() !== '')
    .map((b) => Object.fromEntries(b.split('\r\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()])));
}

describe('DSN (RFC 3464)', () => {
  it('is a multipart/report from MAILER-DAEMON that mailparser reads: text, delivery-status, returned message', async () => {
    const raw = dsn();
    const m: ParsedMail = await simpleParser(raw);
    expect(m.from?.value).toEqual([{ name: 'Mail Delivery System', address: 'MAILER-DAEMON@mx.test' }]);
    expect(m.to && !Array.isArray(m.to) ? m.to.text : '').toBe('a@example.com');
    expect(m.subject).toBe('Undelivered Mail Returned to Sender');
    expect(m.headers.get('auto-submitted')).toBe('auto-replied');
    const ct = m.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(ct.value).toBe('multipart/report');
    expect(ct.params['report-type']).toBe('delivery-status');
    expect(m.text).toContain('This is the mail system at host mx.test.');
    expect(m.text).toContain('<b@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 unknown');
    expect(m.text).toContain('<c@localhost> (expanded from <alias@localhost>): mailbox full');
    // mailparser shows message/delivery-status inline with the text, and the returned message as an attachment.
    expect(m.text).toContain('Final-Recipient: rfc822; b@example.org');
    expect(m.attachments.map((a) => a.contentType)).toEqual(['message/rfc822']);
    expect(m.attachments[0]!.content.toString()).toBe(ORIGINAL.toString());
  });

  it('writes the per-message and per-recipient fields', () => {
    const [msg, b, c] = statusBlocks(dsn().toString());
    expect(msg).toEqual({
      'Original-Envelope-Id': 'QQ314159',
      'Reporting-MTA': 'dns; mx.test',
      'X-Mailgate-Queue-ID': '0123456789ABC',
      'X-Mailgate-Sender': 'rfc822; a@example.com',
      'Arrival-Date': 'Thu, 03 Dec 2026 09:00:00 +0000',
    });
    expect(b).toEqual({
      'Final-Recipient': 'rfc822; b@example.org',
      'Original-Recipient': 'rfc822;B@Example.org',
      Action: 'failed',
      Status: '5.1.1',
      'Remote-MTA': 'dns; mx.example.org',
      'Diagnostic-Code': 'smtp; 550 5.1.1 unknown',
    });
    expect(c).toEqual({
      'Final-Recipient': 'rfc822; c@localhost',
      'Original-Recipient': 'rfc822; alias@localhost',
      Action: 'failed',
      Status: '5.2.2',
      'Diagnostic-Code': 'X-Mailgate; mailbox full',
    });
  });

  it('returns the headers only as text/rfc822-headers when RET=HDRS (returnFull false)', async () => {
    const m = await simpleParser(dsn({ returnFull: false }));
    const third = m.attachments[0]!;
    expect(third.contentType).toBe('text/rfc822-headers');
    expect(third.content.toString()).toBe('From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n');
  });

  it('writes delay warnings with Will-Retry-Until and success notices, headers only', async () => {
    const delay = dsn({
      kind: 'delay',
      recipients: [{ address: 'b@example.org', original: 'b@example.org', action: 'delayed', status: '4.4.1', diagnostic: 'connect refused' }],
      retryUntil: new Date(Date.UTC(2026, 11, 8, 9, 0, 0)),
    });
    const md = await simpleParser(delay);
    expect(md.subject).toBe('Delayed Mail (still being retried)');
    expect(statusBlocks(delay.toString())[1]).toMatchObject({ Action: 'delayed', Status: '4.4.1', 'Will-Retry-Until': 'Tue, 08 Dec 2026 09:00:00 +0000' });
    expect(md.attachments[0]!.contentType).toBe('text/rfc822-headers');
    const ok = dsn({
      kind: 'success',
      recipients: [{ address: 'b@example.org', original: 'b@example.org', action: 'relayed', status: '2.0.0', relay: 'mx.example.org[192.0.2.1]:25' }],
    });
    const mo = await simpleParser(ok);
    expect(mo.subject).toBe('Successful Mail Delivery Report');
    expect(statusBlocks(ok.toString())[1]).toMatchObject({ Action: 'relayed', Status: '2.0.0', 'Remote-MTA': 'dns; mx.example.org' });
    expect(mo.attachments[0]!.contentType).toBe('text/rfc822-headers');
  });

  it('has CRLF line ends only, and no header injection from a multi-line remote reply', () => {
    const raw = dsn({
      original: Buffer.from('Subject: lf only\n\nbody\n'),
      recipients: [{ address: 'b@example.org', original: 'b@example.org', action: 'failed', status: '5.0.0', remoteReply: '550-first\r\n550 second\r\nX-Evil: 1' }],
    }).toString('latin1');
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(raw).toContain('Diagnostic-Code: smtp; 550-first 550 second X-Evil: 1');
    expect(raw).not.toMatch(/^X-Evil/m);
  });

  it('helpers: header section, Remote-MTA, RFC 5322 dates', () => {
    expect(headerSection(Buffer.from('A: 1\nB: 2\n\nbody')).toString()).toBe('A: 1\nB: 2\n');
    expect(headerSection(Buffer.from('A: 1\r\n\r\nbody')).toString()).toBe('A: 1\r\n');
    expect(remoteMta('mx.example.org[192.0.2.1]:25')).toBe('mx.example.org');
    expect(remoteMta('maildir')).toBeUndefined();
    expect(rfc5322Date(new Date(Date.UTC(2026, 0, 5, 1, 2, 3)))).toBe('Mon, 05 Jan 2026 01:02:03 +0000');
  });

  it('types non-ASCII addresses utf-8 (RFC 6533) and keeps every line within 998 characters', () => {
    const raw = dsn({
      recipients: [{ address: 'jöran@bücher.example', original: 'jöran@bücher.example', action: 'failed', status: '5.1.1', remoteReply: '550 ' + 'x'.repeat(5000) }],
    }).toString('utf8');
    expect(raw).toContain('Final-Recipient: utf-8; jöran@bücher.example');
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  });
});
