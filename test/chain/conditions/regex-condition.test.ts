import { describe, expect, it } from 'vitest';
import { APPLY, STOP, type ConditionStage } from '../../../src/chain/condition.js';
import { createRegexCondition, type RegexConditionOptions } from '../../../src/chain/conditions/regex-condition.js';
import { ctx, inet, unixClient, type CtxInit } from './helpers.js';

const make = (o: Partial<RegexConditionOptions> & Pick<RegexConditionOptions, 'field' | 'pattern'>) =>
  createRegexCondition({ name: 'Test', action: 'apply', ...o });

describe('regex conditions', () => {
  it.each([
    ['host', ['connect']],
    ['address', ['connect']],
    ['helo', ['helo']],
    ['sender', ['mail']],
    ['recipient', ['rcpt']],
    ['macro', ['connect', 'helo', 'mail', 'rcpt']],
  ] as const)('field %s acts at %j', (field, stages) => {
    expect([...make({ field, pattern: 'x', macro: 'i' }).stages]).toEqual(stages);
  });

  // [field, stage, context, pattern, matches]
  const cases: [RegexConditionOptions['field'], ConditionStage, CtxInit, string, boolean][] = [
    ['host', 'connect', { connection: inet('192.0.2.1', 'mx.partner.example') }, '\\.partner\\.example$', true],
    ['host', 'connect', { connection: inet('192.0.2.1', 'mx.other.example') }, '\\.partner\\.example$', false],
    ['address', 'connect', { connection: inet('192.0.2.1') }, '^192\\.0\\.2\\.', true],
    ['address', 'connect', { connection: inet('2001:db8::5') }, '^2001:db8:', true],
    ['address', 'connect', { connection: inet('198.51.100.1') }, '^192\\.0\\.2\\.', false],
    ['address', 'connect', { connection: unixClient('/run/smtpd.sock') }, '^/run/', true],
    ['helo', 'helo', { helo: 'mail.example.com' }, '^mail\\.', true],
    ['helo', 'helo', { helo: '[192.0.2.1]' }, '^mail\\.', false],
    ['sender', 'mail', { sender: '<alice@example.com>' }, '@example\\.com>$', true],
    ['sender', 'mail', { sender: '<>' }, '@example\\.com>$', false],
    ['recipient', 'rcpt', { recipient: '<sales@example.com>' }, '^<sales@', true],
    ['recipient', 'rcpt', { recipient: '<bob@example.com>' }, '^<sales@', false],
  ];

  it.each(cases)('%s at %s: %j ~ /%s/ → match=%s', (field, stage, init, pattern, matches) => {
    const apply = make({ field, pattern, action: 'apply' });
    const skip = make({ field, pattern, action: 'skip' });
    expect(apply.check(stage, ctx(init))).toBe(matches ? APPLY : STOP);
    expect(skip.check(stage, ctx(init))).toBe(matches ? STOP : APPLY);
  });

  it('tests a missing value as the empty string', () => {
    expect(make({ field: 'address', pattern: '^$' }).check('connect', ctx({ connection: { hostname: 'x', family: 'unknown' } }))).toBe(APPLY);
    expect(make({ field: 'host', pattern: '.' }).check('connect', ctx())).toBe(STOP);
    expect(make({ field: 'host', pattern: '.', action: 'skip' }).check('connect', ctx())).toBe(APPLY);
  });

  it('uses flags and ignores g and y', () => {
    const c = make({ field: 'sender', pattern: '@EXAMPLE\\.COM>$', flags: 'gi' });
    for (let i = 0; i < 3; i++) expect(c.check('mail', ctx({ sender: '<a@example.com>' }))).toBe(APPLY);
    expect(make({ field: 'sender', pattern: '^<a@', flags: 'y' }).check('mail', ctx({ sender: '<a@b>' }))).toBe(APPLY);
  });

  it('applies at stages it does not act at', () => {
    expect(make({ field: 'sender', pattern: 'never' }).check('rcpt', ctx({ sender: '<a@b>' }))).toBe(APPLY);
  });

  describe('macro field', () => {
    const authApply = createRegexCondition({ name: 'Auth', field: 'macro', macro: '{auth_authen}', pattern: '^staff-', action: 'apply' });
    const authSkip = createRegexCondition({ name: 'NoAuth', field: 'macro', macro: 'auth_authen', pattern: '^staff-', action: 'skip' });

    it('accepts the macro name with or without braces', () => {
      for (const c of [authApply, authSkip]) {
        expect(c.check('mail', ctx({ macros: { auth_authen: 'staff-bob' } }))).toBe(c === authApply ? APPLY : STOP);
        expect(c.check('mail', ctx({ macros: { '{auth_authen}': 'staff-bob' } }))).toBe(c === authApply ? APPLY : STOP);
      }
    });

    it('stays undecided while the macro is unset or empty, until RCPT', () => {
      for (const stage of ['connect', 'helo', 'mail'] as const) {
        expect(authApply.check(stage, ctx())).toBe(APPLY);
        expect(authApply.check(stage, ctx({ macros: { auth_authen: '' } }))).toBe(APPLY);
        expect(authSkip.check(stage, ctx())).toBe(APPLY);
      }
      expect(authApply.check('rcpt', ctx())).toBe(STOP);
      expect(authSkip.check('rcpt', ctx())).toBe(APPLY);
      const empty = createRegexCondition({ name: 'E', field: 'macro', macro: 'x_tag', pattern: '^$', action: 'apply' });
      expect(empty.check('rcpt', ctx())).toBe(APPLY);
      expect(empty.check('rcpt', ctx({ macros: { x_tag: 'v' } }))).toBe(STOP);
    });

    it('decides at the first stage the macro is set and re-checks later', () => {
      const daemon = createRegexCondition({ name: 'Submission', field: 'macro', macro: 'daemon_name', pattern: '^submission$', action: 'skip' });
      expect(daemon.check('connect', ctx({ macros: { daemon_name: 'submission' } }))).toBe(STOP);
      expect(daemon.check('connect', ctx({ macros: { daemon_name: 'smtp' } }))).toBe(APPLY);
      expect(daemon.check('mail', ctx({ macros: { daemon_name: 'smtp' } }))).toBe(APPLY);
      expect(daemon.check('rcpt', ctx({ macros: { daemon_name: 'submission' } }))).toBe(STOP);
    });

    it('works with single-letter macros', () => {
      const c = createRegexCondition({ name: 'QueueId', field: 'macro', macro: '{i}', pattern: '^ABC', action: 'apply' });
      expect(c.check('mail', ctx({ macros: { i: 'ABC123' } }))).toBe(APPLY);
      expect(c.check('mail', ctx({ macros: { i: 'XYZ' } }))).toBe(STOP);
    });
  });

  it('keeps the configured name and description, or describes itself', () => {
    const c = createRegexCondition({ name: 'Sales Only', description: 'Mail for sales', field: 'recipient', pattern: '^<sales@', action: 'apply' });
    expect(c.name).toBe('Sales Only');
    expect(c.description).toBe('Mail for sales');
    expect(make({ field: 'host', pattern: '\\.lan$', flags: 'i', action: 'skip' }).description).toBe('Skip milter when host matches /\\.lan$/i');
    expect(createRegexCondition({ name: 'M', field: 'macro', macro: '{x}', pattern: 'y', action: 'apply' }).description).toBe(
      'Apply milter when macro {x} matches /y/',
    );
  });

  describe('bad definitions', () => {
    it('names the condition and the regex error for a bad pattern', () => {
      expect(() => createRegexCondition({ name: 'Broken', field: 'host', pattern: '(unclosed', action: 'apply' })).toThrow(
        /^condition "Broken": invalid regex \/\(unclosed\/: .*(Unterminated group|unterminated)/i,
      );
    });

    it('names the condition for bad flags', () => {
      expect(() => createRegexCondition({ name: 'Flags', field: 'host', pattern: 'x', flags: 'q', action: 'apply' })).toThrow(
        /^condition "Flags": invalid regex \/x\/q: .*flags/i,
      );
    });

    it.each([
      [{ name: 'X', field: 'subject', pattern: 'x', action: 'apply' }, /condition "X": unknown field "subject"/],
      [{ name: 'X', field: 'host', pattern: 'x', action: 'reject' }, /condition "X": unknown action "reject"; expected apply or skip/],
      [{ name: 'X', field: 'macro', pattern: 'x', action: 'apply' }, /condition "X": field "macro" needs the name/],
      [{ name: 'X', field: 'macro', macro: '{}', pattern: 'x', action: 'apply' }, /condition "X": field "macro" needs the name/],
      [{ name: '', field: 'host', pattern: 'x', action: 'apply' }, /a name is required/],
      [{ name: 'X', field: 'host', pattern: 5, action: 'apply' }, /condition "X": pattern must be a string/],
    ])('rejects %j', (options, message) => {
      expect(() => createRegexCondition(options as unknown as RegexConditionOptions)).toThrow(message);
    });
  });
});
