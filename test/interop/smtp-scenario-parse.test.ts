// The scenario runner's pure parts, without sockets: the reply reader (harness/smtp-reply.ts), reply
// patterns, scenario-file validation and {{variable}} substitution (harness/smtp-scenario.ts).
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { readReplies } from './harness/smtp-reply.js';
import { loadScenarios, matches, parseExpected, parseScenario, substitute } from './harness/smtp-scenario.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('readReplies', () => {
  test('single and multi-line replies, enhanced codes, CRLF or LF', () => {
    const r = readReplies(b('220 mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250 2.0.0 SIZE\r\n554 5.7.1 <a@b>: Relay access denied\n'));
    expect(r.replies.map((x) => [x.code, x.enhanced, x.text])).toEqual([
      [220, undefined, 'mx ESMTP'],
      [250, '2.0.0', 'mx\nPIPELINING\nSIZE'],
      [554, '5.7.1', '<a@b>: Relay access denied'],
    ]);
    expect(r.rest.length).toBe(0);
    expect(r.malformed).toBeUndefined();
  });

  test('an incomplete reply stays in rest', () => {
    const r = readReplies(b('250 ok\r\n250-first\r\n250 la'));
    expect(r.replies).toHaveLength(1);
    expect(r.rest.toString('latin1')).toBe('250-first\r\n250 la');
  });

  test('a line that is no reply, or a code change inside a multi-line reply, is malformed', () => {
    expect(readReplies(b('hello\r\n')).malformed).toBe('hello');
    expect(readReplies(b('250-a\r\n251 b\r\n')).malformed).toBe('251 b');
  });

  test('any bytes: never throws, and the complete replies plus the rest account for the input', () => {
    const chunk = fc.oneof(
      fc.constantFrom('250 ok\r\n', '250-x\r\n', '354 go\r\n', '\r\n', '\n', '5', '55', '550 5.1.1 x\r\n', '2.0.0 '),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 20 }), (parts) => {
        const input = b(parts.join(''));
        const r = readReplies(input);
        const consumed = r.replies.reduce((n, x) => n + x.lines.reduce((m, l) => m + l.length, 0), 0);
        expect(consumed).toBeLessThanOrEqual(input.length);
        if (r.malformed === undefined) expect(input.subarray(input.length - r.rest.length).equals(r.rest)).toBe(true);
        for (const x of r.replies) expect(x.code).toBeGreaterThanOrEqual(200);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('patterns and files', () => {
  test('reply patterns', () => {
    const reply = readReplies(b('554 5.7.1 denied\r\n')).replies[0] ?? expect.unreachable();
    for (const ok of ['5', '55', '554', '*', '5 5.7.1', '554 5.7', '554 5']) expect(matches(reply, parseExpected(ok)), ok).toBe(true);
    for (const no of ['4', '550', '554 5.7.2', '5 5.1']) expect(matches(reply, parseExpected(no)), no).toBe(false);
    expect(() => parseExpected('250 ok')).toThrow(/bad reply pattern/);
    expect(matches(readReplies(b('250 fine\r\n')).replies[0] ?? expect.unreachable(), parseExpected('250 2.0.0'))).toBe(false);
  });

  test('scenario files are validated with the file name and step', () => {
    expect(() => parseScenario('x', { description: 'd', steps: [{ send: 'A\r\nB', expect: '2' }] })).toThrow(/scenario x: step 1: "send" must be one line/);
    expect(() => parseScenario('x', { description: 'd', steps: [{ send: 'NOOP' }] })).toThrow(/step 1: "expect"/);
    expect(() => parseScenario('x', { description: 'd', steps: [{ send: 'NOOP', expect: '2', sleep: 1 }] })).toThrow(/unknown key "sleep"/);
    const s = parseScenario('x', { description: 'd', steps: [{ raw: 'a\n', expect: 'none' }, { expect: ['250', '5 5.7.1'], close: true }] });
    expect(s.steps).toEqual([
      { raw: 'a\n', expect: [], close: false },
      { expect: [{ code: '250' }, { code: '5', enhanced: '5.7.1' }], close: true },
    ]);
  });

  test('every file in test/smtp/scenarios parses', () => {
    expect(loadScenarios().map((s) => s.name)).toEqual(expect.arrayContaining(['bad-syntax', 'relay-denied', 'too-many-recipients']));
  });

  test('{{variables}}', () => {
    expect(substitute('RCPT TO:<{{local_user}}>', { local_user: 'a@b' })).toBe('RCPT TO:<a@b>');
    expect(() => substitute('{{nope}}', {})).toThrow(/\{\{nope\}\} has no value/);
  });
});
