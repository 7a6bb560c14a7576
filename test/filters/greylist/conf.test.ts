// greylist.conf lexer and parser: the accepted syntax, ignored daemon statements, and syntax errors
// that name the file, line, column and token. Property tests: only ConfigError ever comes out, and
// print → parse round-trips.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseGreylistConf } from '../../../src/filters/greylist/conf/parser.js';
import { printGreylistConf } from '../../../src/filters/greylist/conf/printer.js';
import { GreylistConfError } from '../../../src/filters/greylist/conf/source.js';
import { formatSeconds, hms, parseSeconds, parseSize } from '../../../src/filters/greylist/conf/time.js';
import type { GreylistConf } from '../../../src/filters/greylist/conf/ast.js';
import { SAMPLE_CONF } from './harness.js';

const SRC = { file: '/etc/mail/greylist.conf' };
const parse = (text: string): GreylistConf => parseGreylistConf(text, SRC);

function errorOf(text: string, source: Parameters<typeof parseGreylistConf>[1] = SRC): GreylistConfError {
  try {
    parseGreylistConf(text, source);
  } catch (err) {
    if (err instanceof GreylistConfError) return err;
    throw err;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('time and size values', () => {
  test.each([
    ['30', 30],
    ['30s', 30],
    ['10m', 600],
    ['2h', 7200],
    ['5d', 432_000],
    ['1w', 604_800],
    ['1h30m', 5400],
    ['-1', -1],
  ])('%s = %d s', (text, s) => expect(parseSeconds(text)).toBe(s));
  test.each(['10M', '1y', 'm', '', '10 m'])('%j is not a time', (text) => expect(parseSeconds(text)).toBeUndefined());
  // With the old /(\d+[smhdw]?)+$/ this never finished (exponential backtracking); the test timeout guards it.
  test('a long run of digits that is not a time is refused (no regex backtracking)', () => {
    expect(parseSeconds(`${'1'.repeat(5000)}x`)).toBeUndefined();
  });
  test('sizes', () => {
    expect(parseSize('100k')).toBe(102_400);
    expect(parseSize('2M')).toBe(2 * 1024 * 1024);
    expect(parseSize('2m')).toBeUndefined();
  });
  test('HH:MM:SS does not wrap hours', () => {
    expect(hms(602)).toBe('00:10:02');
    expect(hms(90_000)).toBe('25:00:00');
  });
  test('formatSeconds', () => {
    expect(formatSeconds(600)).toBe('10m');
    expect(formatSeconds(604_800)).toBe('1w');
    expect(formatSeconds(0)).toBe('0s');
  });
});

describe('parsing', () => {
  test("the issue's sample configuration", () => {
    const c = parse(SAMPLE_CONF);
    expect(c).toMatchObject({ subnetmatch: 24, subnetmatch6: 128, greylist: 600, autowhite: 604_800, timeout: 432_000, report: 'all' });
    expect(c.macros).toEqual([{ name: 'trusted_domain', macro: '{trusted_domain}', value: { kind: 'string', value: 'yes' } }]);
    expect(c.acls.map((a) => [a.stage, a.action, a.line])).toEqual([
      ['rcpt', 'whitelist', 5],
      ['rcpt', 'greylist', 6],
      ['rcpt', 'greylist', 7],
    ]);
    expect(c.acls[1]?.clauses).toEqual([
      { kind: 'sm_macro', name: 'trusted_domain' },
      { kind: 'not', clause: { kind: 'spf', result: 'pass' } },
    ]);
  });

  test('defaults are milter-greylist 4.6 defaults', () => {
    expect(parse('')).toMatchObject({ subnetmatch: 32, subnetmatch6: 128, greylist: 1800, autowhite: 86_400, timeout: 432_000 });
  });

  test('keywords are case-insensitive and may end with a colon; comments and continuations', () => {
    const c = parse('# comment\nGreylist: 15m   # trailing comment\nAUTOWHITE 2d\nracl whitelist \\\n  addr 127.0.0.0/8\n');
    expect(c.greylist).toBe(900);
    expect(c.autowhite).toBe(172_800);
    expect(c.acls[0]?.clauses).toEqual([{ kind: 'addr', values: [{ kind: 'string', value: '127.0.0.0/8' }] }]);
  });

  test('quoted strings with escapes; regexes with \\/', () => {
    const c = parse('racl blacklist from /a\\/b@x/ msg "say \\"no\\" \\\\ now"\n');
    expect(c.acls[0]).toMatchObject({ msg: 'say "no" \\ now', clauses: [{ kind: 'from', values: [{ kind: 'regex', source: 'a/b@x' }] }] });
  });

  test('daemon statements are accepted and noted, not errors', () => {
    const c = parse(
      'pidfile "/var/run/milter-greylist.pid"\nsocket "/run/mg.sock" 660\ndumpfile "/var/db/greylist.db" 640\ndumpfreq 10m\nuser "smmsp"\nverbose\npeer 192.0.2.1 timeout 7s\ndnsrbl "spamhaus" sbl.spamhaus.org 127.0.0.2/32\nnsupdate "n" {\n  rname "x"\n}\nracl greylist default\n',
    );
    expect(c.notes.map((n) => n.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(c.notes[1]?.text).toMatch(/^"socket" ignored/);
    expect(c.acls).toHaveLength(1);
  });

  test('acl ids, dacl, every per-ACL setting', () => {
    const c = parse('dacl "big" blacklist msgsize >= 10M delay 1m autowhite 2h code "554" ecode "5.3.4" msg "too big" report "r" nolog\n');
    expect(c.acls[0]).toMatchObject({
      stage: 'data',
      id: 'big',
      delay: 60,
      autowhite: 7200,
      code: '554',
      ecode: '5.3.4',
      msg: 'too big',
      report: 'r',
      clauses: [{ kind: 'msgsize', op: '>=', value: 10 * 1024 * 1024 }],
    });
  });

  test('flags', () => {
    const c = parse('quiet\nnoauth\nnospf\nnoaccessdb\nlazyaw\nmultiracl\ndelayedreject\ndomainexact\n');
    expect(Object.values(c.flags).every(Boolean)).toBe(true);
  });
});

describe('syntax errors name file, line, column and token', () => {
  test.each([
    ['greylist 10x\n', 1, 10, '10x', /expected the greylist delay/],
    ['subnetmatch /24\nsubnetmatch /33\n', 2, 13, '/33', /prefix length must be 0 to 32/],
    ['racl whitelist adr 1.2.3.4\n', 1, 16, 'adr', /unexpected "adr", expected a clause/],
    ['racl permit default\n', 1, 6, 'permit', /expected whitelist, greylist, blacklist, continue/],
    ['racl whitelist\n', 1, 15, '\n', /unexpected end of line, expected a clause/],
    ['frobnicate yes\n', 1, 1, 'frobnicate', /unknown keyword "frobnicate"/],
    ['\n\n  racl whitelist addr 300.1.1.1\n', 3, 23, '300.1.1.1', /not an IP address/],
    ['racl whitelist from "unterminated\n', 1, 21, '"unterminated', /unterminated quoted string/],
    ['racl whitelist from /(/\n', 1, 21, '/(/', /invalid regular expression/],
    ['racl whitelist sm_macro "nope"\n', 1, 25, '"nope"', /sm_macro "nope" is not defined/],
    ['racl whitelist list "nope"\n', 1, 21, '"nope"', /list "nope" is not defined/],
    ['sm_macro "a" "{a}" "1"\nsm_macro "a" "{a}" "2"\n', 2, 10, '"a"', /defined twice/],
    ['racl whitelist header /x/\n', 1, 16, 'header', /needs the message: use it in a dacl/],
    ['racl whitelist dnsrbl "spamhaus"\n', 1, 16, 'dnsrbl', /not supported/],
    ['racl whitelist default code "999"\n', 1, 29, '"999"', /not an SMTP reply code/],
    ['list "l" addr { 1.2.3.4\n', 2, 1, '', /expected "}"/],
    ['greylist 10m extra\n', 1, 14, 'extra', /expected the end of the line/],
  ])('%j → line %d column %d token %j', (text, line, column, token, reason) => {
    const err = errorOf(text);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.line).toBe(line);
    expect(err.column).toBe(column);
    expect(err.token).toBe(token);
    expect(err.message).toMatch(reason);
    expect(err.message.startsWith(`/etc/mail/greylist.conf:${line}: column ${column}: `)).toBe(true);
  });

  test('conf_text: lines point into mailgate.toml and the key is named', () => {
    const err = errorOf('subnetmatch /24\ngreylist ten\n', { file: 'mailgate.toml', lineOffset: 7, key: 'milter[0].conf_text' });
    expect(err.message).toBe(
      'mailgate.toml:9: milter[0].conf_text: column 10: unexpected "ten", expected the greylist delay (a time such as 30s, 10m, 2h, 5d or 1w)',
    );
  });
});

describe('properties', () => {
  const confChars = fc.constantFrom(...'abcdefghilmnoprstuwy0123456789 \t\n#"/\\{}!:.@<>=-_*'.split(''));
  const keywordsLine = fc.constantFrom(
    'racl', 'dacl', 'acl', 'whitelist', 'greylist', 'blacklist', 'continue', 'default', 'addr', 'from', 'rcpt', 'not',
    'spf', 'pass', 'sm_macro', 'list', '"x"', '/re/', '{', '}', '10m', '192.0.2.0/24', 'subnetmatch', '/24', 'msgsize', '>', '1k', '\n',
  ); // prettier-ignore

  test('random text: parsed, or a ConfigError; nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: confChars, maxLength: 200 }), fc.array(keywordsLine, { maxLength: 30 }).map((a) => a.join(' '))), (text) => {
        try {
          parse(text);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          expect(err.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 2000 },
    );
  });

  const word = fc.stringMatching(/^[a-z][a-z0-9.]{0,8}@[a-z]{1,6}\.test$/);
  const str = fc.string({ maxLength: 12 }).filter((s) => !/[\n\r]/.test(s));
  const regex = fc.constantFrom('^a', 'b$', 'x/y', '[0-9]+', 'a\\.b', '\\\\');
  const pattern = fc.oneof(word.map((value) => ({ kind: 'string' as const, value })), regex.map((source) => ({ kind: 'regex' as const, source })));
  const net = fc.constantFrom('192.0.2.0/24', '10.0.0.1', '2001:db8::/32', '::1');
  const time = fc.constantFrom(0, 30, 600, 3600, 86_400, 604_800, 90);
  const clause = fc.oneof(
    fc.constant({ kind: 'default' as const }),
    fc.array(net, { minLength: 1, maxLength: 3 }).map((ns) => ({ kind: 'addr' as const, values: ns.map((value) => ({ kind: 'string' as const, value })) })),
    fc.tuple(fc.constantFrom('from' as const, 'rcpt' as const, 'domain' as const, 'helo' as const), fc.array(pattern, { minLength: 1, maxLength: 2 })).map(
      ([kind, values]) => ({ kind, values }),
    ),
    fc.constantFrom('pass', 'fail', 'softfail', 'neutral', 'none', 'unknown', 'error').map((result) => ({ kind: 'spf' as const, result })),
    fc.tuple(fc.constantFrom('<', '<=', '>', '>=', '==', '!='), fc.nat(50)).map(([op, n]) => ({ kind: 'rcptcount' as const, op, value: n, written: String(n) })),
  );
  const acl = fc.record(
    {
      action: fc.constantFrom('whitelist', 'greylist', 'blacklist', 'continue'),
      clauses: fc.array(fc.oneof(clause, clause.map((c) => ({ kind: 'not' as const, clause: c }))), { minLength: 1, maxLength: 3 }),
      delay: time,
      msg: str,
      code: fc.constantFrom('451', '550'),
      id: str,
    },
    { requiredKeys: ['action', 'clauses'] },
  );

  test('print → parse round-trips', () => {
    fc.assert(
      fc.property(
        fc.record({
          subnetmatch: fc.integer({ min: 0, max: 32 }),
          greylist: time,
          autowhite: time,
          quiet: fc.boolean(),
          macroValue: fc.oneof(str.map((value) => ({ kind: 'string' as const, value })), regex.map((source) => ({ kind: 'regex' as const, source })), fc.constant({ kind: 'unset' as const })),
          listItems: fc.array(pattern, { maxLength: 3 }),
          acls: fc.array(acl, { maxLength: 4 }),
        }),
        (g) => {
          const conf: GreylistConf = {
            ...parse(''),
            subnetmatch: g.subnetmatch,
            greylist: g.greylist,
            autowhite: g.autowhite,
            flags: { ...parse('').flags, quiet: g.quiet },
            macros: [{ name: 'm', macro: '{m}', value: g.macroValue }],
            lists: [{ name: 'l', type: 'from', items: g.listItems }],
            acls: g.acls.map((a, i) => ({ stage: 'rcpt', keyword: 'racl', line: i, ...a })),
          };
          const again = parse(printGreylistConf(conf));
          const strip = (c: GreylistConf): unknown => ({ ...c, notes: [], acls: c.acls.map((a) => ({ ...a, line: 0 })) });
          expect(strip(again)).toEqual(strip(conf));
        },
      ),
      { numRuns: 500 },
    );
  });
});
