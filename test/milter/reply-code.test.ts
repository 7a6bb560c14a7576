import { describe, expect, it } from 'vitest';
import { ACCEPT, CONTINUE, DISCARD, reject, REJECT, SKIP, tempfail, TEMPFAIL, type Reply } from '../../src/mail/reply.js';
import { formatReplyText, parseReplyText, replyFromText, responseForReply } from '../../src/milter/reply-code.js';

const text = (r: Reply): string => {
  const resp = responseForReply(r);
  if (resp.type !== 'replycode') throw new Error(`expected replycode, got ${resp.type}`);
  return resp.text;
};

describe('responseForReply', () => {
  it.each([
    [CONTINUE, 'continue'],
    [ACCEPT, 'accept'],
    [DISCARD, 'discard'],
    [SKIP, 'skip'],
    [REJECT, 'reject'],
    [TEMPFAIL, 'tempfail'],
  ] as const)('%o without code or text is the bare status', (reply, type) => {
    expect(responseForReply(reply)).toEqual({ type });
  });

  it('a code or text on a non-reject/tempfail status is ignored', () => {
    expect(responseForReply({ status: 'accept', code: 250, text: 'ok' })).toEqual({ type: 'accept' });
    expect(responseForReply({ status: 'discard', code: 550, text: 'x' })).toEqual({ type: 'discard' });
  });

  it('reject/tempfail with a code become REPLYCODE', () => {
    expect(text(reject())).toBe('550 5.7.1');
    expect(text(reject(550, '5.7.1', 'Go away'))).toBe('550 5.7.1 Go away');
    expect(text(tempfail())).toBe('451 4.7.1');
    expect(text(tempfail(421, '4.7.0', 'closing'))).toBe('421 4.7.0 closing');
    expect(text({ status: 'reject', code: 554 })).toBe('554 5.0.0');
  });

  it('text without a code gets 550 / 451 and x.0.0', () => {
    expect(text({ status: 'reject', text: 'no' })).toBe('550 5.0.0 no');
    expect(text({ status: 'tempfail', text: 'later' })).toBe('451 4.0.0 later');
  });

  it('class mismatch between code and status: bare r / t, as libmilter', () => {
    expect(responseForReply({ status: 'reject', code: 451, enhancedCode: '4.7.1', text: 'x' })).toEqual({ type: 'reject' });
    expect(responseForReply({ status: 'tempfail', code: 550, text: 'x' })).toEqual({ type: 'tempfail' });
    expect(responseForReply({ status: 'reject', code: 250 })).toEqual({ type: 'reject' });
    expect(responseForReply({ status: 'reject', code: 5000 })).toEqual({ type: 'reject' });
    expect(responseForReply({ status: 'reject', code: 55 })).toEqual({ type: 'reject' });
  });

  it('a code that is not a whole number is not sent', () => {
    expect(responseForReply({ status: 'reject', code: 550.5 })).toEqual({ type: 'reject' });
    expect(responseForReply({ status: 'tempfail', code: Number.NaN })).toEqual({ type: 'tempfail' });
  });

  it('an enhanced code of the wrong class or malformed is replaced by x.0.0', () => {
    expect(text(reject(550, '4.7.1', 'x'))).toBe('550 5.0.0 x');
    expect(text(tempfail(451, '5.7.1', 'x'))).toBe('451 4.0.0 x');
    expect(text(reject(550, 'bogus', 'x'))).toBe('550 5.0.0 x');
    expect(text(reject(550, '5.1234.1', 'x'))).toBe('550 5.0.0 x');
    expect(text(reject(550, '5.1.1 ', 'x'))).toBe('550 5.0.0 x');
    expect(text(reject(550, '5.123.456', 'x'))).toBe('550 5.123.456 x');
  });

  it('multi-line: ddd- on every line but the last, CRLF between, no trailing CRLF', () => {
    expect(text(reject(550, '5.7.1', ['one', 'two', 'three']))).toBe('550-5.7.1 one\r\n550-5.7.1 two\r\n550 5.7.1 three');
    expect(text(reject(550, '5.7.1', ['', 'x']))).toBe('550-5.7.1\r\n550 5.7.1 x');
  });

  it('CR and LF inside a line become a space; % is doubled', () => {
    expect(text(reject(550, '5.7.1', 'a\r\nb\nc\rd'))).toBe('550 5.7.1 a b c d');
    expect(text(reject(550, '5.7.1', ['50% off', '%s %%']))).toBe('550-5.7.1 50%% off\r\n550 5.7.1 %%s %%%%');
  });
});

describe('formatReplyText', () => {
  it('formats one line, several lines and no text', () => {
    expect(formatReplyText(550, '5.7.1', ['x'])).toBe('550 5.7.1 x');
    expect(formatReplyText(451, '4.3.0', [])).toBe('451 4.3.0');
    expect(formatReplyText(421, '4.7.0', ['a', 'b'])).toBe('421-4.7.0 a\r\n421 4.7.0 b');
  });
});

describe('parseReplyText', () => {
  it('single line with enhanced code', () => {
    expect(parseReplyText('550 5.7.1 Go away')).toEqual({ code: 550, enhancedCode: '5.7.1', lines: ['Go away'] });
  });

  it('without enhanced code, and code alone', () => {
    expect(parseReplyText('451 try later')).toEqual({ code: 451, lines: ['try later'] });
    expect(parseReplyText('554')).toEqual({ code: 554, lines: [''] });
    expect(parseReplyText('554 5.7.1')).toEqual({ code: 554, enhancedCode: '5.7.1', lines: [''] });
  });

  it('multi-line with CRLF or bare LF; the first enhanced code wins', () => {
    expect(parseReplyText('550-5.7.1 one\r\n550 5.7.2 two')).toEqual({ code: 550, enhancedCode: '5.7.1', lines: ['one', 'two'] });
    expect(parseReplyText('550-one\n550 5.1.1 two')).toEqual({ code: 550, enhancedCode: '5.1.1', lines: ['one', 'two'] });
  });

  it('%% is unescaped', () => {
    expect(parseReplyText('550 5.7.1 100%% sure %%%%')?.lines).toEqual(['100% sure %%']);
  });

  it.each(['', 'junk', '55 x', '5500 x', '600 x', '150 x', '550x', ' 550 x'])('%j is not a reply', (t) => {
    expect(parseReplyText(t)).toBeUndefined();
  });
});

describe('replyFromText (MTA side)', () => {
  it('5xx is reject, 4xx tempfail', () => {
    expect(replyFromText('550 5.7.1 Go away')).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: 'Go away' });
    expect(replyFromText('421 4.7.0 bye')).toEqual({ status: 'tempfail', code: 421, enhancedCode: '4.7.0', text: 'bye' });
    expect(replyFromText('451 later')).toEqual({ status: 'tempfail', code: 451, text: 'later' });
  });

  it('several lines become a text array', () => {
    expect(replyFromText('550-5.7.1 a\r\n550 5.7.1 b')).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: ['a', 'b'] });
  });

  it('an unparseable text is a tempfail carrying the text', () => {
    expect(replyFromText('garbage')).toEqual({ status: 'tempfail', text: 'garbage' });
  });

  it('round trip: responseForReply → replyFromText', () => {
    for (const r of [
      reject(550, '5.7.1', 'Go away'),
      reject(554, '5.7.0', ['first line', '100% spam', '']),
      tempfail(451, '4.7.1', 'later'),
      tempfail(421, '4.3.2', ['a', 'b']),
    ]) {
      expect(replyFromText(text(r))).toEqual(r);
    }
  });
});
