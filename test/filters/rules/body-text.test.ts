/** The decoded body text body rules run on: transfer encodings, charsets, HTML as text, the size cap. */
import { describe, expect, it } from 'vitest';
import { bodyText } from '../../../src/filters/rules/body-text.js';

const msg = (headers: string, body: string): Buffer => Buffer.from(`From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n${headers}\r\n\r\n${body}`, 'latin1');

describe('bodyText', () => {
  it('decodes quoted-printable (soft line breaks, charset)', async () => {
    const m = msg('Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable', 'Gr=FC=DFe, cheap vi=\r\nagra here\r\n');
    expect(await bodyText(m, 1000)).toBe('Grüße, cheap viagra here\n');
  });

  it('decodes base64', async () => {
    const encoded = Buffer.from('Buy cheap watches today\r\n', 'utf8').toString('base64');
    const m = msg('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64', `${encoded}\r\n`);
    expect(await bodyText(m, 1000)).toContain('Buy cheap watches today');
  });

  it('turns an HTML-only body into text (no tags)', async () => {
    const m = msg('Content-Type: text/html; charset=utf-8', '<html><body><p>Click <a href="http://spam.example/">here</a> for <b>free</b> money</p></body></html>\r\n');
    const text = await bodyText(m, 1000);
    expect(text).toMatch(/Click here.*for free money/s);
    expect(text).not.toContain('<b>');
  });

  it('scans both parts of multipart/alternative when the HTML says something else', async () => {
    const m = msg(
      'Content-Type: multipart/alternative; boundary="b"',
      '--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAn innocent newsletter\r\n' +
        '--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        `${Buffer.from('<p>hidden <i>casino</i> offer</p>').toString('base64')}\r\n--b--\r\n`,
    );
    const text = await bodyText(m, 1000);
    expect(text).toContain('An innocent newsletter');
    expect(text).toContain('hidden casino offer');
  });

  it('does not scan attachments and cuts the text at the limit', async () => {
    const m = msg(
      'Content-Type: multipart/mixed; boundary="b"',
      '--b\r\nContent-Type: text/plain\r\n\r\n' + 'x'.repeat(100) + '\r\n' +
        '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        `${Buffer.from('attached viagra').toString('base64')}\r\n--b--\r\n`,
    );
    const text = await bodyText(m, 50);
    expect(text).toBe('x'.repeat(50));
    expect(await bodyText(m, 1000)).not.toContain('viagra');
  });
});
