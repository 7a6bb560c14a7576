/**
 * A macro list replaces the MTA's defaults for that stage: when the children send their own lists, the
 * chain must add the macros its conditions read, or Postfix stops sending them (Authenticated would
 * see every sender as unauthenticated). Stages the children leave to the defaults get no list.
 */
import { describe, expect, it } from 'vitest';
import { Chain } from '../../src/chain/chain.js';
import type { Condition } from '../../src/chain/condition.js';
import { createAuthenticated, createRegexCondition, createUnauthenticated } from '../../src/chain/conditions/index.js';
import { mergeCapabilities } from '../../src/chain/negotiation.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import type { Capabilities } from '../../src/mail/filter.js';
import { canonicalMacroName, type MacroRequest } from '../../src/mail/macros.js';
import { CONTINUE } from '../../src/mail/reply.js';
import { Command } from '../../src/milter/constants.js';
import { context } from '../milter/helpers.js';

/** Postfix's default milter_*_macros (postconf), which a list for that stage replaces. */
const POSTFIX_DEFAULTS: Required<MacroRequest> = {
  connect: ['j', '{daemon_name}', '{daemon_addr}', 'v', '_'],
  helo: ['{tls_version}', '{cipher}', '{cipher_bits}', '{cert_subject}', '{cert_issuer}'],
  mail: ['i', '{auth_type}', '{auth_authen}', '{auth_author}', '{mail_addr}', '{mail_host}', '{mail_mailer}'],
  rcpt: ['i', '{rcpt_addr}', '{rcpt_host}', '{rcpt_mailer}'],
  data: ['i'],
  endOfHeaders: ['i'],
  endOfMessage: ['i'],
};

/** What Postfix knows of an authenticated submission, by stage. */
const KNOWN: Record<string, string> = {
  j: 'mx.example.org',
  '{daemon_name}': 'submission',
  v: 'Postfix 3.7.11',
  '{auth_type}': 'PLAIN',
  '{auth_authen}': 'alice',
  '{mail_addr}': 'alice@example.org',
  '{rcpt_addr}': 'bob@example.com',
  i: '4XyZ1Q2w3',
};

/** The pairs Postfix sends at a stage: its defaults, or the list the milter asked for instead. */
function postfixSends(request: MacroRequest, stage: keyof MacroRequest): [string, string][] {
  const names = request[stage] ?? POSTFIX_DEFAULTS[stage];
  return names.flatMap((n) => {
    const value = KNOWN[canonicalMacroName(n)];
    return value === undefined ? [] : [[n, value] as [string, string]];
  });
}

function childCaps(macros: MacroRequest): Capabilities {
  return { ...FULL_OFFER, actions: new Set(FULL_OFFER.actions), macros };
}

describe('macros the conditions read, in the lists the chain asks for', () => {
  it('built-in and [[condition]] macro conditions declare what they read, per stage', () => {
    expect(createAuthenticated().readsMacros).toEqual({ mail: ['{auth_type}', '{auth_authen}'] });
    expect(createUnauthenticated().readsMacros).toEqual({ mail: ['{auth_type}', '{auth_authen}'] });
    const byMacro = createRegexCondition({ name: 'submission', field: 'macro', macro: 'daemon_name', pattern: '^submission$', action: 'apply' });
    const stages = ['connect', 'helo', 'mail', 'rcpt'];
    expect(byMacro.readsMacros).toEqual(Object.fromEntries(stages.map((s) => [s, ['{daemon_name}']])));
    const bySender = createRegexCondition({ name: 'local', field: 'sender', pattern: 'x', action: 'apply' });
    expect(bySender.readsMacros ?? {}).toEqual({});
  });

  it('negotiation: a stage where every child sends a list gets the conditions’ macros; other stages keep the defaults', () => {
    const merged = mergeCapabilities(
      FULL_OFFER,
      [childCaps({ mail: ['{mail_addr}'], connect: ['j'] }), childCaps({ mail: ['{mail_host}', 'auth_type'], rcpt: ['{rcpt_addr}'] })],
      new Set(['mail']),
      [createAuthenticated().readsMacros!, { connect: ['{daemon_name}'], rcpt: ['{rcpt_mailer}'] }],
    );
    // Each name once ("auth_type" and "{auth_type}" are the same macro), the children's spelling kept.
    expect(merged.macros.mail).toEqual(['{mail_addr}', '{mail_host}', 'auth_type', 'i', '{auth_authen}']);
    // Only one child asked for a list at connect and at rcpt: the MTA's defaults stay, for every child.
    expect(merged.macros.connect).toBeUndefined();
    expect(merged.macros.rcpt).toBeUndefined();
    // No child asked at all: no list is asked for because of a condition.
    expect(merged.macros.helo).toBeUndefined();
    expect(Object.keys(merged.macros).sort()).toEqual(['mail']);
  });

  it('negotiation: a [[condition]] on a connect macro is kept where the children replace the connect list', () => {
    const condition = createRegexCondition({ name: 'submission', field: 'macro', macro: '{daemon_name}', pattern: '^submission$', action: 'apply' });
    const merged = mergeCapabilities(FULL_OFFER, [childCaps({ connect: ['j'] }), childCaps({ connect: ['v'] })], condition.stages, [
      condition.readsMacros!,
    ]);
    expect(merged.macros.connect).toEqual(['j', 'v', '{daemon_name}']);
  });

  it('through a Chain: every child sets its own MAIL list, and Authenticated still sees an authenticated sender', async () => {
    const seen: string[] = [];
    const child = (name: string, conditions: Condition[]) => ({
      name,
      filter: defineFilter(name, { actions: [], macros: { mail: ['{mail_addr}'] } }, () => ({
        mail: () => (seen.push(name), CONTINUE),
      })),
      fallbackStatus: 'accept' as const,
      evaluationMode: false,
      conditions,
    });
    const chain = new Chain([child('signer', [createAuthenticated()]), child('spam-check', [createUnauthenticated()])], {
      fallbackStatus: 'accept',
    });
    const s = chain.open();
    const merged = await s.negotiate(FULL_OFFER);
    const ctx = context();
    ctx.store.set(Command.CONNECT, postfixSends(merged.macros, 'connect'));
    await s.connect({ hostname: 'c.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
    ctx.store.set(Command.MAIL, postfixSends(merged.macros, 'mail'));
    await s.mail('<alice@example.org>', [], ctx);
    await s.close();
    // The signer runs (authenticated), the spam check does not.
    expect(seen).toEqual(['signer']);
    expect(merged.macros.mail).toContain('{auth_type}');
    await chain.dispose();
  });

  it('through a Chain: a [[condition]] on {daemon_name} still applies when every child sets its own connect list', async () => {
    let applied = false;
    const onSubmission = createRegexCondition({ name: 'submission', field: 'macro', macro: 'daemon_name', pattern: '^submission$', action: 'apply' });
    const chain = new Chain(
      [
        {
          name: 'submission-only',
          filter: defineFilter('submission-only', { actions: [], macros: { connect: ['j'] } }, () => ({
            rcpt: () => ((applied = true), CONTINUE),
          })),
          fallbackStatus: 'accept',
          evaluationMode: false,
          conditions: [onSubmission],
        },
      ],
      { fallbackStatus: 'accept' },
    );
    const s = chain.open();
    const merged = await s.negotiate(FULL_OFFER);
    const ctx = context();
    for (const [cmd, stage] of [
      [Command.CONNECT, 'connect'],
      [Command.HELO, 'helo'],
    ] as const) ctx.store.set(cmd, postfixSends(merged.macros, stage));
    await s.connect({ hostname: 'c.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
    await s.helo('c.example.com', ctx);
    ctx.store.set(Command.MAIL, postfixSends(merged.macros, 'mail'));
    await s.mail('<alice@example.org>', [], ctx);
    ctx.store.set(Command.RCPT, postfixSends(merged.macros, 'rcpt'));
    await s.rcpt('<bob@example.com>', [], ctx);
    await s.close();
    expect(applied).toBe(true);
    await chain.dispose();
  });
});
